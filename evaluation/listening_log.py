"""The trial page's listening log: what it may contain, and which passages it says were heard.

Pure (no Django): a parsed log in, intervals and seconds out. The same rule runs in the browser
(static/earshot/webaudio.js, `heardBySide`, under listener.js's and pool.js's `summarize`) to
unlock the questions, so an honest listener whom the page lets answer is never refused here.
The format is documented in docs/data-dictionary.md ("The listening log").

A log is ``{"loop_s": L, "events": [{"t": ms, "type": ..., "side": "a"|"b", "pos": s}, ...]}``:

- ``t``: milliseconds on the trial page's monotonic clock (``performance.now()``), never
  decreasing; only differences between events carry meaning;
- ``type``: ``play``, ``pause``, ``switch`` (``side`` is the side now audible), ``seek``
  (``pos`` is the new position), ``loop`` (a loop region set or cleared: the event carries
  ``from`` and ``to``, in seconds, and ``pos`` inside them; ``from`` 0 and ``to`` L clear it)
  or ``submit`` (the last event, when the answer was sent);
- ``side``: the side audible after the event; ``pos``: the position in the excerpt, in
  seconds, after the event (0 ≤ pos ≤ L);
- ``loop_s``: the length in seconds of the loop the page plays (the shorter decoded excerpt).

Between an event that leaves the player playing and the next event, the audible side is taken
to advance from ``pos`` by the wall time between the two events, wrapping at the end of the
loop region back to its start (the whole excerpt, ``[0, loop_s]``, until a ``loop`` event sets
one; no event marks a wrap). While a region is set every event's ``pos`` lies inside it.
"""

import math
from dataclasses import dataclass

EVENT_TYPES = ("play", "pause", "switch", "seek", "loop", "submit")
SIDES = ("a", "b")
# Enough for a switch every 100 ms for a quarter of an hour; a bigger log is refused.
MAX_EVENTS = 10_000
# Positions are rounded to 0.1 ms by the page; this allows for that rounding at the loop end.
POSITION_TOLERANCE_S = 0.001
# The shortest loop region the page lets a listener drag.
MIN_REGION_S = 0.25

Interval = tuple[float, float]


class ListeningLogError(ValueError):
    """A log that is malformed or impossible; the message says what and where."""


@dataclass(frozen=True)
class ListeningEvent:
    t_ms: float
    type: str
    side: str
    position_s: float
    region: Interval | None = None  # only on ``loop`` events: the region from here on


@dataclass(frozen=True)
class ListeningLog:
    loop_s: float
    events: tuple[ListeningEvent, ...]


@dataclass(frozen=True)
class PlaySegment:
    """A stretch of playback of one side: from `start_s` in the excerpt for `duration_s`,
    wrapping inside `region` (None: the whole excerpt)."""

    side: str
    start_s: float
    duration_s: float
    region: Interval | None = None


@dataclass(frozen=True)
class ListeningSummary:
    """What a log says was heard. Seconds; intervals are excerpt positions `[start, end)`."""

    played_a_s: float  # wall time A was audible (a passage heard twice counts twice)
    played_b_s: float
    heard_a: tuple[Interval, ...]  # the distinct passages of A heard, merged, sorted
    heard_b: tuple[Interval, ...]
    heard_overlap: tuple[Interval, ...]  # passages heard on both A and B
    switches: int  # changes of the audible side

    @property
    def heard_a_s(self) -> float:
        return intervals_length(self.heard_a)

    @property
    def heard_b_s(self) -> float:
        return intervals_length(self.heard_b)

    @property
    def heard_overlap_s(self) -> float:
        return intervals_length(self.heard_overlap)

    @property
    def played_s(self) -> float:
        return self.played_a_s + self.played_b_s


