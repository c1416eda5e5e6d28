"""Load benchmark: N simulated panelists through the real listener flow against gunicorn
(config/gunicorn.py) and PostgreSQL, with per-endpoint latencies and a lost/duplicate audit.

    .venv/bin/python benchmarks/load.py --panelists 50
    .venv/bin/python benchmarks/load.py --panelists 200 --trials 4 --workers 4 --threads 4

What it does (loopback only, bounded by --deadline-s):

1. creates a fresh PostgreSQL database (``--pg``, default postgres://postgres@127.0.0.1:5432;
   its name is ``earshot_load_<random>``), migrates it and builds an opened study from
   synthetic audio (--trials prompts × 2 systems, 3 s excerpts, ``min_listen_s`` 1 s, no catch
   trials) with one unlimited invite whose cap on open reservations is N. The study is made **without the headphone check**, so
   the flow measured is consent, then trials (the check's POST is a separate figure; see
   docs/benchmarks.md);
2. starts gunicorn with config/gunicorn.py on a free loopback port (access log on, so each
   request's server-side duration, ``%(M)s`` ms, is recorded) with ``CLIENT_IP_HEADER`` set
   and a distinct ``X-Real-IP`` per simulated panelist, as a reverse proxy would send: the
   listener rate limits stay on and count per listener;
3. runs N asyncio panelists (httpx, one cookie jar each), all starting within
   ``--ramp-s``: the invite page (GET), consent (POST with the form's CSRF token), then for
   each trial: the trial page, both audio files in full, ``--listen-s`` of "listening"
   (sleep), the answer with a listening log that hears the same passage on A and B (as
   tests/evaluation/test_listener_views.py builds it), until the done page. A 5xx or a
   connection error is retried after a pause (as the page does), at most --retries times;
4. prints per-endpoint p50/p95/p99 server-side (gunicorn) and client-side (includes queueing
   in the client and the listen socket), answers/s, the spurious "Continue" pages, and the
   audit: acknowledged answers (201/200 with ``stored: true``, per trial token) = Response
   rows = rows of the responses CSV export, with no trial answered twice and no row that no
   client was told was stored;
5. stops gunicorn and drops the database (also on failure or Ctrl-C).

Exit status 0 only when the audit passes. Needs PostgreSQL reachable as the postgres role
without a password (CI's set-up, .ci/run) and the test extra (httpx).
"""

import argparse
import asyncio
import functools
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENDPOINTS = {
    "invite page": re.compile(r"^GET /p/[^/]+/$"),
    "page POST": re.compile(r"^POST /p/[^/]+/$"),
    "audio": re.compile(r"^GET /p/[^/]+/t/[^/]+/[ab]$"),
    "answer POST": re.compile(r"^POST /p/[^/]+/t/[^/]+/answer$"),
    "headphones POST": re.compile(r"^POST /p/[^/]+/headphones$"),
}
PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "yes"}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRIAL_MARKER = re.compile(r'data-answer="([^"]+)"')
AUDIO_MARKERS = re.compile(r'data-a="([^"]+)" data-b="([^"]+)"')


def percentiles(values: list[float]) -> str:
    """``n p50 p95 p99 max`` of milliseconds, or a dash."""
    if not values:
        return f"{0:>6} {'-':>8} {'-':>8} {'-':>8} {'-':>8}"
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"{len(values):>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {max(values):>8.1f}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_log(listen_s: float, loop_s: float) -> dict:
    """A page's log: A from 0 for `listen_s`, then B over the same passage (2 × listen_s of
    playback in all)."""
    end = round(listen_s % loop_s, 4)
    return {
        "loop_s": loop_s,
        "events": [
            {"t": 1000, "type": "play", "side": "a", "pos": 0.0},
            {"t": 1000 + 1000 * listen_s, "type": "seek", "side": "a", "pos": 0.0},
            {"t": 1000 + 1000 * listen_s, "type": "switch", "side": "b", "pos": 0.0},
            # The excerpts loop: after `listen_s` of B the position has wrapped.
            {"t": 1000 + 2000 * listen_s, "type": "submit", "side": "b", "pos": end},
        ],
    }


# --- set-up and audit (Django in this process, on the benchmark database) ---------------


