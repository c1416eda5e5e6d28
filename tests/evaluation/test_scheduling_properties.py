"""Properties of the scheduler, over many generated studies and panels (hypothesis): balance
within every stratum, no prompt twice for a panelist, A/B positions counterbalanced, catch
trials at their seeded positions (never first), whatever the sizes, seeds and arrival order.

Studies are built from database rows only (no audio: scheduling never reads it); each
example runs in a savepoint rolled back afterwards."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.models import Pair, Panel, Prompt, Stimulus, Study, System, Track, Trial
from evaluation.selectors.scheduling import catch_positions
from evaluation.services.panelists import invite_create, panelist_join
from evaluation.services.responses import Answer, response_record
from evaluation.services.scheduling import trial_reserve
from evaluation.services.studies import slots_ensure

pytestmark = pytest.mark.django_db

STRATA = ("professional", "amateur", "non_musician")
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def stimulus(track, kind=Stimulus.Kind.REGULAR):
    return Stimulus.objects.create(
        track=track, kind=kind, sample_rate=48000, channels=2, duration_s=3.0,
        excerpt_start_s=0.0, loudness_lufs=-23.0, true_peak_dbtp=-3.0, gain_db=0.0,
        size_bytes=10, sha256="0" * 64, file=f"stimuli/{track.pk}-{kind}.flac",
    )  # fmt: skip


def build_study(*, prompts: int, k: int, per_panelist: int, quotas: dict, seed: int, catch: float):
    human, _ = System.objects.get_or_create(name="human ref", defaults={"kind": "human"})
    model, _ = System.objects.get_or_create(name="model", defaults={"kind": "ai"})
    study = Study.objects.create(
        slug=f"prop-{seed}-{prompts}-{k}", title="property", seed=seed, ratings_per_pair=k,
        trials_per_panelist=per_panelist, stratum_quotas=quotas, catch_rate=catch,
        headphone_check=False, min_listen_s=1.0, status=Study.Status.OPEN,
        opened_at=timezone.now(),
    )  # fmt: skip
    for number in range(prompts):
        prompt = Prompt.objects.create(study=study, external_id=f"p{number}")
        a = stimulus(Track.objects.create(
            prompt=prompt, system=human, sha256="a" * 64, duration_s=3.0, sample_rate=48000,
            channels=2, file=f"t/{number}a.wav"))  # fmt: skip
        b = stimulus(Track.objects.create(
            prompt=prompt, system=model, sha256="b" * 64, duration_s=3.0, sample_rate=48000,
            channels=2, file=f"t/{number}b.wav"))  # fmt: skip
        Pair.objects.create(study=study, prompt=prompt, first=a, second=b)
    if catch:
        prompt = Prompt.objects.create(study=study, external_id="catch")
        track = Track.objects.create(
            prompt=prompt, system=human, sha256="c" * 64, duration_s=3.0, sample_rate=48000,
            channels=2, file="t/catch.wav")  # fmt: skip
        Pair.objects.create(
            study=study, prompt=prompt, is_catch=True,
            first=stimulus(track, Stimulus.Kind.CATCH_FULL),
            second=stimulus(track, Stimulus.Kind.ANCHOR),
        )  # fmt: skip
    slots_ensure(study=study)
    return study


ANSWER = Answer(choice="a", listen_a_s=1.0, listen_b_s=1.0, liked_a=True, liked_b=False,
                guess_ai="a")  # fmt: skip


def run_panel(study, arrivals: list[str]):
    """Each arriving listener (their expertise) joins and answers all they are given, in
    turn; returns {panelist: [trials in order]} and how many were turned away."""
    invite = invite_create(study=study, panel=Panel.objects.get_or_create(name="prop")[0])
    now = timezone.now()
    served, turned_away = {}, 0
    for expertise in arrivals:
        try:
            panelist = panelist_join(invite=invite, expertise=expertise)
        except Exception as exc:  # noqa: BLE001 - the refusals are ServiceErrors, checked below
            assert getattr(exc, "code", "") in ("stratum_closed", "study_full"), exc
            turned_away += 1
            continue
        trials = []
        while (trial := trial_reserve(panelist=panelist, now=now)) is not None:
            now += timedelta(seconds=5)
            response_record(panelist=panelist, trial_token=trial.token, answer=ANSWER, now=now)
            trials.append(trial)
        served[panelist] = trials
    return served, turned_away


def rolled_back(function):
    """Run `function` in a savepoint that is rolled back (one example, one clean slate)."""
    with transaction.atomic():
        try:
            return function()
        finally:
            transaction.set_rollback(True)


studies = st.fixed_dictionaries(
    {
        "prompts": st.integers(min_value=2, max_value=5),
        "k": st.integers(min_value=1, max_value=4),
        "per_panelist": st.integers(min_value=1, max_value=5),
        "seed": st.integers(min_value=0, max_value=10_000),
        "strata": st.lists(st.sampled_from(STRATA), min_size=0, max_size=3, unique=True),
    }
)
arrivals = st.lists(st.sampled_from(STRATA + ("semi_professional",)), min_size=1, max_size=14)


@PROPERTY_SETTINGS
@given(spec=studies, people=arrivals)
def test_coverage_stays_balanced_within_every_stratum(spec, people):
    def check():
        quotas = {stratum: 50 for stratum in spec["strata"]}
        study = build_study(
            prompts=spec["prompts"], k=spec["k"], per_panelist=spec["per_panelist"],
            quotas=quotas, seed=spec["seed"], catch=0.0,
        )  # fmt: skip
        served, _ = run_panel(study, people)
        for stratum in quotas or {"": 0}:
            answered = Counter(
                Trial.objects.filter(
                    pair__study=study, stratum=stratum, response__isnull=False, is_catch=False
                ).values_list("pair_id", flat=True)
            )
            counts = [answered.get(pair.pk, 0) for pair in study.pairs.filter(is_catch=False)]
            # every pair reaches n ratings before any gets n + 2: balanced to within one
            assert max(counts) - min(counts) <= 1, (stratum, counts)
            assert max(counts) <= spec["k"]
        for panelist, trials in served.items():
            assert {t.stratum for t in trials if not t.is_catch} <= {panelist.stratum}

    rolled_back(check)


@PROPERTY_SETTINGS
@given(spec=studies, people=arrivals)
def test_no_panelist_meets_a_prompt_twice_and_no_one_is_over_served(spec, people):
    def check():
        study = build_study(
            prompts=spec["prompts"], k=spec["k"], per_panelist=spec["per_panelist"],
            quotas={}, seed=spec["seed"], catch=0.0,
        )  # fmt: skip
        served, _ = run_panel(study, people)
        for panelist, trials in served.items():
            prompts = [t.prompt_id for t in trials]
            assert len(prompts) == len(set(prompts))
            assert len(trials) <= panelist.planned_trials
            assert [t.position for t in Trial.objects.filter(panelist=panelist).order_by(
                "position")] == list(range(1, len(trials) + 1))  # fmt: skip

    rolled_back(check)


@PROPERTY_SETTINGS
@given(
    prompts=st.integers(min_value=2, max_value=6),
    k=st.integers(min_value=2, max_value=6),
    seed=st.integers(min_value=0, max_value=10_000),
    strata=st.lists(st.sampled_from(STRATA), min_size=0, max_size=3, unique=True),
)
def test_a_b_positions_are_counterbalanced_within_every_pair_and_stratum(prompts, k, seed, strata):
    def check():
        study = build_study(
            prompts=prompts, k=k, per_panelist=1, quotas=dict.fromkeys(strata, 5), seed=seed,
            catch=0.0,
        )  # fmt: skip
        for (pair, stratum), sides in _sides(study).items():
            assert abs(sides.count(True) - sides.count(False)) <= 1, (pair, stratum, sides)
            # the first 2m rounds are exactly balanced, so a partly-filled pair is too
            for rounds in range(2, len(sides) + 1, 2):
                assert sides[:rounds].count(True) == rounds // 2

    rolled_back(check)


def _sides(study) -> dict[tuple[int, str], list[bool]]:
    sides: dict[tuple[int, str], list[bool]] = {}
    for pair, stratum, swapped in (
        Trial.objects.filter(pair__study=study, is_catch=False)
        .order_by("pair", "stratum", "round")
        .values_list("pair_id", "stratum", "swapped")
    ):
        sides.setdefault((pair, stratum), []).append(swapped)
    return sides


@PROPERTY_SETTINGS
@given(
    prompts=st.integers(min_value=3, max_value=6),
    per_panelist=st.integers(min_value=2, max_value=6),
    rate=st.sampled_from([0.2, 0.34, 0.5]),
    seed=st.integers(min_value=0, max_value=10_000),
    people=st.integers(min_value=1, max_value=4),
)
def test_catch_trials_fall_on_their_seeded_positions_and_never_first(
    prompts, per_panelist, rate, seed, people
):
    def check():
        study = build_study(
            prompts=prompts, k=4, per_panelist=per_panelist, quotas={}, seed=seed, catch=rate
        )
        served, _ = run_panel(study, ["amateur"] * people)
        for panelist, trials in served.items():
            expected = catch_positions(
                seed, panelist.pk, panelist.planned_trials, panelist.planned_catch_trials
            )
            got = {t.position for t in trials if t.is_catch}
            assert got == expected and 1 not in got
            assert len(got) == panelist.planned_catch_trials >= 1

    rolled_back(check)
