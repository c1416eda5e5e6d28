"""config.logging: one JSON object per line, and no listener token in any log line."""

import io
import json
import logging

import pytest
from django.urls import reverse

from config.logging import JsonFormatter, TokenScrubFilter, scrub
from evaluation.models import Trial


def test_invite_trial_and_headphone_item_tokens_are_redacted_from_paths():
    assert scrub("Bad Request: /p/inv123/t/tri456/answer") == (
        "Bad Request: /p/<redacted>/t/<redacted>/answer"
    )
    assert scrub('"GET /p/inv123/h/item9 HTTP/1.1" 200 17') == (
        '"GET /p/<redacted>/h/<redacted> HTTP/1.1" 200 17'
    )
    assert scrub("Not Found: /p/inv123/") == "Not Found: /p/<redacted>/"
    assert scrub("GET /p/inv123/r/7F3K2QXAM9RTWC4D") == "GET /p/<redacted>/r/<redacted>"
    assert scrub("POST /p/inv123/headphones") == "POST /p/<redacted>/headphones"
    assert scrub("GET /api/jobs/3/ and /studies/pilot/results/") == (
        "GET /api/jobs/3/ and /studies/pilot/results/"
    )


def test_a_record_is_formatted_once_scrubbed_and_written_as_one_json_line():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Bad Request: %s", ("/p/abc/t/def/a",), None
    )
    record.status_code = 400
    assert TokenScrubFilter().filter(record) is True
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert {key: entry[key] for key in ("level", "logger", "message", "status")} == {
        "level": "WARNING",
        "logger": "django.request",
        "message": "Bad Request: /p/<redacted>/t/<redacted>/a",
        "status": 400,
    }


@pytest.fixture
def request_log():
    """What the django.request logger's console handler writes, captured."""
    handler = logging.getLogger("django.request").handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_bad_answer_logs_its_400_without_the_invite_or_trial_token(client, invite, request_log):
    client.post(
        invite.path(), {"consent": "on", "expertise": "professional", "plays_instrument": "yes"}
    )
    client.get(invite.path())
    trial = Trial.objects.get(panelist__isnull=False)
    url = reverse("listener:answer", args=[invite.token, trial.token])
    response = client.post(url, "{not json", content_type="application/json")
    assert response.status_code == 400
    lines = request_log.getvalue().splitlines()
    assert [json.loads(line)["message"] for line in lines] == [
        "Bad Request: /p/<redacted>/t/<redacted>/answer"
    ]
    assert invite.token not in request_log.getvalue()
    assert trial.token not in request_log.getvalue()
