"""The results contract: the typed shape of :func:`evaluation.stats.summarize`'s result.

Every consumer (the results page and report file templates, ``python -m evaluation.stats``, the
report sentences and figures in :mod:`evaluation.stats.report`, the results API and the
selectors) reads a :class:`Summary`. The JSON schema of ``python -m evaluation.stats --json``
is generated from these types (:func:`json_schema`) and published as
``docs/summary.schema.json``; a test checks that the published file matches these types and
that real output validates against it with no key missing or extra, so a renamed key fails a
test instead of silently blanking a figure.

Conventions: every value is JSON (``None`` for a missing number, never NaN); rates and
interval ends are shares in [0, 1]; ``*_ci_bound`` is ``"two_sided"``, ``"lower"`` (only the
lower end is informative: report "≥ low"), ``"upper"`` ("≤ high") or ``"none"`` (too few
listeners for an interval: (0, 1)).
"""

import types
import typing
from typing import Any, Literal, NotRequired, TypedDict, Union

Bound = Literal["two_sided", "lower", "upper", "none"]
PairVerdict = Literal["prefers_a", "prefers_b", "no_clear_preference", "too_little_data"]
ChanceVerdict = Literal[
    "better_than_chance", "worse_than_chance", "not_distinguishable_from_chance", "too_little_data"
]
ExpectedVerdict = Literal[
    "above_expected", "below_expected", "not_distinguishable_from_expected", "too_little_data"
]
ThresholdVerdict = Literal["exceeds_threshold", "not_shown_to_exceed", "too_little_data"]


class Exclusion(TypedDict):
    rule: str
    reason: str
    n_responses: int
    n_panelists: int


class FigureLeftOut(TypedDict):
    figure: str
    reason: str


class ExpertiseCount(TypedDict):
    expertise: str
    n: int


class Listeners(TypedDict):
    """Who answered (analysed panelists)."""

    n: int
    by_expertise: list[ExpertiseCount]
    all_musicians: bool
    subject: str


class RankingMeta(TypedDict):
    model: str
    ties: str
    scale: str
    penalised: bool
    ridge: float
    converged: bool
    n_bootstrap: int
    bootstrap_resamples: str
    bootstrap_ridge: float
    bootstrap_not_converged: int
    seed: int
    status: Literal["ok", "too_little_data"]
    n_panelists: int
    min_panelists: int
    tie_nu: float | None
    tie_nu_ci_low: float | None
    tie_nu_ci_high: float | None


class TrialKindCounts(TypedDict):
    """Analysed rows per design (a pool trial has one row per candidate)."""

    ab: int
    single: int
    pool: int


class Meta(TypedDict):
    version: int
    n_responses: int
    n_panelists: int
    n_analysed: int
    n_excluded: int
    exclusions: list[Exclusion]
    n_votes: int
    n_not_votes: int
    not_votes_reason: str
    n_simulated: int | None
    confidence: float
    alpha: float
    min_panelists: int
    include_simulated: bool
    listeners: Listeners
    seed: int
    columns_missing: list[str]
    figures_left_out: list[FigureLeftOut]
    source_sha256: str | None
    ranking: RankingMeta | None
    n_by_trial_kind: TrialKindCounts
    hit_threshold: float


class Pair(TypedDict):
    """One unordered system pair (``system_a`` < ``system_b`` alphabetically)."""

    system_a: str
    system_b: str
    n: int
    n_panelists: int
    wins_a: int
    wins_b: int
    ties: int
    win_rate_a: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    p_bh: float
    panelist_rate_a: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    cluster_ci_method: str
    cluster_p_value: float
    design_effect: float | None
    verdict: PairVerdict
    verdict_p: float
    verdict_method: str
    cs_rate: float | None
    cs_n_panelists: int
    cs_low: float
    cs_high: float
    cs_alpha: float
    decided: bool
    decided_for: str | None


class SystemRank(TypedDict):
    system: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    elo: float | None
    elo_low: float | None
    elo_high: float | None
    rank: int
    rank_low: int | None
    rank_high: int | None
    votes: int
    wins: int
    losses: int
    ties: int
    bound: Bound


class Aspect(TypedDict):
    aspect: str
    n_liked: int
    preferred_other: int
    share: float
    ci_low: float
    ci_high: float


class Liked(TypedDict):
    system: str
    n: int
    liked: int
    rate: float
    ci_low: float
    ci_high: float
    n_panelists: int
    panelist_rate: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    of_10: float | None
    of_10_low: float
    of_10_high: float
    aspects: NotRequired[list[Aspect]]


