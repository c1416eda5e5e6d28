"""Checking that the stimuli of every pair cannot be told apart by anything but the music.

Pure: measurements of files in, verdicts out. What is checked per pair (docs/stimuli.md):
loudness within LOUDNESS_TOLERANCE_LU of the target (less the prompt's recorded peak
reduction) and of each other; true peaks at or below the ceiling; durations equal within
DURATION_TOLERANCE_S; the same sample rate, channels, codec and bitrate; no metadata tags.
Across the study, a simple classifier ("the larger file is system X") must not predict the
system from file size or duration better than chance plus a margin, and no two files that
will be served may be byte-identical (SHA-256): a script comparing downloads would otherwise
match a catch trial's file to a regular trial's and learn which side is which.
"""

import hashlib
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from evaluation.stimuli.audio import (
    AudioError,
    container_codec,
    decode_bytes,
    integrated_loudness,
    metadata_tags,
    true_peak_dbtp,
)

LOUDNESS_TOLERANCE_LU = 0.5
DURATION_TOLERANCE_S = 0.001
PEAK_TOLERANCE_DB = 0.01  # measurement noise of the 4x oversampled peak
BITRATE_TOLERANCE = 0.01  # relative
CLASSIFIER_MIN_MARGIN = 0.1
CLASSIFIER_Z = 1.645  # one-sided 95%


@dataclass(frozen=True)
class FileMeasurement:
    """What a listener's browser could observe about one stimulus file."""

    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    size_bytes: int
    loudness_lufs: float
    true_peak_dbtp: float
    tags: dict
    sha256: str = ""  # of the file as served

    @property
    def bitrate_kbps(self) -> float:
        return 8 * self.size_bytes / self.duration_s / 1000 if self.duration_s else 0.0


