"""Load benchmark: N simulated panelists through the real listener flow against gunicorn
(config/gunicorn.py) and PostgreSQL, with per-endpoint latencies and a lost/duplicate audit.

    .venv/bin/python benchmarks/load.py --panelists 50
    nice -n 10 .venv/bin/python benchmarks/load.py --panelists 200 --trials 4 \\
        --listen-s 10 --think-s 4 --jitter 0.25 --ramp-s 30    # paced: ~7 answers/s at peak
    ... --kill-worker-at 40,50,60 | --stop-postgres-at 60 --stop-postgres-s 10   # faults

What it does (loopback only, bounded by --deadline-s):

1. creates a fresh PostgreSQL database (``--pg``, default postgres://postgres@127.0.0.1:5432;
   its name is ``earshot_load_<random>``), migrates it and builds an opened study from
   synthetic audio (--trials prompts × 2 systems, 3 s excerpts, ``min_listen_s`` 1 s, no catch
   trials) with one unlimited invite whose cap on open reservations is N. The study is made **without the headphone check**, so
   the flow measured is consent, then trials (the check's POST is a separate figure; see
   docs/benchmarks.md);
2. starts gunicorn with config/gunicorn.py on a free loopback port (access log on, so each
   request's server-side duration, ``%(M)s`` ms, is recorded; ``EARSHOT_SERVER_TIMING`` on,
   so each response says its own wall, CPU and database ms) with ``CLIENT_IP_HEADER`` set
   and a distinct ``X-Real-IP`` per simulated panelist, as a reverse proxy would send: the
   listener rate limits stay on and count per listener;
3. runs N asyncio panelists (httpx, one cookie jar each), all starting within
   ``--ramp-s``: the invite page (GET), consent (POST with the form's CSRF token), then for
   each trial what static/earshot/listener.js does: the trial page, both audio files in full
   (unless prefetched), ``--listen-s`` (up to +2 × ``--jitter``) of "listening" on each side
   (sleep), the ``ahead`` POST that reserves the next trial and its two audio files (unless
   ``--no-ahead``), ``--think-s`` (± jitter) of answering, the answer with a listening log
   that hears the same passage on A and B (as tests/evaluation/test_listener_views.py builds
   it), until the done page. A 5xx or a connection error is retried after a pause (as the
   page does), at most --retries times. Faults, when asked: gunicorn workers killed
   (``--kill-worker-at``), the local PostgreSQL cluster stopped for ``--stop-postgres-s``
   (``--stop-postgres-at``; always started again);
4. prints per-endpoint p50/p95/p99 server-side (gunicorn, and the responses' Server-Timing:
   app, cpu, db and queries) and client-side (includes queueing in the client and the listen
   socket), the CPU gunicorn and the database's backends used, answers/s (on average and in
   the busiest 30 s), the spurious "Continue" pages, and the
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
import random
import re
import resource
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
    "ahead POST": re.compile(r"^POST /p/[^/]+/t/[^/]+/ahead$"),
    "headphones POST": re.compile(r"^POST /p/[^/]+/headphones$"),
}
PROFILE = {"consent": "on", "expertise": "professional", "plays_instrument": "yes"}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TRIAL_MARKER = re.compile(r'data-answer="([^"]+)"')
AUDIO_MARKERS = re.compile(r'data-a="([^"]+)" data-b="([^"]+)"')
AHEAD_MARKER = re.compile(r'data-ahead="([^"]+)"')
SERVER_TIMING = re.compile(r'(\w+);dur=([\d.]+)(?:;desc="(\d+)")?')


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
    # (EARSHOT_INVITE_OPEN_RESERVATIONS, against link sharing) must admit them all, as it must
    # for a real study that sends one link to N listeners at once; each holds two while the
    # next trial is reserved ahead.
    invite.max_open_reservations = 2 * panelists
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
        self.audio_cached = 0  # audio the page already had (prefetched ahead)
        self.faults: list[str] = []
        self.answered_at: list[float] = []  # perf_counter() of each acknowledged answer
        # endpoint -> app / cpu / db ms and queries, from each response's Server-Timing
        self.server_timing: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.postgres_stopped = False


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
            for name, value, queries in SERVER_TIMING.findall(
                response.headers.get("Server-Timing", "")
            ):
                stats.server_timing[endpoint][name].append(float(value))
                if queries:
                    stats.server_timing[endpoint]["queries"].append(float(queries))
            if response.status_code < 500:
                return response
        stats.retries += 1
        await asyncio.sleep(min(0.5 * 2**attempt, 5.0))
    raise RuntimeError(f"{endpoint}: no answer after {retries} retries")


def pacing(number: int, args) -> random.Random:
    """Each panelist's own random stream (seeded by its number): listening and answering
    times vary around --listen-s and --think-s, so panelists do not march in step."""
    return random.Random(f"{args.seed}:{number}")


async def panelist(number: int, base: str, invite: str, args, stats: Stats) -> None:
    """One listener, as static/earshot/listener.js drives the page: the trial page, both
    excerpts, listening; once the answer is allowed the page reserves the next trial
    (``ahead``) and downloads its excerpts while the listener answers; the answer POST;
    the next trial page (its audio already here, so not downloaded again)."""
    import httpx

    rng = pacing(number, args)
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
        prefetched: set[str] = set()  # audio URLs already downloaded (the browser's cache)
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
            ahead_url = AHEAD_MARKER.search(page.text)
            for url in (audio_a, audio_b):
                if url in prefetched:
                    stats.audio_cached += 1
                    continue
                await audio_get(client, url, stats, args)
            # Never under --listen-s (the study's minimum must be met), up to +2 × jitter.
            listen_s = args.listen_s * rng.uniform(1, 1 + 2 * args.jitter)
            await asyncio.sleep(2 * listen_s + 0.2)
            if ahead_url and not args.no_ahead:
                # The page's prefetchAhead(): once the answer may be sent.
                reply = await timed(
                    stats,
                    "ahead POST",
                    functools.partial(
                        client.post, ahead_url.group(1), headers={"X-CSRFToken": token}
                    ),
                    args.retries,
                )
                urls = reply.json().get("audio", []) if reply.status_code == 200 else []
                for url in urls:
                    await audio_get(client, url, stats, args)
                    prefetched.add(url)
            await asyncio.sleep(args.think_s * rng.uniform(1 - args.jitter, 1 + args.jitter))
            body = {
                "choice": "a" if number % 2 else "b",
                "liked_a": True,
                "liked_b": False,
                "guess_ai": "b",
                "listen_a_s": listen_s,
                "listen_b_s": listen_s,
                "listening": listening_log(listen_s, 3.0),
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
                stats.answered_at.append(time.perf_counter())
            else:
                raise RuntimeError(f"answer refused: {sent.status_code} {sent.text[:200]}")
        raise RuntimeError("no done page after the spare rounds (Continue pages all along)")


async def audio_get(client, url: str, stats: Stats, args) -> None:
    audio = await timed(stats, "audio", lambda: client.get(url), args.retries)
    if audio.status_code != 200 or not audio.content:
        raise RuntimeError(f"audio refused: {audio.status_code}")


async def drive(base: str, invite: str, args, stats: Stats, server) -> float:
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(panelist(number, base, invite, args, stats))
        for number in range(args.panelists)
    ]
    injected = asyncio.create_task(faults(args, server, stats))
    done, pending = await asyncio.wait(tasks, timeout=args.deadline_s)
    for task in pending:
        task.cancel()
        stats.gave_up.append("deadline")
    for task in done:
        if task.exception() is not None:
            stats.gave_up.append(str(task.exception())[:160])
    await injected
    return time.perf_counter() - started


# --- faults (issue 16, item 4) ----------------------------------------------------------


def postgres_cluster() -> list[str]:
    """pg_ctlcluster's version and cluster name of the local PostgreSQL (Debian layout)."""
    versions = sorted(os.listdir("/etc/postgresql"))
    return [versions[-1], "main"]