class AiFigures(TypedDict):
    n: int
    n_panelists: int
    correct: int
    accuracy: float | None
    ci_low: float
    ci_high: float
    panelist_accuracy: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    unsure: int
    unsure_rate: float | None
    n_decided: int
    accuracy_decided: float | None
    decided_ci_low: float
    decided_ci_high: float
    panelist_accuracy_decided: float | None
    decided_cluster_ci_low: float
    decided_cluster_ci_high: float
    decided_cluster_ci_bound: Bound
    p_value: float
    verdict: ChanceVerdict
    verdict_p: float
    verdict_method: str
    d_prime: float | None
    d_prime_low: float | None
    d_prime_high: float | None
    d_prime_bound: Bound


class AiByExpertise(AiFigures):
    expertise: str


class AiIdentification(AiFigures):
    n_unscorable: int
    unscorable_reason: str
    by_expertise: list[AiByExpertise]


class Confusion(TypedDict):
    ai_called_ai: int
    ai_called_human: int
    human_called_ai: int
    human_called_human: int


class IdentificationFigures(TypedDict):
    n: int
    n_familiar: int
    confusion: Confusion
    accuracy: float | None
    accuracy_low: float
    accuracy_high: float
    sensitivity: float | None
    sensitivity_low: float
    sensitivity_high: float
    specificity: float | None
    specificity_low: float
    specificity_high: float
    d_prime: float | None
    d_prime_low: float | None
    d_prime_high: float | None
    criterion: float | None
    criterion_low: float | None
    criterion_high: float | None
    n_panelists: int
    panelist_accuracy: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    verdict: ChanceVerdict
    verdict_p: float
    d_prime_cluster_low: float | None
    d_prime_cluster_high: float | None
    d_prime_bound: Bound
    p_value: float | None


class IdentificationBySystem(TypedDict):
    """Per system: how often it was called AI and judged correctly (listener level), and the
    verdict on telling it from the other kind (Holm with the overall verdict)."""

    system: str
    is_ai: bool | None
    n: int
    n_familiar: int
    called_ai: int
    called_ai_rate: float | None
    ci_low: float
    ci_high: float
    n_panelists: int
    panelist_called_ai_rate: float | None
    called_ai_cluster_ci_low: float
    called_ai_cluster_ci_high: float
    called_ai_cluster_ci_bound: Bound
    panelist_accuracy: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    n_panelists_paired: int
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    verdict: ChanceVerdict
    verdict_p: float
    d_prime: NotRequired[float | None]
    d_prime_low: NotRequired[float | None]
    d_prime_high: NotRequired[float | None]
    criterion: NotRequired[float | None]
    criterion_low: NotRequired[float | None]
    criterion_high: NotRequired[float | None]
    d_prime_bound: NotRequired[Bound]


class IdentificationByExpertise(IdentificationFigures):
    expertise: str


class CalibrationBand(TypedDict):
    band: str
    confidence_low: int
    confidence_high: int
    n: int
    n_panelists: int
    mean_confidence: float | None
    panelist_accuracy: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound


class Calibration(TypedDict):
    """Stated confidence against accuracy; ``overconfidence`` = mean over listeners of
    (confidence - correct), tested against 0 (calibrated)."""

    n: int
    n_panelists: int
    mean_confidence: float | None
    accuracy: float | None
    overconfidence: float | None
    overconfidence_ci_low: float | None
    overconfidence_ci_high: float | None
    p_value: float
    bands: list[CalibrationBand]


class Identification(IdentificationFigures):
    source: Literal["single_trials", "judgment_columns"]
    n_unscorable: int
    verdict_method: str
    n_comparisons: int
    calibration: Calibration | None
    by_system: list[IdentificationBySystem]
    by_expertise: list[IdentificationByExpertise]


class CatchFigures(TypedDict):
    n: int
    passed: int
    pass_rate: float | None
    ci_low: float
    ci_high: float
    n_panelists: int
    n_panelists_all_passed: int


class RepeatFigures(TypedDict):
    n: int
    consistent: int
    consistency: float | None
    ci_low: float
    ci_high: float
    n_panelists: int
    definition: str


class PositionFigures(TypedDict):
    decisive_n: int
    chose_a: int
    a_rate: float | None
    ci_low: float
    ci_high: float
    p_value: float


class Agreement(TypedDict):
    krippendorff_alpha: float | None
    level: str
    values: str
    unit: str
    n_units: int
    n_ratings: int


