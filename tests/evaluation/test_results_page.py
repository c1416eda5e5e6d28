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
    page = client.get("/studies/pilot/results/?include_simulated=1")
    html = page.content.decode()
    assert page.status_code == 200
    assert "human reference" in html and "model-x" in html
    assert "of 10 listeners" in html
    assert "t-test against chance, 50%" in html
    assert "12 of 12 ratings collected" in html
    assert "Simulated panelists' 12 responses are included." in html


def test_simulated_panelists_are_left_out_of_the_results_unless_asked_for(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)

    html = client.get("/studies/pilot/results/").content.decode()

    assert "12 responses from simulated panelists are left out." in html
    assert '<a href="?include_simulated=1">Include them</a>' in html
    assert "No responses yet." in html and 'data-verdict="' not in html


def test_the_results_page_shows_headlines_figures_and_the_methods_paragraph(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    expected = study_report(prepared_study, include_simulated=True)
    client.force_login(researcher)

    html = client.get("/studies/pilot/results/?include_simulated=1").content.decode()

    headlines = re.search(r'<ul class="headlines" id="headlines">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", headlines) == [
        sentence.replace("'", "&#x27;") for sentence in expected["report"]["headlines"]
    ]
    assert re.findall(r'<figure id="figure-(\w+)">', html) == FIGURE_KEYS
    assert html.count("<svg") == 5
    assert "Blind paired comparison of 2 systems (human reference, model-x) on 3 prompts" in html
    assert "Every pair was rated 4 times before any was rated again" in html
    assert 'href="/studies/pilot/report.html?include_simulated=1"' in html


def test_the_report_downloads_as_one_self_contained_html_file(client, prepared_study, researcher):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)

    response = client.get("/studies/pilot/report.html?include_simulated=1")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="pilot-report.html"'
    assert html.startswith("<!doctype html>")
    assert html.count("<svg") == 5 and "<style>" in html
    # Nothing to fetch: no stylesheet, script, image or font from anywhere.
    assert not re.search(r"<link\b|<script\b|<img\b|@import|src=", html)
    assert re.findall(r'href="([^"#][^"]*)"', html) == []
    assert "Caution: 12 of 12 responses come from simulated panelists" in html
    assert "too little data for a verdict (4 listeners; a verdict needs at least 8)" in html
    assert "Methods" in html


def test_outsiders_and_anonymous_users_cannot_see_results(client, prepared_study, outsider):
    anonymous = client.get("/studies/pilot/results/")
    assert (anonymous.status_code, anonymous["Location"]) == (
        302,
        "/admin/login/?next=/studies/pilot/results/",
    )
    client.force_login(outsider)
    assert client.get("/studies/pilot/results/").status_code == 403


def test_outsiders_and_anonymous_users_cannot_download_the_report(client, prepared_study, outsider):
    anonymous = client.get("/studies/pilot/report.html")
    assert anonymous.status_code == 302
    # LOGIN_URL is the admin's login page, which sends the researcher back here afterwards.
    assert anonymous["Location"] == "/admin/login/?next=/studies/pilot/report.html"
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


def test_results_page_report_file_api_and_cli_show_the_same_verdicts(
    client, prepared_study, researcher, tmp_path, capsys
):
    import json

    from evaluation.exports import responses_csv
    from evaluation.stats.cli import main

    panel_simulate(study=prepared_study, panelists=6, seed=5)
    prepared_study.stats_min_panelists = 3
    prepared_study.save(update_fields=["stats_min_panelists"])
    client.force_login(researcher)

    page = client.get("/studies/pilot/results/?include_simulated=1").content.decode()
    download = client.get("/studies/pilot/report.html?include_simulated=1").content.decode()
    api = client.get("/api/studies/pilot/results/?include_simulated=1").json()
    path = tmp_path / "responses.csv"
    path.write_text(responses_csv(prepared_study), encoding="utf-8")
    assert (
        main([str(path), "--json", "--include-simulated", "--min-panelists", "3", "--no-progress"])
        == 0
    )
    cli = json.loads(capsys.readouterr().out)

    def verdicts(summary):
        return [
            (p["system_a"], p["system_b"], p["verdict"], p["verdict_p"]) for p in summary["pairs"]
        ]

    rows = re.findall(r'<tr data-verdict="(\w+)"><td>([^<]*)</td><td>([^<]*)</td>', page)
    assert verdicts(api) == verdicts(cli)
    assert [(a.replace("&#x27;", "'"), b, v) for v, a, b in rows] == [
        (a, b, v) for a, b, v, _ in verdicts(cli)
    ]
    assert re.findall(r'<tr data-verdict="(\w+)">', download) == [v for *_, v, _ in verdicts(cli)]
    assert api["meta"]["min_panelists"] == cli["meta"]["min_panelists"] == 3
    # The sentences built from those verdicts are the same on the page and in the API.
    listed = re.search(r'<ul class="headlines" id="headlines">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", listed) == [
        sentence.replace("'", "&#x27;") for sentence in api["report"]["headlines"]
    ]
    assert len(rows) == 1 and rows[0][0] in ("prefers_a", "prefers_b", "no_clear_preference")


