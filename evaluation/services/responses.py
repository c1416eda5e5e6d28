"""Recording a panelist's answer to a trial: validated, stored once, idempotent on retry."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import (
    ASPECTS,
    Choice,
    Familiar,
    GuessAI,
    GuessKind,
    Panelist,
    Response,
    ResponseCandidate,
    Trial,
)
from evaluation.selectors.scheduling import answered_count
from evaluation.services import ServiceError
from evaluation.services.auto_close import study_close_if_decided_queue
from evaluation.services.strata import study_close_if_quotas_met

# Allowance for timer granularity between the browser's clock and the rule, in seconds.
LISTEN_TOLERANCE_S = 0.25


@dataclass(frozen=True)
class Answer:
    """What a panelist submits for one trial."""

    choice: str
    listen_a_s: float
    listen_b_s: float
    liked_a: bool | None = None
    liked_b: bool | None = None
    guess_ai: str = ""
    # Issue 12: the questions a study may add (docs/data-dictionary.md, columns 41-82).
    familiar: str = ""
    playlist_a: bool | None = None
    playlist_b: bool | None = None
    release_a: bool | None = None
    release_b: bool | None = None
    rating_a: int | None = None
    rating_b: int | None = None
    guess_kind: str = ""
    guess_confidence: int | None = None
    weaker_a: tuple[str, ...] = ()
    weaker_b: tuple[str, ...] = ()
    aspects: dict = field(default_factory=dict)
    # Pool: screen positions (1-based), favourite first, then the optional 2nd and 3rd; and
    # the seconds each candidate was audible, in screen order.
    ranking: tuple[int, ...] = ()
    listen_pool_s: tuple[float, ...] = ()


# A track counts as liked on a 1-5 rating from this value up ("what is weaker?" is asked).
LIKED_FROM_RATING = 4


def required_listen_s(trial: Trial) -> float:
    """Seconds each side (each pool candidate) must be heard: the study minimum, or the whole
    excerpt if shorter."""
    if trial.pair.kind == "pool":
        shortest = min(c.stimulus.duration_s for c in trial.candidates.select_related("stimulus"))
    else:
        shortest = min(trial.pair.first.duration_s, trial.pair.second.duration_s)
    return min(trial.pair.study.min_listen_s, shortest)


def _rating_ok(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5


def _flag_ok(value) -> bool:
    return isinstance(value, bool)


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(message, code=code)


def _validate_common(trial: Trial, answer: Answer) -> None:
    """Familiarity, hit potential, ratings, aspects and 'what is weaker?' (every design); the
    sides a design has no B for must stay empty."""
    study = trial.pair.study
    kind = trial.pair.kind
    sides = ("a", "b") if kind == "ab" else ("a",)
    if study.ask_familiar and answer.familiar not in Familiar.values:
        raise _refuse(
            "say whether you know this piece: no, sounds_familiar or knows_it; "
            f"got {answer.familiar!r}",
            "invalid_familiar",
        )
    if not study.ask_familiar and answer.familiar:
        raise _refuse("this study does not ask whether you know the piece", "invalid_familiar")
    hit_asked = study.ask_hit and kind != "pool"
    for name in ("playlist", "release"):
        for side in ("a", "b"):
            value = getattr(answer, f"{name}_{side}")
            if hit_asked and side in sides:
                if not _flag_ok(value):
                    raise _refuse(
                        f"{name}_{side}: say yes or no (true or false); got {value!r}",
                        "invalid_hit",
                    )
            elif value is not None:
                raise _refuse(f"{name}_{side} is not asked in this study", "invalid_hit")
    rating_asked = (kind == "ab" and study.ask_rating) or (kind == "single" and study.ask_liked)
    for side in ("a", "b"):
        value = getattr(answer, f"rating_{side}")
        if rating_asked and side in sides:
            if not _rating_ok(value):
                raise _refuse(
                    f"rating_{side}: how much you like it, a whole number 1 to 5; got {value!r}",
                    "invalid_rating",
                )
        elif value is not None:
            raise _refuse(f"rating_{side} is not asked in this study", "invalid_rating")
    _validate_aspects(study, answer, sides)
    _validate_weaker(study, answer, sides, kind)


def _validate_aspects(study, answer: Answer, sides: tuple[str, ...]) -> None:
    if not isinstance(answer.aspects, dict):
        raise _refuse("aspects must be an object {aspect: answer}", "invalid_aspects")
    asked = study.aspects if isinstance(study.aspects, dict) else {}
    extra = sorted(set(answer.aspects) - set(asked))
    if extra:
        raise _refuse(
            f"aspect(s) {', '.join(extra)} are not asked in this study", "invalid_aspects"
        )
    for name in study.aspect_names():
        given = answer.aspects.get(name)
        if not isinstance(given, dict):
            raise _refuse(f"aspect {name}: missing answer", "invalid_aspects")
        if asked[name] == "preference":
            if set(given) != {"choice"} or given["choice"] not in Choice.values:
                raise _refuse(
                    f'aspect {name}: which is better, {{"choice": "a" | "b" | "tie"}}; got {given!r}',
                    "invalid_aspects",
                )
        else:
            if set(given) != set(sides) or not all(_rating_ok(given[s]) for s in sides):
                expected = ", ".join(f'"{s}": 1-5' for s in sides)
                raise _refuse(
                    f"aspect {name}: a rating 1 to 5 per track, {{{expected}}}; got {given!r}",
                    "invalid_aspects",
                )


def side_liked(answer: Answer, side: str, kind: str) -> bool:
    """Whether the answer liked the track at ``side``: the liked flag on A/B (or, when only a
    rating is asked, a rating of LIKED_FROM_RATING or more); a single track's rating."""
    liked = getattr(answer, f"liked_{side}") if kind == "ab" else None
    if liked is not None:
        return bool(liked)
    rating = getattr(answer, f"rating_{side}")
    return rating is not None and rating >= LIKED_FROM_RATING