def django_setup(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def study_build(work: Path, *, panelists: int, trials: int) -> str:
    """Migrate, import synthetic tracks, prepare, open; returns the invite path."""
    import soundfile
    from django.core.management import call_command

    from evaluation.models import Panel, Study
    from evaluation.services.panelists import invite_create
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_open
    from evaluation.services.tracks import tracks_import

    call_command("migrate", verbosity=0)
    rate = 44100
    rows = ["prompt_id,system,kind,file"]
    for index in range(max(trials, 2)):  # one trial per prompt and panelist
        for system, kind, frequency, amplitude in (
            ("human reference", "human", 220.0, 0.2),
            ("model-x", "ai", 233.0, 0.3),
        ):
            t = np.arange(int(6.0 * rate)) / rate
            wave = amplitude * np.sin(2 * np.pi * frequency * (index + 1) * t)
            name = f"p{index}_{kind}.wav"
            soundfile.write(work / name, np.repeat(wave[:, None], 2, axis=1), rate)
            rows.append(f"p{index},{system},{kind},{name}")
    manifest = work / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    tracks_import(study_slug="load", manifest=manifest)
    Study.objects.filter(slug="load").update(
        excerpt_s=3.0, min_listen_s=1.0, catch_rate=0.0, headphone_check=False,
        trials_per_panelist=trials, ratings_per_pair=panelists * trials,
    )  # fmt: skip
    study = Study.objects.get(slug="load")
    summary = stimuli_prepare(study=study)
    if summary["failures"]:
        raise SystemExit(f"preparing the benchmark study failed: {summary['failures']}")
    study = study_open(study=study)
    invite = invite_create(study=study, panel=Panel.objects.create(name="load"))
    # One link for every simulated listener: its cap on trials reserved at once
    # (EARSHOT_INVITE_OPEN_RESERVATIONS, 20 by default, against link sharing) must admit them
    # all, as it must for a real study that sends one link to N listeners at once.
    invite.max_open_reservations = panelists
    invite.save(update_fields=["max_open_reservations"])
    return invite.path()


def audit(acknowledged: dict[str, int]) -> dict:
    """Acknowledged answers (trial token -> times acknowledged) against the database and the
    CSV export."""
    import csv
    import io

    from django.db import connections

    from evaluation.exports import responses_csv
    from evaluation.models import Response, Study

    study = Study.objects.get(slug="load")
    rows = list(Response.objects.filter(trial__pair__study=study).values_list("trial__token"))
    tokens = Counter(token for (token,) in rows)
    csv_rows = list(csv.DictReader(io.StringIO(responses_csv(study))))
    result = {
        "acknowledged": len(acknowledged),
        "rows": len(rows),
        "csv_rows": len(csv_rows),
        "trials_answered_twice": sum(1 for n in tokens.values() if n > 1),
        "rows_never_acknowledged": len(set(tokens) - set(acknowledged)),
        "acknowledged_but_missing": len(set(acknowledged) - set(tokens)),
    }
    connections.close_all()
    result["ok"] = (
        result["acknowledged"] > 0
        and result["acknowledged"] == result["rows"] == result["csv_rows"]
        and result["trials_answered_twice"] == 0
        and result["rows_never_acknowledged"] == 0
        and result["acknowledged_but_missing"] == 0
    )
    return result


# --- the simulated panelists ------------------------------------------------------------


class Stats:
    def __init__(self):
        self.client_ms: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.acknowledged: Counter = Counter()
        self.continue_pages = 0
        self.retries = 0
        self.gave_up: list[str] = []
        self.finished = 0


async def timed(stats: Stats, endpoint: str, send, retries: int):
    """`send()` with retries on connection errors and 5xx; records client-side ms."""
    import httpx

    for attempt in range(retries + 1):
        started = time.perf_counter()
        try:
            response = await send()
        except httpx.TransportError as exc:
            stats.statuses[endpoint][type(exc).__name__] += 1
            response = None
        else:
            stats.client_ms[endpoint].append(1000 * (time.perf_counter() - started))
            stats.statuses[endpoint][response.status_code] += 1
            if response.status_code < 500:
                return response
        stats.retries += 1
        await asyncio.sleep(min(0.5 * 2**attempt, 5.0))
    raise RuntimeError(f"{endpoint}: no answer after {retries} retries")


async def panelist(number: int, base: str, invite: str, args, stats: Stats) -> None:
    import httpx

    await asyncio.sleep(args.ramp_s * number / max(args.panelists, 1))
    headers = {"X-Real-IP": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=args.request_timeout_s, limits=limits
    ) as client:
        page = await timed(stats, "invite page", lambda: client.get(invite), args.retries)
        token = CSRF_INPUT.search(page.text).group(1)
        joined = await timed(
            stats,
            "consent POST",
            lambda: client.post(invite, data={**PROFILE, "csrfmiddlewaretoken": token}),
            args.retries,
        )
        if joined.status_code != 302:
            raise RuntimeError(f"consent refused: {joined.status_code}")
        for _ in range(3 * args.trials + 3):  # spare rounds for Continue pages
            page = await timed(stats, "trial page", lambda: client.get(invite), args.retries)
            answer_url = TRIAL_MARKER.search(page.text)
            if answer_url is None:
                if "Continue" in page.text and "csrfmiddlewaretoken" in page.text:
                    stats.continue_pages += 1
                    token = CSRF_INPUT.search(page.text).group(1)
                    await timed(
                        stats,
                        "continue POST",
                        lambda t=token: client.post(invite, data={"csrfmiddlewaretoken": t}),
                        args.retries,
                    )
                    continue
                stats.finished += 1
                return
            audio_a, audio_b = AUDIO_MARKERS.search(page.text).groups()
            token = CSRF_INPUT.search(page.text).group(1)
            for url in (audio_a, audio_b):
                audio = await timed(stats, "audio", lambda u=url: client.get(u), args.retries)
                if audio.status_code != 200 or not audio.content:
                    raise RuntimeError(f"audio refused: {audio.status_code}")
            await asyncio.sleep(2 * args.listen_s + 0.2)
            body = {
                "choice": "a" if number % 2 else "b",
                "liked_a": True,
                "liked_b": False,
                "guess_ai": "b",
                "listen_a_s": args.listen_s,
                "listen_b_s": args.listen_s,
                "listening": listening_log(args.listen_s, 3.0),
            }
            url = answer_url.group(1)
            trial_token = url.rsplit("/", 2)[-2]
            payload = json.dumps(body)
            post_headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
            sent = await timed(
                stats,
                "answer POST",
                functools.partial(client.post, url, content=payload, headers=post_headers),
                args.retries,
            )
            if sent.status_code in (200, 201) and sent.json().get("stored"):
                stats.acknowledged[trial_token] += 1
            else:
                raise RuntimeError(f"answer refused: {sent.status_code} {sent.text[:200]}")
        raise RuntimeError("no done page after the spare rounds (Continue pages all along)")


async def drive(base: str, invite: str, args, stats: Stats) -> float:
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(panelist(number, base, invite, args, stats))
        for number in range(args.panelists)
    ]
    done, pending = await asyncio.wait(tasks, timeout=args.deadline_s)
    for task in pending:
        task.cancel()
        stats.gave_up.append("deadline")
    for task in done:
        if task.exception() is not None:
            stats.gave_up.append(str(task.exception())[:160])
    return time.perf_counter() - started


