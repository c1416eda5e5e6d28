"""The researcher pages: results (figures from evaluation.stats) and stimulus listening,
for researchers only."""

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
    assert f"{stimulus.loudness_lufs}"[:6] in page
    assert "peak reduction db" in page.lower()


def test_outsiders_and_anonymous_users_cannot_listen_to_stimuli(client, prepared_study, outsider):
    from evaluation.models import Stimulus

    url = f"/studies/stimuli/{Stimulus.objects.first().pk}/audio"
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 403