def _number(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ListeningLogError(f"{where}: {name} must be a finite number, got {value!r}")
    return float(value)


def parse_listening_log(raw, sides: tuple[str, ...] | str = SIDES) -> ListeningLog:
    """Check the shape of a decoded JSON log and return it typed; raises ListeningLogError
    naming the event and field at fault. ``sides``: the trial's sides (``a``, ``b`` for A/B;
    ``a`` for a single track; ``a``.. for a pool's screen positions). Does not check it
    against the trial (see `check_against_trial`)."""
    if not isinstance(raw, dict):
        raise ListeningLogError(
            "listening must be an object with loop_s and events (the trial page sends it)"
        )
    loop_s = _number(raw.get("loop_s"), "listening", "loop_s")
    if loop_s <= 0:
        raise ListeningLogError(f"listening: loop_s must be positive, got {loop_s!r}")
    events = raw.get("events")
    if not isinstance(events, list):
        raise ListeningLogError("listening: events must be a list")
    if len(events) > MAX_EVENTS:
        raise ListeningLogError(
            f"listening: {len(events)} events is more than the {MAX_EVENTS} accepted"
        )
    parsed = []
    previous_t = 0.0
    region: Interval | None = None
    for index, event in enumerate(events):
        where = f"listening event {index + 1}"
        if not isinstance(event, dict):
            raise ListeningLogError(f"{where}: must be an object with t, type, side and pos")
        kind = event.get("type")
        if kind not in EVENT_TYPES:
            raise ListeningLogError(
                f"{where}: type must be one of {', '.join(EVENT_TYPES)}, got {kind!r}"
            )
        side = event.get("side")
        if side not in sides:
            allowed = " or ".join(repr(each) for each in sides)
            raise ListeningLogError(f"{where}: side must be {allowed}, got {side!r}")
        t_ms = _number(event.get("t"), where, "t")
        position_s = _number(event.get("pos"), where, "pos")
        if t_ms < 0:
            raise ListeningLogError(f"{where}: t is negative ({t_ms} ms)")
        if t_ms < previous_t:
            raise ListeningLogError(
                f"{where}: time goes backwards ({t_ms} ms after {previous_t} ms)"
            )
        if not 0 <= position_s <= loop_s + POSITION_TOLERANCE_S:
            raise ListeningLogError(
                f"{where}: position {position_s} s is outside the excerpt (0 to {loop_s} s)"
            )
        if parsed and parsed[-1].type == "submit":
            raise ListeningLogError(f"{where}: nothing may follow the submit event")
        event_region = None
        if kind == "loop":
            region = event_region = _region(event, where, loop_s)
        if region is not None and not (
            region[0] - POSITION_TOLERANCE_S <= position_s <= region[1] + POSITION_TOLERANCE_S
        ):
            raise ListeningLogError(
                f"{where}: position {position_s} s is outside the loop region "
                f"({region[0]} to {region[1]} s)"
            )
        previous_t = t_ms
        parsed.append(
            ListeningEvent(
                t_ms=t_ms, type=kind, side=side, position_s=position_s, region=event_region
            )
        )
    return ListeningLog(loop_s=loop_s, events=tuple(parsed))


def _region(event: dict, where: str, loop_s: float) -> Interval | None:
    """The loop region a ``loop`` event sets; None when it covers the whole excerpt."""
    start = _number(event.get("from"), where, "from")
    end = _number(event.get("to"), where, "to")
    if not 0 <= start < end <= loop_s + POSITION_TOLERANCE_S:
        raise ListeningLogError(
            f"{where}: the loop region {start} to {end} s is not inside the excerpt "
            f"(0 to {loop_s} s)"
        )
    if end - start < MIN_REGION_S - POSITION_TOLERANCE_S:
        raise ListeningLogError(
            f"{where}: the loop region is {end - start:.3f} s, shorter than {MIN_REGION_S} s"
        )
    if start <= POSITION_TOLERANCE_S and end >= loop_s - POSITION_TOLERANCE_S:
        return None
    return (start, min(end, loop_s))


def play_segments(events: tuple[ListeningEvent, ...] | list[ListeningEvent]) -> list[PlaySegment]:
    """The stretches of playback the events describe, in order (see the module docstring)."""
    segments = []
    playing = False
    side, position_s, t_ms = "a", 0.0, 0.0
    region: Interval | None = None
    for event in events:
        if playing and event.t_ms > t_ms:
            segments.append(PlaySegment(side, position_s, (event.t_ms - t_ms) / 1000, region))
        if event.type == "play":
            playing = True
        elif event.type == "pause":
            playing = False
        elif event.type == "loop":
            region = event.region
        side, position_s, t_ms = event.side, event.position_s, event.t_ms
    return segments


def segment_positions(segment: PlaySegment, loop_s: float) -> list[Interval]:
    """The excerpt positions a segment covers, wrapping at the end of its region (the whole
    excerpt, ``[0, loop_s]``, when it has none) back to the region's start."""
    low, high = segment.region or (0.0, loop_s)
    span = high - low
    if segment.duration_s >= span:
        return [(low, high)]
    start = min(max(segment.start_s, low), high)
    end = start + segment.duration_s
    if end <= high:
        return [(start, end)]
    return [(start, high), (low, low + end - high)]


def intervals_union(intervals: list[Interval]) -> tuple[Interval, ...]:
    """Sorted, merged, non-empty intervals covering the same positions."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def intervals_intersection(
    first: tuple[Interval, ...], second: tuple[Interval, ...]
) -> tuple[Interval, ...]:
    """Positions in both of two merged interval lists."""
    both = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if end > start:
            both.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return tuple(both)


def intervals_length(intervals: tuple[Interval, ...]) -> float:
    total = 0.0
    for start, end in intervals:
        total += end - start
    return total


def summarize(log: ListeningLog) -> ListeningSummary:
    """Played time per side, distinct passages heard per side and on both, switches."""
    segments = play_segments(log.events)
    played = {"a": 0.0, "b": 0.0}
    positions: dict[str, list[Interval]] = {"a": [], "b": []}
    for segment in segments:
        played[segment.side] += segment.duration_s
        positions[segment.side] += segment_positions(segment, log.loop_s)
    heard_a = intervals_union(positions["a"])
    heard_b = intervals_union(positions["b"])
    switches = sum(
        1
        for before, after in zip(log.events, log.events[1:], strict=False)
        if after.side != before.side
    )
    return ListeningSummary(
        played_a_s=played["a"],
        played_b_s=played["b"],
        heard_a=heard_a,
        heard_b=heard_b,
        heard_overlap=intervals_intersection(heard_a, heard_b),
        switches=switches,
    )


@dataclass(frozen=True)
class SideHeard:
    """What a log says of one side: wall time audible and the distinct passages heard."""

    played_s: float
    heard: tuple[Interval, ...]

    @property
    def heard_s(self) -> float:
        return intervals_length(self.heard)


def heard_by_side(log: ListeningLog, sides: tuple[str, ...] | str) -> dict[str, SideHeard]:
    """Per side (any number: a single track's ``a``, a pool's ``a``..), played seconds and
    distinct passages heard; the same segment rule as `summarize`."""
    played = dict.fromkeys(sides, 0.0)
    positions: dict[str, list[Interval]] = {side: [] for side in sides}
    for segment in play_segments(log.events):
        played[segment.side] += segment.duration_s
        positions[segment.side] += segment_positions(segment, log.loop_s)
    return {
        side: SideHeard(played_s=played[side], heard=intervals_union(positions[side]))
        for side in sides
    }


def to_json(log: ListeningLog) -> dict:
    """The log as stored: the same keys the page sends."""
    return {"loop_s": log.loop_s, "events": [_event_json(e, log.loop_s) for e in log.events]}


def _event_json(event: ListeningEvent, loop_s: float) -> dict:
    out = {"t": event.t_ms, "type": event.type, "side": event.side, "pos": event.position_s}
    if event.type == "loop":
        out["from"], out["to"] = event.region or (0.0, loop_s)
    return out
