"""The listening log: its shape is checked strictly, and "heard" is the passage heard on both
sides (positions wrap at the loop length)."""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from evaluation.listening_log import (
    MAX_EVENTS,
    ListeningLogError,
    heard_by_side,
    intervals_intersection,
    intervals_union,
    parse_listening_log,
    summarize,
)

STATIC = Path(__file__).resolve().parents[2] / "static" / "earshot"
RULE_END = "// (End of the rule the listening-log test compares with the server's.)"


def event(t, kind, side, pos):
    return {"t": t, "type": kind, "side": side, "pos": pos}


def test_a_then_b_on_different_passages_overlaps_nowhere():
    log = parse_listening_log(
        {
            "loop_s": 20.0,
            "events": [
                event(1000, "play", "a", 0.0),
                event(11000, "switch", "b", 10.0),
                event(21000, "pause", "b", 0.0),
            ],
        }
    )
    summary = summarize(log)
    assert (summary.played_a_s, summary.played_b_s) == (10.0, 10.0)
    assert summary.heard_a == ((0.0, 10.0),)
    assert summary.heard_b == ((10.0, 20.0),)
    assert summary.heard_overlap == ()
    assert summary.heard_overlap_s == 0.0
    assert summary.switches == 1


def test_the_same_passage_on_both_sides_overlaps_fully():
    log = parse_listening_log(
        {
            "loop_s": 20.0,
            "events": [
                event(0, "play", "a", 0.0),
                event(10000, "seek", "b", 0.0),
                event(10000, "switch", "b", 0.0),
                event(20000, "submit", "b", 10.0),
            ],
        }
    )
    summary = summarize(log)
    assert summary.heard_a == ((0.0, 10.0),)
    assert summary.heard_b == ((0.0, 10.0),)
    assert summary.heard_overlap_s == 10.0
    assert summary.switches == 1


def test_playback_wraps_at_the_loop_length():
    log = parse_listening_log(
        {
            "loop_s": 3.0,
            "events": [event(0, "play", "a", 2.0), event(2500, "switch", "b", 1.5)],
        }
    )
    summary = summarize(log)
    assert summary.heard_a == ((0.0, 1.5), (2.0, 3.0))
    assert summary.heard_b == ()
    assert summary.played_a_s == 2.5


def test_a_segment_longer_than_the_loop_covers_the_whole_excerpt():
    log = parse_listening_log(
        {"loop_s": 3.0, "events": [event(0, "play", "b", 1.0), event(7000, "pause", "b", 2.0)]}
    )
    assert summarize(log).heard_b == ((0.0, 3.0),)


def loop(t, side, pos, start, end):
    return {**event(t, "loop", side, pos), "from": start, "to": end}


def test_a_loop_region_wraps_inside_itself_and_clearing_it_wraps_at_the_excerpt():
    """A 1.0-1.5 s region played for 2 s on A hears only that half second; B played from
    1.2 s for 0.4 s wraps to 1.0 s. Cleared, B plays on from 2.8 s and wraps at 3 s."""
    summary = summarize(
        parse_listening_log(
            {
                "loop_s": 3.0,
                "events": [
                    loop(0, "a", 1.0, 1.0, 1.5),
                    event(0, "play", "a", 1.0),
                    event(2000, "switch", "b", 1.2),
                    event(2400, "pause", "b", 1.1),
                    loop(2400, "b", 2.8, 0.0, 3.0),
                    event(2400, "play", "b", 2.8),
                    event(2800, "submit", "b", 0.2),
                ],
            }
        )
    )

    def rounded(intervals):
        return [(round(start, 6), round(end, 6)) for start, end in intervals]

    assert rounded(summary.heard_a) == [(1.0, 1.5)]
    assert rounded(summary.heard_b) == [(0.0, 0.2), (1.0, 1.1), (1.2, 1.5), (2.8, 3.0)]
    assert rounded(summary.heard_overlap) == [(1.0, 1.1), (1.2, 1.5)]
    assert summary.played_a_s == 2.0 and summary.played_b_s == pytest.approx(0.8)


def test_a_loop_event_is_stored_with_its_region():
    from evaluation.listening_log import to_json

    raw = {"loop_s": 3.0, "events": [loop(0, "a", 1.0, 1.0, 1.5), event(5, "submit", "a", 1.0)]}
    assert to_json(parse_listening_log(raw)) == raw


def test_paused_time_and_switches_while_paused_hear_nothing():
    log = parse_listening_log(
        {
            "loop_s": 10.0,
            "events": [
                event(0, "play", "a", 0.0),
                event(2000, "pause", "a", 2.0),
                event(9000, "switch", "b", 2.0),
                event(9500, "seek", "b", 0.5),
                event(9600, "play", "b", 0.5),
                event(11600, "submit", "b", 2.5),
            ],
        }
    )
    summary = summarize(log)
    assert (summary.played_a_s, summary.played_b_s) == (2.0, 2.0)
    assert summary.heard_overlap == ((0.5, 2.0),)
    assert summary.heard_overlap_s == 1.5


