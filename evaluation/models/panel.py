"""Panels of musicians, their pseudonymous members, and the invite links that enrol them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluation.models.study import Study, opaque_token


class Expertise(models.TextChoices):
    NONE = "none", _("I don't play or sing")
    HOBBYIST = "hobbyist", _("Hobbyist / amateur musician")
    STUDENT = "student", _("Music student")
    PROFESSIONAL = "professional", _("Professional musician")


class Panel(models.Model):
    """A named group of listeners, e.g. "pro session players"."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Invite(models.Model):
    """A token link that enrols panelists of one panel into one study."""

    study = models.ForeignKey(Study, related_name="invites", on_delete=models.CASCADE)
    panel = models.ForeignKey(Panel, related_name="invites", on_delete=models.PROTECT)
    token = models.CharField(max_length=64, unique=True, default=opaque_token, editable=False)
    label = models.CharField(max_length=100, blank=True)
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for unlimited; 1 for a personal link."
    )
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or f"invite {self.pk} to {self.study}"

    def path(self) -> str:
        return f"/p/{self.token}/"

    def refusal(self, now=None) -> str | None:
        """Why a new panelist cannot join through this invite, or None when they can."""
        now = now or timezone.now()
        if self.expires_at and now >= self.expires_at:
            return gettext("This invite link has expired.")
        if self.max_uses is not None and self.uses >= self.max_uses:
            return gettext("This invite link has already been used.")
        if not self.study.is_open:
            return gettext("This study is not open for listening right now.")
        return None


def pseudonym() -> str:
    """A short pseudonymous id such as P-7F3K2QXA: no name, no e-mail, nothing personal."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "P-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Panelist(models.Model):
    """One listener in one study, known only by a pseudonym and a short musician profile."""

    study = models.ForeignKey(Study, related_name="panelists", on_delete=models.CASCADE)
    panel = models.ForeignKey(Panel, related_name="panelists", on_delete=models.PROTECT)
    invite = models.ForeignKey(
        Invite, related_name="panelists", null=True, blank=True, on_delete=models.SET_NULL
    )
    pseudonym = models.CharField(max_length=16, unique=True, default=pseudonym, editable=False)
    expertise = models.CharField(max_length=16, choices=Expertise.choices)
    plays_instrument = models.BooleanField(default=False)
    instrument = models.CharField(max_length=100, blank=True)
    years_playing = models.PositiveSmallIntegerField(null=True, blank=True)
    genres = models.CharField(max_length=200, blank=True)
    consent_at = models.DateTimeField()
    planned_trials = models.PositiveIntegerField(default=0, help_text="Catch trials included.")
    planned_catch_trials = models.PositiveIntegerField(default=0)
    simulated = models.BooleanField(default=False)
    headphone_passed = models.BooleanField(
        null=True,
        blank=True,
        help_text="Headphone check: passed, failed every attempt, or empty while not run.",
    )
    headphone_correct = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Correct items in the last scored attempt."
    )
    headphone_attempts_made = models.PositiveSmallIntegerField(
        default=0, help_text="Headphone-check attempts scored so far."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "created_at"]
        permissions = [
            (
                "delete_panelist_data",
                "Can delete a panelist's data on a privacy request (kept in the audit log)",
            )
        ]

    def __str__(self) -> str:
        return self.pseudonym


class HeadphoneItem(models.Model):
    """One item of a panelist's headphone check: three tones, one 6 dB quieter and one in
    antiphase between the channels. Which is which stays on the server; the page only gets
    the opaque token of the item's audio."""

    panelist = models.ForeignKey(Panelist, related_name="headphone_items", on_delete=models.CASCADE)
    attempt = models.PositiveSmallIntegerField(help_text="1-based attempt number.")
    index = models.PositiveSmallIntegerField(help_text="1-based order within the attempt.")
    token = models.CharField(max_length=64, unique=True, default=opaque_token, editable=False)
    quiet_position = models.PositiveSmallIntegerField(help_text="1-3: the 6 dB quieter tone.")
    antiphase_position = models.PositiveSmallIntegerField(help_text="1-3: the antiphase tone.")
    answer = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["panelist", "attempt", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["panelist", "attempt", "index"], name="unique_headphone_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.panelist} headphone item {self.attempt}.{self.index}"

    @property
    def correct(self) -> bool | None:
        return None if self.answer is None else self.answer == self.quiet_position
