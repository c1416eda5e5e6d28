"""The trial page's player in Chromium: the time readout, restart, a loop region dragged on
the timeline (playback stays inside it and "heard" counts the same passage on A and B), the
loop button, and a reload in the middle of a trial (no audio downloaded again, the heard
counters and the log come back, and the answer is accepted)."""

import pytest

from evaluation.models import ListeningEvidence, Response, StimulusFetch, Study, Trial
from tests.browser.conftest import EXCERPT_S, MIN_LISTEN_S, SCREENSHOTS
from tests.browser.test_listener_flow import (
    STATE,
    answer_by_clicks,
    enrol,
    open_page,
    wait_for_player,
)

pytestmark = pytest.mark.browser


def drag_on_timeline(page, start: float, end: float) -> None:
    """Press at `start` and release at `end` (fractions of the timeline's width)."""
    box = page.locator("#seek").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + start * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + end * box["width"], y, steps=8)
    page.mouse.up()


def test_a_dragged_loop_keeps_playback_inside_and_counts_the_same_passage(
    browser, live_server, listening_study
):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    enrol(page, live_server.url + invite.path())
    wait_for_player(page)
    assert page.inner_text("#time") == f"0:00 / 0:0{int(EXCERPT_S)}"

    # Drag from a third to two thirds of the timeline: a 1 s loop from 1 s to 2 s.
    drag_on_timeline(page, 1 / 3, 2 / 3)
    state = page.evaluate(STATE)
    start, end = state["region"]
    assert abs(start - 1.0) < 0.05 and abs(end - 2.0) < 0.05
    assert abs(state["seconds"] - start) < 0.01  # moved into the loop
    assert page.get_attribute("#loop", "aria-pressed") == "true"
    assert "Stop looping" in page.inner_text("#loop")
    assert page.is_visible("#timeline-region")

    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().passageA >= 0.95")
    page.wait_for_timeout(600)  # longer than the loop's rest: it must have wrapped by now
    state = page.evaluate(STATE)
    assert start - 0.01 <= state["seconds"] <= end + 0.01
    # Played for longer than the loop, but the distinct passage heard is the loop alone.
    assert state["heardA"] > (end - start) + 0.3
    assert (end - start) - 0.05 <= state["passageA"] <= (end - start) + 0.01
    page.click("#side-b")
    page.wait_for_function("() => window.earshotPlayer.state().passageB >= 0.95")
    page.wait_for_timeout(300)
    state = page.evaluate(STATE)
    # The same passage on both sides, and no more: 1 s < the 1.5 s the questions need.
    assert 0.9 <= state["heardOverlap"] <= (end - start) + 0.01
    assert state["unlocked"] is False
    page.screenshot(path=SCREENSHOTS / "trial-desktop-loop.png", full_page=True)

    # The loop button ends the loop; restart goes back to 0:00 and plays on.
    page.click("#loop")
    assert page.evaluate(STATE)["region"] is None
    page.click("#restart")
    state = page.evaluate(STATE)
    assert state["playing"] is True and state["seconds"] < 0.2
    page.wait_for_function("() => window.earshotPlayer.state().passageB >= 2.0")
    page.click("#side-a")
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    page.click("#play")
    answer_by_clicks(page, "a", "Yes", "No", "b")
    page.click("#submit")
    page.wait_for_selector("#progress >> text=Question 2 of 3")
    context.close()
    assert errors == []

    evidence = ListeningEvidence.objects.get()
    loops = [event for event in evidence.log["events"] if event["type"] == "loop"]
    assert len(loops) == 2
    assert (loops[0]["from"], loops[0]["to"]) == (start, end)
    assert (loops[1]["from"], loops[1]["to"]) == (0.0, evidence.log["loop_s"])
    assert evidence.heard_overlap_s >= MIN_LISTEN_S


def test_a_reload_keeps_the_heard_counters_and_downloads_nothing_again(
    browser, live_server, listening_study
):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    enrol(page, live_server.url + invite.path())
    wait_for_player(page)
    trial = Trial.objects.get(panelist__isnull=False, position=1)
    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().heardA >= 1.0")
    page.click("#side-b")
    page.wait_for_function("() => window.earshotPlayer.state().heardB >= 0.5")
    before = page.evaluate(STATE)
    fetched = list(StimulusFetch.objects.filter(trial=trial).values_list("side", "last_at"))
    assert sorted(side for side, _ in fetched) == ["a", "b"]

    audio_requests: list[str] = []
    page.on(
        "requestfinished",
        lambda request: audio_requests.append(request.url) if "/t/" in request.url else None,
    )
    page.reload()  # while playing: the page closes the log with a pause as it goes
    after = wait_for_player(page)
    assert after["playing"] is False and after["active"] == "b"
    assert after["heardA"] >= before["heardA"] - 0.01
    assert after["heardB"] >= before["heardB"] - 0.01
    assert after["events"] >= before["events"] + 1  # the pause added on the way out
    # The audio came from the browser's cache: the server served nothing more.
    assert sorted(StimulusFetch.objects.filter(trial=trial).values_list("side", "last_at")) == (
        sorted(fetched)
    )

    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().passageB >= 2.9")
    page.click("#side-a")
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    page.click("#play")
    answer_by_clicks(page, "b", "No", "Yes", "a")
    page.click("#submit")
    page.wait_for_selector("#progress >> text=Question 2 of 3")
    context.close()
    assert errors == []
    assert Response.objects.get().trial_id == trial.pk
    events = ListeningEvidence.objects.get().log["events"]
    assert [e["type"] for e in events].count("play") == 2
    assert [e["type"] for e in events].count("pause") == 2  # one added at the reload
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
