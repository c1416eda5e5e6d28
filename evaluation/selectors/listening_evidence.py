"""Reads of listening evidence: what audio was served for a trial, and the export's evidence
cells of a response (docs/data-dictionary.md)."""

from dataclasses import dataclass
from datetime import datetime

from evaluation.models import ListeningEvidence, Panelist, Response, StimulusFetch, Trial


@dataclass(frozen=True)
class SideFetched:
    """What was served of one side since the trial was served: distinct bytes, and when the
    first of them went out (None when nothing was)."""

    bytes: int
    first_at: datetime | None


def trial_fetched(
    *, trial: Trial, panelist: Panelist, now: datetime, sides: tuple[str, ...] = ("a", "b")
) -> dict[str, SideFetched]:
    """Per side (``sides``: 'a', 'b'; a pool's 'a'..), the bytes served to `panelist` for
    `trial` in [served_at, now]."""
    rows = StimulusFetch.objects.filter(trial=trial, panelist=panelist, first_at__lte=now)
    if trial.served_at is not None:
        rows = rows.filter(last_at__gte=trial.served_at)
    fetched = {}
    for side in sides:
        ranges = sorted(
            (row.first_byte, row.last_byte + 1, row.first_at) for row in rows if row.side == side
        )
        total, reached = 0, 0
        for start, end, _ in ranges:
            total += max(0, end - max(start, reached))
            reached = max(reached, end)
        fetched[side] = SideFetched(
            bytes=total, first_at=min((at for _, _, at in ranges), default=None)
        )
    return fetched


EVIDENCE_COLUMNS = ("heard_a_s", "heard_b_s", "heard_overlap_s", "switches", "audio_fetched")


def evidence_columns(response: Response) -> dict:
    """The export's listening-evidence cells of one response; empty for answers stored without
    a log (simulated panelists, answers from before evidence was recorded)."""
    try:
        evidence = response.evidence
    except ListeningEvidence.DoesNotExist:
        return dict.fromkeys(EVIDENCE_COLUMNS)
    return {column: getattr(evidence, column) for column in EVIDENCE_COLUMNS}
