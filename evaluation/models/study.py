"""Systems, studies and what they compare: prompts, tracks, prepared stimuli and pairs."""

import hashlib
import json
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from evaluation.catalogue import ASPECTS
from evaluation.models.listener_texts import (
    DEFAULT_CONSENT_TEXT,
    listener_text,
    validate_listener_texts,
)


def opaque_token() -> str:
    """An unguessable URL-safe token (about 190 bits)."""
    return secrets.token_urlsafe(24)


class System(models.Model):
    """A source of tracks: the built-in generator, an external model, or human references.

    ``kind`` says whether its tracks are made by people or by an AI system. It is stated by
    whoever adds the system (the manifest's ``kind`` column, the generate job), never guessed
    from the name: a model called "HumanLike" is still an AI system."""

    class Kind(models.TextChoices):
        HUMAN = "human", "human-made"
        AI = "ai", "AI system"

    class Source(models.TextChoices):
        BUILTIN = "builtin", "built-in generator"
        EXTERNAL_HTTP = "http", "external HTTP backend"
        IMPORTED = "imported", "imported audio"
        CORPUS = "corpus", "rendered from the chorale corpus"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(
        max_length=8,
        choices=Kind.choices,
        help_text="human or ai, as stated by the manifest or the generate job (never guessed).",
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.IMPORTED)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["human", "ai"]), name="system_kind_stated"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_human(self) -> bool:
        return self.kind == self.Kind.HUMAN


ASPECT_LABELS = {
    "melody": _("Melody"),
    "lyrics": _("Lyrics"),
    "vocals": _("Vocals (incl. diction)"),
    "arrangement": _("Arrangement"),
    "structure": _("Structure"),
    "emotion": _("Emotion"),
    "production": _("Production / mix"),
    "originality": _("Originality"),
    "prompt_adherence": _("Fits the brief"),
}
"""What a listener reads for each aspect (translatable)."""

ASPECT_MODES = ("preference", "rating")
"""How an aspect is asked: ``preference`` (A, B or tie; A/B design only) or ``rating`` (1-5
per track)."""