# --- gunicorn ---------------------------------------------------------------------------


def warm_up(base: str, invite: str, requests: int) -> None:
    """Wait for gunicorn (up to 60 s), then send `requests` concurrent GETs of the invite
    page (it stores nothing) so every worker has loaded its first page before the clock runs."""
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code in (200, 503):
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("gunicorn did not start; see its log")
        time.sleep(0.3)

    async def pages():
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            await asyncio.gather(*(client.get(invite) for _ in range(requests)))

    asyncio.run(pages())


def server_ms(log: Path, offset: int = 0) -> dict[str, list[float]]:
    """Server-side ms per endpoint from gunicorn's access lines (JSON, tokens scrubbed)
    written after byte `offset` of the log."""
    times: dict[str, list[float]] = defaultdict(list)
    line_pattern = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+) \S+ (\d+)ms')
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    for line in text.splitlines():
        try:
            message = json.loads(line).get("message", "")
        except json.JSONDecodeError:
            continue
        match = line_pattern.search(message)
        if not match:
            continue
        method, path, _, ms = match.groups()
        request = f"{method} {path.split('?')[0].replace('<redacted>', 'x')}"
        for endpoint, pattern in ENDPOINTS.items():
            if pattern.match(request):
                # The invite page and the trial page share a URL: both count as "page GET";
                # consent and Continue POSTs both as "page POST".
                times["page GET" if endpoint == "invite page" else endpoint].append(float(ms))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panelists", type=int, default=50)
    parser.add_argument("--trials", type=int, default=4, help="trials per panelist")
    parser.add_argument("--listen-s", type=float, default=1.0, help="seconds on each of A, B")
    parser.add_argument("--ramp-s", type=float, default=10.0, help="start spread (seconds)")
    parser.add_argument("--deadline-s", type=float, default=600.0)
    parser.add_argument("--request-timeout-s", type=float, default=60.0)
    parser.add_argument("--retries", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--conn-max-age", default=None, help="DB_CONN_MAX_AGE (default: unset)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--cache-url", default=None, help="CACHE_URL, e.g. redis://127.0.0.1:6379/14"
    )
    args = parser.parse_args()
    if not 1 <= args.panelists <= 1000:
        parser.error("--panelists must be between 1 and 1000 (the benchmark is bounded)")

    import psycopg

    database = f"earshot_load_{secrets.token_hex(4)}"
    admin_url = f"{args.pg}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    work = Path(tempfile.mkdtemp(prefix="earshot-load-"))
    port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"{args.pg}/{database}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(work / "media"),
        "EARSHOT_VAR_DIR": str(work / "var"),
        "CLIENT_IP_HEADER": "X-Real-IP",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_THREADS": str(args.threads),
        "GUNICORN_MAX_REQUESTS": "0",
    }
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    if args.conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    server = None
    log = work / "gunicorn.log"
    try:
        django_setup(env)
        from django.conf import settings
        from django.db import connections

        built = time.perf_counter()
        invite = study_build(work, panelists=args.panelists, trials=args.trials)
        connections.close_all()
        print(f"database {database}, study built in {time.perf_counter() - built:.1f} s")
        with log.open("w") as handle:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        warm_up(base, invite, requests=4 * args.workers * args.threads)
        log_start = log.stat().st_size  # server figures count from here
        load_before = os.getloadavg()
        stats = Stats()
        elapsed = asyncio.run(drive(base, invite, args, stats))
        load_after = os.getloadavg()
        time.sleep(0.5)  # the last access lines
        result = audit(stats.acknowledged)
        server_times = server_ms(log, log_start)

        print(
            f"\n{args.panelists} panelists × {args.trials} trials, gunicorn {args.workers} "
            f"workers × {args.threads} threads, DB_CONN_MAX_AGE="
            f"{env.get('DB_CONN_MAX_AGE', 'default')}, CACHE_URL={env.get('CACHE_URL', 'locmem://')}"
            f", sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}, {os.cpu_count()} CPUs, load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
        print(
            f"\n{'endpoint (ms)':<18}{'side':>7} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
        )
        for endpoint in ("page GET", "page POST", "audio", "answer POST", "headphones POST"):
            if server_times.get(endpoint):
                print(f"{endpoint:<18}{'server':>7} {percentiles(server_times[endpoint])}")
        for endpoint in ("invite page", "trial page", "consent POST", "audio", "answer POST",
                         "continue POST"):  # fmt: skip
            if stats.client_ms.get(endpoint):
                print(f"{endpoint:<18}{'client':>7} {percentiles(stats.client_ms[endpoint])}")
        answers = sum(stats.acknowledged.values())
        print(
            f"\n{answers} answers acknowledged in {elapsed:.1f} s: {answers / elapsed:.2f} "
            f"answers/s; {stats.finished} of {args.panelists} panelists reached the done page; "
            f"{stats.continue_pages} spurious Continue pages; {stats.retries} retries"
        )
        statuses = {k: dict(v) for k, v in stats.statuses.items()}
        print(f"statuses: {json.dumps(statuses, default=str)}")
        if stats.gave_up:
            print(f"gave up: {len(stats.gave_up)}: {Counter(stats.gave_up).most_common(3)}")
        print(f"audit: {json.dumps(result)}")
        return 0 if result["ok"] and not stats.gave_up else 1
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django never set up
            pass
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main())
