"""Listening evidence: which audio bytes were served for a trial, and answers checked against
them and against the page's listening log before they are stored.

An answer from the trial page is refused, with nothing stored, when either side's audio was
never served to that panelist for that trial, when its log is malformed or impossible (times
outside the trial window, positions beyond the excerpt, more playback than wall time since the
audio arrived), or when the same passage was not heard on both A and B for the study's minimum
(docs/data-dictionary.md, "The listening log")."""

from dataclasses import dataclass, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.listening_log import (
    SIDES,
    ListeningLog,
    ListeningLogError,
    ListeningSummary,
    SideHeard,
    heard_by_side,
    parse_listening_log,
    summarize,
    to_json,
)
from evaluation.models import ListeningEvidence, Panelist, Response, StimulusFetch, Trial
from evaluation.selectors.listening_evidence import SideFetched, trial_fetched
from evaluation.services import ServiceError
from evaluation.services.responses import (
    TRIAL_FOR_ANSWER,
    Answer,
    required_listen_s,
    response_record,
    study_open_require,
)

# Allowance for timer granularity between the page's clock and the server's.
TRIAL_WINDOW_TOLERANCE_S = 1.0
# Playback needs both files: it cannot last longer than the time since both were served.
WALL_TIME_TOLERANCE_S = 1.0
# The page decodes the files itself; a lossy decoder may add or drop a frame of padding.
LOOP_TOLERANCE_S = 0.25
# The page and this module compute the overlap with the same arithmetic; this only absorbs
# the rounding of the required seconds shown on the page.
OVERLAP_TOLERANCE_S = 0.01


def stimulus_fetch_record(
    *,
    trial: Trial,
    panelist: Panelist,
    side: str,
    first_byte: int,
    last_byte: int,
    at: datetime | None = None,
) -> None:
    """Remember that bytes first_byte..last_byte (inclusive) of `side` were served; ranges of
    the same trial, panelist and side that overlap or touch are merged into one row."""
    at = at or timezone.now()
    # Two queries in the usual case (the page downloads each side whole, once per load):
    # this runs inside the audio response, which must stay fast.
    with transaction.atomic():
        touching = list(
            StimulusFetch.objects.select_for_update()
            .filter(
                trial=trial,
                panelist=panelist,
                side=side,
                first_byte__lte=last_byte + 1,
                last_byte__gte=max(first_byte - 1, 0),
            )
            .order_by("first_byte")
        )
        if not touching:
            StimulusFetch.objects.create(
                trial=trial,
                panelist=panelist,
                side=side,
                first_byte=first_byte,
                last_byte=last_byte,
                first_at=at,
                last_at=at,
            )
            return
        kept, merged = touching[0], touching[1:]
        StimulusFetch.objects.filter(pk=kept.pk).update(
            first_byte=min(first_byte, kept.first_byte),
            last_byte=max([last_byte, *(row.last_byte for row in touching)]),
            first_at=min(row.first_at for row in touching),
            last_at=at,
        )
        if merged:
            StimulusFetch.objects.filter(pk__in=[row.pk for row in merged]).delete()


@dataclass(frozen=True)
class Evidence:
    """A listening log that passed every check, with its summary and the fetches."""

    log: dict
    summary: ListeningSummary | None  # A/B only
    fetched: dict[str, SideFetched]
    audio_fetched: float
    # Single-track and pool trials: per side ('a'.. = screen positions), what was heard.
    sides: dict[str, SideHeard] | None = None


def listening_evidence_check(
    *, trial: Trial, panelist: Panelist, listening, now: datetime
) -> Evidence:
    """Check an answer's listening log against what the server served; raises ServiceError
    (code `audio_not_fetched`, `invalid_listening_log` or `too_short_listening`)."""
    if trial.pair.kind != "ab":
        return _sides_evidence_check(trial=trial, panelist=panelist, listening=listening, now=now)
    fetched = trial_fetched(trial=trial, panelist=panelist, now=now)
    missing = [side.upper() for side in ("a", "b") if fetched[side].bytes == 0]
    if missing:
        raise ServiceError(
            _(
                "the audio of %(sides)s was never downloaded for this trial, so it cannot have "
                "been heard; reload the page, listen to both, then answer"
            )
            % {"sides": _(" and ").join(missing)},
            code="audio_not_fetched",
        )
    excerpt_s = min(trial.stimulus_at("a").duration_s, trial.stimulus_at("b").duration_s)
    log = _possible_log(listening, sides=SIDES, excerpt_s=excerpt_s, trial=trial, now=now)
    summary = summarize(log)
    _check_played(summary.played_s, fetched, now=now, files="both files")
    required = min(required_listen_s(trial), log.loop_s)
    if summary.heard_overlap_s + OVERLAP_TOLERANCE_S < required:
        raise ServiceError(
            _(
                "listen to the same passage on both A and B for at least %(required)s s before "
                "answering (heard on both so far: %(heard).1f s)"
            )
            % {"required": f"{required:g}", "heard": summary.heard_overlap_s},
            code="too_short_listening",
        )
    sizes = (trial.stimulus_at("a").size_bytes, trial.stimulus_at("b").size_bytes)
    shares = [
        min(fetched[side].bytes / size, 1.0) if size else 0.0
        for side, size in zip(("a", "b"), sizes, strict=True)
    ]
    return Evidence(log=to_json(log), summary=summary, fetched=fetched, audio_fetched=min(shares))


