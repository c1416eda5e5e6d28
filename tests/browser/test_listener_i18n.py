"""Every listener page in Chromium, in English and Simplified Chinese, on a desktop and a
phone (consent, headphone check, the A/B trial, pause, resume, continue, done, the single-track
and pool trials, bad and expired links): nothing left untranslated once the scripts have run
(window.gettext), axe-core finds
no serious or critical accessibility violation, and the keyboard works as WCAG 2.1.4 asks
(shortcuts only off form controls, and a remembered switch to turn them off).

axe-core comes from the npm registry, pinned in the Makefile (`make install-test` puts it
under var/npm); screenshots land in var/screenshots/i18n-*.png."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from evaluation.models import Invite, Panelist, Response, Study, Trial
from evaluation.services.panelists import invite_create
from tests.browser.conftest import SCREENSHOTS
from tests.visible_text import CJK, untranslated, visible_texts

pytestmark = pytest.mark.browser

AXE = Path(settings.VAR_DIR) / "npm" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 15_000
STATE = "() => window.earshotPlayer.state()"
INTERNAL_TITLE = "Internal: vendor X vs Y, round 3"
TEXTS = {
    "en": {"title": "Chorale sketches", "consent": "You will compare short chorale excerpts."},
    "zh-hans": {"title": "众赞歌小品", "consent": "您将比较几段简短的众赞歌片段。"},
}
LOCALES = {"en": "en-GB", "zh-hans": "zh-CN"}
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1100, "height": 900}},
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "device_scale_factor": 2,
        "has_touch": True,
        "is_mobile": True,
    },
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing: run `make install-test` (npm install of axe-core)"
        if os.environ.get("EARSHOT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def study(listening_study):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(
        title=INTERNAL_TITLE,
        listener_texts=TEXTS,
        trials_per_panelist=2,
        headphone_items=2,
        headphone_pass_min=2,
    )
    return Study.objects.get(pk=study.pk), invite


def open_page(browser, errors: list, language: str, device: str):
    context = browser.new_context(locale=LOCALES[language], **VIEWPORTS[device])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if message.type == "error" and "404" not in message.text
            else None
        ),
    )
    return context, page


def axe_violations(page, axe_source: str) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)  # through the debugger: the page's CSP does not apply
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    return found


def check(page, axe_source: str, language: str, name: str, screenshot: str) -> None:
    """The page speaks the language, shows the public title only, passes axe; screenshot."""
    html = page.content()
    assert page.evaluate("() => document.documentElement.lang") == language, name
    assert INTERNAL_TITLE not in html, name
    texts = visible_texts(html, language)
    if language == "zh-hans":
        assert untranslated(texts) == [], name
    else:
        assert [text for text in texts if CJK.search(text)] == [], name
    assert axe_violations(page, axe_source) == [], name
    assert (
        page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]
    ), name
    page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)


def enrol(page, url: str):
    page.goto(url)
    page.check("input[name=consent]")
    page.check("input[name=expertise][value=professional]")
    page.check("input[name=plays_instrument][value=no]")
    with page.expect_navigation():
        page.click("#start")


def pass_check(page) -> Panelist:
    page.wait_for_function("() => window.earshotHeadphones !== undefined")
    panelist = Panelist.objects.latest("created_at")
    items = list(panelist.headphone_items.filter(answer__isnull=True).order_by("index"))
    for number, item in enumerate(items):
        page.click(f"#hp-{item.index} .hp-play")
        page.wait_for_function(f"() => window.earshotHeadphones.state().played[{number}]")
        page.locator(f"#hp-{item.index} label.option").nth(item.quiet_position - 1).click()
    with page.expect_navigation():
        page.click("#check-submit")
    return panelist


def hear_both(page) -> None:
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    page.click("#play")
    page.click("#side-a")
    page.wait_for_function(
        "() => { const s = window.earshotPlayer.state(); return s.heardA >= s.required; }"
    )
    page.click("#side-b")
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")


def answer(page) -> None:
    for question, value in (
        ("choice", "a"),
        ("liked_a", "yes"),
        ("liked_b", "no"),
        ("guess_ai", "b"),
    ):
        page.locator(f"label.option:has(input[name={question}][value={value}])").click()
    # The next trial, prefetched, replaces the page in place (no navigation); the last one
    # leads to another page. Either way this page's <main> goes.
    page.evaluate("() => { document.querySelector('main').dataset.old = '1'; }")
    page.click("#submit")
    page.wait_for_selector("main:not([data-old])", state="attached")


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_listener_page_is_translated_and_accessible(
    browser, live_server, study, axe_source, language, device
):
    study, invite = study
    errors: list[str] = []
    context, page = open_page(browser, errors, language, device)
    shot = f"i18n-{language}-{device}"
    page.goto(live_server.url + invite.path())
    check(page, axe_source, language, "consent", f"{shot}-consent.png")
    assert page.locator("label[for='']").count() == 0
    assert page.evaluate(
        "() => [...document.querySelectorAll('input:not([type=hidden])')]"
        ".every(input => input.labels.length > 0)"
    )
    # Nothing filled in, past the browser's own check: the server's errors come back in the
    # page's language.
    page.evaluate("() => { document.querySelector('form.profile').noValidate = true; }")
    with page.expect_navigation():
        page.click("#start")
    page.wait_for_selector(".error")
    check(page, axe_source, language, "consent errors", f"{shot}-consent-errors.png")
    enrol(page, live_server.url + invite.path())
    check(page, axe_source, language, "headphone check", f"{shot}-headphones.png")
    panelist = pass_check(page)

    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    assert page.locator(".progress-fill").get_attribute("style") == "width: 0%"
    assert page.locator(".shortcuts").is_visible() is (device == "desktop")
    check(page, axe_source, language, "trial, ready", f"{shot}-trial.png")
    hear_both(page)
    check(page, axe_source, language, "trial, unlocked", f"{shot}-trial-unlocked.png")
    answer(page)

    # Pause (the resume code and link), then back to the trial.
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    with page.expect_navigation():
        page.click("#pause")
    page.wait_for_selector("#resume-code")
    check(page, axe_source, language, "pause", f"{shot}-pause.png")
    page.goto(live_server.url + invite.path())
    # Resuming on another device: the form, then a code that matches no one.
    other_errors: list[str] = []  # the wrong code's page comes with a 400, as it should
    elsewhere, other = open_page(browser, other_errors, language, device)
    other.goto(live_server.url + reverse("listener:resume", args=[invite.token]))
    check(other, axe_source, language, "resume", f"{shot}-resume.png")
    other.fill("input[name=code]", "2222-3333-4444-5555")
    with other.expect_navigation():
        other.click("#resume-submit")
    other.wait_for_selector(".error")
    check(other, axe_source, language, "resume, wrong code", f"{shot}-resume-wrong.png")
    elsewhere.close()
    assert [error for error in other_errors if "status of 400" not in error] == []

    # A reservation that lapsed and went back to the pool: the page offers to continue.
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    Trial.objects.filter(panelist=panelist, response__isnull=True).update(
        panelist=None, position=None, reserved_until=None, served_at=None
    )
    page.reload()
    page.wait_for_selector("#continue")
    check(page, axe_source, language, "continue", f"{shot}-continue.png")
    with page.expect_navigation():
        page.click("#continue")
    hear_both(page)
    answer(page)
    page.wait_for_selector(".done")
    check(page, axe_source, language, "done", f"{shot}-done.png")
    assert Response.objects.filter(panelist=panelist).count() == 2

    page.goto(live_server.url + "/p/no-such-invite/")
    check(page, axe_source, language, "bad link", f"{shot}-bad-link.png")
    expired = invite_create(study=study, panel=invite.panel)
    Invite.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    page.goto(live_server.url + expired.path())
    check(page, axe_source, language, "expired link", f"{shot}-expired-link.png")
    context.close()
    assert errors == []


DESIGNS = {
    "single": {"aspects": {"melody": "rating", "emotion": "rating"}, "ask_weaker": True,
               "ask_familiar": True, "ask_hit": True},
    "pool": {"pool_size": 3, "pool_rank_top3": True, "ask_familiar": True},
}  # fmt: skip


@pytest.mark.parametrize("design", sorted(DESIGNS))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_single_track_and_pool_trial_pages_are_translated_and_accessible(
    browser, live_server, design_listening, axe_source, language, design
):
    """Their own player (static/earshot/pool.js): ready, then every track heard (the counters
    and the unlocked questions); the single track on a desktop, the pool on a phone."""
    study, invite = design_listening(design, **DESIGNS[design])
    Study.objects.filter(pk=study.pk).update(title=INTERNAL_TITLE, listener_texts=TEXTS)
    device = "phone" if design == "pool" else "desktop"
    errors: list[str] = []
    context, page = open_page(browser, errors, language, device)
    shot = f"i18n-{language}-{design}"
    enrol(page, live_server.url + invite.path())
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    assert page.locator("#resume-code").is_visible()  # the first trial shows the code
    check(page, axe_source, language, f"{design} trial, ready", f"{shot}-trial.png")
    page.click("#play")
    tracks = page.evaluate(STATE)["tracks"]
    for number in range(1, tracks + 1):
        page.click(f"#track-{number}")
        page.wait_for_function(
            f"() => {{ const s = window.earshotPlayer.state(); "
            f"return s.heard[{number - 1}] >= s.required; }}"
        )
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    page.click("#play")  # pause
    check(page, axe_source, language, f"{design} trial, unlocked", f"{shot}-unlocked.png")
    context.close()
    assert errors == []


def test_switching_the_language_keeps_the_listener_where_they_were(
    browser, live_server, study, axe_source
):
    study, invite = study
    errors: list[str] = []
    context, page = open_page(browser, errors, "en", "desktop")
    enrol(page, live_server.url + invite.path())
    page.wait_for_selector("#headphone-form")
    with page.expect_navigation():
        page.click("button[name=language][value=zh-hans]")
    assert page.evaluate("() => document.documentElement.lang") == "zh-hans"
    assert page.url == live_server.url + invite.path()
    page.wait_for_selector("#headphone-form")
    assert "请戴上耳机" in page.inner_text("h1")
    context.close()
    assert errors == []


def test_shortcuts_leave_form_controls_alone_and_can_be_turned_off(
    browser, live_server, study, axe_source
):
    study, invite = study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    errors: list[str] = []
    context, page = open_page(browser, errors, "en", "desktop")
    enrol(page, live_server.url + invite.path())
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    # Focus order follows the page: language, player (play, A before B), then the shortcuts
    # switch; the locked questions and the disabled submit are skipped.
    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.value")
        )
    assert order[:3] == ["en", "zh-hans", "play"]
    assert order.index("side-a") < order.index("side-b") < order.index("shortcuts-on")
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("Enter")  # submit shortcut before the questions unlock: an error
    assert page.is_visible("#answer-error")
    hear_both(page)
    assert page.is_hidden("#answer-error")  # resolved: gone

    # A focused radio keeps Space (it checks the radio) and playback goes on.
    page.locator("input[name=choice][value=b]").focus()
    page.keyboard.press("Space")
    assert page.is_checked("input[name=choice][value=b]")
    assert page.evaluate(STATE)["playing"] is True
    # A focused B button keeps Enter (it switches to B) and nothing is submitted.
    page.locator("#side-a").focus()
    page.keyboard.press("Enter")
    assert page.evaluate(STATE)["active"] == "a"
    page.locator("#side-b").focus()
    page.keyboard.press("Enter")
    assert page.evaluate(STATE)["active"] == "b"
    assert Response.objects.count() == 0
    # Esc leaves the control; then the shortcuts act.
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    assert page.evaluate(STATE)["active"] == "a"
    page.keyboard.press("Space")
    assert page.evaluate(STATE)["playing"] is False

    # Off: single keys do nothing, and the choice survives a reload.
    page.uncheck("#shortcuts-on")
    assert page.is_hidden("#shortcuts-list")
    page.locator("h1, .study-title").first.click()
    page.keyboard.press("b")
    page.keyboard.press("Space")
    assert (page.evaluate(STATE)["active"], page.evaluate(STATE)["playing"]) == ("a", False)
    page.reload()
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    assert page.is_checked("#shortcuts-on") is False
    page.keyboard.press("Space")
    assert page.evaluate(STATE)["playing"] is False
    context.close()
    assert errors == []


def test_the_player_works_in_english_without_the_javascript_catalogue(browser, live_server, study):
    study, invite = study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.route("**/i18n/js/**", lambda route: route.abort())
    enrol(page, live_server.url + invite.path())
    page.wait_for_function("() => window.earshotPlayer && window.earshotPlayer.state().ready")
    assert page.evaluate("() => typeof window.gettext") == "undefined"
    assert page.inner_text("#player-status") == "Ready. Press Play, then switch between A and B."
    hear_both(page)
    assert page.inner_text("#heard-both") == "Same passage heard on A and B ✓"
    context.close()
    assert page_errors == []
