"""Simulated panelists: drive the real scheduling and response services (not HTTP)."""

from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from evaluation.models import Expertise, Invite, Panel, Panelist, Study
from evaluation.services import ServiceError
from evaluation.services.panelists import panelist_join
from evaluation.services.responses import (
    LIKED_FROM_RATING,
    Answer,
    required_listen_s,
    response_record,
)
from evaluation.services.scheduling import trial_mark_served, trial_next

SIMULATED_PANEL = "simulated"


def _system_quality(study: Study) -> dict[int, float]:
    """Latent quality per system: human references a little better than AI systems."""
    return {system.pk: (0.4 if system.is_human else 0.0) for system in study.systems.all()}


def _rating(rng, quality: float) -> int:
    """A 1-5 rating around 3 + 2 × quality, with listener noise."""
    return int(np.clip(np.rint(3 + 2 * quality + rng.normal(0.0, 1.0)), 1, 5))


def _extra_questions(study: Study, rng, quality: dict[str, float]) -> dict:
    """Answers to the study's issue-12 questions for the sides in ``quality`` ({side:
    latent quality}): familiarity, playlist/release, 1-5 ratings and aspects. Draws nothing
    from ``rng`` for a study that asks none of them (older simulations stay reproducible)."""
    kind_ab = set(quality) == {"a", "b"}
    answer: dict = {}
    if study.ask_familiar:
        answer["familiar"] = str(rng.choice(["no", "no", "sounds_familiar", "knows_it"]))
    rating_asked = (kind_ab and study.ask_rating) or (not kind_ab and study.ask_liked)
    for side, q in quality.items():
        if rating_asked:
            answer[f"rating_{side}"] = _rating(rng, q)
        if study.ask_hit:
            answer[f"playlist_{side}"] = bool(rng.random() < 0.35 + 0.3 * q)
            answer[f"release_{side}"] = bool(rng.random() < 0.15 + 0.3 * q)
    aspects = {}
    for name in study.aspect_names():
        if study.aspects[name] == "preference":
            gap = quality["a"] - quality["b"] + rng.normal(0.0, 0.5)
            aspects[name] = {"choice": "tie" if abs(gap) < 0.1 else ("a" if gap > 0 else "b")}
        else:
            aspects[name] = {side: _rating(rng, q) for side, q in quality.items()}
    answer["aspects"] = aspects
    return answer


def _weaker(study: Study, rng, liked: bool) -> tuple[str, ...]:
    """'What is weaker?' for a liked track: each of the study's aspects with chance 1/4."""
    if not (study.ask_weaker and liked):
        return ()
    names = study.aspect_names()
    return tuple(name for name in names if rng.random() < 0.25)


def _design_answer(study: Study, trial, rng, quality: dict[int, float], bias: float):
    """A simulated answer to a single-track or pool trial, and the seconds it listened."""
    required = required_listen_s(trial)
    if trial.pair.kind == "single":
        system = trial.stimulus_at("a").track.system
        q = quality[system.pk] + (bias if system.is_human else -bias) / 2
        extra = _extra_questions(study, rng, {"a": q})
        correct = rng.random() < 0.6
        truth = system.kind
        guess = truth if correct else ("human" if truth == "ai" else "ai")
        listen = required + float(rng.uniform(0.5, 8.0))
        rating = extra.get("rating_a")
        liked = rating is not None and rating >= LIKED_FROM_RATING
        answer = Answer(
            choice="",
            listen_a_s=listen,
            listen_b_s=0.0,
            guess_kind=guess if study.ask_ai else "",
            guess_confidence=int(rng.choice([50, 60, 70, 80, 90, 100])) if study.ask_ai else None,
            weaker_a=_weaker(study, rng, liked),
            **extra,
        )
        return answer, listen
    candidates = list(trial.candidates.select_related("stimulus__track__system"))
    scores = [quality[c.stimulus.track.system_id] + rng.gumbel(0.0, 0.7) for c in candidates]
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    top = 3 if study.pool_rank_top3 else 1
    ranking = tuple(candidates[i].position for i in order[:top])
    listens = tuple(required + float(rng.uniform(0.2, 3.0)) for _ in candidates)
    answer = Answer(
        choice="",
        listen_a_s=0.0,
        listen_b_s=0.0,
        ranking=ranking,
        listen_pool_s=listens,
        familiar=str(rng.choice(["no", "sounds_familiar", "knows_it"]))
        if study.ask_familiar
        else "",
    )
    return answer, sum(listens)


