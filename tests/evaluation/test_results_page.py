"""The researcher results page: researchers only, figures from evaluation.stats."""

import pytest

from evaluation.services.simulation import panel_simulate

pytestmark = pytest.mark.django_db


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


def test_outsiders_and_anonymous_users_cannot_see_results(client, prepared_study, outsider):
    assert client.get("/studies/pilot/results/").status_code == 302
    client.force_login(outsider)
    assert client.get("/studies/pilot/results/").status_code == 403
