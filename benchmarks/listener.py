"""Benchmark the listener's waits in a real browser: how soon a trial is playable, and how many
bytes it costs, with prefetching of the next trial on and off in the same run.

    .venv/bin/python benchmarks/listener.py [--trials 4] [--seconds 40] [--repeat 2] [--json]

Builds a throw-away study in a temporary SQLite database and media folder through the real
services (`--trials` prompts of two music-like tracks of `--seconds` s, prepared into 20 s
48 kHz FLAC excerpts, the headphone check on, a 1 s listening minimum), starts Django's live
server on loopback and walks one listener per mode through it in Debian's Chromium
(/usr/bin/chromium, headless, through Playwright): consent → headphone check (every sound
played, the quietest tone picked as a listener with headphones would) → every trial (Play,
A and B each heard for the minimum, an answer) → thank-you.

Measured per mode (prefetch on: EARSHOT["LISTENER_PREFETCH"] True, the default; off: False):
- trial 1: milliseconds from submitting the headphone check to the player being playable
  (both excerpts downloaded and decoded: the page's `readyClock`), and the bytes received
  before then, from opening the invite link (Chrome DevTools Protocol, encoded bytes: what
  crossed the network, nothing for HTTP-cache hits);
- trials 2..N: milliseconds from pressing Submit to the next trial being playable, the bytes
  received in that wait (the critical path) and per trial cycle (Submit to Submit: includes
  the next trial's prefetch, made while the listener answers);
- the headphone check's bytes, the whole test's bytes, and a reload of a trial page (bytes
  downloaded again, whether the heard counters survived).

Each mode is walked `--repeat` times by a new listener, the modes alternating (on, off, off,
on, …) so that neither gets the browser's first, cold run every time; the summary gives the
median and the worst of each number over the walks.

With prefetch on, the benchmark waits after unlocking until the next trial is decoded ahead
(`aheadReady`; the time is reported) before answering, as a listener who takes at least that
long to answer; with it off it answers at once. Targets: trial 1 < 1000 ms, later trials
< 300 ms (issue 13).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
STATE = "() => window.earshotPlayer && window.earshotPlayer.state()"
TIMEOUT_MS = 60_000


def setup_django(folder: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    # Playwright's sync API runs an event loop in this thread; the ORM calls are still blocking.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django
    from django.conf import settings

    django.setup()
    settings.MEDIA_ROOT = str(folder / "media")
    # The live server's media handler needs a prefix (tests/browser/conftest.py says why).
    settings.MEDIA_URL = "/media-never-linked/"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_study(folder: Path, trials: int, seconds: float):
    import soundfile

    from benchmarks.stimuli import music_like
    from evaluation.models import Panel
    from evaluation.services.panelists import invite_create
    from evaluation.services.stimuli import stimuli_prepare
    from evaluation.services.studies import study_get_or_create_draft, study_open
    from evaluation.services.tracks import manifest_read, tracks_store

    tracks = folder / "tracks"
    tracks.mkdir()
    rows = []
    for prompt in range(trials):
        for index, (system, kind) in enumerate((("reference", "human"), ("model", "ai"))):
            name = f"p{prompt}_{index}.wav"
            audio = music_like(seconds, 44100, seed=prompt * 2 + index, level=0.5 + 0.2 * index)
            soundfile.write(tracks / name, audio, 44100)
            rows.append({"prompt_id": f"p{prompt}", "system": system, "kind": kind, "file": name})
    manifest = tracks / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["prompt_id", "system", "kind", "file"])
        writer.writeheader()
        writer.writerows(rows)
    study = study_get_or_create_draft(
        slug="bench-listener",
        title="Listener benchmark",
        min_listen_s=1.0,
        excerpt_s=20.0,
        ratings_per_pair=4,
        trials_per_panelist=trials,
        seed=3,
    )
    study.headphone_check = True
    study.save()
    tracks_store(study=study, inputs=manifest_read(manifest), written=[])
    summary = stimuli_prepare(study=study)
    if summary["failures"]:
        raise SystemExit(f"stimulus preparation failed: {summary['failures']}")
    study = study_open(study=study)
    panel = Panel.objects.create(name="benchmark")
    return study, panel, invite_create


class Bytes:
    """Encoded bytes received by one page (CDP Network.loadingFinished), and per URL."""

    def __init__(self, page):
        self.total = 0
        self.urls: dict[str, str] = {}
        self.by_path: dict[str, int] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._request)
        session.on("Network.loadingFinished", self._finished)
        session.send("Network.enable")

    def _request(self, event):
        self.urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event):
        size = int(event.get("encodedDataLength", 0))
        self.total += size
        url = self.urls.get(event["requestId"], "")
        self.by_path[url] = self.by_path.get(url, 0) + size


def trial_audio_bytes(received: Bytes) -> int:
    """Bytes received so far for trial audio (/p/<invite>/t/<trial>/a or /b)."""
    return sum(
        size
        for url, size in received.by_path.items()
        if "/t/" in url and url.endswith(("/a", "/b"))
    )


def enrol(page, url: str) -> None:
    page.goto(url)
    page.check("input[name=consent]")
    page.check("input[name=expertise][value=professional]")
    page.check("input[name=plays_instrument][value=yes]")
    with page.expect_navigation():
        page.click("#start")


def headphone_check(page, study) -> float:
    """Play every sound and pick its quietest tone; returns the page clock (ms) at submit."""
    from evaluation.models import Panelist

    page.wait_for_function("() => window.earshotHeadphones !== undefined")
    panelist = Panelist.objects.filter(study=study).latest("created_at")
    items = list(panelist.headphone_items.filter(answer__isnull=True).order_by("index"))
    for number, item in enumerate(items):
        page.click(f"#hp-{item.index} .hp-play")
        page.wait_for_function(f"() => window.earshotHeadphones.state().played[{number}]")
        page.locator(f"#hp-{item.index} label.option").nth(item.quiet_position - 1).click()
    return page.evaluate(
        """() => {
            const t = window.earshotWebAudio.clock();
            document.getElementById('headphone-form').requestSubmit();
            return t;
        }"""
    )


def ready_after(page, since_ms: float) -> dict:
    page.wait_for_function(
        f"() => {{ const s = window.earshotPlayer && window.earshotPlayer.state();"
        f" return s && s.ready && s.readyClock > {since_ms}; }}"
    )
    return page.evaluate(STATE)


def listen_and_answer(page, prefetch: bool) -> tuple[float, float | None]:
    """Hear A and B for the minimum, answer every question; with prefetch, wait until the next
    trial is decoded ahead. Returns (page clock at Submit, ms from unlock to decoded ahead)."""
    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().passageA >= 1.0")
    # B from the start too (Restart), so the same passage is heard on both within a second.
    page.click("#side-b")
    page.click("#restart")
    page.wait_for_function("() => window.earshotPlayer.state().unlocked")
    unlocked = page.evaluate("() => window.earshotWebAudio.clock()")
    ahead_ms = None
    if prefetch:
        try:
            page.wait_for_function(
                "() => { const s = window.earshotPlayer.state(); return s.aheadReady > 0; }",
                timeout=20_000,
            )
            ahead_ms = page.evaluate(STATE)["aheadReady"] - unlocked
        except Exception:  # the last trial has nothing ahead
            ahead_ms = None
    return (
        page.evaluate(
            """() => {
                for (const name of ['choice', 'liked_a', 'liked_b', 'guess_ai']) {
                    const input = document.querySelector(`input[name=${name}]`);
                    if (input) { input.checked = true; }
                }
                document.getElementById('answer-form').dispatchEvent(new Event('change'));
                const t = window.earshotWebAudio.clock();
                document.getElementById('submit').click();
                return t;
            }"""
        ),
        ahead_ms,
    )


def walk(browser, live_url: str, study, panel, invite_create, prefetch: bool) -> dict:
    from django.conf import settings

    settings.EARSHOT = {**settings.EARSHOT, "LISTENER_PREFETCH": prefetch}
    invite = invite_create(study=study, panel=panel, label=f"prefetch {prefetch}")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    received = Bytes(page)

    enrol(page, live_url + invite.path())
    before_check = received.total
    submitted = headphone_check(page, study)
    check_bytes = received.total - before_check
    state = ready_after(page, submitted)
    first = {"playable_ms": state["readyClock"] - submitted, "bytes_before": received.total}

    # A reload of trial 1, partly heard: nothing downloaded again, the counters come back.
    page.click("#play")
    page.wait_for_function("() => window.earshotPlayer.state().heardA >= 0.5")
    page.click("#play")  # pause: the walk below starts from a paused player
    heard_before = page.evaluate(STATE)["heardA"]
    before_reload = received.total
    audio_before = trial_audio_bytes(received)
    reloaded_at = page.evaluate("() => window.earshotWebAudio.clock()")
    page.reload()
    state = ready_after(page, reloaded_at)
    reload = {
        "playable_ms": state["readyClock"] - reloaded_at,
        "audio_bytes_again": trial_audio_bytes(received) - audio_before,
        "bytes": received.total - before_reload,
        "heard_a_kept": state["heardA"] >= heard_before - 0.01,
    }

    later = []
    cycle_start = received.total
    while True:
        clicked, ahead_ms = listen_and_answer(page, prefetch)
        at_submit = received.total
        try:
            page.wait_for_function(
                f"() => {{ const s = window.earshotPlayer && window.earshotPlayer.state();"
                f" return (s && s.ready && s.readyClock > {clicked})"
                f" || !!document.querySelector('.done'); }}"
            )
        except Exception:
            page.wait_for_selector(".done")
        if page.query_selector(".done"):
            break
        state = page.evaluate(STATE)
        later.append(
            {
                "playable_ms": state["readyClock"] - clicked,
                "bytes_waiting": received.total - at_submit,
                "bytes_cycle": received.total - cycle_start,
                "decoded_ahead_ms": ahead_ms,
            }
        )
        cycle_start = received.total
    total = received.total
    context.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    return {
        "prefetch": prefetch,
        "headphone_check_bytes": check_bytes,
        "trial_1": first,
        "reload": reload,
        "later_trials": later,
        "later_playable_ms_max": max(item["playable_ms"] for item in later),
        "later_playable_ms_median": statistics.median(item["playable_ms"] for item in later),
        "total_bytes": total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (install Debian's chromium package)")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        setup_django(folder)
        started = time.perf_counter()
        study, panel, invite_create = build_study(folder, args.trials, args.seconds)
        setup_s = time.perf_counter() - started
        from django.db import connections
        from playwright.sync_api import sync_playwright
        from pytest_django.live_server_helper import LiveServer

        connections.close_all()
        server = LiveServer("localhost:0")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                order = []
                for repeat in range(args.repeat):
                    order += [True, False] if repeat % 2 == 0 else [False, True]
                runs = [
                    walk(browser, server.url, study, panel, invite_create, prefetch)
                    for prefetch in order
                ]
                browser.close()
        finally:
            server.stop()

    from evaluation.models import Stimulus  # noqa: F401  (settings are set up above)

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "trials": args.trials,
        "setup_s": round(setup_s, 1),
        "summary": {
            "on" if prefetch else "off": summarize([r for r in runs if r["prefetch"] == prefetch])
            for prefetch in (True, False)
        },
        "runs": runs,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['machine']}; {args.trials} trials; study prepared in {setup_s:.1f} s")
    for run in runs:
        first, reload = run["trial_1"], run["reload"]
        print(f"\nprefetch {'on' if run['prefetch'] else 'off'}:")
        print(f"  headphone check: {run['headphone_check_bytes'] / 1e3:.0f} kB")
        print(
            f"  trial 1: playable {first['playable_ms']:.0f} ms after the check; "
            f"{first['bytes_before'] / 1e6:.2f} MB received before"
        )
        print(
            f"  reload of trial 1: playable in {reload['playable_ms']:.0f} ms, "
            f"{reload['bytes'] / 1e3:.0f} kB received "
            f"({reload['audio_bytes_again']} B of audio), heard counters kept: "
            f"{reload['heard_a_kept']}"
        )
        for number, item in enumerate(run["later_trials"], start=2):
            ahead = item["decoded_ahead_ms"]
            print(
                f"  trial {number}: playable {item['playable_ms']:.0f} ms after Submit; "
                f"{item['bytes_waiting'] / 1e3:.0f} kB received while waiting, "
                f"{item['bytes_cycle'] / 1e6:.2f} MB in the cycle"
                + (f"; decoded ahead {ahead:.0f} ms after unlocking" if ahead else "")
            )
        print(f"  whole test: {run['total_bytes'] / 1e6:.2f} MB")
    print("\nsummary (median / worst over the walks of each mode):")
    for mode, numbers in result["summary"].items():
        print(
            f"  prefetch {mode}: trial 1 playable {numbers['trial_1_ms'][0]:.0f} / "
            f"{numbers['trial_1_ms'][1]:.0f} ms after the check; trials 2..N "
            f"{numbers['later_ms'][0]:.0f} / {numbers['later_ms'][1]:.0f} ms after Submit, "
            f"{numbers['later_waiting_kb'][0]:.0f} kB received while waiting; "
            f"headphone check {numbers['check_kb']:.0f} kB"
        )


def summarize(runs: list[dict]) -> dict:
    """Median and worst of each number over the walks of one mode."""
    first = [run["trial_1"]["playable_ms"] for run in runs]
    later = [item["playable_ms"] for run in runs for item in run["later_trials"]]
    waiting = [item["bytes_waiting"] / 1e3 for run in runs for item in run["later_trials"]]
    return {
        "trial_1_ms": (statistics.median(first), max(first)),
        "later_ms": (statistics.median(later), max(later)),
        "later_waiting_kb": (statistics.median(waiting), max(waiting)),
        "check_kb": statistics.median(run["headphone_check_bytes"] / 1e3 for run in runs),
    }


if __name__ == "__main__":
    main()
