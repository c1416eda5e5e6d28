"""Who may do what: every admin action and every POST endpoint, tried by an outsider (no
staff status), a view-only staff user, a researcher and (where it matters) an admin. The
refused ones get the exact refusal and change nothing."""

import json

import pytest
from django.urls import reverse

from evaluation.models import AuditEntry, Job, Panelist, Response, Study, Trial

pytestmark = pytest.mark.django_db

STUDIES = reverse("admin:evaluation_study_changelist")
JOBS = reverse("admin:evaluation_job_changelist")
PANELISTS = reverse("admin:evaluation_panelist_changelist")
LOGIN = reverse("admin:login")


def state() -> tuple:
    """Everything an action could change, to compare before and after a refusal."""
    return (
        list(Study.objects.order_by("pk").values_list("slug", "status", "opened_at", "closed_at")),
        list(Job.objects.order_by("pk").values_list("pk", "status", "cancel_requested")),
        Panelist.objects.count(),
        Response.objects.count(),
        AuditEntry.objects.count(),
    )


def post_action(client, changelist: str, action: str, pks: list[int]):
    return client.post(changelist, {"action": action, "_selected_action": pks})


@pytest.fixture
def draft(db, media_root, manifest):
    from evaluation.services.tracks import tracks_import

    tracks_import(study_slug="draft", manifest=manifest)
    return Study.objects.get(slug="draft")


@pytest.fixture
def job(prepared_study):
    return Job.objects.create(study=prepared_study, kind=Job.Kind.PREPARE_STIMULI)


STUDY_ACTIONS = [
    "generate_tracks",
    "prepare_stimuli",
    "open_studies",
    "close_studies",
    "export_responses",
    "new_version",
    "delete_selected",
]


@pytest.mark.parametrize("action", STUDY_ACTIONS)
def test_an_outsider_is_sent_to_the_login_page_by_every_study_action(
    client, outsider, prepared_study, action
):
    client.force_login(outsider)
    before = state()
    page = post_action(client, STUDIES, action, [prepared_study.pk])
    assert page.status_code == 302
    assert page["Location"] == f"{LOGIN}?next={STUDIES}"
    assert state() == before


@pytest.mark.parametrize("action", STUDY_ACTIONS)
def test_a_view_only_staff_user_is_offered_no_study_action_and_none_runs(
    client, view_only_staff, prepared_study, action
):
    client.force_login(view_only_staff)
    listing = client.get(STUDIES)
    assert listing.status_code == 200
    assert 'name="action"' not in listing.content.decode()
    before = state()
    page = post_action(client, STUDIES, action, [prepared_study.pk])
    # With no action allowed, Django ignores the POST and shows the list again.
    assert page.status_code == 200
    assert [str(m) for m in page.context["messages"]] == []
    assert 'name="action"' not in page.content.decode()
    assert state() == before


def test_a_researcher_is_offered_the_study_actions_but_delete_only_without_answers(
    client, researcher, prepared_study
):
    client.force_login(researcher)
    offered = [
        name for name, _ in client.get(STUDIES).context["action_form"].fields["action"].choices
    ]
    assert offered == ["", "delete_selected"] + STUDY_ACTIONS[:-1]


def test_a_researcher_generates_prepares_opens_closes_exports_and_versions(
    client, researcher, draft
):
    client.force_login(researcher)
    assert post_action(client, STUDIES, "generate_tracks", [draft.pk]).status_code == 302
    assert post_action(client, STUDIES, "prepare_stimuli", [draft.pk]).status_code == 302
    assert list(Job.objects.order_by("pk").values_list("kind", "status")) == [
        ("generate_tracks", "queued"),
        ("prepare_stimuli", "queued"),
    ]
    from evaluation.services.stimuli import stimuli_prepare

    Study.objects.filter(pk=draft.pk).update(excerpt_s=3.0)
    stimuli_prepare(study=Study.objects.get(pk=draft.pk))
    post_action(client, STUDIES, "open_studies", [draft.pk])
    assert Study.objects.get(pk=draft.pk).status == "open"
    export = post_action(client, STUDIES, "export_responses", [draft.pk])
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="draft-responses.csv"'
    post_action(client, STUDIES, "close_studies", [draft.pk])
    assert Study.objects.get(pk=draft.pk).status == "closed"
    post_action(client, STUDIES, "new_version", [draft.pk])
    copy = Study.objects.get(slug="draft-v2")
    assert (copy.status, copy.version, copy.previous_version_id) == ("draft", 2, draft.pk)
    actions = list(
        AuditEntry.objects.filter(study_slug="draft", actor__isnull=False).values_list(
            "action", "actor_name"
        )
    )
    assert actions == [
        ("generate", "rita"),
        ("prepare", "rita"),
        ("open", "rita"),
        ("export", "rita"),
        ("close", "rita"),
        ("new_version", "rita"),
    ]


