from rest_framework import serializers

from evaluation.models import Job, Study
from evaluation.selectors.jobs import job_display_status, job_is_stale


class StudySerializer(serializers.ModelSerializer):
    systems = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    config_hash = serializers.CharField(read_only=True)
    previous_version = serializers.SlugRelatedField(read_only=True, slug_field="slug")

    class Meta:
        model = Study
        fields = [
            "slug",
            "title",
            "description",
            "status",
            "systems",
            "seed",
            "ratings_per_pair",
            "trials_per_panelist",
            "min_listen_s",
            "excerpt_s",
            "target_lufs",
            "ask_liked",
            "ask_ai",
            "config_hash",
            "created_at",
            "opened_at",
            "closed_at",
            "excerpt_start_s",
            "max_true_peak_dbtp",
            "sample_rate",
            "codec",
            "bitrate_kbps",
            "catch_rate",
            "headphone_check",
            "headphone_items",
            "headphone_pass_min",
            "headphone_attempts",
            "version",
            "previous_version",
            *Study.DESIGN_FIELDS,
            "listener_texts",
            "default_language",
        ]
        read_only_fields = fields


class StudyDesignSerializer(serializers.Serializer):
    """Body of PATCH /api/studies/<slug>/design/: any of the design settings (docs/architecture.md,
    "Study designs"); the combination is checked by the service (Study.design_errors)."""

    design = serializers.ChoiceField(choices=Study.Design.choices, required=False)
    aspects = serializers.JSONField(
        required=False,
        help_text='{name: "preference" | "rating"}, names from melody, lyrics, vocals, '
        "arrangement, structure, emotion, production, originality, prompt_adherence",
    )
    ask_rating = serializers.BooleanField(required=False)
    ask_weaker = serializers.BooleanField(required=False)
    ask_familiar = serializers.BooleanField(required=False)
    ask_hit = serializers.BooleanField(required=False)
    pool_size = serializers.IntegerField(required=False, min_value=3, max_value=10)
    pool_rank_top3 = serializers.BooleanField(required=False)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: "not a design setting" for name in unknown})
        return attrs


class ListenerTextsSerializer(serializers.Serializer):
    """Body of PUT /api/studies/<slug>/listener-texts/ (each field optional; checked by
    services.studies.study_listener_texts_set)."""

    listener_texts = serializers.JSONField(
        required=False,
        help_text='{"en": {"title", "description", "consent"}, "zh-hans": {...}}; replaces the '
        "stored map",
    )
    default_language = serializers.CharField(required=False, help_text='"en" or "zh-hans"')


class JobSerializer(serializers.ModelSerializer):
    study = serializers.SlugRelatedField(read_only=True, slug_field="slug")
    percent = serializers.IntegerField(read_only=True)
    status = serializers.SerializerMethodField(
        help_text="queued, running, done, failed, cancelled, or stale: running but its worker "
        "sent no heartbeat for JOB_STALE_S seconds (it died; cancel ends the job)"
    )
    stale = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "study",
            "kind",
            "status",
            "done",
            "total",
            "percent",
            "message",
            "failures",
            "parameters",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "attempts",
            "stale",
        ]
        read_only_fields = fields

    def get_status(self, job: Job) -> str:
        return job_display_status(job)

    def get_stale(self, job: Job) -> bool:
        return job_is_stale(job)


class GenerateTracksSerializer(serializers.Serializer):
    """Body of POST /api/studies/<slug>/generate/ (every field optional)."""

    system = serializers.CharField(required=False, help_text='"builtin" (neural) or "markov"')
    prompts = serializers.IntegerField(required=False, help_text="chorale melodies to set")
    split = serializers.CharField(required=False, default="test")
