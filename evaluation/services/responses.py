"""Recording a panelist's answer to a trial: validated, stored once, idempotent on retry."""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import Choice, GuessAI, Panelist, Response, Trial
from evaluation.selectors.scheduling import answered_count
from evaluation.services import ServiceError
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


def required_listen_s(trial: Trial) -> float:
    """Seconds each side must be heard: the study minimum, or the whole excerpt if shorter."""
    shortest = min(trial.pair.first.duration_s, trial.pair.second.duration_s)
    return min(trial.pair.study.min_listen_s, shortest)


def _validate(trial: Trial, answer: Answer, now: datetime) -> None:
    study = trial.pair.study
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
    for side, seconds in (("A", answer.listen_a_s), ("B", answer.listen_b_s)):
        if seconds is None or not 0 <= seconds < 24 * 3600:
            raise ServiceError(
                _("listen time for %(side)s is missing or invalid") % {"side": side},
                code="invalid_listen",
            )
    required = required_listen_s(trial)
    short = [
        side
        for side, seconds in (("A", answer.listen_a_s), ("B", answer.listen_b_s))
        if seconds + LISTEN_TOLERANCE_S < required
    ]
    if short:
        raise ServiceError(
            _("listen to %(sides)s for at least %(required).0f s before answering")
            % {"sides": _(" and ").join(short), "required": required},
            code="too_short_listening",
        )
    # Only one side is audible at a time, so A and B together cannot have been heard for
    # longer than the trial has been open.
    if trial.served_at is not None:
        elapsed = (now - trial.served_at).total_seconds()
        if elapsed + 1.0 < answer.listen_a_s + answer.listen_b_s:
            raise ServiceError(
                _("the trial has been open for only %(elapsed).1f s") % {"elapsed": elapsed},
                code="too_short_listening",
            )


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


def response_snapshot(trial: Trial) -> dict:
    """What an answer to ``trial`` means, as Response fields: systems, their kinds, stimuli
    and source tracks heard as A and B (ids and SHA-256), the catch outcome's rule and the
    study's protocol version, hash and seed, taken now and never recomputed."""
    study = trial.pair.study
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


def _same_answer(response: Response, answer: Answer) -> bool:
    return (
        response.choice == answer.choice
        and response.liked_a == answer.liked_a
        and response.liked_b == answer.liked_b
        and response.guess_ai == (answer.guess_ai or "")
    )


def response_record(
    *, panelist: Panelist, trial_token: str, answer: Answer, now: datetime | None = None
) -> tuple[Response, bool]:
    """Store the answer; returns (response, created). A retry with the same answer returns the
    stored response with created=False; a different answer to an answered trial is refused."""
    now = now or timezone.now()
    trial = (
        Trial.objects.select_related(
            "prompt",
            "pair__study",
            "pair__first__track__system",
            "pair__second__track__system",
        )
        .filter(token=trial_token)
        .first()
    )
    if trial is None or trial.panelist_id != panelist.pk:
        raise ServiceError(
            _(
                "this trial is not yours (it may have expired and been given to someone "
                "else); reload the page to get your next trial"
            ),
            code="foreign_trial",
        )
    existing = Response.objects.filter(trial=trial).first()
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
            response = Response.objects.create(
                **response_snapshot(trial),
                catch_passed=trial.catch_passed(answer.choice),
                trial=trial,
                panelist=panelist,
                choice=answer.choice,
                liked_a=answer.liked_a,
                liked_b=answer.liked_b,
                guess_ai=answer.guess_ai or "",
                listen_a_s=answer.listen_a_s,
                listen_b_s=answer.listen_b_s,
                started_at=trial.served_at or now,
                submitted_at=now,
            )
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
        if trial.pair.study.auto_close:
            study_close_if_quotas_met(study=trial.pair.study)
    return response, True
