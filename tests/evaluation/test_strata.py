"""Strata and quotas (selectors.strata, services.strata, scheduling within a stratum): K
slots per pair in every quota stratum, a panelist only rates in their own stratum, a stratum
that met its quota is no longer served, and a simulated multi-stratum panel meets its quotas
with balanced coverage."""

import pytest
from django.core.exceptions import ValidationError

from evaluation.models import Invite, Panelist, Response, Study, Trial
from evaluation.selectors.strata import coverage, strata_progress, study_quotas_met
from evaluation.services import ServiceError
from evaluation.services.panelists import invite_create, panelist_join
from evaluation.services.simulation import panel_simulate
from evaluation.services.studies import slots_ensure

pytestmark = pytest.mark.django_db

QUOTAS = {"professional": 4, "amateur": 4, "non_musician": 2}


@pytest.fixture
def quota_study(prepared_study):
    """The pilot study (3 pairs, 3 trials each) with three strata; K=4 ratings per pair per
    stratum, so 4 panelists of a stratum rate every pair 4 times."""
    Trial.objects.all().delete()
    Study.objects.filter(pk=prepared_study.pk).update(stratum_quotas=QUOTAS, ratings_per_pair=4)
    prepared_study.refresh_from_db()
    slots_ensure(study=prepared_study)
    return prepared_study


def always_a(trial):
    return "a"


def join(invite, expertise):
    return panelist_join(invite=invite, expertise=expertise, plays_instrument=True)


def test_every_pair_has_k_slots_in_every_stratum(quota_study):
    slots = coverage(quota_study)
    assert len(slots) == 3 * 3  # pairs × strata
    per = Trial.objects.values_list("stratum", flat=True)
    assert sorted(set(per)) == ["amateur", "non_musician", "professional"]
    assert all(list(per).count(stratum) == 3 * 4 for stratum in QUOTAS)


def test_a_panelist_rates_only_in_their_own_stratum(quota_study, panel, answer_all):
    invite = invite_create(study=quota_study, panel=panel)
    pro = join(invite, "professional")
    answer_all(pro, always_a)
    strata = set(Trial.objects.filter(panelist=pro).values_list("stratum", flat=True))
    assert pro.stratum == "professional" and strata == {"professional"}


def test_a_listener_outside_every_stratum_is_turned_away_and_nothing_counted(quota_study, panel):
    invite = invite_create(study=quota_study, panel=panel)
    with pytest.raises(ServiceError) as refused:
        join(invite, "semi_professional")
    assert refused.value.code == "stratum_closed"
    assert Invite.objects.get(pk=invite.pk).uses == 0 and not Panelist.objects.exists()


def test_a_stratum_that_met_its_quota_is_no_longer_served(quota_study, panel, answer_all):
    invite = invite_create(study=quota_study, panel=panel)
    for _ in range(2):
        answer_all(join(invite, "non_musician"), always_a)
    with pytest.raises(ServiceError) as refused:
        join(invite, "non_musician")
    assert refused.value.code == "stratum_closed"
    assert join(invite, "amateur").stratum == "amateur"  # the others still are
    met = {p.stratum: p.met for p in strata_progress(quota_study)}
    assert met == {"amateur": False, "non_musician": True, "professional": False}


def test_quotas_are_validated():
    for bad in ({"guru": 3}, {"amateur": 0}, {"amateur": "3"}, ["amateur"]):
        with pytest.raises(ValidationError):
            Study(slug="s", title="s", stratum_quotas=bad).clean()


def test_auto_close_closes_the_study_once_every_quota_is_met(quota_study, panel, answer_all):
    Study.objects.filter(pk=quota_study.pk).update(
        auto_close=True, stratum_quotas={"professional": 1, "amateur": 1}
    )
    quota_study.refresh_from_db()
    invite = invite_create(study=quota_study, panel=panel)
    answer_all(join(invite, "professional"), always_a)
    assert Study.objects.get(pk=quota_study.pk).is_open
    answer_all(join(invite, "amateur"), always_a)
    assert Study.objects.get(pk=quota_study.pk).status == Study.Status.CLOSED


def test_a_simulated_multi_stratum_panel_meets_its_quotas_with_balanced_coverage(quota_study):
    outcome = panel_simulate(study=quota_study, panelists=60, seed=3)
    progress = {p.stratum: p for p in strata_progress(quota_study)}
    assert study_quotas_met(quota_study)
    for stratum, quota in QUOTAS.items():
        assert progress[stratum].finished == quota  # met, and nobody past it was enrolled
    counts = coverage(quota_study)
    for stratum, quota in QUOTAS.items():
        cells = [n for (pair, s), n in counts.items() if s == stratum]
        # every pair of the stratum got the same number of ratings (balanced to within one)
        assert max(cells) - min(cells) <= 1, (stratum, cells)
        assert sum(cells) == quota * 3
    # the two full strata: every pair exactly K=4 ratings within the stratum
    assert {n for (pair, s), n in counts.items() if s in ("professional", "amateur")} == {4}
    assert Response.objects.count() == outcome["responses"] == sum(QUOTAS.values()) * 3
    assert outcome["panelists"] == sum(QUOTAS.values())
    assert outcome["turned_away"] == 60 - sum(QUOTAS.values())


def test_a_stratum_added_to_an_open_study_gets_its_slots(quota_study):
    from evaluation.services.studies import study_save

    quota_study.stratum_quotas = {**QUOTAS, "semi_professional": 2}
    study_save(study=quota_study, changed=["stratum_quotas"])
    assert Trial.objects.filter(stratum="semi_professional").count() == 3 * 4
