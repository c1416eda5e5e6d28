"""Simulated panelists: drive the real scheduling and response services (not HTTP)."""

from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from evaluation.models import Expertise, Invite, Panel, Panelist, Study
from evaluation.services import ServiceError
from evaluation.services.panelists import panelist_join
from evaluation.services.responses import Answer, required_listen_s, response_record
from evaluation.services.scheduling import trial_mark_served, trial_next

SIMULATED_PANEL = "simulated"


def _system_quality(study: Study) -> dict[int, float]:
    """Latent quality per system: human references a little better than AI systems."""
    return {system.pk: (0.4 if system.is_human else 0.0) for system in study.systems.all()}


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
            response_record(
                panelist=panelist,
                trial_token=trial.token,
                answer=Answer(
                    choice=choice,
                    listen_a_s=listen,
                    listen_b_s=listen,
                    liked_a=bool(rng.random() < 0.5 + 0.2 * quality[system_a.pk]),
                    liked_b=bool(rng.random() < 0.5 + 0.2 * quality[system_b.pk]),
                    guess_ai=guess if study.ask_ai else "",
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
