"""Resuming in Chromium: a listener starts on one device, is shown a resume code, and goes on
with the same trial on another device (a second browser context) by entering it, on the
multi-use link and on a used personal link."""

import re

import pytest

from evaluation.models import Panelist, Study, Trial
from evaluation.services.panelists import invite_create
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_listener_flow import enrol, open_page, wait_for_player
from tests.browser.test_listener_i18n import AXE, axe_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe_script() -> str:
    """axe-core's source (test_listener_i18n.py installs and explains it)."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `make install-test` (npm install of axe-core)")
    return AXE.read_text(encoding="utf-8")


def resume_with(page, code: str) -> None:
    page.fill("#resume-code-input", code)
    with page.expect_navigation():
        page.click("#resume-submit")


def test_a_listener_resumes_the_same_trial_on_another_device(
    browser, live_server, listening_study, axe_script
):
    study, invite = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    errors: list[str] = []
    laptop, page = open_page(browser, errors, viewport={"width": 1100, "height": 900})
    enrol(page, live_server.url + invite.path())
    wait_for_player(page)
    code = page.inner_text("#resume-code")
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    trial = Trial.objects.get(panelist__isnull=False)

    # Another device: the invite link asks for consent, and offers resuming instead.
    phone_options = {"viewport": {"width": 360, "height": 740}, "has_touch": True}
    phone, other = open_page(browser, errors, **phone_options)
    other.goto(live_server.url + invite.path())
    with other.expect_navigation():
        other.click("#resume-start")
    other.screenshot(path=SCREENSHOTS / "resume-phone.png", full_page=True)
    assert axe_violations(other, axe_script) == []
    other.fill("#resume-code-input", "WRONG-CODE")
    with other.expect_navigation():
        other.click("#resume-submit")
    assert "does not match anyone" in other.inner_text("#resume-error")
    # That page came with a 400 on purpose, which Chromium logs; nothing else may have.
    assert errors == [
        "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    errors.clear()
    resume_with(other, code.lower())
    wait_for_player(other)
    assert "Question 1 of 3" in other.inner_text("#progress")
    assert Panelist.objects.count() == 1
    assert Trial.objects.get(panelist__isnull=False) == trial
    # The pause page on the new device shows the same code.
    other.click("#pause")
    assert other.inner_text("#resume-code") == code
    assert axe_violations(other, axe_script) == []
    other.screenshot(path=SCREENSHOTS / "pause-phone.png", full_page=True)
    laptop.close()
    phone.close()
    assert errors == []


def test_a_used_personal_link_offers_resuming_instead_of_a_dead_end(
    browser, live_server, listening_study
):
    study, _ = listening_study
    Study.objects.filter(pk=study.pk).update(headphone_check=False)
    personal = invite_create(study=study, panel=_panel(), max_uses=1)
    errors: list[str] = []
    first, page = open_page(browser, errors)
    enrol(page, live_server.url + personal.path())
    wait_for_player(page)
    code = page.inner_text("#resume-code")

    second, other = open_page(browser, errors)
    response = other.goto(live_server.url + personal.path())
    assert response.status == 200
    assert "already been used" in other.inner_text("main")
    other.screenshot(path=SCREENSHOTS / "resume-used-link-desktop.png", full_page=True)
    resume_with(other, code)
    wait_for_player(other)
    assert Panelist.objects.count() == 1
    first.close()
    second.close()
    assert errors == []


def _panel():
    from evaluation.models import Panel

    return Panel.objects.get()
