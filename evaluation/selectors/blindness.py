"""The blindness audit of a study: every pair's stored files measured as they are served."""

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from evaluation.models import Pair, Stimulus, Study
from evaluation.selectors.media import media_local_path
from evaluation.stimuli.audio import AudioError
from evaluation.stimuli.audit import (
    AuditReport,
    FileMeasurement,
    PairAudit,
    hash_collisions,
    measure_file,
    pair_problems,
    size_classifier,
)


def study_audit(*, study: Study, progress: Callable[[int, int], None] | None = None) -> AuditReport:
    """Measure every stimulus file of the study's pairs once, check every pair, and check that
    no two of these files (everything the study serves) have the same bytes."""
    pairs = list(
        Pair.objects.filter(study=study)
        .select_related(
            "prompt",
            "first__track__system",
            "first__track__prompt",
            "second__track__system",
            "second__track__prompt",
        )
        .order_by("prompt__external_id", "id")
    )
    served = [s for pair in pairs for s in (pair.first, pair.second)]
    if study.design != Study.Design.AB:
        pairs = _design_comparisons(pairs)
    measured: dict[int, FileMeasurement | str] = {}
    # Every file served, also a single-track prompt's lone stimulus (in no comparison).
    stimuli = {s.pk: s for s in [*served, *(s for p in pairs for s in (p.first, p.second))]}
    for done, stimulus in enumerate(stimuli.values(), start=1):
        measured[stimulus.pk] = _measure(stimulus)
        if progress:
            progress(done, len(stimuli))
    report = AuditReport()
    comparisons: dict[str, list[tuple[FileMeasurement, FileMeasurement]]] = {}
    for pair in pairs:
        a, b = measured[pair.first_id], measured[pair.second_id]
        problems = [f"{side} {m}" for side, m in (("A", a), ("B", b)) if isinstance(m, str)]
        a = a if isinstance(a, FileMeasurement) else None
        b = b if isinstance(b, FileMeasurement) else None
        if pair.first_id == pair.second_id:
            problems.append(
                "A and B are one file (byte-identical downloads reveal the catch); prepare "
                "the study's stimuli again to get distinct catch copies"
            )
        if a and b:
            problems += pair_problems(
                a,
                b,
                target_lufs=study.target_lufs,
                max_true_peak_dbtp=study.max_true_peak_dbtp,
                peak_reduction_db=max(pair.first.peak_reduction_db, pair.second.peak_reduction_db),
            )
            if not pair.is_catch:
                comparison = f"{pair.first.track.system} vs {pair.second.track.system}"
                comparisons.setdefault(comparison, []).append((a, b))
        report.pairs.append(
            PairAudit(
                pair_id=pair.pk,
                prompt=pair.prompt.external_id,
                kind=pair.catch_kind or "regular",
                a=a,
                b=b,
                problems=problems,
            )
        )
    report.classifier = size_classifier(comparisons)
    hashed = [
        (_label(stimulus), measured[pk].sha256)
        for pk, stimulus in stimuli.items()
        if isinstance(measured[pk], FileMeasurement)
    ]
    report.collisions = hash_collisions(hashed)
    report.files_checked = len(hashed)
    return report


@dataclass(frozen=True)
class _Comparison:
    """Two stimuli of one prompt a single-track or pool listener may compare (across trials
    or within a pool), audited as an A/B pair would be; ``pk`` is the pair (or pool) that
    holds ``first``."""

    pk: int
    prompt: object
    first: Stimulus
    second: Stimulus
    is_catch: bool = False
    catch_kind: str = ""

    @property
    def first_id(self) -> int:
        return self.first.pk

    @property
    def second_id(self) -> int:
        return self.second.pk


def _design_comparisons(pairs: list[Pair]) -> list[_Comparison]:
    """Single-track and pool studies: every two regular stimuli of each prompt (a single
    pair holds one stimulus, a pool pair names one of many)."""
    by_prompt: dict[int, tuple[object, dict[int, int]]] = {}
    for pair in pairs:
        by_prompt.setdefault(pair.prompt_id, (pair.prompt, {}))[1][pair.first_id] = pair.pk
    comparisons = []
    for prompt_id, (prompt, holders) in by_prompt.items():
        stimuli = list(
            Stimulus.objects.filter(track__prompt_id=prompt_id, kind=Stimulus.Kind.REGULAR)
            .select_related("track__system", "track__prompt")
            .order_by("track__system__name")
        )
        pool_pk = next(iter(holders.values()))
        for first, second in combinations(stimuli, 2):
            comparisons.append(
                _Comparison(
                    pk=holders.get(first.pk, pool_pk), prompt=prompt, first=first, second=second
                )
            )
    return comparisons


def _label(stimulus: Stimulus) -> str:
    return f"stimulus {stimulus.pk} ({stimulus.track}, {stimulus.kind})"


def _measure(stimulus: Stimulus) -> FileMeasurement | str:
    """The file's measurement, or why it could not be measured."""
    try:
        with media_local_path(stimulus.file) as path:
            return measure_file(path)
    except FileNotFoundError:
        return "file is missing from storage"
    except AudioError as exc:
        return f"file {exc}"