def test_a_researcher_deletes_a_study_without_answers_and_never_one_with_answers(
    client, researcher, prepared_study, draft, make_panelist, answer_all
):
    answer_all(make_panelist(), lambda trial: "a")
    client.force_login(researcher)
    page = client.post(
        STUDIES,
        {"action": "delete_selected", "_selected_action": [prepared_study.pk], "post": "yes"},
    )
    # Django shows what blocks the deletion (the protected answers) and deletes nothing.
    assert page.status_code == 200
    assert "<title>Cannot delete study" in page.content.decode()
    assert Study.objects.filter(slug="pilot").exists()
    assert not AuditEntry.objects.filter(action="delete").exists()
    client.post(
        STUDIES, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}
    )
    assert not Study.objects.filter(slug="draft").exists()
    entry = AuditEntry.objects.get(study_slug="draft", action="delete")
    assert (entry.actor_name, entry.study_id) == ("rita", draft.pk)


@pytest.mark.parametrize("user", ["outsider", "view_only_staff"])
def test_only_researchers_cancel_jobs_in_the_admin(client, request, job, user):
    client.force_login(request.getfixturevalue(user))
    before = state()
    page = post_action(client, JOBS, "cancel_jobs", [job.pk])
    if user == "view_only_staff":
        assert page.status_code == 200
        assert 'name="action"' not in page.content.decode()
    else:
        assert (page.status_code, page["Location"]) == (302, f"{LOGIN}?next={JOBS}")
    assert state() == before


def test_a_researcher_cancels_a_job_in_the_admin(client, researcher, job):
    client.force_login(researcher)
    post_action(client, JOBS, "cancel_jobs", [job.pk])
    job.refresh_from_db()
    assert (job.status, job.cancel_requested) == ("cancelled", True)


@pytest.mark.parametrize("user", ["outsider", "view_only_staff", "researcher"])
def test_only_admins_delete_a_panelists_data(client, request, make_panelist, answer_all, user):
    panelist = make_panelist()
    answer_all(panelist, lambda trial: "a")
    client.force_login(request.getfixturevalue(user))
    before = state()
    page = post_action(client, PANELISTS, "delete_data_on_privacy_request", [panelist.pk])
    if user == "outsider":
        assert (page.status_code, page["Location"]) == (302, f"{LOGIN}?next={PANELISTS}")
    else:
        assert page.status_code == 200
        assert 'name="action"' not in page.content.decode()
    assert state() == before


def test_an_admin_deletes_a_panelists_data_and_the_audit_log_keeps_it(
    client, admin_user, make_panelist, answer_all
):
    panelist = make_panelist()
    answer_all(panelist, lambda trial: "a")
    client.force_login(admin_user)
    post_action(client, PANELISTS, "delete_data_on_privacy_request", [panelist.pk])
    assert (Panelist.objects.count(), Response.objects.count()) == (0, 0)
    entry = AuditEntry.objects.get(action="privacy_deletion")
    assert entry.actor_name == "admin"
    assert entry.detail == {
        "pseudonym": panelist.pseudonym,
        "study": "pilot",
        "responses": 3,
        "headphone_items": 0,
        "trials_freed": 3,
        "catch_trials": 0,
        "reason": "privacy request (admin)",
    }


# --- the researcher API: every POST endpoint -------------------------------------------

API_POSTS = [
    ("/api/studies/pilot/prepare/", "prepare"),
    ("/api/studies/pilot/generate/", "generate"),
    ("/api/studies/pilot/open/", "open"),
    ("/api/studies/pilot/close/", "close"),
    ("/api/studies/pilot/new-version/", "new-version"),
    ("/api/jobs/{job}/cancel/", "cancel"),
]


@pytest.mark.parametrize("user", [None, "outsider", "view_only_staff"])
@pytest.mark.parametrize(("url", "name"), API_POSTS)
def test_every_api_post_refuses_anyone_but_researchers(client, request, job, user, url, name):
    if user:
        client.force_login(request.getfixturevalue(user))
    before = state()
    response = client.post(url.format(job=job.pk))
    assert response.status_code == 403
    expected = (
        "Authentication credentials were not provided."
        if user is None
        else "Researcher access required (ask an admin to add you to the 'researchers' group)."
    )
    assert response.json() == {"detail": expected}
    assert state() == before


