"""The audit log: one append-only row per state change of a study (who, when, what)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditLogError(RuntimeError):
    """Raised on any attempt to change or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogError("audit entries are append-only: they are never updated")

    def delete(self):
        raise AuditLogError("audit entries are append-only: they are never deleted")


class AuditEntry(models.Model):
    """Something that happened to a study. Rows are only ever added: saving an existing row,
    updating or deleting raise AuditLogError (the admin shows them read-only)."""

    class Action(models.TextChoices):
        CREATE = "create", "created"
        IMPORT = "import", "imported tracks"
        GENERATE = "generate", "generated tracks"
        PREPARE = "prepare", "prepared stimuli"
        OPEN = "open", "opened"
        CLOSE = "close", "closed"
        EDIT = "edit", "edited"
        EXPORT = "export", "exported responses"
        DELETE = "delete", "deleted"
        NEW_VERSION = "new_version", "new version made"
        PRIVACY_DELETION = "privacy_deletion", "panelist data deleted (privacy request)"

    # No database constraint and DO_NOTHING: deleting a (draft) study leaves its entries
    # exactly as written (an entry is never updated, not even to null its study);
    # `study_slug` still names the study.
    study = models.ForeignKey(
        "evaluation.Study",
        related_name="audit_entries",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    study_slug = models.CharField(max_length=64)
    action = models.CharField(max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(
        max_length=150, help_text="The user's name at the time, or the command/worker that acted."
    )
    at = models.DateTimeField(default=timezone.now)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.study_slug}: {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogError("audit entries are append-only: an entry is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogError("audit entries are append-only: an entry is never deleted")
