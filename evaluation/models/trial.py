"""Trials (a pair shown to one panelist in one position) and the responses they collect."""

from django.db import models
from django.db.models import Q

from evaluation.models.panel import Panelist
from evaluation.models.study import Pair, Prompt, opaque_token


class Choice(models.TextChoices):
    A = "a", "A"
    B = "b", "B"
    TIE = "tie", "no preference"


class GuessAI(models.TextChoices):
    A = "a", "A"
    B = "b", "B"
    UNSURE = "unsure", "can't tell"


class Trial(models.Model):
    """One of the K rating slots of a pair.

    A slot is free (no panelist), reserved (panelist set, no response yet, reserved_until in the
    future), or answered (a response exists). An expired reservation returns the slot to the pool
    with a fresh token, so the first holder's stale page can no longer answer it.
    """

    pair = models.ForeignKey(Pair, related_name="trials", on_delete=models.CASCADE)
    prompt = models.ForeignKey(Prompt, related_name="+", on_delete=models.CASCADE)
    round = models.PositiveIntegerField(help_text="k of K: slots of round k fill before round k+1")
    swapped = models.BooleanField(help_text="True: the pair's second stimulus plays as A.")
    panelist = models.ForeignKey(
        Panelist, related_name="trials", null=True, blank=True, on_delete=models.SET_NULL
    )
    token = models.CharField(max_length=64, unique=True, default=opaque_token)
    position = models.PositiveIntegerField(null=True, blank=True, help_text="1-based order")
    reserved_until = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    is_catch = models.BooleanField(
        default=False, help_text="A quality-control trial made for one panelist (not a slot)."
    )

    class Meta:
        ordering = ["pair", "round"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "round"], name="unique_slot_per_pair_round"),
            models.UniqueConstraint(
                fields=["panelist", "prompt"],
                condition=Q(panelist__isnull=False, is_catch=False),
                name="prompt_at_most_once_per_panelist",
            ),
        ]
        indexes = [models.Index(fields=["panelist", "position"])]

    def __str__(self) -> str:
        return f"trial {self.pk} ({self.pair_id}#{self.round})"

    def catch_passed(self, choice: str) -> bool | None:
        """Whether `choice` passes this catch trial; None for a regular trial."""
        if not self.pair.is_catch:
            return None
        return choice == self.pair.catch_expected_choice(swapped=self.swapped)

    def stimulus_at(self, side: str):
        """The stimulus that plays at position 'a' or 'b' (server-side only)."""
        first_plays_a = not self.swapped
        if side == "a":
            return self.pair.first if first_plays_a else self.pair.second
        if side == "b":
            return self.pair.second if first_plays_a else self.pair.first
        raise ValueError(f"side must be 'a' or 'b', not {side!r}")


class Response(models.Model):
    """A panelist's judgement of one trial; stored once, never overwritten."""

    trial = models.OneToOneField(Trial, related_name="response", on_delete=models.PROTECT)
    panelist = models.ForeignKey(Panelist, related_name="responses", on_delete=models.PROTECT)
    choice = models.CharField(max_length=8, choices=Choice.choices)
    liked_a = models.BooleanField(null=True, blank=True)
    liked_b = models.BooleanField(null=True, blank=True)
    guess_ai = models.CharField(max_length=8, choices=GuessAI.choices, blank=True)
    listen_a_s = models.FloatField()
    listen_b_s = models.FloatField()
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["panelist", "trial"], name="one_response_per_trial"),
            models.CheckConstraint(
                condition=Q(choice__in=["a", "b", "tie"]), name="response_choice_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}: {self.choice}"