class Study(models.Model):
    """A blind listening protocol: which systems, which design and questions, quotas, seed;
    draft → open → closed."""

    class Design(models.TextChoices):
        AB = "ab", "A/B: two tracks of one prompt"
        SINGLE = "single", "single track: liked, human or AI?"
        POOL = "pool", "pool: pick 1 of N tracks of one prompt"

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    class Codec(models.TextChoices):
        FLAC = "flac", "FLAC (lossless)"
        OPUS = "opus", "Opus (constant bitrate)"
        MP3 = "mp3", "MP3 (constant bitrate)"

    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    systems = models.ManyToManyField(System, related_name="studies", blank=True)
    seed = models.PositiveIntegerField(default=0, help_text="Seeds trial order and positions.")
    ratings_per_pair = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1)],
        help_text="K: how many ratings each pair collects (every pair reaches K before K+1).",
    )
    external_id_salt = models.CharField(
        max_length=64,
        default=opaque_token,
        editable=False,
        help_text="Salt of the hashed external participant ids (never exported).",
    )
    stratum_quotas = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Panelists to finish per expertise stratum, e.g. {"professional": 30, '
            '"amateur": 30}; each pair gets K ratings within every stratum named here, and a '
            "stratum that met its quota is no longer served. Empty: no strata."
        ),
    )
    auto_close = models.BooleanField(
        default=False,
        help_text="Close the study by itself once every stratum quota is met.",
    )
    auto_close_decided = models.BooleanField(
        default=False,
        help_text=(
            "Close the study by itself once the monitor has decided every comparison: each "
            "pair's anytime-valid confidence sequence (study-wide error control) excludes an "
            "even split. Checked by the worker each time a listener finishes; simulated "
            "listeners never count."
        ),
    )
    trials_per_panelist = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1)], help_text="At most this many per panelist."
    )
    min_listen_s = models.FloatField(
        default=10.0,
        validators=[MinValueValidator(0.0)],
        help_text="Seconds each of A and B must be heard (or the whole excerpt if shorter).",
    )
    excerpt_s = models.FloatField(default=20.0, validators=[MinValueValidator(1.0)])
    excerpt_start_s = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text=(
            "Where excerpts start, in seconds, for every prompt; empty: the loudness-based "
            "section finder picks one start per prompt (docs/stimuli.md)."
        ),
    )
    target_lufs = models.FloatField(
        default=-23.0, validators=[MinValueValidator(-70.0), MaxValueValidator(0.0)]
    )
    max_true_peak_dbtp = models.FloatField(default=-1.0)
    sample_rate = models.PositiveIntegerField(default=48000)
    codec = models.CharField(max_length=8, choices=Codec.choices, default=Codec.FLAC)
    bitrate_kbps = models.PositiveIntegerField(
        default=192,
        validators=[MinValueValidator(32), MaxValueValidator(320)],
        help_text="Constant bitrate of Opus and MP3 stimuli (FLAC ignores it).",
    )
    catch_rate = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.5)],
        help_text=(
            "Share of catch trials mixed into each panelist's sequence (e.g. 0.1): a 3.5 kHz "
            "low-passed anchor against its reference, or two identical excerpts."
        ),
    )
    ask_liked = models.BooleanField(default=True)
    ask_ai = models.BooleanField(default=True)
    design = models.CharField(
        max_length=8,
        choices=Design.choices,
        default=Design.AB,
        help_text=(
            "ab: pairs of tracks; single: one track per trial (liked 1-5, human or AI? with "
            "confidence); pool: pick a favourite among N tracks of one prompt."
        ),
    )
    aspects = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Aspects asked, {name: "preference" | "rating"}, names from the catalogue: '
            + ", ".join(ASPECTS)
            + ". preference (A/B/tie) only on the A/B design; rating is 1-5 per track."
        ),
    )
    ask_rating = models.BooleanField(
        default=False,
        help_text="A/B: also ask 'How much do you like it?' (1-5) for A and B (single always asks).",
    )
    ask_weaker = models.BooleanField(
        default=False,
        help_text="For a liked track, ask which of the study's aspects are weaker (needs aspects).",
    )
    ask_familiar = models.BooleanField(
        default=False, help_text="Ask 'Do you know this piece?' (no / sounds familiar / I know it)."
    )
    ask_hit = models.BooleanField(
        default=False,
        help_text="Hit potential: per track 'Would you add it to a playlist?' and 'Would you release it?'.",
    )
    pool_size = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(3), MaxValueValidator(10)],
        help_text="Pool design: candidates per trial (3-10), all of one prompt.",
    )
    pool_rank_top3 = models.BooleanField(
        default=False, help_text="Pool design: also let the listener rank a second and third."
    )
    headphone_check = models.BooleanField(
        default=True,
        help_text=(
            "Screen panelists with the antiphase headphone check (Woods et al. 2017) before "
            "their first trial; a panelist who fails every attempt gets no trials."
        ),
    )
    headphone_items = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Items per headphone-check attempt (three tones each; which is quietest?).",
    )
    headphone_pass_min = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Correct items needed to pass one attempt (at most the number of items).",
    )
    headphone_attempts = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Attempts a panelist gets at the headphone check.",
    )
    stats_min_panelists = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text=(
            "Listeners a comparison needs before the results give it a verdict; with fewer it "
            "reads “too little data”."
        ),
    )
    consent_text = models.TextField(
        default=DEFAULT_CONSENT_TEXT,
        help_text=(
            "Consent shown in a language that has none of its own in the listener texts; "
            "left at this default it is shown translated."
        ),
    )
    listener_texts = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_listener_texts],
        help_text=(
            'What listeners read, per language: {"en": {"title": ..., "description": ..., '
            '"consent": ...}, "zh-hans": {...}}. The title above stays internal: listeners '
            "never see it (docs/i18n.md)."
        ),
    )
    default_language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=(
            "Language of the listener pages when the listener has not picked one and their "
            "browser asks for none that Earshot speaks."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="1 for a new study; n for the n-th version made by 'new version'."
    )
    previous_version = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="next_versions",
        on_delete=models.SET_NULL,
        help_text="The study this draft was copied from to change its protocol.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        permissions = [
            ("run_study", "Can generate, prepare, open, close and version a study"),
            ("export_study", "Can export a study's responses"),
        ]

    def __str__(self) -> str:
        return self.slug

    DESIGN_FIELDS = (
        "design",
        "aspects",
        "ask_rating",
        "ask_weaker",
        "ask_familiar",
        "ask_hit",
        "pool_size",
        "pool_rank_top3",
    )
    """The design and its questions (issue 12): part of the protocol, frozen once open."""

    PROTOCOL_FIELDS = (
        "seed",
        "ratings_per_pair",
        "trials_per_panelist",
        "min_listen_s",
        "excerpt_s",
        "target_lufs",
        "max_true_peak_dbtp",
        "sample_rate",
        "codec",
        "bitrate_kbps",
        "excerpt_start_s",
        "catch_rate",
        "ask_liked",
        "ask_ai",
        "headphone_check",
        "headphone_items",
        "headphone_pass_min",
        "headphone_attempts",
        *DESIGN_FIELDS,
    )

    def protocol(self) -> dict:
        """The settings that define how responses were collected (hashed into every export row).

        A design setting (``DESIGN_FIELDS``) enters only when it differs from its default, so
        the hash of a study that uses none of them is the one it had before they existed."""
        protocol = {}
        for field in self.PROTOCOL_FIELDS:
            value = getattr(self, field)
            if field in self.DESIGN_FIELDS and value == self._meta.get_field(field).get_default():
                continue
            protocol[field] = value
        return protocol

    FROZEN_FIELDS = ("slug", *PROTOCOL_FIELDS)
    """What can no longer change once the study has opened (its answers depend on it)."""

    @property
    def is_frozen(self) -> bool:
        """True once the study has ever opened: its protocol, pairs, tracks and stimuli are
        then read-only, so every stored answer keeps the meaning it had."""
        return self.opened_at is not None

    def frozen_reason(self) -> str:
        return (
            f"study '{self.slug}' has been opened (on {self.opened_at:%Y-%m-%d %H:%M} UTC), so its "
            f"protocol, pairs, tracks and stimuli are frozen: every answer keeps the meaning it "
            f"had when it was given. Make a new version of the study (admin action 'New version "
            f"of this study') to change them"
        )

    def frozen_changes(self) -> list[str]:
        """The frozen fields whose value differs from the stored row (empty if none or new)."""
        if self.pk is None:
            return []
        stored = type(self).objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS, "opened_at")
        stored = stored.first()
        if stored is None or stored["opened_at"] is None:
            return []
        return [name for name in self.FROZEN_FIELDS if stored[name] != getattr(self, name)]

    def clean(self):
        from django.core.exceptions import ValidationError

        changed = self.frozen_changes()
        if changed:
            raise ValidationError(f"{self.frozen_reason()} (changed: {', '.join(changed)}).")
        if self.codec == self.Codec.OPUS and self.sample_rate != 48000:
            raise ValidationError({"codec": "Opus stimuli need a sample rate of 48000 Hz."})
        if self.codec == self.Codec.MP3 and self.sample_rate not in (32000, 44100, 48000):
            raise ValidationError({"codec": "MP3 stimuli need 32000, 44100 or 48000 Hz."})
        design_errors = self.design_errors()
        if design_errors:
            raise ValidationError(design_errors)
        quota_error = stratum_quotas_error(self.stratum_quotas)
        if quota_error:
            raise ValidationError({"stratum_quotas": quota_error})
        if self.headphone_pass_min > self.headphone_items:
            raise ValidationError(
                {
                    "headphone_pass_min": (
                        f"At most the number of items ({self.headphone_items}): a panelist "
                        f"cannot get {self.headphone_pass_min} right."
                    )
                }
            )

    def design_errors(self) -> dict[str, str]:
        """What is wrong with the design and its questions, {field: sentence}; empty if fine."""
        errors = {}
        aspects = self.aspects
        if not isinstance(aspects, dict):
            errors["aspects"] = (
                'aspects must be an object {name: "preference" | "rating"}, e.g. '
                '{"melody": "rating", "lyrics": "preference"}'
            )
            aspects = {}
        unknown = [name for name in aspects if name not in ASPECTS]
        if unknown:
            errors["aspects"] = (
                f"unknown aspect(s) {', '.join(map(repr, unknown))}; choose from "
                + ", ".join(ASPECTS)
            )
        bad_modes = [
            f"{name}={mode!r}" for name, mode in aspects.items() if mode not in ASPECT_MODES
        ]
        if bad_modes and "aspects" not in errors:
            errors["aspects"] = (
                f"each aspect is asked as 'preference' or 'rating', not {', '.join(bad_modes)}"
            )
        if "aspects" not in errors and self.design != self.Design.AB:
            preferences = [name for name, mode in aspects.items() if mode == "preference"]
            if preferences:
                errors["aspects"] = (
                    f"{', '.join(preferences)}: a preference (A or B?) needs two tracks; the "
                    f"{self.design} design asks aspects as a rating"
                )
        if "aspects" not in errors and self.design == self.Design.POOL and aspects:
            errors["aspects"] = "the pool design asks no aspects (only a favourite and a top 3)"
        if self.ask_weaker and not aspects:
            errors["ask_weaker"] = "'what is weaker?' offers the study's aspects: choose some first"
        elif self.ask_weaker and self.design == self.Design.POOL:
            errors["ask_weaker"] = "the pool design does not ask 'what is weaker?'"
        elif (
            self.ask_weaker
            and self.design == self.Design.AB
            and not (self.ask_liked or self.ask_rating)
        ):
            errors["ask_weaker"] = (
                "'what is weaker?' is asked of a liked track: ask liked or a rating"
            )
        if self.ask_rating and self.design != self.Design.AB:
            errors["ask_rating"] = (
                "ask_rating is the A/B design's 1-5 rating; the single design always asks it and "
                "the pool design does not"
            )
        if self.ask_hit and self.design == self.Design.POOL:
            errors["ask_hit"] = "the pool design does not ask playlist/release questions"
        if self.pool_size is not None and not 3 <= self.pool_size <= 10:
            errors["pool_size"] = f"a pool has 3 to 10 candidates, not {self.pool_size}"
        if self.design != self.Design.AB and self.catch_rate:
            errors["catch_rate"] = (
                "catch trials are A/B comparisons; set the catch rate to 0 for the "
                f"{self.design} design"
            )
        if self.design != self.Design.POOL and self.pool_rank_top3:
            errors["pool_rank_top3"] = "a top-3 ranking needs the pool design"
        return errors

    def aspect_names(self, mode: str | None = None) -> list[str]:
        """The study's aspects in catalogue order (only those asked as ``mode`` if given)."""
        aspects = self.aspects if isinstance(self.aspects, dict) else {}
        return [n for n in ASPECTS if n in aspects and (mode is None or aspects[n] == mode)]

    def config_hash(self) -> str:
        """First 16 hex digits of the SHA-256 of the protocol, stable across runs."""
        encoded = json.dumps(self.protocol(), sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    # What listeners read, in the active language (models.listener_texts).
    @property
    def public_title(self) -> str:
        return listener_text(self.listener_texts, "title", get_language())

    @property
    def public_description(self) -> str:
        return listener_text(self.listener_texts, "description", get_language())

    @property
    def public_consent(self) -> str:
        return listener_text(self.listener_texts, "consent", get_language(), self.consent_text)


def stratum_quotas_error(quotas) -> str | None:
    """Why `quotas` is not a valid stratum → panelist quota mapping, or None when it is."""
    from evaluation.models.panel import Expertise

    if not isinstance(quotas, dict):
        return 'Quotas must be an object such as {"professional": 30, "amateur": 30}.'
    for stratum, quota in quotas.items():
        if stratum not in Expertise.values:
            return f"Unknown stratum {stratum!r}: use one of {', '.join(Expertise.values)}."
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
            return f"The quota of {stratum!r} must be a whole number of panelists, at least 1."
    return None


def frozen_study_check(study: "Study | None", what: str) -> None:
    """ValidationError when ``study`` is frozen: ``what`` (e.g. "pair p1: ...") cannot change."""
    from django.core.exceptions import ValidationError

    if study is not None and study.is_frozen:
        raise ValidationError(f"{what} cannot be added or changed: {study.frozen_reason()}.")


class Prompt(models.Model):
    """What both tracks of a pair answer: a melody, a lyric, a text brief."""

    study = models.ForeignKey(Study, related_name="prompts", on_delete=models.CASCADE)
    external_id = models.CharField(max_length=100, help_text="prompt_id in manifests and exports")
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["study", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "external_id"], name="unique_prompt_per_study")
        ]

    def __str__(self) -> str:
        return self.external_id

    def clean(self):
        frozen_study_check(getattr(self, "study", None), f"prompt {self.external_id}")


