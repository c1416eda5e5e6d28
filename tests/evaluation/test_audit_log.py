"""The audit log: every state change of a study appends who/when/what; entries are never
changed or deleted; the admin shows them read-only; the report's methods summarise them."""

import pytest
from django.urls import reverse

from evaluation.models import AuditEntry, Study
from evaluation.models.audit import AuditLogError

pytestmark = pytest.mark.django_db


def log(slug: str) -> list[tuple[str, str]]:
    return list(AuditEntry.objects.filter(study_slug=slug).values_list("action", "actor_name"))


def test_a_studys_life_is_logged_step_by_step(client, researcher, media_root, manifest):
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_close, study_open
    from evaluation.services.tracks import tracks_import

    tracks_import(study_slug="pilot", manifest=manifest)
    study = Study.objects.get(slug="pilot")
    Study.objects.filter(pk=study.pk).update(excerpt_s=3.0, headphone_check=False)
    study.refresh_from_db()
    stimuli_prepare(study=study)
    study_open(study=study, user=researcher)
    client.force_login(researcher)
    assert client.get("/api/studies/pilot/responses.csv").status_code == 200
    study_close(study=study, user=researcher)
    assert log("pilot") == [
        ("create", "import_tracks"),
        ("import", "import_tracks"),
        ("prepare", "system"),
        ("open", "rita"),
        ("export", "rita"),
        ("close", "rita"),
    ]
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(study_slug="pilot")}
    assert entries["import"].detail == {"manifest": "manifest.csv", "tracks": 6}
    assert entries["prepare"].detail == {"prompts": 3, "pairs": 3, "failures": 0}
    assert entries["open"].detail == {
        "config_hash": study.config_hash(),
        "new_slots": 30,
        "reopened": False,
    }
    assert entries["export"].detail == {"via": "api", "rows": 0}
    assert entries["open"].actor == researcher


def test_creating_and_editing_in_the_admin_are_logged_with_the_changed_fields(client, researcher):
    client.force_login(researcher)
    add = reverse("admin:evaluation_study_add")
    form = client.get(add).context["adminform"].form
    data = {
        name: field.initial
        for name, field in form.fields.items()
        if field.initial not in (None, False) and not callable(field.initial)
    }
    data.update(
        {
            "slug": "fresh",
            "title": "Fresh",
            "seed": "0",
            "catch_rate": "0",
            "invites-TOTAL_FORMS": "0",
            "invites-INITIAL_FORMS": "0",
            "jobs-TOTAL_FORMS": "0",
            "jobs-INITIAL_FORMS": "0",
        }
    )
    created = client.post(add, data)
    assert created.status_code == 302, created.context["adminform"].form.errors
    study = Study.objects.get(slug="fresh")
    change = reverse("admin:evaluation_study_change", args=[study.pk])
    data.update({"title": "Fresh study", "min_listen_s": "5.0"})
    assert client.post(change, data).status_code == 302
    assert log("fresh") == [("create", "rita"), ("edit", "rita")]
    assert AuditEntry.objects.get(action="edit").detail == {
        "changed": ["min_listen_s", "title"],
        "values": {"min_listen_s": 5.0, "title": "Fresh study"},
    }
    assert Study.objects.get(slug="fresh").created_by == researcher


def test_entries_are_append_only(prepared_study):
    entry = AuditEntry.objects.filter(study_slug="pilot").first()
    entry.actor_name = "someone else"
    with pytest.raises(AuditLogError, match="append-only: an entry is never changed"):
        entry.save()
    with pytest.raises(AuditLogError, match="never deleted"):
        entry.delete()
    with pytest.raises(AuditLogError, match="never updated"):
        AuditEntry.objects.update(actor_name="x")
    with pytest.raises(AuditLogError, match="never deleted"):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == "import_tracks"


def test_deleting_a_draft_keeps_its_entries(researcher, db):
    from evaluation.services.studies import study_delete, study_get_or_create_draft

    study = study_get_or_create_draft(slug="scratch", user=researcher)
    study_delete(study=study, user=researcher)
    assert not Study.objects.filter(slug="scratch").exists()
    assert log("scratch") == [("create", "rita"), ("delete", "rita")]


def test_a_study_with_answers_is_never_deleted(prepared_study, make_panelist, answer_all):
    from evaluation.services import ServiceError
    from evaluation.services.studies import study_delete

    answer_all(make_panelist(), lambda trial: "a")
    with pytest.raises(ServiceError) as error:
        study_delete(study=prepared_study)
    assert str(error.value) == (
        "study 'pilot' has 3 answer(s) and is never deleted; close it instead (a panelist's "
        "privacy request: panelist_data_delete)"
    )
    assert Study.objects.filter(slug="pilot").exists()


def test_the_admin_shows_the_log_read_only(client, researcher, view_only_staff, prepared_study):
    entry = AuditEntry.objects.filter(study_slug="pilot").first()
    for user in (researcher, view_only_staff):
        client.force_login(user)
        listing = client.get(reverse("admin:evaluation_auditentry_changelist"))
        assert listing.status_code == 200
        assert "pilot" in listing.content.decode()
        assert client.get(reverse("admin:evaluation_auditentry_add")).status_code == 403
        change = reverse("admin:evaluation_auditentry_change", args=[entry.pk])
        assert client.post(change, {"actor_name": "x"}).status_code == 403
        delete = reverse("admin:evaluation_auditentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == "import_tracks"


def test_the_report_summarises_the_history_under_its_methods(client, researcher, prepared_study):
    from evaluation.services.studies import study_close

    study_close(study=prepared_study, user=researcher)
    client.force_login(researcher)
    html = client.get(reverse("research:results", args=["pilot"])).content.decode()
    day = f"{prepared_study.created_at:%Y-%m-%d}"
    assert (
        f'<p class="methods" id="audit-summary">Study history (audit log, 5 entries; 0 exports):\n'
        f"  {day} created by import_tracks; {day} opened by system; {day} closed by rita.</p>"
    ) in html
    download = client.get(reverse("research:report-download", args=["pilot"])).content.decode()
    assert "Study history (audit log, 5 entries; 0 exports)" in download
