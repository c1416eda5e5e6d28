"""What the server saw of a panelist's listening: the audio bytes it served for each side of a
trial, and the listening log that came with the answer (docs/data-dictionary.md)."""

from django.db import models

from evaluation.models.panel import Panelist
from evaluation.models.trial import POOL_SIDES, Response, Trial


class StimulusFetch(models.Model):
    """A byte range of one side of a trial served to the panelist holding it.

    Ranges are coalesced on write: a request that overlaps or touches a stored range of the
    same trial, panelist and side widens it, so a page that downloads a file in one request
    leaves one row per side, however often it is reloaded."""

    trial = models.ForeignKey(Trial, related_name="fetches", on_delete=models.CASCADE)
    panelist = models.ForeignKey(Panelist, related_name="+", on_delete=models.CASCADE)
    side = models.CharField(
        max_length=1,
        choices=[(side, side.upper()) for side in POOL_SIDES],
        help_text="a or b; a pool trial's screen position n is the n-th letter",
    )
    first_byte = models.PositiveBigIntegerField()
    last_byte = models.PositiveBigIntegerField(help_text="Inclusive, as in HTTP Range.")
    first_at = models.DateTimeField(help_text="When a byte of this range was first served.")
    last_at = models.DateTimeField(help_text="When a byte of this range was last served.")

    class Meta:
        ordering = ["trial", "side", "first_byte"]
        indexes = [models.Index(fields=["trial", "panelist", "side"])]

    def __str__(self) -> str:
        return f"trial {self.trial_id} {self.side}: bytes {self.first_byte}-{self.last_byte}"


class ListeningEvidence(models.Model):
    """The listening log an answer came with, checked and summarised when it was recorded."""

    response = models.OneToOneField(Response, related_name="evidence", on_delete=models.CASCADE)
    log = models.JSONField(help_text="The page's log: {loop_s, events: [{t, type, side, pos}]}.")
    heard_a_s = models.FloatField(help_text="Seconds of distinct excerpt positions heard on A.")
    heard_b_s = models.FloatField(help_text="Seconds of distinct excerpt positions heard on B.")
    heard_overlap_s = models.FloatField(
        help_text="Seconds of excerpt positions heard on both A and B (the unlocking rule)."
    )
    switches = models.PositiveIntegerField(help_text="Changes of the audible side.")
    fetched_a_bytes = models.PositiveBigIntegerField(help_text="Distinct bytes of A served.")
    fetched_b_bytes = models.PositiveBigIntegerField(help_text="Distinct bytes of B served.")
    audio_fetched = models.FloatField(
        help_text="Share of the less-downloaded side's file served before the answer (0 to 1)."
    )

    class Meta:
        verbose_name_plural = "listening evidence"

    def __str__(self) -> str:
        return f"evidence of response {self.response_id}"