def test_system_names_with_dollar_signs_draw_as_text_on_the_page_and_in_the_report(
    client, prepared_study, researcher
):
    from evaluation.models import System

    # Unbalanced and balanced dollars: as mathtext the first fails to parse (a 500 before).
    System.objects.filter(name="model-x").update(name="cost $5 $x$")
    System.objects.filter(name="human reference").update(name="human $\\frac{1}{0}$ ref")
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)
    # The panel is simulated: its rows are asked for (left out by default).
    page = client.get("/studies/pilot/results/?include_simulated=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.findall(r'<figure id="figure-(\w+)">', html) == FIGURE_KEYS
    assert "cost $5 $x$" in html
    download = client.get("/studies/pilot/report.html?include_simulated=1")
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
    # django-csp does not keep the directives in a fixed order: compare them by name.
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert [name for name, sources in directives.items() if "'unsafe-inline'" in sources] == [
        "style-src-attr"
    ]


def test_the_results_page_breaks_results_down_by_panel_and_stratum(
    client, prepared_study, researcher
):
    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)
    html = client.get("/studies/pilot/results/?include_simulated=1").content.decode()
    assert 'id="breakdowns"' in html
    assert 'data-dimension="panel" data-group="simulated"' in html
    assert 'data-dimension="expertise"' in html
    # four listeners: too few for a verdict in any group
    assert "4 — too little data" in html
    assert 'data-verdict="too_little_data"' in html


def test_the_results_page_and_report_file_show_every_study_design_section(
    client, prepared_study, researcher, monkeypatch
):
    """A study with aspects, pool trials, single tracks, familiarity and hit-potential
    answers (the issue-12 export columns): the page and the report file show each section,
    its figure and its verdicts, equal to the stats summary of the same CSV."""
    import csv
    import io

    from django.utils.html import escape

    from evaluation.selectors import results
    from evaluation.stats.responses import RESPONSE_COLUMNS
    from tests.evaluation.stats.conftest import design_rows

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(RESPONSE_COLUMNS))
    writer.writeheader()
    writer.writerows(design_rows(n_panelists=10, trials_each=3, seed=1, ai_pick_boost=2.0))
    monkeypatch.setattr(results, "responses_csv", lambda study: buffer.getvalue())
    expected = results.study_report(prepared_study)
    summary = expected["summary"]
    client.force_login(researcher)

    html = client.get("/studies/pilot/results/").content.decode()
    download = client.get("/studies/pilot/report.html").content.decode()

    for page in (html, download):
        for heading in (
            "Human or AI? (single tracks)",
            "Aspects",
            "Pool trials (pick 1 of N)",
            "Do you know this piece?",
            "Hit potential",
        ):
            assert f"<h2>{heading}</h2>" in page, heading
        figures = re.findall(r'<figure id="figure-(\w+)">', page)
        assert figures[-7:] == [
            "aspect_preference",
            "aspect_ratings",
            "weaker",
            "pool",
            "calibration",
            "familiarity",
            "hit_potential",
        ]
    # Who answered, and the verdicts of each section, exactly as the summary has them.
    assert "10 listeners judged 30 single tracks" in html
    aspect_verdicts = [
        pair["verdict"]
        for group in ("preference", "ratings")
        for aspect in summary["aspects"][group]
        for pair in aspect["pairs"]
    ]
    pool_verdicts = [row["verdict"] for row in summary["pool"]["systems"]]
    shown = re.findall(r'<tr data-design-verdict="(\w*)">', html)
    identification = [row["verdict"] for row in summary["identification"]["by_system"]]
    hit = [
        (row[question]["verdict"] or "")
        for row in summary["hit_potential"]["systems"]
        for question in ("playlist", "release")
        if row[question]
    ]
    assert shown == identification + aspect_verdicts + pool_verdicts + hit
    assert f'verdict <span class="verdict">{summary["pool"]["ai_share"]["verdict"]}</span>' in html
    assert summary["meta"]["min_panelists"] == prepared_study.stats_min_panelists
    headlines = re.search(r'<ul class="headlines" id="headlines">(.*?)</ul>', html, re.S).group(1)
    sentences = re.findall(r"<li>(.*?)</li>", headlines)
    assert sentences == [escape(sentence) for sentence in expected["report"]["headlines"]]
    # Comparisons below the study's minimum of listeners say so instead of giving a verdict.
    if "too_little_data" in aspect_verdicts:
        assert any("too little data for a verdict (fewer than" in s for s in sentences)
    assert any(sentence.startswith("Pick 1 of N") for sentence in sentences)
    assert any("would add" in sentence for sentence in sentences)