def test_intervals_merge_and_intersect():
    assert intervals_union([(2.0, 3.0), (0.0, 1.0), (0.5, 2.0), (4.0, 4.0)]) == ((0.0, 3.0),)
    assert intervals_intersection(((0.0, 2.0), (3.0, 5.0)), ((1.0, 4.0),)) == (
        (1.0, 2.0),
        (3.0, 4.0),
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "listening must be an object with loop_s and events (the trial page sends it)"),
        ({"loop_s": 0, "events": []}, "listening: loop_s must be positive, got 0.0"),
        ({"loop_s": "3", "events": []}, "listening: loop_s must be a finite number, got '3'"),
        ({"loop_s": 3, "events": {}}, "listening: events must be a list"),
        (
            {"loop_s": 3, "events": [event(0, "rewind", "a", 0)]},
            "listening event 1: type must be one of play, pause, switch, seek, loop, submit, "
            "got 'rewind'",
        ),
        (
            {"loop_s": 3, "events": [event(0, "play", "c", 0)]},
            "listening event 1: side must be 'a' or 'b', got 'c'",
        ),
        (
            {"loop_s": 3, "events": [event(float("nan"), "play", "a", 0)]},
            "listening event 1: t must be a finite number, got nan",
        ),
        (
            {"loop_s": 3, "events": [event(-5, "play", "a", 0)]},
            "listening event 1: t is negative (-5.0 ms)",
        ),
        (
            {"loop_s": 3, "events": [event(500, "play", "a", 0), event(400, "pause", "a", 0)]},
            "listening event 2: time goes backwards (400.0 ms after 500.0 ms)",
        ),
        (
            {"loop_s": 3, "events": [event(0, "play", "a", 3.5)]},
            "listening event 1: position 3.5 s is outside the excerpt (0 to 3.0 s)",
        ),
        (
            {"loop_s": 3, "events": [event(0, "submit", "a", 0), event(1, "play", "a", 0)]},
            "listening event 2: nothing may follow the submit event",
        ),
        (
            {"loop_s": 3, "events": ["play"]},
            "listening event 1: must be an object with t, type, side and pos",
        ),
        (
            {"loop_s": 3, "events": [{**event(0, "loop", "a", 1), "from": 1}]},
            "listening event 1: to must be a finite number, got None",
        ),
        (
            {"loop_s": 3, "events": [{**event(0, "loop", "a", 1), "from": 2, "to": 1}]},
            "listening event 1: the loop region 2.0 to 1.0 s is not inside the excerpt "
            "(0 to 3.0 s)",
        ),
        (
            {"loop_s": 3, "events": [{**event(0, "loop", "a", 1), "from": 1, "to": 1.1}]},
            "listening event 1: the loop region is 0.100 s, shorter than 0.25 s",
        ),
        (
            {"loop_s": 3, "events": [{**event(0, "loop", "a", 0.5), "from": 1, "to": 2}]},
            "listening event 1: position 0.5 s is outside the loop region (1.0 to 2.0 s)",
        ),
        (
            {
                "loop_s": 3,
                "events": [
                    {**event(0, "loop", "a", 1), "from": 1, "to": 2},
                    event(10, "seek", "a", 2.5),
                ],
            },
            "listening event 2: position 2.5 s is outside the loop region (1.0 to 2.0 s)",
        ),
    ],
)
def test_a_malformed_log_is_refused_with_the_place_and_reason(raw, message):
    with pytest.raises(ListeningLogError) as refused:
        parse_listening_log(raw)
    assert str(refused.value) == message


def test_a_log_longer_than_the_cap_is_refused():
    events = [event(index, "seek", "a", 0.0) for index in range(MAX_EVENTS + 1)]
    with pytest.raises(ListeningLogError) as refused:
        parse_listening_log({"loop_s": 3, "events": events})
    assert str(refused.value) == "listening: 10001 events is more than the 10000 accepted"


