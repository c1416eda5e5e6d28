"""Reads for strata and quotas: which stratum a listener fills, how far each quota is, and
whether a stratum is still served.

A study's ``stratum_quotas`` maps an expertise value to the number of panelists who must
finish in it (``{"professional": 30, "amateur": 30}``); each pair has K rating slots in every
stratum named there (``services.studies.slots_ensure``) and a panelist only claims slots of
their own stratum, so every pair gets K ratings within each stratum. Without quotas every
panelist is in the one unnamed stratum ``""``."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from evaluation.models import Panelist, Study, Trial
from evaluation.selectors.reservations import claimable


@dataclass(frozen=True)
class StratumProgress:
    """One stratum's quota and where it stands (counts of panelists and of slots)."""

    stratum: str
    quota: int | None
    joined: int
    screened: int
    finished: int
    slots: int
    answered: int

    @property
    def met(self) -> bool:
        """Quota reached (finished panelists), or no slot of the stratum left to rate."""
        if self.quota is not None and self.finished >= self.quota:
            return True
        return self.slots > 0 and self.answered >= self.slots


def stratum_for(study: Study, expertise: str) -> str | None:
    """The stratum a listener of this expertise fills: their expertise when the study has
    quotas and names it, "" when it has none, None when it has quotas but not this one."""
    if not study.stratum_quotas:
        return ""
    return expertise if expertise in study.stratum_quotas else None


def strata_progress(study: Study) -> list[StratumProgress]:
    """Each stratum of the study (the unnamed one without quotas) with its counts."""
    strata = sorted(study.stratum_quotas) or [""]
    panelists = Panelist.objects.filter(study=study)
    people = {
        row["stratum"]: row
        for row in panelists.values("stratum").annotate(
            joined=Count("pk"),
            screened=Count(
                "pk",
                filter=Q(headphone_passed=True)
                | Q(simulated=True)
                | Q(study__headphone_check=False),
            ),
            finished=Count("pk", filter=Q(finished_at__isnull=False)),
        )
    }
    slots = {
        row["stratum"]: row
        for row in Trial.objects.filter(pair__study=study, is_catch=False)
        .values("stratum")
        .annotate(slots=Count("pk"), answered=Count("pk", filter=Q(response__isnull=False)))
    }
    return [
        StratumProgress(
            stratum=stratum,
            quota=study.stratum_quotas.get(stratum),
            joined=people.get(stratum, {}).get("joined", 0),
            screened=people.get(stratum, {}).get("screened", 0),
            finished=people.get(stratum, {}).get("finished", 0),
            slots=slots.get(stratum, {}).get("slots", 0),
            answered=slots.get(stratum, {}).get("answered", 0),
        )
        for stratum in strata
    ]


def stratum_is_served(study: Study, stratum: str) -> bool:
    """Whether new panelists of `stratum` are still taken: its quota is not met."""
    for progress in strata_progress(study):
        if progress.stratum == stratum:
            return not progress.met
    return False


def stratum_has_free_slot(study: Study, stratum: str, now: datetime) -> bool:
    """Whether a slot of the stratum is unanswered and not held by an unexpired reservation."""
    return (
        Trial.objects.filter(pair__study=study, is_catch=False, stratum=stratum)
        .filter(response__isnull=True)
        .filter(claimable(now))
        .exists()
    )


def study_quotas_met(study: Study) -> bool:
    """Every quota stratum met (False for a study without quotas)."""
    return bool(study.stratum_quotas) and all(p.met for p in strata_progress(study))


def coverage(study: Study) -> dict[tuple[int, str], int]:
    """Answered ratings per (pair id, stratum) of the study's regular pairs, zeros included:
    the heat map of the dashboard and the balance check of the scheduler's tests."""
    counts = {
        (pair_id, stratum): 0
        for pair_id, stratum in Trial.objects.filter(pair__study=study, is_catch=False)
        .values_list("pair_id", "stratum")
        .distinct()
    }
    for row in (
        Trial.objects.filter(pair__study=study, is_catch=False, response__isnull=False)
        .values("pair_id", "stratum")
        .annotate(n=Count("pk"))
    ):
        counts[(row["pair_id"], row["stratum"])] = row["n"]
    return counts