def _validate_weaker(study, answer: Answer, sides: tuple[str, ...], kind: str) -> None:
    for side in ("a", "b"):
        weaker = getattr(answer, f"weaker_{side}")
        if not isinstance(weaker, tuple | list) or not all(isinstance(w, str) for w in weaker):
            raise _refuse(f"weaker_{side} must be a list of aspect names", "invalid_weaker")
        if not weaker:
            continue
        if not study.ask_weaker or side not in sides:
            raise _refuse(f"weaker_{side}: 'what is weaker?' is not asked here", "invalid_weaker")
        unknown = [w for w in weaker if w not in study.aspect_names()]
        if unknown or len(set(weaker)) != len(weaker):
            raise _refuse(
                f"weaker_{side}: choose among this study's aspects "
                f"({', '.join(study.aspect_names())}), each once; got {list(weaker)!r}",
                "invalid_weaker",
            )
        if not side_liked(answer, side, kind):
            raise _refuse(
                f"weaker_{side}: 'what is weaker?' is asked only of a track you liked",
                "invalid_weaker",
            )


def _validate_single(trial: Trial, answer: Answer) -> None:
    study = trial.pair.study
    if answer.choice or answer.guess_ai or answer.liked_a is not None or answer.liked_b is not None:
        raise _refuse(
            "a single-track trial has no A/B questions (choice, liked, guess_ai)",
            "invalid_choice",
        )
    if answer.ranking or answer.listen_pool_s:
        raise _refuse("a single-track trial has no ranking", "invalid_ranking")
    if study.ask_ai:
        if answer.guess_kind not in GuessKind.values:
            raise _refuse(
                f"say whether it was made by a human or by AI (human or ai); got "
                f"{answer.guess_kind!r}",
                "invalid_guess",
            )
        confidence = answer.guess_confidence
        if not (
            isinstance(confidence, int)
            and not isinstance(confidence, bool)
            and 50 <= confidence <= 100
        ):
            raise _refuse(
                f"guess_confidence: how sure you are, a whole percent 50 to 100; got {confidence!r}",
                "invalid_confidence",
            )
    elif answer.guess_kind or answer.guess_confidence is not None:
        raise _refuse("this study does not ask human or AI", "invalid_guess")


