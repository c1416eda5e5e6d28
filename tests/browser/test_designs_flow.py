"""The single-track and pool designs in Chromium, on a desktop and a 360 px phone: the audio
really plays on the audio clock, every track must be heard before the questions unlock, the
answer is stored with its listening evidence, and nothing in the page, its state or its URLs
names a system (or a file that would)."""

import re

import pytest

from evaluation.models import Response, ResponseCandidate
from tests.browser.conftest import (
    AI_SYSTEM,
    HUMAN_SYSTEM,
    MIN_LISTEN_S,
    SCREENSHOTS,
    THIRD_SYSTEM,
)
from tests.browser.test_listener_flow import enrol, open_page, wait_for_player

pytestmark = pytest.mark.browser

STATE = "() => window.earshotPlayer.state()"
FORBIDDEN = [HUMAN_SYSTEM, AI_SYSTEM, THIRD_SYSTEM, "chordsmith", "harmonix", ".wav", "major",
             "minor", "sus4", "stimuli/", "tracks/"]  # fmt: skip
DESKTOP = {"viewport": {"width": 1100, "height": 900}}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "has_touch": True}


def assert_blind(page, served: str) -> None:
    state_text = page.evaluate("() => JSON.stringify(window.earshotPlayer.state())")
    for text in (served, page.content(), state_text):
        lowered = text.lower()
        assert [word for word in FORBIDDEN if word.lower() in lowered] == []
    assert "/" not in state_text and "http" not in state_text
    assert [m for m in ("{#", "#}", "{%", "%}") if m in page.inner_text("body")] == []
    # The endpoints are read once, then gone from the live page.
    assert "data-urls=" in served and "data-urls=" not in page.content()


def start_playing(page, tap: bool) -> dict:
    page.tap("#play") if tap else page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().contextState === 'running'")
    started = page.evaluate(STATE)
    assert started["playing"] is True
    # The audio clock advances: the sound really plays.
    page.wait_for_function(
        f"() => window.earshotPlayer.state().currentTime > {started['currentTime']} + 0.2"
    )
    return started


