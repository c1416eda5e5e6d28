"""The Django admin: study pages, the open action's checks, and who gets in."""

import re

import pytest
from django.urls import reverse

from evaluation.models import Job, Study
from evaluation.services.tracks import tracks_import

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:evaluation_study_changelist")


def run_action(client, action: str, study: Study) -> str:
    """Run an admin action on one study; returns the page it lands on."""
    page = client.post(CHANGELIST, {"action": action, "_selected_action": [study.pk]}, follow=True)
    return page.content.decode()


def test_the_study_list_links_results_and_export(client, admin_user, prepared_study):
    client.force_login(admin_user)
    page = client.get(CHANGELIST).content.decode()
    assert reverse("research:results", args=["pilot"]) in page
    assert reverse("api:study-responses-csv", args=["pilot"]) in page


def test_status_cannot_be_edited_past_the_open_action(client, admin_user, media_root, manifest):
    tracks_import(study_slug="pilot", manifest=manifest)
    study = Study.objects.get(slug="pilot")
    client.force_login(admin_user)
    page = client.get(reverse("admin:evaluation_study_change", args=[study.pk]))
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()


def test_opening_an_unprepared_study_reports_why_and_keeps_it_draft(
    client, admin_user, media_root, manifest
):
    tracks_import(study_slug="pilot", manifest=manifest)
    study = Study.objects.get(slug="pilot")
    client.force_login(admin_user)
    assert "has no prepared pairs" in run_action(client, "open_studies", study)
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT


def test_the_open_action_opens_a_prepared_study(client, admin_user, prepared_study):
    from evaluation.services.studies import study_close

    study_close(study=prepared_study)
    client.force_login(admin_user)
    page = run_action(client, "open_studies", prepared_study)
    assert "Study &#x27;pilot&#x27; is open for listening." in page
    prepared_study.refresh_from_db()
    assert prepared_study.status == Study.Status.OPEN


def test_an_outsider_is_sent_to_the_login_page(client, outsider, prepared_study):
    client.force_login(outsider)
    page = client.get(CHANGELIST)
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:login"))


def test_the_generate_action_queues_one_job_per_draft_study(client, admin_user, media_root):
    draft = Study.objects.create(slug="draft", title="Draft", trials_per_panelist=3)
    Study.objects.create(slug="live", title="Live", status=Study.Status.OPEN)
    client.force_login(admin_user)
    response = client.post(
        "/admin/evaluation/study/",
        {
            "action": "generate_tracks",
            "_selected_action": list(Study.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assert response.status_code == 200
    job = Job.objects.get()
    assert (job.study, job.kind, job.status) == (draft, "generate_tracks", "queued")
    assert job.parameters == {"system": "builtin", "prompts": 3, "split": "test"}
    shown = [str(m) for m in response.context["messages"]]
    assert "live: study 'live' is open; tracks can be generated for a draft only" in shown
    assert "Queued track generation for 1 study(ies)." in shown


def test_the_panelist_admin_shows_the_headphone_check_outcome(
    client, admin_user, prepared_study, make_panelist
):
    from evaluation.services.headphones import headphone_attempt_score, headphone_attempt_start

    Study.objects.filter(pk=prepared_study.pk).update(headphone_check=True)
    panelist = make_panelist()
    for correct in (3, 5):
        items = headphone_attempt_start(panelist=panelist)
        answers = {
            item.index: item.quiet_position if n < correct else item.antiphase_position
            for n, item in enumerate(items)
        }
        headphone_attempt_score(panelist=panelist, answers=answers)
    untested = make_panelist()
    client.force_login(admin_user)
    listing = client.get(reverse("admin:evaluation_panelist_changelist")).content.decode()
    assert "passed: 5 of 6 correct, 2 attempts" in listing
    assert "not run" in listing
    page = client.get(reverse("admin:evaluation_panelist_change", args=[untested.pk]))
    assert "not run" in page.content.decode()
    page = client.get(reverse("admin:evaluation_panelist_change", args=[panelist.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    # items right: 3 + 5 of the two attempts, and headphone_passed itself
    assert html.count('alt="True"') == 3 + 5 + 1 and html.count('alt="False"') == 3 + 1


def study_list_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(CHANGELIST).status_code == 200
    return len(queries)


def test_the_study_list_costs_as_many_queries_for_five_studies_as_for_one(
    client, admin_user, prepared_study, django_assert_num_queries
):
    client.force_login(admin_user)
    one = study_list_queries(client)
    for index in range(4):
        Study.objects.create(slug=f"more-{index}", title=f"More {index}")
    with django_assert_num_queries(one):
        assert client.get(CHANGELIST).status_code == 200


def test_the_study_list_counts_pairs_panelists_and_responses(
    client, admin_user, prepared_study, make_panelist, answer_all
):
    answer_all(make_panelist(), lambda trial: "a")
    make_panelist()
    Study.objects.create(slug="empty", title="Empty")
    client.force_login(admin_user)
    page = client.get(CHANGELIST).content.decode()
    cells = {
        name: re.findall(rf'<td class="field-{name}">(\d+)</td>', page)
        for name in ("n_pairs", "n_panelists", "n_responses")
    }
    # Newest first: the empty study, then the pilot (3 pairs, 2 panelists, 3 answers).
    assert cells == {"n_pairs": ["0", "3"], "n_panelists": ["0", "2"], "n_responses": ["0", "3"]}


def test_stimulus_measurements_show_rounded_with_their_units(client, admin_user, prepared_study):
    from evaluation.models import Stimulus

    client.force_login(admin_user)
    page = client.get(reverse("admin:evaluation_stimulus_changelist")).content.decode()
    stimuli = list(Stimulus.objects.order_by("-pk"))
    assert re.findall(r'<td class="field-loudness">(.*?)</td>', page) == [
        f"{stimulus.loudness_lufs:.1f} LUFS" for stimulus in stimuli
    ]
    assert re.findall(r'<td class="field-gain">(.*?)</td>', page) == [
        f"{stimulus.gain_db:+.1f} dB" for stimulus in stimuli
    ]
    detail = client.get(reverse("admin:evaluation_stimulus_change", args=[stimuli[0].pk]))
    html = detail.content.decode()
    assert f'<div class="readonly">{stimuli[0].loudness_lufs:.1f} LUFS</div>' in html
    assert repr(stimuli[0].loudness_lufs) not in html


def test_listening_evidence_is_shown_in_the_admin_and_cannot_be_edited(client, admin_user):
    from django.urls import reverse

    client.force_login(admin_user)
    for model in ("listeningevidence", "stimulusfetch"):
        listing = client.get(reverse(f"admin:evaluation_{model}_changelist"))
        assert listing.status_code == 200
        assert client.get(reverse(f"admin:evaluation_{model}_add")).status_code == 403