def _validate_pool(trial: Trial, answer: Answer) -> None:
    study = trial.pair.study
    size = trial.candidates.count()
    if answer.choice or answer.guess_ai or answer.guess_kind or answer.liked_a is not None:
        raise _refuse(
            "a pool trial asks for a favourite (ranking), not A/B answers", "invalid_choice"
        )
    if answer.liked_b is not None or answer.guess_confidence is not None:
        raise _refuse(
            "a pool trial asks for a favourite (ranking), not A/B answers", "invalid_choice"
        )
    ranking = answer.ranking
    most = 3 if study.pool_rank_top3 else 1
    valid = (
        isinstance(ranking, tuple | list)
        and 1 <= len(ranking) <= most
        and all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= size for p in ranking)
        and len(set(ranking)) == len(ranking)
    )
    if not valid:
        what = (
            "your favourite, then optionally a second and a third"
            if most == 3
            else ("your favourite")
        )
        raise _refuse(
            f"ranking: {what}, as distinct screen positions 1 to {size}; got {ranking!r}",
            "invalid_ranking",
        )
    listen = answer.listen_pool_s
    if len(listen) != size or any(
        s is None or isinstance(s, bool) or not 0 <= s < 24 * 3600 for s in listen
    ):
        raise _refuse(
            f"listen times: one per candidate ({size}), each a number of seconds",
            "invalid_listen",
        )


def _validate_listening(trial: Trial, answer: Answer, now: datetime) -> None:
    """Each side (each candidate) heard for the required time; not more in total than the
    trial has been open (only one side is audible at a time)."""
    kind = trial.pair.kind
    if kind == "pool":
        times = [(f"candidate {n}", s) for n, s in enumerate(answer.listen_pool_s, start=1)]
    elif kind == "single":
        times = [("the track", answer.listen_a_s)]
    else:
        times = [("A", answer.listen_a_s), ("B", answer.listen_b_s)]
    for side, seconds in times:
        if seconds is None or not 0 <= seconds < 24 * 3600:
            raise ServiceError(
                _("listen time for %(side)s is missing or invalid") % {"side": side},
                code="invalid_listen",
            )
    required = required_listen_s(trial)
    short = [side for side, seconds in times if seconds + LISTEN_TOLERANCE_S < required]
    if short:
        raise ServiceError(
            _("listen to %(sides)s for at least %(required).0f s before answering")
            % {"sides": _(" and ").join(short), "required": required},
            code="too_short_listening",
        )
    # Only one side is audible at a time, so the sides together cannot have been heard for
    # longer than the trial has been open.
    if trial.served_at is not None:
        elapsed = (now - trial.served_at).total_seconds()
        if elapsed + 1.0 < sum(seconds for _side, seconds in times):
            raise ServiceError(
                _("the trial has been open for only %(elapsed).1f s") % {"elapsed": elapsed},
                code="too_short_listening",
            )


def _validate(trial: Trial, answer: Answer, now: datetime) -> None:
    study = trial.pair.study
    kind = trial.pair.kind
    if kind != "ab":
        if kind == "single":
            _validate_single(trial, answer)
        else:
            _validate_pool(trial, answer)
        _validate_common(trial, answer)
        _validate_listening(trial, answer, now)
        return
    if answer.ranking or answer.listen_pool_s or answer.guess_kind:
        raise _refuse("an A/B trial has no ranking or human/AI guess", "invalid_choice")
    if answer.guess_confidence is not None:
        raise _refuse("an A/B trial asks no confidence", "invalid_confidence")
    _validate_common(trial, answer)
    if answer.choice not in Choice.values:
        raise ServiceError(
            _("choice must be one of a, b, tie; got %(got)r") % {"got": answer.choice},
            code="invalid_choice",
        )
    if study.ask_ai and answer.guess_ai not in GuessAI.values:
        raise ServiceError(
            _("guess_ai must be one of a, b, unsure; got %(got)r") % {"got": answer.guess_ai},
            code="invalid_guess",
        )
    if not study.ask_ai and answer.guess_ai:
        raise ServiceError(_("this study does not ask which track is AI"), code="invalid_guess")
    if study.ask_liked and (answer.liked_a is None or answer.liked_b is None):
        raise ServiceError(
            _("say whether you liked A and whether you liked B"), code="missing_liked"
        )
    _validate_listening(trial, answer, now)


