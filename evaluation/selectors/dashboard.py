"""Reads for the researcher's live dashboard: the funnel, the coverage heat map (pair ×
stratum), rater-quality flags and the time to quota. Nothing here writes.

Flags (per panelist, on their answers so far; a flag is a prompt to look, not a verdict):
- ``catch``: failed at least one catch trial;
- ``fast``: median answer time (trial served → answer) under ``FAST_FACTOR`` × the time the
  two sides must be heard (2 × the study's minimum listening time);
- ``same_side``: at least ``SAME_SIDE_MIN`` answers and every one of them A, or every one B.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, Q
from django.utils import timezone

from evaluation.models import Invite, Pair, Panelist, Response, Study
from evaluation.selectors.reservations import open_reservations
from evaluation.selectors.strata import StratumProgress, coverage, strata_progress

FAST_FACTOR = 1.0
SAME_SIDE_MIN = 5


@dataclass(frozen=True)
class Funnel:
    """Listeners at each step: invited (personal invites made plus listeners who joined by
    a shared link) → consented (joined) → screened (passed the headphone check, or no check)
    → finished → excluded (flagged by a quality rule)."""

    invited: int
    consented: int
    screened: int
    finished: int
    excluded: int

    def steps(self) -> list[tuple[str, int]]:
        return [
            ("invited", self.invited),
            ("consented", self.consented),
            ("screened", self.screened),
            ("finished", self.finished),
            ("excluded", self.excluded),
        ]


@dataclass(frozen=True)
class RaterFlags:
    pseudonym: str
    stratum: str
    answers: int
    catch_failed: int
    median_answer_s: float | None
    same_side: str
    flags: tuple[str, ...]


def rater_flags(study: Study) -> list[RaterFlags]:
    """Every panelist with at least one answer, with their quality flags (flagged first)."""
    required = 2 * study.min_listen_s
    rows: dict[int, list] = {}
    for response in Response.objects.filter(trial__pair__study=study).values(
        "panelist_id", "choice", "is_catch", "catch_passed", "started_at", "submitted_at"
    ):
        rows.setdefault(response["panelist_id"], []).append(response)
    panelists = Panelist.objects.filter(pk__in=rows).values_list("pk", "pseudonym", "stratum")
    result = []
    for pk, pseudonym, stratum in panelists:
        answers = rows[pk]
        regular = [a for a in answers if not a["is_catch"]]
        failed = sum(1 for a in answers if a["catch_passed"] is False)
        times = [(a["submitted_at"] - a["started_at"]).total_seconds() for a in answers]
        typical = median(times) if times else None
        sides = {a["choice"] for a in regular}
        same = sides.pop() if len(regular) >= SAME_SIDE_MIN and len(sides) == 1 else ""
        same = same if same in ("a", "b") else ""
        flags = tuple(
            name
            for name, raised in (
                ("catch", failed > 0),
                ("fast", typical is not None and typical < FAST_FACTOR * required),
                ("same_side", bool(same)),
            )
            if raised
        )
        result.append(RaterFlags(pseudonym, stratum, len(answers), failed, typical, same, flags))
    return sorted(result, key=lambda r: (-len(r.flags), r.pseudonym))


def funnel(study: Study, flags: list[RaterFlags] | None = None) -> Funnel:
    panelists = Panelist.objects.filter(study=study)
    counts = panelists.aggregate(
        consented=Count("pk"),
        # Screened: passed the check, or nothing to pass (no check; simulated panelists
        # skip it, selectors.headphones).
        screened=Count("pk", filter=Q(headphone_passed=True) | Q(simulated=True))
        if study.headphone_check
        else Count("pk"),
        finished=Count("pk", filter=Q(finished_at__isnull=False)),
        by_shared=Count("pk", filter=Q(invite__member__isnull=True)),
    )
    personal = Invite.objects.filter(study=study, member__isnull=False).count()
    flags = rater_flags(study) if flags is None else flags
    return Funnel(
        invited=personal + counts["by_shared"],
        consented=counts["consented"],
        screened=counts["screened"],
        finished=counts["finished"],
        excluded=sum(1 for row in flags if row.flags),
    )


@dataclass(frozen=True)
class HeatMap:
    """Answered ratings per pair (rows) and stratum (columns), out of K each: each cell is
    (ratings, percent of K capped at 100, colour lightness)."""

    strata: list[str]
    rows: list[tuple[str, list[tuple[int, int, int]]]]
    k: int


def _cell(n: int, k: int) -> tuple[int, int, int]:
    """(ratings, percent of K capped at 100, HSL lightness of its colour: 97 empty → 45 full)."""
    percent = min(100, round(100 * n / k)) if k else 0
    return n, percent, 97 - round(52 * percent / 100)


def heat_map(study: Study) -> HeatMap:
    counts = coverage(study)
    strata = sorted({stratum for _, stratum in counts}) or [""]
    pairs = Pair.objects.filter(study=study, is_catch=False).select_related(
        "prompt", "first__track__system", "second__track__system"
    )
    rows = [
        (
            f"{pair.prompt.external_id}: {pair.first.track.system.name} vs "
            f"{pair.second.track.system.name}",
            [
                _cell(counts.get((pair.pk, stratum), 0), study.ratings_per_pair)
                for stratum in strata
            ],
        )
        for pair in pairs.order_by("prompt__external_id", "pk")
    ]
    return HeatMap(strata=strata, rows=rows, k=study.ratings_per_pair)


def eta_to_quota(
    study: Study, progress: list[StratumProgress], now: datetime | None = None
) -> timedelta | None:
    """Time until the slowest stratum meets its quota at the pace of the last 24 hours
    (finished panelists per hour in that stratum); None when a stratum has no pace yet, or
    timedelta(0) when every quota is met."""
    now = now or timezone.now()
    since = now - timedelta(hours=24)
    slowest = timedelta(0)
    for stratum in progress:
        if stratum.met:
            continue
        target = stratum.quota if stratum.quota is not None else None
        if target is None:
            # No panelist quota: the slots are the target, at answers per hour.
            left = stratum.slots - stratum.answered
            pace = Response.objects.filter(
                trial__pair__study=study,
                trial__stratum=stratum.stratum,
                trial__is_catch=False,
                submitted_at__gte=since,
            ).count()
        else:
            left = target - stratum.finished
            pace = Panelist.objects.filter(
                study=study, stratum=stratum.stratum, finished_at__gte=since
            ).count()
        if pace == 0:
            return None
        first = (
            Panelist.objects.filter(study=study, created_at__gte=since)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        hours = max((now - (first or since)).total_seconds() / 3600, 1 / 60)
        slowest = max(slowest, timedelta(hours=left * hours / pace))
    return slowest


def study_dashboard(study: Study, now: datetime | None = None) -> dict:
    """Everything the dashboard page shows, as plain values."""
    now = now or timezone.now()
    progress = strata_progress(study)
    flags = rater_flags(study)
    return {
        "funnel": funnel(study, flags),
        "strata": progress,
        "heat_map": heat_map(study),
        "flags": flags,
        "flagged": [row for row in flags if row.flags],
        "eta": eta_to_quota(study, progress, now),
        "open_reservations": open_reservations(now).filter(pair__study=study).count(),
        "now": now,
    }