def fits_the_phone(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    targets = page.locator("#answer-form label.option:visible, #submit, #play, .side")
    for index in range(targets.count()):
        target = targets.nth(index)
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360


def pick(page, question: str, text: str, tap: bool) -> None:
    option = page.locator(f"#{question} label.option").filter(
        has_text=re.compile(rf"^{re.escape(text)}$")
    )
    option.tap() if tap else option.click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_single_track_trial_plays_unlocks_and_stores_the_answer(
    browser, live_server, design_listening, device
):
    study, invite = design_listening(
        "single",
        aspects={"melody": "rating", "emotion": "rating"},
        ask_weaker=True,
        ask_familiar=True,
        ask_hit=True,
    )
    tap = device == "phone"
    errors: list[str] = []
    context, page = open_page(browser, errors, **(PHONE if tap else DESKTOP))
    enrol(page, live_server.url + invite.path())
    served = page.request.get(page.url).text()
    state = wait_for_player(page)
    assert state["tracks"] == 1 and state["unlocked"] is False
    assert page.is_disabled("input[name=rating_a][value='4']")
    start_playing(page, tap)
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    assert page.evaluate(STATE)["heard"][0] >= MIN_LISTEN_S
    assert_blind(page, served)

    pick(page, "q-rating-a", "4", tap)
    page.wait_for_selector("#q-weaker-a:not([hidden])")  # liked (4 of 5): what is weaker?
    (page.locator("#q-weaker-a label.option").filter(has_text="Emotion")).click()
    pick(page, "q-score-melody-a", "5", tap)
    pick(page, "q-score-emotion-a", "2", tap)
    pick(page, "q-playlist-a", "Yes", tap)
    pick(page, "q-release-a", "No", tap)
    pick(page, "q-familiar", "Sounds familiar", tap)
    pick(page, "q-guess-kind", "AI", tap)
    page.locator("#guess-confidence").fill("80")
    page.screenshot(path=SCREENSHOTS / f"single-{device}-answered.png", full_page=True)
    if tap:
        fits_the_phone(page)
    assert page.is_enabled("#submit")
    with page.expect_navigation():
        page.tap("#submit") if tap else page.click("#submit")
    page.wait_for_selector("#progress >> text=Question 2 of 2")
    context.close()
    assert errors == []
    response = Response.objects.get(trial__pair__study=study)
    assert (response.trial_kind, response.rating_a, response.guess_kind) == ("single", 4, "ai")
    assert (response.guess_confidence, response.familiar) == (80, "sounds_familiar")
    assert (response.weaker_a, response.playlist_a, response.release_a) == ("emotion", True, False)
    assert response.aspects == {"melody": {"a": 5}, "emotion": {"a": 2}}
    assert response.evidence.heard_a_s >= MIN_LISTEN_S and response.evidence.audio_fetched == 1.0


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_pool_trial_switches_on_one_clock_and_stores_the_ranking(
    browser, live_server, design_listening, device
):
    study, invite = design_listening("pool", pool_size=3, pool_rank_top3=True, ask_familiar=True)
    tap = device == "phone"
    errors: list[str] = []
    context, page = open_page(browser, errors, **(PHONE if tap else DESKTOP))
    enrol(page, live_server.url + invite.path())
    served = page.request.get(page.url).text()
    state = wait_for_player(page)
    assert state["tracks"] == 3
    start_playing(page, tap)
    for number in (1, 2, 3):
        if number > 1:
            before, after = page.evaluate(
                f"""() => {{
                    const before = window.earshotPlayer.state();
                    document.getElementById('track-{number}').click();
                    return [before, window.earshotPlayer.state()];
                }}"""
            )
            assert after["active"] == "abc"[number - 1] and after["playing"] is True
            assert after["events"] == before["events"] + 1  # a switch, no restart
        page.wait_for_function(
            f"() => {{ const s = window.earshotPlayer.state(); "
            f"return s.heard[{number - 1}] >= s.required; }}"
        )
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    assert_blind(page, served)
    pick(page, "q-favourite", "2", tap)
    page.select_option("#pick2", "3")
    pick(page, "q-familiar", "No", tap)
    page.screenshot(path=SCREENSHOTS / f"pool-{device}-answered.png", full_page=True)
    if tap:
        fits_the_phone(page)
    with page.expect_navigation():
        page.tap("#submit") if tap else page.click("#submit")
    page.wait_for_selector("#progress >> text=Question 2 of 2")
    context.close()
    assert errors == []
    response = Response.objects.get(trial__pair__study=study)
    ranks = list(
        ResponseCandidate.objects.filter(response=response).values_list("position", "pick_rank")
    )
    assert ranks == [(1, None), (2, 1), (3, 2)]
    assert all(
        heard >= MIN_LISTEN_S
        for heard in ResponseCandidate.objects.values_list("heard_s", flat=True)
    )


def test_an_ab_trial_with_the_studys_extra_questions_stores_them(
    browser, live_server, design_listening
):
    """The extra questions (static/earshot/questions.js) on the A/B page, also on the second
    trial, which was prefetched and replaced the first one in place (no page load): the
    hooks keep the submit locked, show "what is weaker?" and collect the answers there too."""
    from tests.browser.test_listener_flow import answer_by_clicks, play_and_hear_both

    study, invite = design_listening(
        "ab",
        aspects={"structure": "preference", "emotion": "rating"},
        ask_weaker=True,
        ask_familiar=True,
        ask_hit=True,
    )
    errors: list[str] = []
    context, page = open_page(browser, errors, **DESKTOP)
    enrol(page, live_server.url + invite.path())
    page.evaluate("() => { window.sameDocument = true; }")  # gone after a page load
    # (choice, liked A, liked B, guess, liked side, weaker aspect, structure, emotion A/B)
    plan = [("a", "Yes", "No", "b", "a", "Structure", "A", ("4", "2")),
            ("b", "No", "Yes", "a", "b", "Emotion", "B", ("1", "5"))]  # fmt: skip
    for position, (choice, liked_a, liked_b, guess, liked, weaker, better, scores) in enumerate(
        plan, start=1
    ):
        page.wait_for_selector(f"#progress >> text=Question {position} of 2")
        # Trial 2 was prefetched and replaced trial 1 in place: the same document.
        assert page.evaluate("() => window.sameDocument === true")
        wait_for_player(page)
        play_and_hear_both(page)
        answer_by_clicks(page, choice, liked_a, liked_b, guess)
        assert page.is_disabled("#submit")  # the extra questions are required too
        other = "b" if liked == "a" else "a"
        assert page.is_hidden(f"#q-weaker-{other}") and page.is_visible(f"#q-weaker-{liked}")
        page.locator(f"#q-weaker-{liked} label.option").filter(has_text=weaker).click()
        pick(page, "q-aspect-structure", better, False)
        for side, score in zip("ab", scores, strict=True):
            pick(page, f"q-score-emotion-{side}", score, False)
            pick(page, f"q-playlist-{side}", "Yes" if side == liked else "No", False)
            pick(page, f"q-release-{side}", "No", False)
        pick(page, "q-familiar", "I know it" if position == 1 else "No", False)
        assert page.is_enabled("#submit")
        if position == 1:
            page.screenshot(path=SCREENSHOTS / "ab-extras-answered.png", full_page=True)
        page.click("#submit")
    page.wait_for_selector("h1 >> text=Thank you!")
    context.close()
    assert errors == []
    first, second = Response.objects.filter(trial__pair__study=study).order_by("trial__position")
    assert (first.choice, first.liked_a, first.familiar) == ("a", True, "knows_it")
    assert first.aspects == {"structure": {"choice": "a"}, "emotion": {"a": 4, "b": 2}}
    assert (first.weaker_a, first.weaker_b) == ("structure", "")
    assert (first.playlist_a, first.playlist_b, first.release_a) == (True, False, False)
    assert (second.choice, second.liked_b, second.familiar) == ("b", True, "no")
    assert second.aspects == {"structure": {"choice": "b"}, "emotion": {"a": 1, "b": 5}}
    assert (second.weaker_a, second.weaker_b) == ("", "emotion")
    assert (second.playlist_a, second.playlist_b, second.release_b) == (False, True, False)