def study_open_require(study, now: datetime) -> None:
    """Closed means closed: no answer is stored once the study is not open, also for a trial
    reserved before it closed."""
    if study.is_open:
        return
    if study.closed_at:
        message = _(
            "this study closed on %(date)s at %(time)s UTC and no longer accepts answers; "
            "nothing was stored. Thank you for listening"
        ) % {"date": f"{study.closed_at:%Y-%m-%d}", "time": f"{study.closed_at:%H:%M}"}
    else:
        message = _(
            "this study closed and no longer accepts answers; nothing was stored. "
            "Thank you for listening"
        )
    raise ServiceError(
        message,
        code="study_closed",
        status=409,
    )


def response_snapshot(trial: Trial, favourite: int | None = None) -> dict:
    """What an answer to ``trial`` means, as Response fields: systems, their kinds, stimuli
    and source tracks heard as A and B (ids and SHA-256), the catch outcome's rule and the
    study's protocol version, hash and seed, taken now and never recomputed.

    A single track is snapshot as A with every B field empty; a pool answer's A is its
    favourite (screen position ``favourite``), its candidates are ``ResponseCandidate`` rows."""
    study = trial.pair.study
    kind = trial.pair.kind
    if kind != "ab":
        side = "a" if kind == "single" else "abcdefghij"[(favourite or 1) - 1]
        stimulus = trial.stimulus_at(side)
        system = stimulus.track.system
        return {
            "trial_kind": kind,
            "prompt_external_id": trial.prompt.external_id,
            "system_a": system.name,
            "system_b": "",
            "system_a_kind": system.kind,
            "system_b_kind": "",
            "stimulus_a": stimulus,
            "stimulus_b": None,
            "stimulus_a_sha256": stimulus.sha256,
            "stimulus_b_sha256": "",
            "track_a_sha256": stimulus.track.sha256,
            "track_b_sha256": "",
            "position_swapped": False,
            "is_catch": False,
            "study_version": study.version,
            "study_config_hash": study.config_hash(),
            "study_seed": study.seed,
        }
    stimulus_a, stimulus_b = trial.stimulus_at("a"), trial.stimulus_at("b")
    system_a, system_b = stimulus_a.track.system, stimulus_b.track.system
    return {
        "prompt_external_id": trial.prompt.external_id,
        "system_a": system_a.name,
        "system_b": system_b.name,
        "system_a_kind": system_a.kind,
        "system_b_kind": system_b.kind,
        "stimulus_a": stimulus_a,
        "stimulus_b": stimulus_b,
        "stimulus_a_sha256": stimulus_a.sha256,
        "stimulus_b_sha256": stimulus_b.sha256,
        "track_a_sha256": stimulus_a.track.sha256,
        "track_b_sha256": stimulus_b.track.sha256,
        "position_swapped": trial.swapped,
        "is_catch": trial.pair.is_catch,
        "study_version": study.version,
        "study_config_hash": study.config_hash(),
        "study_seed": study.seed,
    }


def _weaker_text(weaker) -> str:
    """Aspect names joined by ';' in catalogue order (the export's weaker_a/weaker_b)."""
    return ";".join(name for name in ASPECTS if name in set(weaker or ()))


