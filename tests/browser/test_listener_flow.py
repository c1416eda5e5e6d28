"""A panelist in a real browser: invite link → consent → headphone check (every sound played
in Web Audio, the quietest tone picked) → every trial played and answered → thank-you, and
the answers land in the database and the export. Also: nothing on the trial page names a
system, and the check and trial pages work on a 360 px wide phone."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from evaluation.exports import responses_csv
from evaluation.models import Panelist, Response, Study
from evaluation.services.simulation import panel_simulate
from tests.browser.conftest import MIN_LISTEN_S, SCREENSHOTS, SYSTEM_NAMES

pytestmark = pytest.mark.browser

STATE = "() => window.earshotPlayer.state()"
TIMEOUT_MS = 15_000


def open_page(browser, errors: list, **context_options):
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    return context, page


def enrol(page, url: str, screenshot: str | None = None):
    """Open the invite link and fill in consent and the musician profile."""
    page.goto(url)
    page.check("input[name=consent]")
    page.check("input[name=expertise][value=professional]")
    page.check("input[name=plays_instrument][value=yes]")
    page.fill("input[name=instrument]", "violin")
    page.fill("input[name=years_playing]", "12")
    page.fill("input[name=genres]", "jazz, classical")
    if screenshot:
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    with page.expect_navigation():
        page.click("#start")


HEADPHONES = "() => window.earshotHeadphones.state()"


def pass_headphone_check(page, screenshot: str | None = None, tap: bool = False) -> Panelist:
    """Play every sound of the check and pick its quietest tone. The answers come from the
    database, as a listener with headphones would hear them; the page itself cannot know
    them. Sound 1 is answered with the keyboard, the rest with clicks (or taps)."""
    page.wait_for_selector("h1 >> text=Please put on your headphones")
    page.wait_for_function("() => window.earshotHeadphones !== undefined")
    panelist = Panelist.objects.latest("created_at")
    items = list(panelist.headphone_items.filter(answer__isnull=True).order_by("index"))
    state = page.evaluate(HEADPHONES)
    sounds = len(items)
    assert sounds == panelist.study.headphone_items
    assert state == {
        "sounds": sounds,
        "played": [False] * sounds,
        "playing": None,
        "contextState": "none",
    }
    assert page.is_disabled("input[name=item-1][value='1']")
    assert page.is_disabled("#check-submit")
    if screenshot:
        page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    for number, item in enumerate(items):
        play = page.locator(f"#hp-{item.index} .hp-play")
        if tap:
            play.tap()
        elif number == 0:
            play.focus()
            page.keyboard.press("Enter")
        else:
            play.click()
        page.wait_for_function(f"() => window.earshotHeadphones.state().played[{number}]")
        assert page.evaluate(HEADPHONES)["contextState"] == "running"
        if number == 0 and not tap:
            # Focus lands on tone 1 when the sound ends; arrows pick another tone.
            if item.quiet_position == 1:
                page.keyboard.press("Space")
            for _ in range(item.quiet_position - 1):
                page.keyboard.press("ArrowRight")
        else:
            option = page.locator(f"#hp-{item.index} label.option").nth(item.quiet_position - 1)
            option.tap() if tap else option.click()
        assert page.is_checked(f"input[name=item-{item.index}][value='{item.quiet_position}']")
    assert page.is_enabled("#check-submit")
    with page.expect_navigation():
        page.tap("#check-submit") if tap else page.click("#check-submit")
    panelist.refresh_from_db()
    assert (panelist.headphone_passed, panelist.headphone_correct) == (True, sounds)
    return panelist


def wait_for_player(page) -> dict:
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    return page.evaluate(STATE)


def play_and_hear_both(page) -> None:
    """Play, check the audio clock runs, then hear A and B each for the required time."""
    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().contextState === 'running'")
    started = page.evaluate(STATE)
    assert started["playing"] is True
    page.wait_for_function(
        f"() => window.earshotPlayer.state().currentTime > {started['currentTime']} + 0.2"
    )
    page.click("#side-a")
    page.wait_for_function(
        "() => { const s = window.earshotPlayer.state(); return s.heardA >= s.required; }"
    )
    # Switching keeps playing at the same moment of the music: nothing restarts.
    before, after = page.evaluate(
        """() => {
            const before = window.earshotPlayer.state();
            document.getElementById('side-b').click();
            return [before, window.earshotPlayer.state()];
        }"""
    )
    assert (before["active"], after["active"]) == ("a", "b")
    assert after["playing"] is True
    assert abs(after["position"] - before["position"]) < 0.05
    page.wait_for_function(
        "() => { const s = window.earshotPlayer.state(); return s.heardB >= s.required; }"
    )
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    assert page.is_enabled("input[name=choice][value=a]")


def answer_by_clicks(page, choice: str, liked_a: str, liked_b: str, guess: str) -> None:
    labels = {"a": "A", "b": "B", "tie": "No preference"}
    guesses = {"a": "A", "b": "B", "unsure": "Can't tell"}
    for question, text in (
        ("choice", labels[choice]),
        ("liked-a", liked_a),
        ("liked-b", liked_b),
        ("guess-ai", guesses[guess]),
    ):
        # Exact text: "Can't tell" contains an "a", which a substring match would also take.
        page.locator(f"#q-{question} label.option").filter(
            has_text=re.compile(rf"^{re.escape(text)}$")
        ).click()


def test_a_panelist_answers_every_trial_and_the_answers_reach_the_export(
    browser, live_server, listening_study
):
    study, invite = listening_study
    assert study.headphone_items == 6  # the whole default check, every sound played
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    enrol(page, live_server.url + invite.path(), screenshot="consent-desktop.png")
    pass_headphone_check(page, screenshot="headphones-desktop.png")

    # (choice, liked A, liked B, guess) per trial; the first is answered by keyboard.
    plan = [("a", "Yes", "No", "b"), ("b", "Yes", "Yes", "a"), ("tie", "No", "No", "unsure")]
    for position, (choice, liked_a, liked_b, guess) in enumerate(plan, start=1):
        page.wait_for_selector(f"#progress >> text=Question {position} of 3")
        state = wait_for_player(page)
        assert (state["heardA"], state["heardB"], state["unlocked"]) == (0, 0, False)
        assert state["required"] == MIN_LISTEN_S
        assert page.is_disabled("input[name=choice][value=a]")
        assert page.is_disabled("#submit")
        if position == 1:
            page.screenshot(path=SCREENSHOTS / "trial-desktop-locked.png", full_page=True)

        play_and_hear_both(page)
        if position == 1:
            page.keyboard.press("1")
            page.locator("#q-liked-a label.option", has_text=liked_a).click()
            page.locator("#q-liked-b label.option", has_text=liked_b).click()
            page.locator("#q-guess-ai label.option", has_text="B").click()
            assert page.is_checked("input[name=choice][value=a]")
            page.screenshot(path=SCREENSHOTS / "trial-desktop-answered.png", full_page=True)
            # Focus is on the option just clicked, which keeps its own keys: Esc leaves it,
            # then Space pauses and Enter submits (test_listener_i18n.py has the rest).
            page.keyboard.press("Escape")
            page.keyboard.press("Space")
            assert page.evaluate(STATE)["playing"] is False
            # The next trial, prefetched and decoded while this one was answered, replaces
            # this page in place (no navigation); the last one leads to the thank-you page.
            page.keyboard.press("Enter")
        else:
            answer_by_clicks(page, choice, liked_a, liked_b, guess)
            page.click("#submit")

    page.wait_for_selector("h1 >> text=Thank you!")
    assert "You answered 3 questions" in page.inner_text("main")
    page.screenshot(path=SCREENSHOTS / "done-desktop.png", full_page=True)
    context.close()
    assert errors == []

    panelist = Panelist.objects.get(study=study)
    assert (panelist.expertise, panelist.instrument, panelist.years_playing) == (
        "professional",
        "violin",
        12,
    )
    responses = list(Response.objects.filter(panelist=panelist).order_by("trial__position"))
    assert [r.choice for r in responses] == ["a", "b", "tie"]
    liked = [(r.liked_a, r.liked_b) for r in responses]
    assert liked == [(True, False), (True, True), (False, False)]
    assert [r.guess_ai for r in responses] == ["b", "a", "unsure"]
    for response in responses:
        assert response.listen_a_s >= MIN_LISTEN_S
        assert response.listen_b_s >= MIN_LISTEN_S
        elapsed = (response.submitted_at - response.started_at).total_seconds()
        assert response.listen_a_s + response.listen_b_s <= elapsed + 1.0

    rows = list(csv.DictReader(io.StringIO(responses_csv(study))))
    assert len(rows) == 3
    assert [row["choice"] for row in rows] == ["a", "b", "tie"]
    assert [row["guess_ai"] for row in rows] == ["b", "a", "unsure"]
    liked = [(row["liked_a"], row["liked_b"]) for row in rows]
    assert liked == [("1", "0"), ("1", "1"), ("0", "0")]
    assert {row["panelist_id"] for row in rows} == {panelist.pseudonym}
    assert sorted(row["prompt_id"] for row in rows) == ["p1", "p2", "p3"]
    assert {row["simulated"] for row in rows} == {"0"}
    expected_preferred = [rows[0]["system_a"], rows[1]["system_b"], ""]
    assert [row["preferred_system"] for row in rows] == expected_preferred


def test_an_answer_lost_on_the_way_is_sent_again_by_the_page_and_stored_once(
    browser, live_server, listening_study
):
    """Issue 16, faults: the answer POST's first try reaches the server (stored) but its
    reply is lost (connection reset), the second gets a 503 (a worker restarting, the
    database away): the page retries by itself, the listener sees no error, and the answer is
    stored once (the third try is answered as a repeat of the stored one)."""
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    tries: list[int] = []

    def flaky(route):
        tries.append(1)
        if len(tries) == 1:
            route.fetch()  # the server stores the answer ...
            route.abort("connectionreset")  # ... and its reply never arrives
        elif len(tries) == 2:
            route.fulfill(status=503, body="Service Unavailable")
        else:
            route.continue_()

    page.route("**/answer", flaky)
    enrol(page, live_server.url + invite.path())
    page.wait_for_selector("#progress >> text=Question 1 of 3")
    wait_for_player(page)
    play_and_hear_both(page)
    answer_by_clicks(page, "a", "Yes", "No", "b")
    with page.expect_response(
        lambda reply: reply.url.endswith("/answer") and reply.status < 500
    ) as last:
        page.click("#submit")
    assert last.value.status == 200 and last.value.json()["created"] is False
    page.wait_for_selector("#progress >> text=Question 2 of 3")
    assert page.locator("#answer-error").is_hidden()
    context.close()
    assert len(tries) == 3
    assert Response.objects.count() == 1
    assert Response.objects.get().choice == "a"
    # The failed tries show in the console as failed loads; nothing else went wrong.
    assert [e for e in errors if "Failed to load resource" not in e] == []


def test_the_trial_page_never_names_a_system(browser, live_server, listening_study):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)  # not about the check
    errors: list[str] = []
    context, page = open_page(browser, errors)
    enrol(page, live_server.url + invite.path())
    served = page.request.get(page.url).text()  # the page as the server sends it
    wait_for_player(page)
    play_and_hear_both(page)
    state_text = page.evaluate("() => JSON.stringify(window.earshotPlayer.state())")
    rendered = page.content()

    forbidden = [name.lower() for name in SYSTEM_NAMES] + ["human", "chordsmith", ".wav", "major"]
    for text in (served, rendered, state_text):
        lowered = text.lower()
        assert [word for word in forbidden if word in lowered] == []
    assert "/" not in state_text and "http" not in state_text
    # No template source may leak onto the page (a multi-line {# #} comment once did).
    assert [
        marker for marker in ("{#", "#}", "{%", "%}") if marker in page.inner_text("body")
    ] == []
    assert set(page.evaluate(STATE)) == {
        "ready",
        "contextState",
        "currentTime",
        "playing",
        "active",
        "heardA",
        "heardB",
        "heardOverlap",
        "switches",
        "events",
        "required",
        "unlocked",
        "position",
        "seconds",  # the playback position and the loop length: the same for A and B
        "length",
        "region",
        "readyClock",
        "prefetched",
        "aheadReady",
        "passageA",
        "passageB",
    }
    # The endpoints are read once, then gone from the live page.
    assert "data-a=" in served and "data-a=" not in rendered

    # A and B are served with identical headers apart from their length.
    audio_a, audio_b = (
        re.search(rf'data-{side}="([^"]+)"', served).group(1) for side in ("a", "b")
    )
    headers = []
    for url in (audio_a, audio_b):
        response = page.request.get(live_server.url + url)
        assert response.status == 200
        # Date and Expires (never_cache sets it to "now") are clock readings of each response,
        # a second apart when the two requests straddle a second; everything else must match.
        varying = ("content-length", "date", "expires")
        headers.append({k: v for k, v in response.headers.items() if k not in varying})
    assert headers[0] == headers[1]
    context.close()
    assert errors == []


def test_a_phone_shows_the_answer_buttons_without_horizontal_scroll(
    browser, live_server, listening_study
):
    study, invite = listening_study
    # Three items instead of the default six: each sound plays in real time (4.25 s), and the
    # desktop walk above already plays a whole default check; this test is about the layout
    # and touch, which three items show as well as six.
    Study.objects.filter(pk=study.pk).update(headphone_items=3, headphone_pass_min=3)
    errors: list[str] = []
    phone = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "has_touch": True}
    context, page = open_page(browser, errors, **phone)
    enrol(page, live_server.url + invite.path(), screenshot="consent-phone.png")
    page.wait_for_selector("h1 >> text=Please put on your headphones")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    check_targets = page.locator("#headphone-form label.option, .hp-play, #check-submit")
    assert check_targets.count() == 3 * 3 + 3 + 1  # three options and a play button per item
    for index in range(check_targets.count()):
        box = check_targets.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["height"] >= 44
    pass_headphone_check(page, screenshot="headphones-phone.png", tap=True)
    wait_for_player(page)
    page.screenshot(path=SCREENSHOTS / "trial-phone-locked.png", full_page=True)
    page.tap("#play")
    page.wait_for_function("() => window.earshotPlayer.state().contextState === 'running'")
    page.tap("#side-a")
    page.wait_for_function(
        "() => { const s = window.earshotPlayer.state(); return s.heardA >= s.required; }"
    )
    page.tap("#side-b")
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    answer_by_clicks(page, "b", "Yes", "No", "unsure")
    page.screenshot(path=SCREENSHOTS / "trial-phone-answered.png", full_page=True)

    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    targets = page.locator("label.option, #submit, #play, #side-a, #side-b, #restart, #loop")
    assert targets.count() == 16  # 10 answer options + submit, play, A, B, restart and loop
    for index in range(targets.count()):
        target = targets.nth(index)
        target.scroll_into_view_if_needed()
        assert target.is_visible()
        box = target.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert box["height"] >= 44  # a comfortable touch target
    page.tap("#submit")  # trial 2, prefetched, replaces the page in place
    page.wait_for_selector("#progress >> text=Question 2 of 3")
    context.close()
    assert errors == []
    assert Response.objects.filter(trial__pair__study=study).count() == 1


def test_the_results_page_is_readable(browser, live_server, listening_study):
    study, _ = listening_study
    panel_simulate(study=study, panelists=2, seed=1)
    researcher = get_user_model().objects.create_superuser("rita", "rita@example.com", "pw-rita-1")
    client = Client()
    client.force_login(researcher)
    errors: list[str] = []
    context, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(
        live_server.url + reverse("research:results", args=[study.slug]) + "?include_simulated=1"
    )
    # One comparison (the human reference vs the AI system): one row.
    assert page.locator("table.results#pairs tbody tr[data-verdict]").count() == 1
    page.screenshot(path=SCREENSHOTS / "results-desktop.png", full_page=True)
    context.close()
    assert errors == []
