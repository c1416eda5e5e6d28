import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile

from generation.backends.http import HttpBackend, HttpBackendError, prompt_payload
from generation.pairs import prompt_text


def wav_bytes(seconds: float = 0.5, rate: int = 48000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.25 * np.sin(2 * np.pi * 440 * t)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.stack([samples, samples], axis=1), rate, format="WAV")
    return buffer.getvalue()


class ModelServer(BaseHTTPRequestHandler):
    """A stand-in for a lab's model server; the path picks its behaviour."""

    received: list[dict] = []
    failures_left = {"/flaky": 1}

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ModelServer.received.append({"path": self.path, "body": body})
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path == "/flaky" and ModelServer.failures_left["/flaky"] > 0:
            ModelServer.failures_left["/flaky"] -= 1
            return self._answer(503, b"warming up", "text/plain")
        if self.path == "/garbage":
            return self._answer(200, b"<html>oops</html>", "text/html")
        if self.path == "/refuse":
            return self._answer(422, b"soprano too long", "text/plain")
        if self.path == "/huge":
            return self._answer(200, wav_bytes(seconds=2.0), "audio/wav")
        return self._answer(200, wav_bytes(), "audio/wav")

    def _answer(self, status: int, content: bytes, content_type: str):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        try:
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ModelServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def prompt(bwv269):
    return prompt_payload(bwv269, text=prompt_text(bwv269))


def test_good_audio_comes_back_decoded_with_provenance(server, prompt):
    audio = HttpBackend(f"{server}/good").generate(prompt, seed=7)
    assert (audio.format, audio.sample_rate, audio.samples.shape) == ("WAV", 48000, (2, 24000))
    assert audio.content == wav_bytes()
    assert audio.provenance == {
        "system": "http",
        "system_version": "1",
        "url": f"{server}/good",
        "seed": 7,
        "prompt_id": "bach/bwv269",
    }


def test_the_server_receives_the_melody_and_the_seed(server, prompt, bwv269):
    ModelServer.received.clear()
    HttpBackend(f"{server}/good").generate(prompt, seed=3)
    body = ModelServer.received[-1]["body"]
    assert body["seed"] == 3
    assert body["prompt"]["prompt_id"] == "bach/bwv269"
    assert (body["prompt"]["key"], body["prompt"]["meter"]) == ("G major", "3/4")
    assert body["prompt"]["steps"] == bwv269.steps
    assert body["prompt"]["soprano"][:4] == [67, 4, 67, 8]


def test_a_server_that_does_not_answer_in_time_fails_after_its_retries(server, prompt):
    backend = HttpBackend(f"{server}/slow", timeout_s=0.2, retries=1, backoff_s=0.01)
    ModelServer.received.clear()
    with pytest.raises(HttpBackendError, match=r"no answer within 0.2 s \(gave up after 2"):
        backend.generate(prompt, seed=0)
    assert len(ModelServer.received) == 2


def test_a_server_error_is_retried_until_it_answers(server, prompt):
    ModelServer.failures_left["/flaky"] = 1
    audio = HttpBackend(f"{server}/flaky", backoff_s=0.01).generate(prompt, seed=0)
    assert audio.samples.shape == (2, 24000)


def test_garbage_instead_of_audio_is_refused_with_what_came_back(server, prompt):
    with pytest.raises(HttpBackendError, match=r"17 bytes of 'text/html' that are not audio"):
        HttpBackend(f"{server}/garbage").generate(prompt, seed=0)


def test_a_refusal_is_not_retried_and_quotes_the_server(server, prompt):
    ModelServer.received.clear()
    with pytest.raises(HttpBackendError, match="HTTP 422: soprano too long"):
        HttpBackend(f"{server}/refuse", retries=3).generate(prompt, seed=0)
    assert len(ModelServer.received) == 1


def test_an_answer_over_the_size_limit_is_refused(server, prompt):
    with pytest.raises(HttpBackendError, match="over the 100000-byte limit"):
        HttpBackend(f"{server}/huge", max_bytes=100_000).generate(prompt, seed=0)


def test_an_unreachable_server_fails_with_a_clear_message(prompt):
    backend = HttpBackend("http://127.0.0.1:9/none", timeout_s=0.5, retries=0)
    with pytest.raises(HttpBackendError, match="cannot connect"):
        backend.generate(prompt, seed=0)


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        HttpBackend("file:///etc/passwd")