def measure_file(path: str | Path) -> FileMeasurement:
    """Decode and measure one stimulus file as it will be served."""
    content = Path(path).read_bytes()
    codec = container_codec(content)
    if not codec:
        raise AudioError("is not a FLAC, Opus or MP3 file")
    samples, rate = decode_bytes(content, codec)
    return FileMeasurement(
        codec=codec,
        sample_rate=rate,
        channels=int(samples.shape[0]),
        duration_s=samples.shape[1] / rate,
        size_bytes=len(content),
        loudness_lufs=integrated_loudness(samples, rate),
        true_peak_dbtp=true_peak_dbtp(samples),
        tags=metadata_tags(path),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def pair_problems(
    a: FileMeasurement,
    b: FileMeasurement,
    *,
    target_lufs: float,
    max_true_peak_dbtp: float,
    peak_reduction_db: float = 0.0,
) -> list[str]:
    """Every way in which the two files of a pair differ beyond the tolerances; [] when none.

    `peak_reduction_db`: how far preparation lowered the prompt below the target (recorded).
    """
    problems = []
    expected = target_lufs - peak_reduction_db
    for side, m in (("A", a), ("B", b)):
        if abs(m.loudness_lufs - expected) > LOUDNESS_TOLERANCE_LU:
            problems.append(
                f"{side} loudness {m.loudness_lufs:.2f} LUFS is not within "
                f"±{LOUDNESS_TOLERANCE_LU} LU of {expected:.2f}"
            )
        if m.true_peak_dbtp > max_true_peak_dbtp + PEAK_TOLERANCE_DB:
            problems.append(f"{side} true peak {m.true_peak_dbtp:.2f} dBTP > {max_true_peak_dbtp}")
        if m.tags:
            problems.append(f"{side} carries metadata tags: {', '.join(sorted(m.tags))}")
    if abs(a.loudness_lufs - b.loudness_lufs) > LOUDNESS_TOLERANCE_LU:
        problems.append(
            f"loudness differs by {abs(a.loudness_lufs - b.loudness_lufs):.2f} LU "
            f"(> {LOUDNESS_TOLERANCE_LU})"
        )
    if abs(a.duration_s - b.duration_s) > DURATION_TOLERANCE_S:
        problems.append(
            f"durations differ by {1000 * abs(a.duration_s - b.duration_s):.1f} ms (> 1 ms)"
        )
    for name in ("codec", "sample_rate", "channels"):
        if getattr(a, name) != getattr(b, name):
            problems.append(f"{name} differs: {getattr(a, name)} vs {getattr(b, name)}")
    top = max(a.bitrate_kbps, b.bitrate_kbps)
    if top and abs(a.bitrate_kbps - b.bitrate_kbps) > BITRATE_TOLERANCE * top:
        problems.append(f"bitrate differs: {a.bitrate_kbps:.1f} vs {b.bitrate_kbps:.1f} kbit/s")
    return problems


@dataclass(frozen=True)
class ClassifierResult:
    """The best the size/duration rule could do on one comparison of two systems."""

    comparison: str  # "system X vs system Y"
    feature: str  # "size" or "duration"
    n_pairs: int
    accuracy: float  # share of pairs the rule gets right (ties count half)
    threshold: float  # chance (0.5) plus margin; accuracy above it fails

    @property
    def passed(self) -> bool:
        return self.accuracy <= self.threshold


def classifier_threshold(n_pairs: int) -> float:
    """Chance plus a margin that shrinks with the number of pairs: 0.5 + max(0.1,
    z·0.5/√n), the one-sided 95% upper bound of a fair coin's accuracy over n pairs."""
    return 0.5 + max(CLASSIFIER_MIN_MARGIN, CLASSIFIER_Z * 0.5 / math.sqrt(n_pairs))


def size_classifier(
    comparisons: dict[str, list[tuple[FileMeasurement, FileMeasurement]]],
) -> list[ClassifierResult]:
    """For each comparison (pairs of the same two systems, first system always first), the
    rule "the larger value belongs to the first system" (or its reverse, whichever scores
    better) is scored on file size and on duration."""
    results = []
    for comparison, pairs in sorted(comparisons.items()):
        for feature in ("size", "duration"):
            attribute = "size_bytes" if feature == "size" else "duration_s"
            differences = [getattr(a, attribute) - getattr(b, attribute) for a, b in pairs]
            larger_first = sum(d > 0 for d in differences)
            larger_second = sum(d < 0 for d in differences)
            ties = len(differences) - larger_first - larger_second
            accuracy = (max(larger_first, larger_second) + 0.5 * ties) / len(differences)
            results.append(
                ClassifierResult(
                    comparison=comparison,
                    feature=feature,
                    n_pairs=len(differences),
                    accuracy=accuracy,
                    threshold=classifier_threshold(len(differences)),
                )
            )
    return results


@dataclass(frozen=True)
class HashCollision:
    """Files that will be served with the same bytes."""

    sha256: str
    stimuli: tuple[str, ...]  # a label per stimulus, e.g. "stimulus 12 (p1/model-x, twin_1)"


def hash_collisions(served: Iterable[tuple[str, str]]) -> list[HashCollision]:
    """Every SHA-256 shared by two or more of the served files; `served`: (label, sha256)."""
    by_hash: dict[str, list[str]] = {}
    for label, sha256 in served:
        by_hash.setdefault(sha256, []).append(label)
    return [
        HashCollision(sha256=sha256, stimuli=tuple(labels))
        for sha256, labels in sorted(by_hash.items())
        if len(labels) > 1
    ]


@dataclass(frozen=True)
class PairAudit:
    pair_id: int
    prompt: str
    kind: str  # "regular", "anchor" or "identical"
    a: FileMeasurement | None
    b: FileMeasurement | None
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class AuditReport:
    pairs: list[PairAudit] = field(default_factory=list)
    classifier: list[ClassifierResult] = field(default_factory=list)
    collisions: list[HashCollision] = field(default_factory=list)
    files_checked: int = 0  # distinct files hashed for collisions

    @property
    def failing_pairs(self) -> list[PairAudit]:
        return [pair for pair in self.pairs if not pair.passed]

    @property
    def failing_classifier(self) -> list[ClassifierResult]:
        return [result for result in self.classifier if not result.passed]

    @property
    def passed(self) -> bool:
        return (
            bool(self.pairs)
            and not self.failing_pairs
            and not self.failing_classifier
            and not self.collisions
        )

    def to_dict(self) -> dict:
        """JSON-ready: verdict, failure lines, every pair's measurements, the classifier."""
        return {
            "passed": self.passed,
            "failures": self.failure_lines(),
            "pairs": [{**asdict(pair), "passed": pair.passed} for pair in self.pairs],
            "classifier": [
                {**asdict(result), "passed": result.passed} for result in self.classifier
            ],
            "collisions": [asdict(collision) for collision in self.collisions],
        }

    def failure_lines(self) -> list[str]:
        lines = [
            f"pair {pair.pair_id} (prompt {pair.prompt}): {'; '.join(pair.problems)}"
            for pair in self.failing_pairs
        ]
        lines += [
            f"{result.comparison}: file {result.feature} predicts the system in "
            f"{100 * result.accuracy:.0f}% of {result.n_pairs} pairs "
            f"(allowed: {100 * result.threshold:.0f}%)"
            for result in self.failing_classifier
        ]
        lines += [
            f"{' and '.join(collision.stimuli)} are byte-identical (SHA-256 "
            f"{collision.sha256[:16]}…): comparing downloads would tell them apart from the "
            "rest; prepare the study's stimuli again (catch copies must differ)"
            for collision in self.collisions
        ]
        if not self.pairs:
            lines.append("the study has no pairs to audit")
        return lines


def _cell(measurement: FileMeasurement | None, attribute: str, digits: int) -> str:
    return "-" if measurement is None else f"{getattr(measurement, attribute):.{digits}f}"


def format_table(report: AuditReport) -> str:
    """A fixed-width table of every pair, then the classifier lines."""
    header = (
        f"{'pair':>6} {'prompt':<14} {'kind':<9} {'LUFS A':>7} {'LUFS B':>7} {'dBTP A':>7} "
        f"{'dBTP B':>7} {'dur A s':>8} {'dur B s':>8} {'codec':<5} {'kbps':>7}  verdict"
    )
    lines = [header, "-" * len(header)]
    for pair in report.pairs:
        codec = pair.a.codec if pair.a else "-"
        lines.append(
            f"{pair.pair_id:>6} {pair.prompt[:14]:<14} {pair.kind:<9} "
            f"{_cell(pair.a, 'loudness_lufs', 2):>7} {_cell(pair.b, 'loudness_lufs', 2):>7} "
            f"{_cell(pair.a, 'true_peak_dbtp', 2):>7} {_cell(pair.b, 'true_peak_dbtp', 2):>7} "
            f"{_cell(pair.a, 'duration_s', 3):>8} {_cell(pair.b, 'duration_s', 3):>8} "
            f"{codec:<5} {_cell(pair.a, 'bitrate_kbps', 1):>7}  "
            f"{'ok' if pair.passed else 'FAIL'}"
        )
    lines.append("")
    for result in report.classifier:
        lines.append(
            f"size/duration classifier, {result.comparison}, {result.feature}: accuracy "
            f"{result.accuracy:.2f} over {result.n_pairs} pair(s), chance 0.50, fails above "
            f"{result.threshold:.2f}: {'ok' if result.passed else 'FAIL'}"
        )
    lines.append(
        f"byte-identical files among those served: {len(report.collisions)}: "
        f"{'ok' if not report.collisions else 'FAIL'} ({report.files_checked} file(s) checked, SHA-256)"
    )
    return "\n".join(lines)