def track_upload_to(track: "Track", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"tracks/{track.sha256[:2]}/{track.sha256}.{extension}"


class Track(models.Model):
    """One system's audio for one prompt, as delivered, with its checksum and provenance."""

    prompt = models.ForeignKey(Prompt, related_name="tracks", on_delete=models.CASCADE)
    system = models.ForeignKey(System, related_name="tracks", on_delete=models.PROTECT)
    file = models.FileField(upload_to=track_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64)
    decoded_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text=(
            "SHA-256 of the decoded samples (float32, with rate and channels): the same audio "
            "in another container or lossless codec has the same value. Empty for tracks "
            "stored before it was recorded."
        ),
    )
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=8, blank=True)
    duration_s = models.FloatField()
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt", "system"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "system"], name="unique_track_per_prompt")
        ]

    def __str__(self) -> str:
        return f"{self.prompt.external_id}/{self.system.name}"

    def clean(self):
        prompt = getattr(self, "prompt", None) if self.prompt_id else None
        frozen_study_check(prompt.study if prompt else None, f"track {self.original_name}")


def stimulus_upload_to(stimulus: "Stimulus", filename: str) -> str:
    return f"stimuli/{secrets.token_hex(16)}.{stimulus.codec}"


class Stimulus(models.Model):
    """A track prepared for blind listening: excerpted, loudness-matched, re-encoded, untagged."""

    class Kind(models.TextChoices):
        REGULAR = "regular", "regular"
        ANCHOR = "anchor", "low-quality anchor (catch)"
        # Catch copies: the track's excerpt under other bytes, not audibly different
        # (docs/stimuli.md), so that no download is byte-identical to another.
        CATCH_FULL = "catch_full", "unfiltered side of the anchor catch"
        TWIN_1 = "twin_1", "identical-pair catch, first copy"
        TWIN_2 = "twin_2", "identical-pair catch, second copy"

    track = models.ForeignKey(Track, related_name="stimuli", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REGULAR)
    file = models.FileField(upload_to=stimulus_upload_to, max_length=255)
    codec = models.CharField(max_length=8, default="flac")
    sample_rate = models.PositiveIntegerField()
    channels = models.PositiveSmallIntegerField()
    duration_s = models.FloatField()
    excerpt_start_s = models.FloatField()
    loudness_lufs = models.FloatField()
    true_peak_dbtp = models.FloatField()
    gain_db = models.FloatField(help_text="Gain applied to reach the target, after peak limiting.")
    peak_reduction_db = models.FloatField(
        default=0.0,
        help_text=(
            "How far the whole prompt was lowered below the loudness target so that no "
            "track's true peak passes the ceiling (the same for every track of the prompt)."
        ),
    )
    bitrate_kbps = models.PositiveIntegerField(default=0, help_text="Nominal; 0 for FLAC.")
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "stimuli"
        constraints = [
            models.UniqueConstraint(fields=["track", "kind"], name="unique_stimulus_per_track_kind")
        ]

    def __str__(self) -> str:
        return f"{self.track} ({self.kind})"

    def clean(self):
        study = self.track.prompt.study if self.track_id else None
        frozen_study_check(study, f"stimulus {self.pk or ''}".strip())