class RaterRow(TypedDict):
    panelist_id: str
    n_responses: int
    catch_n: NotRequired[int | None]
    catch_passed: NotRequired[int | None]
    catch_pass_rate: NotRequired[float | None]
    repeat_n: NotRequired[int | None]
    repeat_consistent: NotRequired[int | None]
    repeat_consistency: NotRequired[float | None]
    decisive_n: NotRequired[int | None]
    chose_a: NotRequired[int | None]
    position_a_rate: NotRequired[float | None]
    position_p_value: NotRequired[float | None]


class Raters(TypedDict):
    catch: CatchFigures | None
    repeats: RepeatFigures | None
    position: PositionFigures
    agreement: Agreement
    panelists: list[RaterRow]


class Panel(TypedDict):
    panel: str
    n_panelists: int
    n_responses: int
    n_analysed: int


class Scenario(TypedDict):
    win_rate: float
    panelists: int
    votes_each: float
    votes: float
    power: float
    design_effect: float
    alpha_pair: float
    independent_votes_exact: int


class Planning(TypedDict):
    icc: float | None
    votes_per_panelist_per_pair: float
    votes_per_panelist_cv: float
    design_effect: float
    alpha: float
    alpha_pair: float
    n_pairs: int
    power: float
    test: str
    scenarios: list[Scenario]


class ProgressDay(TypedDict):
    date: str
    responses: int
    responses_total: int
    analysed_total: int
    panelists_new: int
    panelists_total: int


class WithoutExclusions(TypedDict):
    n_analysed: int
    pairs: list[Pair]
    liked: list[Liked]
    ai_identification: AiIdentification | None


class Breakdown(TypedDict):
    """One group of one breakdown dimension (panel, stratum, expertise, instrument family):
    the study's figures for that group alone (evaluation.stats.breakdowns)."""

    dimension: str
    group: str
    n_panelists: int
    n_responses: int
    too_little_data: bool
    pairs: list[Pair]
    liked: list[Liked]
    ai_identification: AiIdentification | None


class AspectPair(TypedDict):
    """An aspect asked as A/B preference, one unordered pair (alphabetical, as ``pairs``)."""

    system_a: str
    system_b: str
    n: int
    n_panelists: int
    wins_a: int
    wins_b: int
    ties: int
    panelist_rate_a: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    cluster_p_value: float
    verdict: PairVerdict
    verdict_p: float


class AspectPreference(TypedDict):
    aspect: str
    pairs: list[AspectPair]


class RatingSystem(TypedDict):
    """Mean 1-5 rating: ``mean`` per listener, averaged; ``answer_mean`` over answers."""

    system: str
    n: int
    n_panelists: int
    mean: float | None
    answer_mean: float
    ci_low: float
    ci_high: float
    ci_bound: Bound


class RatingPair(TypedDict):
    """Listener-paired difference of mean ratings, ``system_a`` minus ``system_b``."""

    system_a: str
    system_b: str
    n_panelists: int
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    ci_bound: Bound
    p_value: float
    verdict: PairVerdict
    verdict_p: float


class AspectRating(TypedDict):
    aspect: str
    systems: list[RatingSystem]
    pairs: list[RatingPair]


class WeakerAspect(TypedDict):
    """ "Liked, but <aspect> weaker": share of hearings, and share of liked hearings."""

    aspect: str
    count: int
    panelist_share: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    n_panelists_liked: int
    share_of_liked: float | None
    liked_ci_low: float
    liked_ci_high: float
    liked_ci_bound: Bound


class WeakerSystem(TypedDict):
    system: str
    n_heard: int
    n_panelists: int
    n_liked: int
    liked_share: float | None
    liked_cluster_ci_low: float
    liked_cluster_ci_high: float
    liked_cluster_ci_bound: Bound
    aspects: list[WeakerAspect]


class Aspects(TypedDict):
    """Per-aspect figures; every test of the section is Holm-adjusted together."""

    aspects_asked: list[str]
    preference: list[AspectPreference]
    ratings: list[AspectRating]
    weaker: list[WeakerSystem]
    n_comparisons: int
    min_panelists: int
    verdict_method: str
    cluster_ci_method: str


class PoolAiShare(TypedDict):
    """AI share of first picks against the AI share of the candidates shown."""

    n_trials: int
    n_trials_one_kind: int
    n_panelists: int
    picked_ai: int
    ai_pick_rate: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    expected_share: float | None
    difference: float | None
    difference_ci_low: float
    difference_ci_high: float
    difference_ci_bound: Bound
    p_value: float
    verdict: ExpectedVerdict
    verdict_p: float


class PoolSystem(TypedDict):
    """Picked as favourite per time shown, against ``1/N`` per showing."""

    system: str
    kind: str
    shown: int
    picked: int
    n_panelists: int
    pick_rate: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    expected_rate: float
    difference: float | None
    p_value: float
    verdict: ExpectedVerdict
    verdict_p: float


