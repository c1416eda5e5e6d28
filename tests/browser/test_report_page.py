"""The researcher's report in a real browser: every figure drawn, readable on a phone, and the
download link hands over the self-contained file."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from evaluation.models import Study
from evaluation.selectors.results import study_report
from evaluation.services.simulation import panel_simulate

from .conftest import SCREENSHOTS

FIGURES = ["forest", "ranking", "liked", "ai_by_expertise", "progress"]


def researcher_page(browser, live_server, viewport):
    user = get_user_model().objects.create_superuser("rita", "rita@example.com", "pw-rita-1")
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1200, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_every_report_figure_is_drawn_and_fits_the_page(
    browser, live_server, listening_study, name, viewport
):
    study, _ = listening_study
    panel_simulate(study=study, panelists=3, seed=2)
    context, page, errors = researcher_page(browser, live_server, viewport)

    # The panel is simulated: ask for its rows (left out by default).
    page.goto(
        live_server.url + reverse("research:results", args=[study.slug]) + "?include_simulated=1"
    )

    for key in FIGURES:
        box = page.locator(f"#figure-{key} svg").bounding_box()
        assert box is not None and box["height"] > 50
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    assert (
        page.locator("#headlines li").all_inner_texts()
        == (study_report(study, include_simulated=True)["report"]["headlines"])
    )
    assert page.locator("#methods").inner_text().startswith("Blind paired comparison of 2")
    page.screenshot(path=SCREENSHOTS / f"report-{name}.png", full_page=True)
    context.close()
    assert errors == []


def test_the_download_link_saves_the_report_file(browser, live_server, listening_study):
    study, _ = listening_study
    panel_simulate(study=study, panelists=3, seed=2)
    context, page, _ = researcher_page(browser, live_server, {"width": 1200, "height": 900})
    page.goto(
        live_server.url + reverse("research:results", args=[study.slug]) + "?include_simulated=1"
    )

    with page.expect_download() as download_info:
        page.click("#download-report")

    download = download_info.value
    assert download.suggested_filename == "browser-check-report.html"
    html = open(download.path(), encoding="utf-8").read()
    assert html.count("<svg") == 5
    # A handful of simulated listeners on each pair: fewer than the 8 a verdict needs.
    assert re.search(
        r"too little data for a verdict \(\d listeners?; a verdict needs at least 8\)", html
    )
    context.close()


def test_the_report_and_the_admin_break_no_content_security_policy_rule(
    browser, live_server, listening_study
):
    study, _ = listening_study
    panel_simulate(study=study, panelists=3, seed=2)
    context, page, errors = researcher_page(browser, live_server, {"width": 1200, "height": 900})
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    # The panel is simulated: ask for its rows (left out by default), so the figures are drawn.
    page.goto(
        live_server.url + reverse("research:results", args=[study.slug]) + "?include_simulated=1"
    )
    # The nonced <style> applied: the report's own rules, and the figures' colours.
    assert page.locator("#headlines").evaluate("e => getComputedStyle(e).borderRadius") == "10px"
    fill = page.locator("#figure-forest svg path[style*='fill']").first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill not in ("", "rgb(0, 0, 0)")
    # A draft: an opened study's systems are read-only, so it has no systems widget.
    draft = Study.objects.create(slug="draft", title="Draft")
    for url in (
        "/admin/",
        "/admin/evaluation/study/",
        f"/admin/evaluation/study/{study.pk}/change/",
        f"/admin/evaluation/study/{draft.pk}/change/",
    ):
        page.goto(live_server.url + url)
        assert page.locator("#content").count() == 1, url
    # The admin's scripts ran: its two-box widget for the draft's systems is built by JS.
    assert page.locator("select#id_systems_from").count() == 1
    context.close()
    assert (errors, violations) == ([], [])