def panel_simulate(
    *,
    study: Study,
    panelists: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Enrol `panelists` simulated listeners and answer every trial they are given.

    Each listener prefers the higher-quality system with a logistic probability, recognises the
    AI track slightly better than chance, and listens for the required time.
    Returns counts of panelists enrolled, responses created and listeners turned away (their
    stratum met its quota, or the study has quotas and none for it).
    """
    rng = np.random.default_rng(seed)
    quality = _system_quality(study)
    with transaction.atomic():
        panel, _ = Panel.objects.get_or_create(
            name=SIMULATED_PANEL, defaults={"description": "Simulated listeners (not people)."}
        )
        invite = Invite.objects.create(study=study, panel=panel, label="simulate_panel")
    clock = timezone.now()
    responses = turned_away = 0
    expertise_levels = Expertise.values
    for index in range(panelists):
        try:
            panelist: Panelist = panelist_join(
                invite=invite,
                expertise=str(rng.choice(expertise_levels)),
                plays_instrument=bool(rng.random() < 0.7),
                instrument=str(rng.choice(["piano", "guitar", "violin", "voice", "drums"])),
                years_playing=int(rng.integers(0, 30)),
                genres="classical",
                simulated=True,
            )
        except ServiceError as exc:
            if exc.code not in ("stratum_closed", "study_full"):
                raise
            turned_away += 1  # a stratum met its quota, or not one the study needs
            if progress:
                progress(index + 1, panelists)
            continue
        bias = rng.normal(0.0, 0.5)  # listener-level taste: votes of one listener are correlated
        while (trial := trial_next(panelist=panelist, now=clock)) is not None:
            trial_mark_served(trial=trial, now=clock)
            if trial.pair.kind != "ab":
                answer, listened = _design_answer(study, trial, rng, quality, bias)
                clock = clock + timedelta(seconds=listened + 3)
                response_record(
                    panelist=panelist, trial_token=trial.token, answer=answer, now=clock
                )
                responses += 1
                continue
            system_a = trial.stimulus_at("a").track.system
            system_b = trial.stimulus_at("b").track.system
            gap = (
                quality[system_a.pk] - quality[system_b.pk] + (bias if system_a.is_human else -bias)
            )
            p_a = 1.0 / (1.0 + np.exp(-gap))
            draw = rng.random()
            choice = "tie" if draw > 0.92 else ("a" if rng.random() < p_a else "b")
            truth = "a" if not system_a.is_human else ("b" if not system_b.is_human else "")
            if truth and rng.random() < 0.58:
                guess = truth
            else:
                guess = str(rng.choice(["a", "b", "unsure"]))
            listen = required_listen_s(trial) + float(rng.uniform(0.5, 8.0))
            clock = clock + timedelta(seconds=2 * listen + 3)
            liked_a = bool(rng.random() < 0.5 + 0.2 * quality[system_a.pk])
            liked_b = bool(rng.random() < 0.5 + 0.2 * quality[system_b.pk])
            extra = _extra_questions(
                study, rng, {"a": quality[system_a.pk], "b": quality[system_b.pk]}
            )
            response_record(
                panelist=panelist,
                trial_token=trial.token,
                answer=Answer(
                    choice=choice,
                    listen_a_s=listen,
                    listen_b_s=listen,
                    liked_a=liked_a,
                    liked_b=liked_b,
                    guess_ai=guess if study.ask_ai else "",
                    weaker_a=_weaker(study, rng, liked_a),
                    weaker_b=_weaker(study, rng, liked_b),
                    **extra,
                ),
                now=clock,
            )
            responses += 1
        if progress:
            progress(index + 1, panelists)
    return {
        "panelists": panelists - turned_away,
        "responses": responses,
        "turned_away": turned_away,
    }