def postgres_ready(pg: str, timeout_s: float = 60) -> bool:
    """Wait until PostgreSQL accepts connections (pg_isready), at most `timeout_s`."""
    host_port = pg.rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["pg_isready", "-h", host, "-p", port or "5432"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return True
        time.sleep(0.5)
    return False


async def faults(args, server, stats: Stats) -> None:
    """At --kill-worker-at seconds: SIGKILL one gunicorn worker (the master starts another);
    at --stop-postgres-at: stop the PostgreSQL cluster for --stop-postgres-s, then start it
    and wait until it accepts connections. Each is logged in ``stats.faults``."""
    events = [(float(at), "kill worker") for at in args.kill_worker_at.split(",") if at.strip()]
    if args.stop_postgres_at is not None:
        events.append((args.stop_postgres_at, "stop postgres"))
    clock = 0.0
    for at, what in sorted(events):
        await asyncio.sleep(max(at - clock, 0))
        clock = at
        if what == "kill worker":
            workers = [pid for pid in process_tree(server.pid) if pid != server.pid]
            victim = random.Random(at).choice(workers)
            os.kill(victim, signal.SIGKILL)
            stats.faults.append(f"{at:.0f} s: SIGKILL to gunicorn worker {victim}")
        else:
            cluster = postgres_cluster()
            stopped = time.perf_counter()
            await asyncio.to_thread(
                subprocess.run,
                ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "stop", "-m", "fast"],
                check=True,
            )
            stats.postgres_stopped = True
            await asyncio.sleep(args.stop_postgres_s)
            await asyncio.to_thread(
                subprocess.run,
                ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "start"],
                check=True,
            )
            ready = await asyncio.to_thread(postgres_ready, args.pg)
            stats.postgres_stopped = not ready
            clock += time.perf_counter() - stopped
            stats.faults.append(
                f"{at:.0f} s: PostgreSQL stopped, started again after "
                f"{time.perf_counter() - stopped:.1f} s (ready: {ready})"
            )


