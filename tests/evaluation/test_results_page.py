"""The researcher pages: the report (results page and downloadable HTML file, figures from
evaluation.stats, reachable from the study's admin page) and stimulus listening, for
researchers only."""

import re

import pytest

from evaluation.selectors.results import study_report
from evaluation.services.simulation import panel_simulate

pytestmark = pytest.mark.django_db

FIGURE_KEYS = ["forest", "ranking", "liked", "ai_by_expertise", "progress"]


def test_the_results_page_shows_pairs_liked_and_ai_identification(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)
    page = client.get("/studies/pilot/results/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "human reference" in html and "model-x" in html
    assert "of 10" in html
    assert "exact binomial test against chance" in html
    assert "12 of 12 ratings collected" in html


def test_the_results_page_shows_headlines_figures_and_the_methods_paragraph(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    expected = study_report(prepared_study)
    client.force_login(researcher)

    html = client.get("/studies/pilot/results/").content.decode()

    headlines = re.search(r'<ul class="headlines" id="headlines">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", headlines) == [
        sentence.replace("'", "&#x27;") for sentence in expected["report"]["headlines"]
    ]
    assert re.findall(r'<figure id="figure-(\w+)">', html) == FIGURE_KEYS
    assert html.count("<svg") == 5
    assert "Blind paired comparison of 2 systems (human reference, model-x) on 3 prompts" in html
    assert "Every pair was rated 4 times before any was rated again" in html
    assert 'href="/studies/pilot/report.html"' in html


def test_the_report_downloads_as_one_self_contained_html_file(client, prepared_study, researcher):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)

    response = client.get("/studies/pilot/report.html")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pilot-report.html"'
    assert html.startswith("<!doctype html>")
    assert html.count("<svg") == 5 and "<style>" in html
    # Nothing to fetch: no stylesheet, script, image or font from anywhere.
    assert not re.search(r"<link\b|<script\b|<img\b|@import|src=", html)
    assert re.findall(r'href="([^"#][^"]*)"', html) == []
    assert "Musicians preferred" in html and "Methods" in html


def test_outsiders_and_anonymous_users_cannot_see_results(client, prepared_study, outsider):
    assert client.get("/studies/pilot/results/").status_code == 302
    client.force_login(outsider)
    assert client.get("/studies/pilot/results/").status_code == 403


def test_outsiders_and_anonymous_users_cannot_download_the_report(client, prepared_study, outsider):
    anonymous = client.get("/studies/pilot/report.html")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/") or "login" in anonymous["Location"]
    client.force_login(outsider)
    refused = client.get("/studies/pilot/report.html")
    assert refused.status_code == 403
    assert b"<svg" not in refused.content


def test_the_study_admin_page_links_to_the_report(client, prepared_study, admin_user):
    client.force_login(admin_user)

    html = client.get(f"/admin/evaluation/study/{prepared_study.pk}/change/").content.decode()

    assert '<a href="/studies/pilot/results/">results</a>' in html
    assert '<a href="/studies/pilot/report.html">report (HTML)</a>' in html


def test_an_empty_study_says_what_is_missing_instead_of_drawing_figures(
    client, prepared_study, researcher
):
    client.force_login(researcher)

    html = client.get("/studies/pilot/results/").content.decode()

    assert "<svg" not in html
    assert "Win rate per system pair left out: no preference votes yet." in html
    assert "Progress over time left out: no submission times" in html


def test_no_template_comment_leaks_into_the_report(client, prepared_study, researcher):
    client.force_login(researcher)

    download = client.get("/studies/pilot/report.html").content.decode()

    assert "{#" not in download and "{%" not in download


def test_a_researcher_can_listen_to_any_stimulus_and_see_its_measurements_in_the_admin(
    client, prepared_study, researcher, admin_user
):
    from django.urls import reverse

    from evaluation.models import Stimulus

    stimulus = Stimulus.objects.order_by("pk").first()
    url = reverse("research:stimulus-audio", args=[stimulus.pk])
    assert url == f"/studies/stimuli/{stimulus.pk}/audio"
    client.force_login(researcher)
    audio = client.get(url, HTTP_RANGE="bytes=0-3")
    assert (audio.status_code, audio.content) == (206, b"fLaC")
    client.force_login(admin_user)
    page = client.get(reverse("admin:evaluation_stimulus_changelist")).content.decode()
    assert f'<audio controls preload="none" src="{url}">' in page
    assert f'<td class="field-loudness">{stimulus.loudness_lufs:.1f} LUFS</td>' in page
    assert f'<td class="field-peak_reduction">{stimulus.peak_reduction_db:.1f} dB</td>' in page


def test_outsiders_and_anonymous_users_cannot_listen_to_stimuli(client, prepared_study, outsider):
    from evaluation.models import Stimulus

    url = f"/studies/stimuli/{Stimulus.objects.first().pk}/audio"
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_system_names_with_dollar_signs_draw_as_text_on_the_page_and_in_the_report(
    client, prepared_study, researcher
):
    from evaluation.models import System

    # Unbalanced and balanced dollars: as mathtext the first fails to parse (a 500 before).
    System.objects.filter(name="model-x").update(name="cost $5 $x$")
    System.objects.filter(name="human reference").update(name="human $\\frac{1}{0}$ ref")
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)
    page = client.get("/studies/pilot/results/")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.findall(r'<figure id="figure-(\w+)">', html) == FIGURE_KEYS
    assert "cost $5 $x$" in html
    download = client.get("/studies/pilot/report.html")
    assert download.status_code == 200
    assert download.content.decode().count("<svg") == 5


def test_the_results_page_runs_under_the_content_security_policy(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)
    page = client.get("/studies/pilot/results/")
    policy = page["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    html = page.content.decode()
    assert re.findall(r"<style[^>]*>", html) == [f'<style nonce="{nonce}">']
    assert "<script>" not in html
    assert (
        "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    )
