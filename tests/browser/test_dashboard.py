"""The researcher's live dashboard in a real browser: funnel, quotas, coloured heat map and
flags drawn, readable on a phone, no Content Security Policy violation; screenshots under
var/screenshots/."""

import pytest
from django.urls import reverse

from evaluation.models import Study, Trial
from evaluation.services.simulation import panel_simulate
from evaluation.services.studies import slots_ensure

from .conftest import SCREENSHOTS
from .test_report_page import researcher_page


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1200, "height": 900}), ("phone", {"width": 390, "height": 844})],
)
def test_the_dashboard_draws_funnel_quotas_heat_map_and_flags(
    browser, live_server, listening_study, name, viewport
):
    study, _ = listening_study
    Trial.objects.filter(pair__study=study, panelist__isnull=True).delete()
    Study.objects.filter(pk=study.pk).update(stratum_quotas={"professional": 2, "amateur": 3})
    study.refresh_from_db()
    slots_ensure(study=study)
    panel_simulate(study=study, panelists=12, seed=4)
    context, page, errors = researcher_page(browser, live_server, viewport)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.goto(live_server.url + reverse("research:dashboard", args=[study.slug]))

    funnel = page.locator("#funnel li").all_inner_texts()
    assert [text.split()[-1] for text in funnel] == [
        "invited",
        "consented",
        "screened",
        "finished",
        "excluded",
    ]
    counts = {text.split()[-1]: int(text.split()[0]) for text in funnel}
    assert counts["consented"] == counts["screened"] == counts["finished"] == 4  # 2 + 2 slots
    assert page.locator("#quota-professional").inner_text().split()[-1] == "met"
    # Three pairs; a column per stratum; a full cell is coloured, an empty one nearly white.
    assert page.locator("#heat-map tbody tr").count() == 3
    headers = page.locator("#heat-map thead th").all_inner_texts()
    assert headers == ["pair", "amateur", "professional"]
    full = page.locator("#heat-map td.cell[data-percent='100']").first
    assert full.evaluate("e => getComputedStyle(e).backgroundColor") not in (
        "rgba(0, 0, 0, 0)",
        "rgb(255, 255, 255)",
    )
    assert page.locator("#flags tbody tr").count() >= 1
    box = page.locator("#funnel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
    # Nothing pushes the page wider than the screen (wide tables scroll in their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=SCREENSHOTS / f"dashboard-{name}.png", full_page=True)
    context.close()
    assert (errors, violations) == ([], [])