def _sides_evidence_check(
    *, trial: Trial, panelist: Panelist, listening, now: datetime
) -> Evidence:
    """The same checks for a single track (side a) or a pool (sides a.. = positions 1..N):
    every side's audio served, a possible log, and **each** side heard (distinct passages)
    for the required time."""
    sides = trial.sides()
    label = (
        (lambda side: "the track")
        if len(sides) == 1
        else (lambda side: f"candidate {sides.index(side) + 1}")
    )
    fetched = trial_fetched(trial=trial, panelist=panelist, now=now, sides=sides)
    missing = [label(side) for side in sides if fetched[side].bytes == 0]
    if missing:
        raise ServiceError(
            f"the audio of {', '.join(missing)} was never downloaded for this trial, so it "
            "cannot have been heard; reload the page, listen, then answer",
            code="audio_not_fetched",
        )
    stimuli = {side: trial.stimulus_at(side) for side in sides}
    excerpt_s = min(stimulus.duration_s for stimulus in stimuli.values())
    log = _possible_log(listening, sides=sides, excerpt_s=excerpt_s, trial=trial, now=now)
    heard = heard_by_side(log, sides)
    _check_played(
        sum(side.played_s for side in heard.values()), fetched, now=now, files="the files"
    )
    required = min(required_listen_s(trial), log.loop_s)
    short = [label(side) for side in sides if heard[side].heard_s + OVERLAP_TOLERANCE_S < required]
    if short:
        raise ServiceError(
            f"listen to {', '.join(short)} for at least {required:g} s before answering",
            code="too_short_listening",
        )
    shares = [
        min(fetched[side].bytes / stimuli[side].size_bytes, 1.0)
        if stimuli[side].size_bytes
        else 0.0
        for side in sides
    ]
    return Evidence(
        log=to_json(log), summary=None, fetched=fetched, audio_fetched=min(shares), sides=heard
    )


def _record_sides_heard(
    panelist: Panelist, trial_token: str, answer: Answer, evidence: Evidence, now: datetime
) -> tuple[Response, bool]:
    """Store a single-track or pool answer with its evidence: listen times are the log's
    played seconds; heard_a_s is the track's (the favourite's) distinct seconds heard, the
    B columns are 0 (each pool candidate's own are on its ResponseCandidate row)."""
    sides = list(evidence.sides)
    played = [round(evidence.sides[side].played_s, 3) for side in sides]
    heard = [round(evidence.sides[side].heard_s, 3) for side in sides]
    if len(sides) == 1:
        answer = replace(answer, listen_a_s=played[0], listen_b_s=0.0)
    else:
        answer = replace(answer, listen_pool_s=tuple(played), listen_a_s=0.0, listen_b_s=0.0)
    shown = 1 if len(sides) == 1 else (answer.ranking[0] if answer.ranking else 1)

    def evidence_store(response: Response) -> None:
        ListeningEvidence.objects.create(
            response=response,
            log=evidence.log,
            heard_a_s=heard[shown - 1] if 0 < shown <= len(heard) else heard[0],
            heard_b_s=0.0,
            heard_overlap_s=0.0,
            switches=sum(
                1
                for before, after in zip(
                    evidence.log["events"], evidence.log["events"][1:], strict=False
                )
                if after["side"] != before["side"]
            ),
            fetched_a_bytes=evidence.fetched["a"].bytes,
            fetched_b_bytes=sum(evidence.fetched[side].bytes for side in sides[1:]),
            audio_fetched=round(evidence.audio_fetched, 4),
        )

    return response_record(
        panelist=panelist,
        trial_token=trial_token,
        answer=answer,
        now=now,
        pool_heard_s=heard if len(sides) > 1 else None,
        with_response=evidence_store,
    )