def page_rule(page: str, sides: str, logs: list[dict], tmp_path: Path) -> list[dict]:
    """Each log's summary by the page's own code, run in Node.js: webaudio.js (the shared
    rule, webAudio.heardBySide) and the page's `summarize` on top of it."""
    source = (STATIC / page).read_text()
    script = tmp_path / "rule.js"
    script.write_text(
        "globalThis.window = globalThis;\n"
        + (STATIC / "webaudio.js").read_text()
        + f"\nvar webAudio = window.earshotWebAudio;\nvar SIDES = {json.dumps(list(sides))};\n"
        + source[source.index("function summarize") : source.index(RULE_END)]
        + "const logs = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(logs.map((l) => summarize(l.events, l.loop_s))));\n"
    )
    ran = subprocess.run(
        ["node", str(script)], input=json.dumps(logs), capture_output=True, text=True, check=True
    )
    return json.loads(ran.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's code")
def test_the_trial_page_computes_exactly_what_the_server_computes(tmp_path):
    """The A/B page unlocks the questions by its own copy of the rule (listener.js on
    webaudio.js): on random logs, both copies give the same numbers to the last bit."""
    rng = random.Random(3)
    logs = []
    for _ in range(200):
        loop_s = round(rng.uniform(1, 20), 4)
        t_ms, events = 0.0, []
        region = (0.0, loop_s)
        for _ in range(rng.randint(1, 40)):
            t_ms = round(t_ms + rng.uniform(0, 4000), 1)
            kind = rng.choice(["play", "pause", "switch", "seek", "play", "loop"])
            if kind == "loop":
                start = round(rng.uniform(0, loop_s - 0.5), 4)
                region = rng.choice(
                    [(0.0, loop_s), (start, round(rng.uniform(start + 0.3, loop_s), 4))]
                )
            pos = round(rng.uniform(*region), 4)
            item = event(t_ms, kind, rng.choice("ab"), pos)
            if kind == "loop":
                item["from"], item["to"] = region
            events.append(item)
        logs.append({"loop_s": loop_s, "events": events})
    page = page_rule("listener.js", "ab", logs, tmp_path)
    server = []
    for raw in logs:
        summary = summarize(parse_listening_log(raw))
        server.append(
            {
                "playedA": summary.played_a_s,
                "playedB": summary.played_b_s,
                "heardA": summary.heard_a_s,
                "heardB": summary.heard_b_s,
                "overlap": summary.heard_overlap_s,
                "switches": summary.switches,
            }
        )
    assert page == server


def test_a_log_may_use_only_the_trials_sides():
    from evaluation.listening_log import ListeningLogError, parse_listening_log

    raw = {"loop_s": 3.0, "events": [{"t": 0, "type": "play", "side": "c", "pos": 0.0}]}
    assert parse_listening_log(raw, sides="abc").events[0].side == "c"
    with pytest.raises(ListeningLogError, match="side must be 'a' or 'b', got 'c'"):
        parse_listening_log(raw)
    with pytest.raises(ListeningLogError, match="side must be 'a', got 'c'"):
        parse_listening_log(raw, sides=("a",))


def test_heard_by_side_counts_each_of_n_sides_with_wrapping():
    from evaluation.listening_log import heard_by_side, parse_listening_log

    log = parse_listening_log(
        {
            "loop_s": 3.0,
            "events": [
                {"t": 0, "type": "play", "side": "a", "pos": 2.0},
                {"t": 2000, "type": "switch", "side": "b", "pos": 1.0},  # a wrapped: 2-3, 0-1
                {"t": 2500, "type": "switch", "side": "c", "pos": 1.5},
                {"t": 2500, "type": "pause", "side": "c", "pos": 1.5},
                {"t": 9000, "type": "submit", "side": "c", "pos": 1.5},
            ],
        },
        sides="abc",
    )
    heard = heard_by_side(log, "abc")
    assert heard["a"].played_s == pytest.approx(2.0) and heard["a"].heard == (
        (0.0, 1.0),
        (2.0, 3.0),
    )
    assert heard["b"].heard_s == pytest.approx(0.5) and heard["c"].played_s == 0.0


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's code")
@pytest.mark.parametrize("sides", ["a", "abc", "abcde", "abcdefghij"])
def test_the_single_and_pool_pages_compute_exactly_what_the_server_computes(sides, tmp_path):
    """The single-track and pool pages (pool.js on webaudio.js) count each track as the
    server's heard_by_side does: on random logs, the same numbers to the last bit."""
    rng = random.Random(len(sides))
    logs = []
    for _ in range(50):
        loop_s = round(rng.uniform(1, 20), 4)
        t_ms, events = 0.0, []
        for _ in range(rng.randint(1, 40)):
            t_ms = round(t_ms + rng.uniform(0, 4000), 1)
            kind = rng.choice(["play", "pause", "switch", "seek", "play"])
            events.append(event(t_ms, kind, rng.choice(sides), round(rng.uniform(0, loop_s), 4)))
        logs.append({"loop_s": loop_s, "events": events})
    page = page_rule("pool.js", sides, logs, tmp_path)
    server = []
    for raw in logs:
        log = parse_listening_log(raw, sides=sides)
        heard = heard_by_side(log, sides)
        server.append(
            {
                "played": {side: heard[side].played_s for side in sides},
                "distinct": {side: heard[side].heard_s for side in sides},
                "switches": switches(log),
            }
        )
    assert page == server


def switches(log) -> int:
    """Changes of the audible side, counted as `summarize` counts them."""
    pairs = zip(log.events, log.events[1:], strict=False)
    return sum(1 for before, after in pairs if after.side != before.side)
