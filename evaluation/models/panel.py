"""Panels of musicians, their pseudonymous members, and the invite links that enrol them."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluation.models.study import Study, opaque_token


class Expertise(models.TextChoices):
    """A panelist's musical expertise: the default stratum of quotas and breakdowns.

    Before migration 0013 the values were ``none``, ``hobbyist``, ``student`` and
    ``professional``; ``LEGACY_EXPERTISE`` says what each became (the migration rewrote the
    stored rows; ``evaluation.stats.responses`` reads old exports the same way)."""

    PROFESSIONAL = "professional", _("Professional musician (music is my main income)")
    SEMI_PROFESSIONAL = "semi_professional", _("Semi-professional or music student")
    AMATEUR = "amateur", _("Amateur musician (I play or sing as a hobby)")
    NON_MUSICIAN = "non_musician", _("I don't play or sing")


# Old expertise value → new one (migration 0013; old CSV exports are read the same way).
LEGACY_EXPERTISE = {
    "none": "non_musician",
    "hobbyist": "amateur",
    "student": "semi_professional",
}


class InstrumentFamily(models.TextChoices):
    """The family of a panelist's main instrument (Hornbostel-Sachs, plus voice and keys)."""

    NONE = "", _("None")
    VOICE = "voice", _("Voice")
    KEYBOARDS = "keyboards", _("Keyboards")
    STRINGS = "strings", _("Strings (bowed or plucked)")
    WINDS = "winds", _("Wind and brass")
    PERCUSSION = "percussion", _("Percussion and drums")
    ELECTRONIC = "electronic", _("Electronic / production")
    OTHER = "other", _("Other")


class Panel(models.Model):
    """A named group of listeners, e.g. "pro session players"."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PanelMember(models.Model):
    """One person on a panel's roster (from ``manage.py import_panelists``): the researcher's
    own id for them, an optional e-mail for personal invites, and the attributes quotas and
    breakdowns use. A personal invite names its member; the panelist made when they join
    takes the member's attributes (the roster, not the form, decides their stratum)."""

    panel = models.ForeignKey(Panel, related_name="members", on_delete=models.CASCADE)
    external_id = models.CharField(max_length=100, help_text="The researcher's id for them.")
    email = models.EmailField(blank=True)
    expertise = models.CharField(max_length=20, choices=Expertise.choices)
    instrument_family = models.CharField(
        max_length=16, choices=InstrumentFamily.choices, blank=True, default=""
    )
    genres = models.CharField(max_length=200, blank=True, help_text="Comma-separated.")
    languages = models.CharField(max_length=100, blank=True, help_text="Comma-separated.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "external_id"], name="unique_member_id_per_panel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.panel}: {self.external_id}"


DEFAULT_EXTERNAL_ID_PARAMS = "PROLIFIC_PID,STUDY_ID,SESSION_ID"


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
    member = models.ForeignKey(
        PanelMember,
        related_name="invites",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="For a personal invite: the roster member it was sent to.",
    )
    external_id_params = models.CharField(
        max_length=200,
        blank=True,
        default=DEFAULT_EXTERNAL_ID_PARAMS,
        help_text=(
            "Query parameters of the link kept as external participant ids (comma-separated,"
            " e.g. PROLIFIC_PID,STUDY_ID,SESSION_ID); stored hashed with the study's salt."
        ),
    )
    completion_url = models.URLField(
        blank=True, max_length=500, help_text="Where a listener who finished is sent back to."
    )
    completion_code = models.CharField(
        max_length=64, blank=True, help_text="The code shown to a listener who finished."
    )
    screened_out_url = models.URLField(
        blank=True, max_length=500, help_text="Where a listener screened out is sent back to."
    )
    screened_out_code = models.CharField(
        max_length=64, blank=True, help_text="The code shown to a listener screened out."
    )
    max_open_reservations = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Most trials reserved at once by this link's listeners; empty: the setting "
            "EARSHOT_INVITE_OPEN_RESERVATIONS."
        ),
    )
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
    expertise = models.CharField(max_length=20, choices=Expertise.choices)
    plays_instrument = models.BooleanField(default=False)
    instrument = models.CharField(max_length=100, blank=True)
    years_playing = models.PositiveSmallIntegerField(null=True, blank=True)
    genres = models.CharField(max_length=200, blank=True)
    instrument_family = models.CharField(
        max_length=16, choices=InstrumentFamily.choices, blank=True, default=""
    )
    languages = models.CharField(
        max_length=100, blank=True, help_text="Languages the panelist understands, comma-separated."
    )
    stratum = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="The quota stratum this panelist fills (empty: the study has no quotas).",
    )
    external_ids = models.JSONField(
        default=dict,
        blank=True,
        help_text="External participant ids (e.g. PROLIFIC_PID), each a salted SHA-256.",
    )
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
    resume_code_hash = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        editable=False,
        help_text="SHA-256 (hex) of the panelist's resume code; the code itself is never stored.",
    )
    enrolment_key_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text=(
            "SHA-256 (hex) of the one-time key of the consent form that enrolled the panelist: "
            "a retried enrolment POST resumes this panelist instead of enrolling another."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "enrolment_key_hash"],
                condition=~models.Q(enrolment_key_hash=""),
                name="unique_panelist_enrolment_key",
            )
        ]
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