def _possible_log(
    listening, *, sides: tuple[str, ...], excerpt_s: float, trial: Trial, now: datetime
) -> ListeningLog:
    """The answer's listening log, parsed for the trial's ``sides``; refused (an impossible
    log) when malformed, when its loop is not the excerpt (``excerpt_s``, the shortest of
    the trial's, in seconds) or when its events span longer than the trial has been open."""
    try:
        log = parse_listening_log(listening, sides=sides)
    except ListeningLogError as exc:
        raise _impossible(str(exc)) from exc
    if abs(log.loop_s - excerpt_s) > LOOP_TOLERANCE_S:
        raise _impossible(
            f"listening: loop_s {log.loop_s} s does not match the excerpt ({excerpt_s:.3f} s)"
        )
    # The page's clock has its own origin (it starts before served_at is stamped when the
    # page was opened by the POST that reserved the trial), so only its differences are
    # compared: every event lies between the page showing the trial and the answer arriving.
    window_s = (now - (trial.served_at or now)).total_seconds()
    span_s = (log.events[-1].t_ms - log.events[0].t_ms) / 1000 if log.events else 0.0
    if span_s > window_s + TRIAL_WINDOW_TOLERANCE_S:
        raise _impossible(
            f"listening: the events span {span_s:.1f} s, but the trial has been open for only "
            f"{window_s:.1f} s"
        )
    return log


def _check_played(
    played_s: float, fetched: dict[str, SideFetched], *, now: datetime, files: str
) -> None:
    """Refuse a log that plays more seconds (``played_s``, all sides) than the wall time
    since the last of the ``fetched`` sides' audio first arrived; ``files`` names them in
    the message ("both files", "the files")."""
    wall_s = (now - max(side.first_at for side in fetched.values())).total_seconds()
    if played_s > wall_s + WALL_TIME_TOLERANCE_S:
        raise _impossible(
            f"listening: the log plays {played_s:.1f} s of audio, but {files} have been "
            f"here for only {wall_s:.1f} s"
        )


def _impossible(detail: str) -> ServiceError:
    return ServiceError(
        _("the listening log is not possible (%(detail)s); reload the page and listen again")
        % {"detail": detail},
        code="invalid_listening_log",
    )


def response_record_heard(
    *,
    panelist: Panelist,
    trial_token: str,
    answer: Answer,
    listening,
    now: datetime | None = None,
) -> tuple[Response, bool]:
    """Record an answer from the trial page only if its listening evidence holds; the listen
    times stored are the played times of the log, not the page's claim. A retry of a stored
    answer is answered as `response_record` answers it. Returns (response, created)."""
    now = now or timezone.now()
    trial = (
        Trial.objects.select_related(*TRIAL_FOR_ANSWER)
        .filter(token=trial_token, panelist=panelist, response__isnull=True)
        .first()
    )
    if trial is None:
        # Not this panelist's, or answered already: response_record says which.
        return response_record(panelist=panelist, trial_token=trial_token, answer=answer, now=now)
    # A closed study refuses before the evidence is looked at: "closed" is the true reason.
    study_open_require(trial.pair.study, now)
    evidence = listening_evidence_check(
        trial=trial, panelist=panelist, listening=listening, now=now
    )
    if evidence.sides is not None:
        return _record_sides_heard(panelist, trial_token, answer, evidence, now)
    answer = replace(
        answer,
        listen_a_s=round(evidence.summary.played_a_s, 3),
        listen_b_s=round(evidence.summary.played_b_s, 3),
    )

    def evidence_store(response: Response) -> None:
        ListeningEvidence.objects.create(
            response=response,
            log=evidence.log,
            heard_a_s=round(evidence.summary.heard_a_s, 3),
            heard_b_s=round(evidence.summary.heard_b_s, 3),
            heard_overlap_s=round(evidence.summary.heard_overlap_s, 3),
            switches=evidence.summary.switches,
            fetched_a_bytes=evidence.fetched["a"].bytes,
            fetched_b_bytes=evidence.fetched["b"].bytes,
            audio_fetched=round(evidence.audio_fetched, 4),
        )

    # The response and its evidence in one transaction (response_record's).
    return response_record(
        panelist=panelist,
        trial_token=trial_token,
        answer=answer,
        now=now,
        trial=trial,
        with_response=evidence_store,
    )