def _question_fields(answer: Answer) -> dict:
    """The Response fields of the questions issue 12 added, from an answer."""
    return {
        "familiar": answer.familiar or "",
        "playlist_a": answer.playlist_a,
        "playlist_b": answer.playlist_b,
        "release_a": answer.release_a,
        "release_b": answer.release_b,
        "rating_a": answer.rating_a,
        "rating_b": answer.rating_b,
        "guess_kind": answer.guess_kind or "",
        "guess_confidence": answer.guess_confidence,
        "weaker_a": _weaker_text(answer.weaker_a),
        "weaker_b": _weaker_text(answer.weaker_b),
        "aspects": dict(answer.aspects or {}),
    }


def _same_answer(response: Response, answer: Answer) -> bool:
    same = (
        response.choice == answer.choice
        and response.liked_a == answer.liked_a
        and response.liked_b == answer.liked_b
        and response.guess_ai == (answer.guess_ai or "")
        and all(getattr(response, k) == v for k, v in _question_fields(answer).items())
    )
    if same and response.trial_kind == "pool":
        ranks = {c.position: c.pick_rank for c in response.candidates.all() if c.pick_rank}
        same = ranks == {p: n for n, p in enumerate(answer.ranking, start=1)}
    return same


def _candidates_store(response: Response, trial: Trial, answer: Answer, heard=None) -> None:
    """A pool answer's ResponseCandidate rows: each candidate's snapshot, listen time
    (``answer.listen_pool_s``), distinct seconds heard (``heard``: per screen position, from
    the listening evidence, or None) and rank."""
    ranks = {position: n for n, position in enumerate(answer.ranking, start=1)}
    rows = []
    for candidate in trial.candidates.select_related("stimulus__track__system"):
        stimulus = candidate.stimulus
        rows.append(
            ResponseCandidate(
                response=response,
                position=candidate.position,
                stimulus=stimulus,
                system=stimulus.track.system.name,
                system_kind=stimulus.track.system.kind,
                stimulus_sha256=stimulus.sha256,
                track_sha256=stimulus.track.sha256,
                listen_s=answer.listen_pool_s[candidate.position - 1],
                heard_s=None if heard is None else heard[candidate.position - 1],
                pick_rank=ranks.get(candidate.position),
            )
        )
    ResponseCandidate.objects.bulk_create(rows)


# What storing an answer reads of its trial (validation and the snapshot), in one query.
TRIAL_FOR_ANSWER = (
    "prompt",
    "pair__study",
    "pair__first__track__system",
    "pair__second__track__system",
)