class Pool(TypedDict):
    n_trials: int
    n_trials_without_pick: int
    n_panelists: int
    n_candidates_shown: int
    n_ranked_trials: int
    mean_pool_size: float | None
    ai_share: PoolAiShare | None
    systems: list[PoolSystem]
    ranking: list[SystemRank]
    ranking_meta: RankingMeta | None
    ranking_data: str
    n_implied_pairs: int
    n_comparisons: int
    min_panelists: int
    verdict_method: str
    cluster_ci_method: str


class FamiliarityLevel(TypedDict):
    level: Literal["no", "sounds_familiar", "knows_it"]
    n: int
    panelist_share: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound


class PairBrief(TypedDict):
    n: int
    n_panelists: int
    panelist_rate_a: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    verdict: PairVerdict
    verdict_p: float


class FamiliarityPair(TypedDict):
    system_a: str
    system_b: str
    with_familiar: PairBrief
    without_familiar: PairBrief | None


class IdentificationBrief(TypedDict):
    n: int
    n_panelists: int
    panelist_accuracy: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    verdict: ChanceVerdict
    verdict_p: float


class SideBySide(TypedDict):
    with_familiar: IdentificationBrief | None
    without_familiar: IdentificationBrief | None


class Familiarity(TypedDict):
    """Answers per level, and the headline results with and without familiar answers."""

    n_answers: int
    n_panelists: int
    levels: list[FamiliarityLevel]
    left_out_levels: list[str]
    n_rows_left_out: int
    pairs: list[FamiliarityPair]
    ai_identification: SideBySide
    identification: SideBySide


class HitRate(TypedDict):
    """Listener-level share of "yes"; AI systems get the one-sided test of exceeding the
    threshold (``verdict`` None for other systems)."""

    n: int
    yes: int
    n_panelists: int
    rate: float | None
    cluster_ci_low: float
    cluster_ci_high: float
    cluster_ci_bound: Bound
    p_exceeds: float | None
    verdict: ThresholdVerdict | None
    verdict_p: float | None


class HitSystem(TypedDict):
    system: str
    kind: str
    playlist: HitRate | None
    release: HitRate | None


class HitPotential(TypedDict):
    threshold: float
    systems: list[HitSystem]
    n_comparisons: int
    min_panelists: int
    verdict_method: str
    cluster_ci_method: str


class Summary(TypedDict):
    """The whole result of :func:`evaluation.stats.summarize` (docs/statistics.md)."""

    meta: Meta
    pairs: list[Pair]
    systems: list[SystemRank]
    liked: list[Liked]
    ai_identification: AiIdentification | None
    identification: Identification | None
    raters: Raters | None
    panels: list[Panel]
    planning: Planning | None
    progress: list[ProgressDay]
    without_exclusions: WithoutExclusions | None
    aspects: Aspects | None
    pool: Pool | None
    familiarity: Familiarity | None
    hit_potential: HitPotential | None
    breakdowns: NotRequired[list[Breakdown]]


SCHEMA_ID = "https://earshot.invalid/schemas/summary.schema.json"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`Summary`: every object closed
    (``additionalProperties: false``), every key required unless ``NotRequired``."""
    definitions: dict[str, Any] = {}
    root = _schema(Summary, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Earshot study summary (python -m evaluation.stats --json)",
        **root,
        "$defs": dict(sorted(definitions.items())),
    }


def _schema(annotation: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if annotation is type(None):
        return {"type": "null"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation is str:
        return {"type": "string"}
    if origin is Literal:
        return {"enum": list(typing.get_args(annotation))}
    if origin is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": _schema(item, definitions)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, definitions) for arg in typing.get_args(annotation)]}
    if typing.is_typeddict(annotation):
        name = annotation.__name__
        if name not in definitions and annotation is not Summary:
            definitions[name] = {}  # placeholder against recursion
            definitions[name] = _object(annotation, definitions)
        if annotation is Summary:
            return _object(annotation, definitions)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON schema for {annotation!r}")


def _object(typed: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(typed, include_extras=True)
    properties, required = {}, []
    for key, annotation in hints.items():
        if typing.get_origin(annotation) is NotRequired:
            (annotation,) = typing.get_args(annotation)
        if key in typed.__required_keys__:
            required.append(key)
        properties[key] = _schema(annotation, definitions)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if typed.__doc__ and not typed.__doc__.startswith(typed.__name__ + "("):
        schema["description"] = " ".join(typed.__doc__.split())
    return schema
