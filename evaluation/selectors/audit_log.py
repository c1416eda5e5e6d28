"""Reads of the audit log: a study's entries and the summary the report's methods show."""

from evaluation.models import AuditEntry, Study


def study_audit_entries(study: Study):
    """The study's entries, oldest first."""
    return AuditEntry.objects.filter(study_id=study.pk).order_by("at", "id")


def study_audit_summary(study: Study) -> dict:
    """What the report's methods say about the study's history: ``lines`` (one sentence per
    state change that matters to a reader: created, versions, opened, closed, edits,
    privacy deletions), ``n_entries`` and ``n_exports``; dates are UTC days."""
    entries = list(study_audit_entries(study))
    lines = []
    shown = {
        AuditEntry.Action.CREATE,
        AuditEntry.Action.NEW_VERSION,
        AuditEntry.Action.OPEN,
        AuditEntry.Action.CLOSE,
        AuditEntry.Action.EDIT,
        AuditEntry.Action.PRIVACY_DELETION,
    }
    for entry in entries:
        if entry.action not in shown:
            continue
        sentence = f"{entry.at:%Y-%m-%d} {entry.get_action_display()} by {entry.actor_name}"
        if entry.action == AuditEntry.Action.EDIT and entry.detail.get("changed"):
            sentence += f" ({', '.join(sorted(entry.detail['changed']))})"
        if entry.action == AuditEntry.Action.NEW_VERSION and entry.detail.get("from"):
            sentence += f" (copied from {entry.detail['from']})"
        if entry.action == AuditEntry.Action.NEW_VERSION and entry.detail.get("to"):
            sentence += f" (copied to {entry.detail['to']})"
        if entry.action == AuditEntry.Action.PRIVACY_DELETION:
            sentence += f" ({entry.detail.get('responses', 0)} response(s) removed)"
        lines.append(sentence)
    return {
        "lines": lines,
        "n_entries": len(entries),
        "n_exports": sum(entry.action == AuditEntry.Action.EXPORT for entry in entries),
    }
