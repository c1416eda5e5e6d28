"""Once a study has opened, its protocol, pairs, tracks and stimuli are read-only everywhere
(admin, services, model validation), with the reason; answered trials and responses are
read-only; 'new version of this study' copies it as a draft whose protocol can change."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evaluation.models import Pair, Prompt, Response, Stimulus, Study, Track, Trial
from evaluation.services import ServiceError

pytestmark = pytest.mark.django_db


def reason(study: Study) -> str:
    return (
        f"study 'pilot' has been opened (on {study.opened_at:%Y-%m-%d %H:%M} UTC), so its "
        f"protocol, pairs, tracks and stimuli are frozen: every answer keeps the meaning it "
        f"had when it was given. Make a new version of the study (admin action 'New version "
        f"of this study') to change them"
    )


def test_the_admin_shows_an_opened_studys_protocol_read_only_and_says_why(
    client, researcher, prepared_study
):
    client.force_login(researcher)
    page = client.get(reverse("admin:evaluation_study_change", args=[prepared_study.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for field in ("min_listen_s", "seed", "ask_ai", "slug", "excerpt_s", "systems"):
        assert f'name="{field}"' not in html
    assert 'name="title"' in html  # the title is not part of the protocol
    shown = [str(m) for m in page.context["messages"]]
    assert shown == [f"Protocol read-only: {reason(prepared_study)}."]


def test_an_admin_post_cannot_change_an_opened_studys_protocol(client, admin_user, prepared_study):
    client.force_login(admin_user)
    url = reverse("admin:evaluation_study_change", args=[prepared_study.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "title": "Renamed pilot",
            "min_listen_s": "0",
            "seed": "999",
            "ask_ai": "",
            "invites-TOTAL_FORMS": "0",
            "invites-INITIAL_FORMS": "0",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
        }
    )
    data.pop("created_by", None)
    response = client.post(url, data)
    assert response.status_code == 302
    study = Study.objects.get(pk=prepared_study.pk)
    assert (study.title, study.min_listen_s, study.seed, study.ask_ai) == (
        "Renamed pilot",
        2.0,
        7,
        True,
    )
    entry = study.audit_entries.get(action="edit")
    assert entry.detail == {"changed": ["title"], "values": {"title": "Renamed pilot"}}


def test_model_validation_refuses_a_protocol_change_and_names_the_fields(prepared_study):
    prepared_study.min_listen_s = 0.0
    prepared_study.seed = 999
    with pytest.raises(ValidationError) as error:
        prepared_study.full_clean()
    assert error.value.messages == [f"{reason(prepared_study)} (changed: seed, min_listen_s)."]


def test_the_save_service_refuses_a_protocol_change(prepared_study, researcher):
    from evaluation.services.studies import study_save

    prepared_study.ask_ai = False
    with pytest.raises(ServiceError) as error:
        study_save(study=prepared_study, user=researcher, changed=["ask_ai"])
    assert (error.value.code, error.value.status) == ("study_frozen", 409)
    assert str(error.value) == f"{reason(prepared_study)} (changed: ask_ai)"
    assert Study.objects.get(pk=prepared_study.pk).ask_ai is True


@pytest.mark.parametrize(
    ("model", "admin_name"),
    [(Prompt, "prompt"), (Track, "track"), (Stimulus, "stimulus"), (Pair, "pair")],
)
def test_prompts_tracks_stimuli_and_pairs_of_an_opened_study_are_read_only_in_the_admin(
    client, admin_user, prepared_study, model, admin_name
):
    row = model.objects.first()
    client.force_login(admin_user)
    url = reverse(f"admin:evaluation_{admin_name}_change", args=[row.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert [str(m) for m in page.context["messages"]] == [f"Read-only: {reason(prepared_study)}."]
    assert client.post(url, {}).status_code == 403
    delete = reverse(f"admin:evaluation_{admin_name}_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_a_pair_or_track_of_an_opened_study_fails_model_validation_with_the_reason(
    prepared_study,
):
    pair = Pair.objects.first()
    with pytest.raises(ValidationError) as error:
        pair.full_clean()
    assert error.value.messages == [
        f"pair {pair.pk} cannot be added or changed: {reason(prepared_study)}."
    ]
    track = Track.objects.first()
    with pytest.raises(ValidationError, match="cannot be added or changed: study 'pilot'"):
        track.full_clean()


def test_services_refuse_to_prepare_import_or_generate_for_an_opened_study(
    prepared_study, manifest
):
    from evaluation.services.generation import generation_parameters_clean
    from evaluation.services.stimuli import stimuli_prepare, stimuli_prepare_queue
    from evaluation.services.tracks import tracks_import

    for call in (
        lambda: stimuli_prepare(study=prepared_study),
        lambda: stimuli_prepare_queue(study=prepared_study),
        lambda: tracks_import(study_slug="pilot", manifest=manifest),
    ):
        with pytest.raises(ServiceError) as error:
            call()
        assert (error.value.code, str(error.value)) == ("study_frozen", reason(prepared_study))
    with pytest.raises(ServiceError, match="tracks can be generated for a draft only"):
        generation_parameters_clean(study=prepared_study)
    assert (Track.objects.count(), Pair.objects.count()) == (6, 3)


def test_trials_and_responses_are_read_only_in_the_admin(
    client, admin_user, make_panelist, answer_all
):
    trial = answer_all(make_panelist(), lambda trial: "a")[0]
    client.force_login(admin_user)
    trial_url = reverse("admin:evaluation_trial_change", args=[trial.pk])
    assert client.post(trial_url, {"swapped": "on" if not trial.swapped else ""}).status_code == 403
    assert Trial.objects.get(pk=trial.pk).swapped == trial.swapped
    response = Response.objects.get(trial=trial)
    assert client.get(reverse("admin:evaluation_response_add")).status_code == 403
    change = reverse("admin:evaluation_response_change", args=[response.pk])
    assert client.post(change, {"choice": "b"}).status_code == 403
    delete = reverse("admin:evaluation_response_delete", args=[response.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Response.objects.get(pk=response.pk).choice == "a"


def test_a_new_version_is_a_draft_copy_whose_protocol_can_change(prepared_study, researcher):
    from evaluation.services.studies import study_new_version, study_save

    draft = study_new_version(study=prepared_study, user=researcher)
    assert (draft.slug, draft.status, draft.version, draft.previous_version) == (
        "pilot-v2",
        "draft",
        2,
        prepared_study,
    )
    assert draft.protocol() == prepared_study.protocol()
    assert sorted(draft.systems.values_list("name", flat=True)) == ["human reference", "model-x"]
    original = sorted(Track.objects.filter(prompt__study=prepared_study).values_list("sha256"))
    copied = sorted(Track.objects.filter(prompt__study=draft).values_list("sha256"))
    assert copied == original and len(copied) == 6
    assert (draft.pairs.count(), draft.panelists.count()) == (0, 0)
    draft.min_listen_s = 0.0
    study_save(study=draft, user=researcher, changed=["min_listen_s"])
    assert Study.objects.get(slug="pilot-v2").min_listen_s == 0.0
    assert Study.objects.get(slug="pilot").min_listen_s == 2.0
    again = study_new_version(study=draft, user=researcher)
    assert (again.slug, again.version) == ("pilot-v3", 3)


def test_a_systems_name_and_kind_are_read_only_once_it_is_in_an_opened_study(
    client, admin_user, prepared_study
):
    from evaluation.models import System

    system = System.objects.get(name="model-x")
    client.force_login(admin_user)
    url = reverse("admin:evaluation_system_change", args=[system.pk])
    html = client.get(url).content.decode()
    assert 'name="kind"' not in html and 'name="name"' not in html
    assert 'name="description"' in html
    client.post(url, {"name": "HumanLike", "kind": "human", "description": "v1"})
    system.refresh_from_db()
    assert (system.name, system.kind, system.description) == ("model-x", "ai", "v1")


def test_a_privacy_deletion_frees_the_panelists_slots_for_others(
    prepared_study, make_panelist, answer_all, admin_user
):
    from evaluation.models import AuditEntry, Panelist
    from evaluation.services.panelists import panelist_data_delete

    leaving = make_panelist()
    answered = answer_all(leaving, lambda trial: "a")
    outcome = panelist_data_delete(panelist=leaving, user=admin_user, reason="e-mail of 1 Dec")
    assert outcome == {
        "pseudonym": leaving.pseudonym,
        "study": "pilot",
        "responses": 3,
        "headphone_items": 0,
        "trials_freed": 3,
        "catch_trials": 0,
    }
    assert not Panelist.objects.filter(pk=leaving.pk).exists()
    freed = Trial.objects.filter(pk__in=[trial.pk for trial in answered])
    assert list(freed.values_list("panelist", "position", "served_at")) == [(None, None, None)] * 3
    assert not freed.filter(token__in=[trial.token for trial in answered]).exists()
    entry = AuditEntry.objects.get(action="privacy_deletion")
    assert (entry.actor, entry.detail["reason"]) == (admin_user, "e-mail of 1 Dec")
    assert Response.objects.count() == 0
