"""Trials (a pair shown to one panelist in one position) and the responses they collect."""

from django.db import models
from django.db.models import Q

from evaluation.models.panel import Panelist
from evaluation.models.study import Pair, Prompt, opaque_token

POOL_SIDES = "abcdefghij"
"""A pool trial's sides: screen position n (1-based) is ``POOL_SIDES[n - 1]``."""


class Familiar(models.TextChoices):
    NO = "no", "no"
    SOUNDS_FAMILIAR = "sounds_familiar", "sounds familiar"
    KNOWS_IT = "knows_it", "I know it"


class GuessKind(models.TextChoices):
    HUMAN = "human", "made by a human"
    AI = "ai", "made by AI"


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
    active_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the holder first showed real activity (audio fetched) on this reservation.",
    )
    stratum = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text="The quota stratum this slot is rated in (empty: the study has no quotas).",
    )
    is_catch = models.BooleanField(
        default=False, help_text="A quality-control trial made for one panelist (not a slot)."
    )

    class Meta:
        ordering = ["pair", "round"]
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "stratum", "round"], name="unique_slot_per_pair_stratum_round"
            ),
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

    @property
    def kind(self) -> str:
        """The trial's design: ab, single or pool (its pair's kind)."""
        return self.pair.kind

    def sides(self) -> tuple[str, ...]:
        """The trial's audio sides as the page and its URLs name them: ('a', 'b') for A/B,
        ('a',) for a single track, 'a', 'b', 'c', ... (screen positions 1..N) for a pool."""
        if self.pair.kind == "single":
            return ("a",)
        if self.pair.kind == "pool":
            return tuple(POOL_SIDES[: self.candidates.count()])
        return ("a", "b")

    def stimulus_at(self, side: str):
        """The stimulus that plays at position 'a' or 'b' (server-side only); for a pool, at
        screen position ``POOL_SIDES.index(side) + 1``. ValueError for any other side."""
        if self.pair.kind == "single":
            if side != "a":
                raise ValueError(f"a single-track trial has only side 'a', not {side!r}")
            return self.pair.first
        if self.pair.kind == "pool":
            position = POOL_SIDES.index(side) + 1 if side in POOL_SIDES else 0
            candidate = self.candidates.select_related("stimulus__track__system")
            candidate = candidate.filter(position=position).first()
            if candidate is None:
                raise ValueError(f"no candidate at side {side!r} of this pool trial")
            return candidate.stimulus
        first_plays_a = not self.swapped
        if side == "a":
            return self.pair.first if first_plays_a else self.pair.second
        if side == "b":
            return self.pair.second if first_plays_a else self.pair.first
        raise ValueError(f"side must be 'a' or 'b', not {side!r}")


class TrialCandidate(models.Model):
    """One candidate of a pool trial: which stimulus shows at which screen position. Made
    with the slot (services.studies.slots_ensure), so the subset and order are fixed per slot
    and balanced across the K slots of a pool."""

    trial = models.ForeignKey(Trial, related_name="candidates", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(help_text="1-based screen position")
    stimulus = models.ForeignKey("evaluation.Stimulus", related_name="+", on_delete=models.PROTECT)

    class Meta:
        ordering = ["trial", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "position"], name="unique_candidate_position"),
            models.UniqueConstraint(fields=["trial", "stimulus"], name="unique_candidate_stimulus"),
        ]

    def __str__(self) -> str:
        return f"trial {self.trial_id} #{self.position}"