def response_record(
    *,
    panelist: Panelist,
    trial_token: str,
    answer: Answer,
    now: datetime | None = None,
    pool_heard_s: list[float] | None = None,
    trial: Trial | None = None,
    with_response: Callable[[Response], None] | None = None,
) -> tuple[Response, bool]:
    """Store the answer; returns (response, created). A retry with the same answer returns the
    stored response with created=False; a different answer to an answered trial is refused.
    ``pool_heard_s``: a pool answer's distinct seconds heard per candidate (evidence), if any.
    ``with_response(response)`` runs in the transaction that stores a new response (its
    listening evidence is written there, all or nothing, without a nested savepoint).

    `trial`, when the caller has just read it (with TRIAL_FOR_ANSWER related, the panelist's
    and unanswered at that read), saves reading it again and looking for its answer: a
    concurrent answer stored since then is caught by the unique constraint below."""
    now = now or timezone.now()
    known_unanswered = trial is not None and trial.token == trial_token
    if not known_unanswered:
        trial = Trial.objects.select_related(*TRIAL_FOR_ANSWER).filter(token=trial_token).first()
    if trial is None or trial.panelist_id != panelist.pk:
        raise ServiceError(
            _(
                "this trial is not yours (it may have expired and been given to someone "
                "else); reload the page to get your next trial"
            ),
            code="foreign_trial",
        )
    existing = None if known_unanswered else Response.objects.filter(trial=trial).first()
    if existing is not None:
        if _same_answer(existing, answer):
            return existing, False
        raise ServiceError(
            _("this trial was already answered; answers are never overwritten"),
            code="already_answered",
            status=409,
        )
    study_open_require(trial.pair.study, now)
    _validate(trial, answer, now)
    try:
        with transaction.atomic():
            favourite = answer.ranking[0] if answer.ranking else None
            response = Response.objects.create(
                **response_snapshot(trial, favourite=favourite),
                **_question_fields(answer),
                pool_size=len(answer.listen_pool_s) or None,
                catch_passed=trial.catch_passed(answer.choice),
                trial=trial,
                panelist=panelist,
                choice=answer.choice,
                liked_a=answer.liked_a,
                liked_b=answer.liked_b,
                guess_ai=answer.guess_ai or "",
                listen_a_s=(
                    answer.listen_pool_s[favourite - 1] if favourite else answer.listen_a_s
                ),
                listen_b_s=answer.listen_b_s if trial.pair.kind == "ab" else 0.0,
                started_at=trial.served_at or now,
                submitted_at=now,
            )
            if trial.pair.kind == "pool":
                _candidates_store(response, trial, answer, pool_heard_s)
            if with_response is not None:
                with_response(response)
    except IntegrityError:
        # A concurrent duplicate submit won the race: answer as a retry would.
        existing = Response.objects.get(trial=trial)
        if _same_answer(existing, answer):
            return existing, False
        raise ServiceError(
            _("this trial was already answered"), code="already_answered", status=409
        ) from None
    if answered_count(panelist) >= panelist.planned_trials and panelist.finished_at is None:
        Panelist.objects.filter(pk=panelist.pk).update(finished_at=now)
        study = trial.pair.study
        if study.auto_close:
            study_close_if_quotas_met(study=study)
        if study.auto_close_decided:
            study_close_if_decided_queue(study=study)
    return response, True


def _payload_int(payload: dict, name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError(f"{name} must be a whole number", code="invalid_json")
    return value


def _payload_flag(payload: dict, name: str) -> bool | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, bool):
        raise ServiceError(f"{name} must be true, false or null", code="invalid_hit")
    return value


def _payload_names(payload: dict, name: str) -> tuple:
    value = payload.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ServiceError(f"{name} must be a list of aspect names", code="invalid_weaker")
    return tuple(value)


def answer_questions(payload: dict) -> dict:
    """The ``Answer`` fields of issue 12's questions from a trial page's JSON answer, with
    their JSON types checked (the service checks their values against the study)."""
    aspects = payload.get("aspects") or {}
    if not isinstance(aspects, dict):
        raise ServiceError("aspects must be an object {aspect: answer}", code="invalid_aspects")
    ranking = payload.get("ranking") or []
    if not isinstance(ranking, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in ranking
    ):
        raise ServiceError("ranking must be a list of screen positions", code="invalid_ranking")
    listen_pool = payload.get("listen_pool_s") or []
    if not isinstance(listen_pool, list) or not all(
        isinstance(s, int | float) and not isinstance(s, bool) for s in listen_pool
    ):
        raise ServiceError("listen_pool_s must be a list of seconds", code="invalid_listen")
    return {
        "familiar": str(payload.get("familiar") or ""),
        "playlist_a": _payload_flag(payload, "playlist_a"),
        "playlist_b": _payload_flag(payload, "playlist_b"),
        "release_a": _payload_flag(payload, "release_a"),
        "release_b": _payload_flag(payload, "release_b"),
        "rating_a": _payload_int(payload, "rating_a"),
        "rating_b": _payload_int(payload, "rating_b"),
        "guess_kind": str(payload.get("guess_kind") or ""),
        "guess_confidence": _payload_int(payload, "guess_confidence"),
        "weaker_a": _payload_names(payload, "weaker_a"),
        "weaker_b": _payload_names(payload, "weaker_b"),
        "aspects": aspects,
        "ranking": tuple(ranking),
        "listen_pool_s": tuple(float(s) for s in listen_pool),
    }