class Pair(models.Model):
    """What a trial plays, by the study's design (``kind``):

    - ``ab``: two stimuli answering the same prompt; `first`/`second` in system-name order
      (or a catch pair);
    - ``single``: one stimulus, rated alone: `first` and `second` are that stimulus;
    - ``pool``: a prompt's pool; `first` and `second` are the prompt's first stimulus (in
      system-name order) and mean nothing else: each trial's candidates, their subset and
      screen order, are its ``TrialCandidate`` rows."""

    class Kind(models.TextChoices):
        AB = "ab", "A/B pair"
        SINGLE = "single", "single track"
        POOL = "pool", "pool of one prompt"

    study = models.ForeignKey(Study, related_name="pairs", on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.AB)
    prompt = models.ForeignKey(Prompt, related_name="pairs", on_delete=models.CASCADE)
    first = models.ForeignKey(Stimulus, related_name="+", on_delete=models.PROTECT)
    second = models.ForeignKey(Stimulus, related_name="+", on_delete=models.PROTECT)
    is_catch = models.BooleanField(default=False)

    class Meta:
        ordering = ["study", "prompt", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "first", "second"], name="unique_pair_per_study"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prompt}: {self.first.track.system} vs {self.second.track.system}"

    def clean(self):
        frozen_study_check(self.study if self.study_id else None, f"pair {self.pk or ''}".strip())

    @property
    def catch_kind(self) -> str:
        """'' for a regular pair; 'identical' (two copies of one excerpt; one file twice in
        studies prepared before catch copies) or 'anchor' (low-passed against unfiltered)."""
        if not self.is_catch:
            return ""
        if self.first_id == self.second_id or self.first.kind == Stimulus.Kind.TWIN_1:
            return "identical"
        return "anchor"

    def catch_expected_choice(self, *, swapped: bool) -> str:
        """The answer a catch trial must get to pass: 'tie' for two identical excerpts, else
        the side that plays the reference rather than its low-quality anchor."""
        if self.catch_kind == "identical":
            return "tie"
        first_is_anchor = self.first.kind == Stimulus.Kind.ANCHOR
        first_side, second_side = ("b", "a") if swapped else ("a", "b")
        return second_side if first_is_anchor else first_side
