"""The researcher's live dashboard (selectors.dashboard, views.research.dashboard): funnel,
coverage heat map, rater-quality flags, ETA to quota; researchers only."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from evaluation.models import Response, Study, Trial
from evaluation.selectors import dashboard
from evaluation.services.panelists import invite_create, panelist_join
from evaluation.services.simulation import panel_simulate
from evaluation.services.studies import slots_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def quota_study(prepared_study):
    Trial.objects.all().delete()
    Study.objects.filter(pk=prepared_study.pk).update(
        stratum_quotas={"professional": 2, "amateur": 2}, ratings_per_pair=2
    )
    prepared_study.refresh_from_db()
    slots_ensure(study=prepared_study)
    return prepared_study


def test_the_funnel_counts_each_step(quota_study, panel, answer_all):
    invite = invite_create(study=quota_study, panel=panel)
    done = panelist_join(invite=invite, expertise="professional")
    answer_all(done, lambda trial: "b")
    panelist_join(invite=invite, expertise="amateur")  # joined, nothing answered yet
    funnel = dashboard.funnel(quota_study)
    assert funnel.steps() == [
        ("invited", 2),
        ("consented", 2),
        ("screened", 2),
        ("finished", 1),
        ("excluded", 0),
    ]


def test_the_heat_map_has_a_row_per_pair_and_a_column_per_stratum(quota_study):
    panel_simulate(study=quota_study, panelists=30, seed=1)
    heat = dashboard.heat_map(quota_study)
    assert heat.strata == ["amateur", "professional"] and heat.k == 2
    assert len(heat.rows) == 3
    assert all(cell[:2] == (2, 100) for _, cells in heat.rows for cell in cells)
    assert "model-x" in heat.rows[0][0] or "human reference" in heat.rows[0][0]


def test_rater_flags_catch_fast_and_same_side(quota_study, panel, answer_all, monkeypatch):
    monkeypatch.setattr(dashboard, "SAME_SIDE_MIN", 3)
    invite = invite_create(study=quota_study, panel=panel)
    steady = panelist_join(invite=invite, expertise="professional")
    answer_all(steady, lambda trial: "a")  # three times A: same side
    hasty = panelist_join(invite=invite, expertise="amateur")
    choices = iter("abt")
    answer_all(hasty, lambda trial: {"t": "tie"}.get(c := next(choices), c))
    Response.objects.filter(panelist=hasty).update(
        started_at=F("submitted_at") - timedelta(seconds=1)
    )
    flags = {row.pseudonym: row for row in dashboard.rater_flags(quota_study)}
    assert flags[steady.pseudonym].flags == ("same_side",)
    assert flags[hasty.pseudonym].flags == ("fast",)
    assert dashboard.funnel(quota_study).excluded == 2


def test_a_failed_catch_trial_is_flagged(catch_study, answer_all):
    from evaluation.models import Panel
    from evaluation.services.panelists import invite_create as make_invite

    invite = make_invite(study=catch_study, panel=Panel.objects.create(name="c"))
    panelist = panelist_join(invite=invite, expertise="amateur")

    def wrong_on_catch(trial):
        if trial.is_catch:
            expected = trial.pair.catch_expected_choice(swapped=trial.swapped)
            return {"a": "b", "b": "a", "tie": "a"}[expected]
        return "a"

    answer_all(panelist, wrong_on_catch)
    (row,) = dashboard.rater_flags(catch_study)
    assert row.catch_failed >= 1 and "catch" in row.flags


def test_eta_follows_the_pace_of_the_last_day(quota_study, panel, answer_all):
    invite = invite_create(study=quota_study, panel=panel)
    assert dashboard.eta_to_quota(quota_study, dashboard.strata_progress(quota_study)) is None
    for expertise in ("professional", "amateur"):
        answer_all(panelist_join(invite=invite, expertise=expertise), lambda trial: "a")
    # One of two done per stratum, one hour after the first listener joined.
    from evaluation.models import Panelist

    Panelist.objects.update(created_at=timezone.now() - timedelta(hours=1))
    eta = dashboard.eta_to_quota(quota_study, dashboard.strata_progress(quota_study))
    assert timedelta(minutes=55) <= eta <= timedelta(minutes=65)
    for expertise in ("professional", "amateur"):
        answer_all(panelist_join(invite=invite, expertise=expertise), lambda trial: "a")
    assert dashboard.eta_to_quota(quota_study, dashboard.strata_progress(quota_study)) == timedelta(
        0
    )


def test_the_page_is_for_researchers_only(client, quota_study, researcher, outsider):
    url = reverse("research:dashboard", args=[quota_study.slug])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(researcher)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="funnel"' in html and 'id="heat-map"' in html and 'id="flags"' in html
