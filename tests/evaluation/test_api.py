"""Researcher API: auth by session or token, outsiders refused, results and CSV."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evaluation.api.permissions import IsResearcher

pytestmark = pytest.mark.django_db


def test_anonymous_and_outsiders_are_refused_with_a_403_that_says_why(
    client, prepared_study, outsider
):
    # 403, not 401: DRF answers 401 only with a WWW-Authenticate challenge, which it takes
    # from the first authentication class, and SessionAuthentication (first) has none.
    anonymous = client.get("/api/studies/")
    assert anonymous.status_code == 403
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    assert "WWW-Authenticate" not in anonymous.headers

    bad_token = APIClient().get("/api/studies/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert (bad_token.status_code, bad_token.json()) == (403, {"detail": "Invalid token."})

    client.force_login(outsider)
    response = client.get("/api/studies/pilot/results/")
    assert response.status_code == 403
    assert response.json() == {"detail": IsResearcher.message}


def test_a_researcher_lists_studies_with_session_auth(client, prepared_study, researcher):
    client.force_login(researcher)
    body = client.get("/api/studies/").json()
    assert [study["slug"] for study in body] == ["pilot"]
    assert body[0]["systems"] == ["human reference", "model-x"]
    assert body[0]["status"] == "open"


def test_a_researcher_reads_results_with_token_auth(prepared_study, researcher):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=researcher).key}")
    body = api.get("/api/studies/pilot/results/").json()
    assert body["study"] == "pilot"
    assert body["pairs"] == []
    assert body["meta"]["n_responses"] == 0


def test_the_results_json_is_the_report_pages_summary_with_its_sentences(
    client, prepared_study, researcher
):
    from evaluation.selectors.results import study_report
    from evaluation.services.simulation import panel_simulate

    panel_simulate(study=prepared_study, panelists=4, seed=11)
    client.force_login(researcher)

    body = client.get("/api/studies/pilot/results/?include_simulated=1").json()

    page = study_report(prepared_study, include_simulated=True)
    assert body == {
        "study": "pilot",
        **page["summary"],
        "report": {
            "headlines": page["report"]["headlines"],
            "methods": page["report"]["methods"],
            "anytime_note": page["report"]["anytime_note"],
            "figures_left_out": [],
        },
    }
    # The panel is simulated and asked for, so the report says so before its first finding.
    assert body["report"]["headlines"][0].startswith("Caution: 12 of 12 responses come from")
    assert body["report"]["headlines"][1].startswith("Who answered: 4 listeners")
    default = client.get("/api/studies/pilot/results/").json()
    assert default["meta"]["n_analysed"] == 0 and default["pairs"] == []


def test_the_csv_download_has_the_documented_header(client, prepared_study, admin_user):
    from evaluation.exports import RESPONSE_COLUMNS

    client.force_login(admin_user)
    response = client.get("/api/studies/pilot/responses.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines()[0] == ",".join(RESPONSE_COLUMNS)


def test_opening_an_unprepared_study_explains_what_to_do(client, researcher, db):
    from evaluation.models import Study

    Study.objects.create(slug="empty", title="Empty")
    client.force_login(researcher)
    response = client.post("/api/studies/empty/open/")
    assert response.status_code == 400
    assert response.json()["error"] == "not_prepared"
    assert "prepare_stimuli empty" in response.json()["detail"]


def test_state_never_changes_on_get(client, researcher, db):
    from evaluation.models import Study

    Study.objects.create(slug="empty", title="Empty")
    client.force_login(researcher)
    assert client.get("/api/studies/empty/prepare/").status_code == 405
    assert client.get("/api/studies/empty/close/").status_code == 405
    assert Study.objects.get(slug="empty").status == "draft"


def test_the_openapi_schema_and_docs_are_served(client, researcher):
    client.force_login(researcher)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/studies/{slug}/results/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_a_researcher_reads_the_blindness_audit_and_outsiders_cannot(
    client, prepared_study, researcher, outsider
):
    client.force_login(outsider)
    assert client.get("/api/studies/pilot/audit/").status_code == 403
    client.force_login(researcher)
    body = client.get("/api/studies/pilot/audit/").json()
    assert (body["passed"], body["failures"]) == (True, [])
    assert [pair["prompt"] for pair in body["pairs"]] == ["p0", "p1", "p2"]
    first = body["pairs"][0]
    assert (first["kind"], first["problems"], first["passed"]) == ("regular", [], True)
    assert round(first["a"]["loudness_lufs"], 1) == round(first["b"]["loudness_lufs"], 1) == -23.0
    assert first["a"]["size_bytes"] == first["b"]["size_bytes"]
    assert first["a"]["tags"] == {}
    assert [(c["feature"], c["accuracy"], c["passed"]) for c in body["classifier"]] == [
        ("size", 0.5, True),
        ("duration", 0.5, True),
    ]


def test_the_schema_and_docs_are_for_researchers_only(client, outsider):
    for url in ("/api/schema/", "/api/docs/", "/api/docs/?script="):
        assert client.get(url).status_code in (401, 403), url
    client.force_login(outsider)
    assert [client.get(url).status_code for url in ("/api/schema/", "/api/docs/")] == [403, 403]


def test_the_docs_page_loads_its_script_from_a_url_under_the_content_security_policy(
    client, researcher
):
    import re

    client.force_login(researcher)
    page = client.get("/api/docs/")
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    html = page.content.decode()
    assert "<script>" not in html
    assert f'<style nonce="{nonce}">' in html
    assert '<script src="/api/docs/?script="></script>' in html
    script = client.get("/api/docs/?script=")
    assert (script.status_code, script["Content-Type"]) == (200, "application/javascript")
    assert b"/api/schema/" in script.content


def test_an_account_over_its_api_rate_is_throttled_with_429(researcher, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    # The rate is read into the class when DRF loads; an hour's window is never crossed here.
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/hour", "anon": "3/hour"})
    token = Token.objects.create(user=researcher)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert [api.get("/api/studies/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api.get("/api/studies/").json()["detail"].startswith("Request was throttled.")
    other = APIClient()
    other.force_authenticate(
        user=type(researcher).objects.create_superuser("ada", "ada@example.com", "pw-ada-1")
    )
    assert other.get("/api/studies/").status_code == 200  # per account, not for everyone


def test_the_default_api_rates_come_from_the_settings(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "user": "600/min",
        "anon": "30/min",
    }
