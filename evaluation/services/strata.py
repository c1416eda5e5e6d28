"""Writes for strata and quotas: close a study by itself once its quotas are met."""

from evaluation.models import Study
from evaluation.selectors.strata import study_quotas_met
from evaluation.services.studies import study_close


def study_close_if_quotas_met(*, study: Study) -> bool:
    """Close an open study whose ``auto_close`` is on once every stratum quota is met;
    returns whether it closed now. The audit log records the close as any other."""
    study = Study.objects.get(pk=study.pk)
    if not (study.auto_close and study.is_open and study_quotas_met(study)):
        return False
    study_close(study=study)
    return True
