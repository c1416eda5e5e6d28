"""Appending to the audit log: every state change of a study says who, when and what."""

from evaluation.models import AuditEntry, Study


def actor_label(user) -> str:
    """How an entry names who acted: the username, or "system" for commands and workers."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.get_username()


def audit_record(
    *, study: Study, action: str, user=None, detail: dict | None = None, actor_name: str = ""
) -> AuditEntry:
    """Append one entry for ``study``. ``user`` is the person who acted (None for a command,
    a worker or a listener); ``actor_name`` overrides the label (e.g. "import_tracks");
    ``detail`` holds plain JSON values (changed fields, counts, job ids)."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEntry.objects.create(
        study=study,
        study_slug=study.slug,
        action=action,
        actor=user if authenticated else None,
        actor_name=actor_name or actor_label(user),
        detail=detail or {},
    )