class Response(models.Model):
    """A panelist's judgement of one trial; stored once, never overwritten.

    It also keeps what the answer meant when it was given (the snapshot fields below: which
    system and stimulus played as A and B, which side was human or AI, the study's protocol
    version, hash and seed). Exports, statistics, results and the API read the snapshot only,
    so no later edit of a track, pair, trial or protocol changes an answer's meaning."""

    trial = models.OneToOneField(Trial, related_name="response", on_delete=models.PROTECT)
    panelist = models.ForeignKey(Panelist, related_name="responses", on_delete=models.PROTECT)
    trial_kind = models.CharField(
        max_length=8, default="ab", help_text="the trial's design: ab, single or pool"
    )
    choice = models.CharField(
        max_length=8, choices=Choice.choices, blank=True, help_text="A/B only; empty otherwise"
    )
    liked_a = models.BooleanField(null=True, blank=True)
    liked_b = models.BooleanField(null=True, blank=True)
    guess_ai = models.CharField(max_length=8, choices=GuessAI.choices, blank=True)
    listen_a_s = models.FloatField()
    listen_b_s = models.FloatField(help_text="0 for single and pool answers (no B)")
    familiar = models.CharField(max_length=16, choices=Familiar.choices, blank=True)
    playlist_a = models.BooleanField(null=True, blank=True)
    playlist_b = models.BooleanField(null=True, blank=True)
    release_a = models.BooleanField(null=True, blank=True)
    release_b = models.BooleanField(null=True, blank=True)
    rating_a = models.PositiveSmallIntegerField(null=True, blank=True, help_text="liked, 1-5")
    rating_b = models.PositiveSmallIntegerField(null=True, blank=True, help_text="liked, 1-5")
    guess_kind = models.CharField(max_length=8, choices=GuessKind.choices, blank=True)
    guess_confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="percent, 50-100"
    )
    weaker_a = models.CharField(
        max_length=200, blank=True, help_text="aspects weaker, ';'-joined, catalogue order"
    )
    weaker_b = models.CharField(max_length=200, blank=True)
    aspects = models.JSONField(
        default=dict,
        blank=True,
        help_text='{name: {"choice": "a"|"b"|"tie"}} or {name: {"a": 1-5, "b": 1-5}}',
    )
    pool_size = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField()

    # The snapshot, taken by services.responses.response_record at record time.
    prompt_external_id = models.CharField(max_length=100, help_text="prompt_id at answer time")
    system_a = models.CharField(max_length=100, help_text="system heard as A")
    system_b = models.CharField(max_length=100, help_text="system heard as B")
    system_a_kind = models.CharField(max_length=8, help_text="human or ai: system A's kind")
    system_b_kind = models.CharField(
        max_length=8, blank=True, help_text="human or ai: system B's kind"
    )
    stimulus_a = models.ForeignKey(
        "evaluation.Stimulus", related_name="+", on_delete=models.PROTECT, help_text="heard as A"
    )
    stimulus_b = models.ForeignKey(
        "evaluation.Stimulus",
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="heard as B (A/B only)",
    )
    stimulus_a_sha256 = models.CharField(max_length=64, help_text="SHA-256 of A's audio file")
    stimulus_b_sha256 = models.CharField(max_length=64, help_text="SHA-256 of B's audio file")
    track_a_sha256 = models.CharField(max_length=64, help_text="SHA-256 of A's source track")
    track_b_sha256 = models.CharField(max_length=64, help_text="SHA-256 of B's source track")
    position_swapped = models.BooleanField(help_text="the pair's second stimulus played as A")
    is_catch = models.BooleanField(default=False)
    catch_passed = models.BooleanField(
        null=True, blank=True, help_text="for a catch trial, whether it passed; else empty"
    )
    study_version = models.PositiveIntegerField()
    study_config_hash = models.CharField(max_length=16, help_text="protocol hash at answer time")
    study_seed = models.PositiveIntegerField()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["panelist", "trial"], name="one_response_per_trial"),
            models.CheckConstraint(
                condition=Q(choice__in=["a", "b", "tie"]) | Q(trial_kind__in=["single", "pool"]),
                name="response_choice_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"response {self.pk}: {self.choice}"

    @property
    def ai_side(self) -> str:
        """Which position held an AI system, from the snapshot: a, b, both or none."""
        a_is_ai, b_is_ai = self.system_a_kind == "ai", self.system_b_kind == "ai"
        return {(True, True): "both", (True, False): "a", (False, True): "b"}.get(
            (a_is_ai, b_is_ai), "none"
        )

    @property
    def preferred_system(self) -> str:
        return {"a": self.system_a, "b": self.system_b}.get(self.choice, "")


class ResponseCandidate(models.Model):
    """A pool answer's view of one candidate, snapshot at record time: what was shown where,
    what it was, how long it was heard, and its rank (1 = favourite, 2/3 = the optional top 3)."""

    response = models.ForeignKey(Response, related_name="candidates", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(help_text="1-based screen position")
    stimulus = models.ForeignKey("evaluation.Stimulus", related_name="+", on_delete=models.PROTECT)
    system = models.CharField(max_length=100)
    system_kind = models.CharField(max_length=8)
    stimulus_sha256 = models.CharField(max_length=64)
    track_sha256 = models.CharField(max_length=64)
    listen_s = models.FloatField(help_text="seconds this candidate was audible")
    heard_s = models.FloatField(null=True, blank=True, help_text="distinct seconds heard")
    pick_rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["response", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "position"], name="unique_response_candidate"
            )
        ]

    def __str__(self) -> str:
        return f"response {self.response_id} #{self.position}"
