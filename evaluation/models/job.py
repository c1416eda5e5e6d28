"""Background jobs (Celery) with progress that the admin and API can show."""

from django.db import models


class Job(models.Model):
    class Kind(models.TextChoices):
        PREPARE_STIMULI = "prepare_stimuli", "prepare stimuli"
        GENERATE_TRACKS = "generate_tracks", "generate tracks"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    study = models.ForeignKey("evaluation.Study", related_name="jobs", on_delete=models.CASCADE)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    failures = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(
        default=dict, blank=True, help_text="What the job was asked to do (e.g. system, prompts)."
    )
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life from the worker running the job (progress or heartbeat).",
    )
    runner = models.CharField(
        max_length=32,
        blank=True,
        help_text="Which run of the job may write its progress: a re-delivered task takes over "
        "and the superseded run stops.",
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started the job.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} for {self.study} ({self.status})"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0