def test_a_researcher_uses_every_api_post(client, researcher, prepared_study, job):
    client.force_login(researcher)
    prepare = client.post("/api/studies/pilot/prepare/")
    assert (prepare.status_code, prepare.json()["error"]) == (409, "study_frozen")
    generate = client.post("/api/studies/pilot/generate/")
    assert (generate.status_code, generate.json()["error"]) == (400, "not_draft")
    assert client.post("/api/studies/pilot/close/").json()["status"] == "closed"
    assert client.post("/api/studies/pilot/open/").json()["status"] == "open"
    new = client.post("/api/studies/pilot/new-version/")
    assert (new.status_code, new.json()["slug"], new.json()["status"]) == (201, "pilot-v2", "draft")
    assert (new.json()["version"], new.json()["previous_version"]) == (2, "pilot")
    cancel = client.post(f"/api/jobs/{job.pk}/cancel/")
    assert (cancel.status_code, cancel.json()["status"]) == (200, "cancelled")


@pytest.mark.parametrize("user", [None, "outsider", "view_only_staff"])
def test_the_csv_export_needs_the_researcher_role(client, request, prepared_study, user):
    if user:
        client.force_login(request.getfixturevalue(user))
    assert client.get("/api/studies/pilot/responses.csv").status_code == 403
    assert AuditEntry.objects.filter(action="export").count() == 0


# --- the listener pages: POSTs need the panelist's own session --------------------------


@pytest.mark.parametrize("user", [None, "outsider", "view_only_staff", "researcher", "admin_user"])
def test_listener_posts_without_the_panelists_session_change_nothing(
    client, request, invite, make_panelist, user
):
    from evaluation.services.scheduling import trial_reserve

    panelist = make_panelist()
    trial = trial_reserve(panelist=panelist)
    if user:
        client.force_login(request.getfixturevalue(user))
    before = (state(), list(Trial.objects.order_by("pk").values_list("panelist", "token")))
    answer_url = reverse("listener:answer", args=[invite.token, trial.token])
    body = {"choice": "a", "liked_a": True, "liked_b": True, "guess_ai": "a"}
    answer = client.post(
        answer_url, json.dumps({**body, "listen_a_s": 3, "listen_b_s": 3}), "application/json"
    )
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "no_session",
        "detail": "your session has ended; open the invite link again",
    }
    headphones = client.post(reverse("listener:headphones", args=[invite.token]), {"item-1": "1"})
    assert (headphones.status_code, headphones["Location"]) == (302, invite.path())
    listen = client.post(invite.path(), {})  # no consent given: the form again, nobody joins
    assert listen.status_code == 200
    assert "consent" in listen.content.decode().lower()
    assert (state(), list(Trial.objects.order_by("pk").values_list("panelist", "token"))) == before


def evaluation_changelists() -> list[str]:
    from django.contrib import admin

    return sorted(
        reverse(f"admin:evaluation_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label == "evaluation"
    )


def test_a_view_only_staff_user_is_offered_no_action_on_any_admin_list(
    client, view_only_staff, prepared_study
):
    client.force_login(view_only_staff)
    lists = evaluation_changelists()
    assert len(lists) == 16
    for url in lists:
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'name="action"' not in page.content.decode(), url


def test_an_outsider_reaches_no_admin_list(client, outsider, prepared_study):
    client.force_login(outsider)
    for url in evaluation_changelists():
        page = client.get(url)
        assert (page.status_code, page["Location"]) == (302, f"{LOGIN}?next={url}")


def test_the_actions_a_researcher_is_offered_on_each_admin_list(client, researcher, prepared_study):
    client.force_login(researcher)
    offered = {}
    for url in evaluation_changelists():
        form = client.get(url).context["action_form"]
        choices = [name for name, _ in form.fields["action"].choices] if form else []
        offered[url.split("/")[-2]] = [name for name in choices if name]
    assert offered == {
        "auditentry": [],
        "invite": ["delete_selected"],
        "job": ["delete_selected", "cancel_jobs"],
        "listeningevidence": [],
        "pair": ["delete_selected"],
        "panel": ["delete_selected"],
        "panelist": [],
        "panelmember": ["delete_selected", "send_invitations"],
        "prompt": ["delete_selected"],
        "response": [],
        "stimulus": ["delete_selected"],
        "stimulusfetch": [],
        "study": ["delete_selected", *STUDY_ACTIONS[:-1]],
        "system": ["delete_selected"],
        "track": ["delete_selected"],
        "trial": [],
    }