# --- CPU accounting ----------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and its direct children (gunicorn's master and workers), from /proc."""
    pids = [root]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == root:
            pids.append(int(entry))
    return pids


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL backends connected to `database` (their titles name it)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            pids.append(int(entry))
    return pids


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process in `pids`."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (a process new since `before` counts whole)."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def busiest_rate(times: list[float], window_s: float) -> float:
    """The most events per second in any `window_s` window (times in seconds)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window_s:
            start += 1
        most = max(most, end - start + 1)
    return most / window_s


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


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
    parser.add_argument(
        "--listen-s", type=float, default=1.0, help="seconds on each of A, B (mean)"
    )
    parser.add_argument(
        "--think-s", type=float, default=0.0,
        help="seconds answering the questions after listening (mean)",
    )  # fmt: skip
    parser.add_argument(
        "--jitter", type=float, default=0.0,
        help="answering times vary uniformly by ± this share, listening times by 0 to "
        "+2 × this share (0.25: 25%% to 50%% longer than --listen-s)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the panelists' pacing")
    parser.add_argument(
        "--no-ahead", action="store_true",
        help="do not reserve the next trial ahead (the page with EARSHOT_LISTENER_PREFETCH off)",
    )  # fmt: skip
    parser.add_argument("--ramp-s", type=float, default=10.0, help="start spread (seconds)")
    parser.add_argument("--deadline-s", type=float, default=600.0)
    parser.add_argument("--request-timeout-s", type=float, default=60.0)
    parser.add_argument("--retries", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: config/gunicorn.py's)"
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="gunicorn threads per worker (default: config/gunicorn.py's)",
    )  # fmt: skip
    parser.add_argument(
        "--kill-worker-at", default="",
        help="fault: SIGKILL one gunicorn worker at each of these seconds into the run "
        "(comma-separated, e.g. 30,45,60); the master starts a new one each time",
    )  # fmt: skip
    parser.add_argument(
        "--stop-postgres-at", type=float, default=None,
        help="fault: stop the local PostgreSQL cluster (pg_ctlcluster) this many seconds in",
    )  # fmt: skip
    parser.add_argument("--stop-postgres-s", type=float, default=10.0)
    parser.add_argument(
        "--server-nice", type=int, default=None,
        help="run gunicorn at this niceness (default: this process's); e.g. 0 while the "
        "load generator itself runs under nice -n 10",
    )  # fmt: skip
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
        "GUNICORN_MAX_REQUESTS": "0",
        "EARSHOT_SERVER_TIMING": "1",
    }
    if args.workers is not None:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.threads is not None:
        env["GUNICORN_THREADS"] = str(args.threads)
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
            niceness = args.server_nice
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT,
                preexec_fn=(
                    None if niceness is None
                    else lambda: os.setpriority(os.PRIO_PROCESS, 0, niceness)
                ),
            )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        warm_up(base, invite, requests=64)
        log_start = log.stat().st_size  # server figures count from here
        load_before, uptime_before = os.getloadavg(), uptime()
        gunicorn_pids = process_tree(server.pid)
        cpu_before = cpu_seconds(gunicorn_pids)
        pg_before = cpu_seconds(postgres_backends(database))
        stats = Stats()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        generator_cpu = usage.ru_utime + usage.ru_stime
        elapsed = asyncio.run(drive(base, invite, args, stats, server))
        gunicorn_cpu = cpu_used(cpu_before, cpu_seconds(process_tree(server.pid)))
        pg_cpu = cpu_used(pg_before, cpu_seconds(postgres_backends(database)))
        load_after, uptime_after = os.getloadavg(), uptime()
        time.sleep(0.5)  # the last access lines
        result = audit(stats.acknowledged)
        server_times = server_ms(log, log_start)

        workers = len(gunicorn_pids) - 1
        threads = args.threads or "config's"
        print(
            f"\n{args.panelists} panelists × {args.trials} trials, listening {args.listen_s} s "
            f"per side + {args.think_s} s answering (±{100 * args.jitter:.0f}%), "
            f"{'no ahead' if args.no_ahead else 'next trial reserved ahead'}; gunicorn {workers} "
            f"workers × {threads} threads at nice {os.getpriority(os.PRIO_PROCESS, server.pid)} "
            f"(load generator at nice {os.getpriority(os.PRIO_PROCESS, 0)}), DB_CONN_MAX_AGE="
            f"{env.get('DB_CONN_MAX_AGE', 'default')}, CACHE_URL={env.get('CACHE_URL', 'locmem://')}"
            f", sessions {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}, {os.cpu_count()} CPUs, load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
        print(
            f"\n{'endpoint (ms)':<18}{'side':>7} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
        )
        print(f"uptime before: {uptime_before}\nuptime after:  {uptime_after}")
        for endpoint in ("page GET", "page POST", "audio", "ahead POST", "answer POST",
                         "headphones POST"):  # fmt: skip
            if server_times.get(endpoint):
                print(f"{endpoint:<18}{'server':>7} {percentiles(server_times[endpoint])}")
        for endpoint in ("invite page", "trial page", "consent POST", "audio", "ahead POST",
                         "answer POST", "continue POST"):  # fmt: skip
            if stats.client_ms.get(endpoint):
                print(f"{endpoint:<18}{'client':>7} {percentiles(stats.client_ms[endpoint])}")
        print(
            f"\n{'Server-Timing (ms)':<18}{'part':>7} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} "
            f"{'max':>8}"
        )
        for endpoint in ("trial page", "audio", "ahead POST", "answer POST", "consent POST"):
            for part in ("app", "cpu", "db", "queries"):
                values = stats.server_timing[endpoint].get(part)
                if values:
                    print(f"{endpoint:<18}{part:>7} {percentiles(values)}")
        answers = sum(stats.acknowledged.values())
        print(
            f"\n{answers} answers acknowledged in {elapsed:.1f} s: {answers / elapsed:.2f} "
            f"answers/s on average, {busiest_rate(stats.answered_at, 30.0):.2f} in the busiest "
            f"30 s; {stats.finished} of {args.panelists} panelists reached the done page; "
            f"{stats.continue_pages} spurious Continue pages; {stats.retries} retries"
        )
        served = sum(len(times) for times in server_times.values())
        own = resource.getrusage(resource.RUSAGE_SELF)
        print(
            f"load generator (this process, {args.panelists} asyncio clients): "
            f"{own.ru_utime + own.ru_stime - generator_cpu:.1f} s CPU"
        )
        print(
            f"server CPU: gunicorn {gunicorn_cpu:.1f} s ({1000 * gunicorn_cpu / max(served, 1):.1f} "
            f"ms per request, {served} requests), PostgreSQL backends of this database "
            f"{pg_cpu:.1f} s, over {elapsed:.0f} s on {os.cpu_count()} CPUs; "
            f"{stats.audio_cached} audio files already prefetched"
        )
        for fault in stats.faults:
            print(f"fault: {fault}")
        statuses = {k: dict(v) for k, v in stats.statuses.items()}
        print(f"statuses: {json.dumps(statuses, default=str)}")
        if stats.gave_up:
            print(f"gave up: {len(stats.gave_up)}: {Counter(stats.gave_up).most_common(3)}")
        print(f"audit: {json.dumps(result)}")
        return 0 if result["ok"] and not stats.gave_up else 1
    finally:
        if args.stop_postgres_at is not None:
            # Never leave the shared PostgreSQL down, whatever happened.
            cluster = postgres_cluster()
            if not postgres_ready(args.pg, timeout_s=2):
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "start"], check=False
                )
                postgres_ready(args.pg)
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
