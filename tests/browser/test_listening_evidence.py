"""A listener in Chromium plays A, switches to B on a different passage (the questions stay
locked), keeps listening until the same passage is heard on both, pauses and answers; the
stored listening log and its summary are what the page measured."""

import pytest

from evaluation.listening_log import parse_listening_log, summarize
from evaluation.models import ListeningEvidence, Study
from tests.browser.conftest import EXCERPT_S, MIN_LISTEN_S
from tests.browser.test_listener_flow import (
    STATE,
    answer_by_clicks,
    enrol,
    open_page,
    wait_for_player,
)

pytestmark = pytest.mark.browser


def test_the_stored_listening_log_is_the_one_the_page_heard(browser, live_server, listening_study):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)  # not about the check
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    enrol(page, live_server.url + invite.path())
    wait_for_player(page)

    # A from the start for half the excerpt, then B for the other half: nothing in common.
    page.click("#play")
    page.wait_for_function(
        f"() => window.earshotPlayer.state().position * {EXCERPT_S} >= {MIN_LISTEN_S}"
    )
    page.click("#side-b")
    page.wait_for_function(
        f"() => window.earshotPlayer.state().heardB >= {EXCERPT_S - MIN_LISTEN_S - 0.1}"
    )
    halfway = page.evaluate(STATE)
    assert halfway["heardA"] >= MIN_LISTEN_S and halfway["heardB"] >= 1.3
    assert halfway["unlocked"] is False
    assert halfway["heardOverlap"] < 0.3
    assert page.is_disabled("input[name=choice][value=a]")

    # B plays on into the passage A was heard on; the questions unlock on the overlap alone.
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    page.click("#play")  # pause, so that what the page shows is what it sends
    shown = page.evaluate(STATE)
    assert shown["playing"] is False
    assert shown["heardOverlap"] >= MIN_LISTEN_S
    answer_by_clicks(page, "b", "Yes", "No", "a")
    page.click("#submit")  # the prefetched trial 2 replaces the page in place
    page.wait_for_selector("#progress >> text=Question 2 of 3")
    context.close()
    assert errors == []

    evidence = ListeningEvidence.objects.select_related("response__trial").get()
    response, trial = evidence.response, evidence.response.trial
    events = evidence.log["events"]
    assert [(e["type"], e["side"]) for e in events] == [
        ("play", "a"),
        ("switch", "b"),
        ("pause", "b"),
        ("submit", "b"),
    ]
    assert events[0]["pos"] == 0.0
    assert evidence.log["loop_s"] == trial.stimulus_at("a").duration_s == EXCERPT_S
    # The switch lands where A was: the position carries on, it does not restart.
    assert MIN_LISTEN_S <= events[1]["pos"] < MIN_LISTEN_S + 0.3
    summary = summarize(parse_listening_log(evidence.log))
    assert evidence.heard_overlap_s == round(summary.heard_overlap_s, 3)
    assert evidence.heard_overlap_s == round(shown["heardOverlap"], 3)
    assert (response.listen_a_s, response.listen_b_s) == (
        round(shown["heardA"], 3),
        round(shown["heardB"], 3),
    )
    assert evidence.heard_a_s == round(summary.heard_a_s, 3)
    assert MIN_LISTEN_S <= evidence.heard_a_s < MIN_LISTEN_S + 0.3
    assert evidence.heard_b_s == round(summary.heard_b_s, 3)
    assert EXCERPT_S - 0.1 <= evidence.heard_b_s <= EXCERPT_S  # B went round the loop
    assert evidence.switches == 1
    sizes = (trial.stimulus_at("a").size_bytes, trial.stimulus_at("b").size_bytes)
    assert (evidence.fetched_a_bytes, evidence.fetched_b_bytes) == sizes
    assert evidence.audio_fetched == 1.0
