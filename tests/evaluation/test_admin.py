import pytest

from evaluation.models import Job, Study

pytestmark = pytest.mark.django_db


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
