"""Preparing a study's tracks into matched stimuli and pairing them."""

import hashlib
from collections.abc import Callable
from itertools import combinations

from django.core.files.base import ContentFile
from django.db import transaction

from evaluation.models import AuditEntry, Job, Pair, Prompt, Stimulus, Study, Track
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record
from evaluation.services.jobs import job_queue
from evaluation.services.storage import files_removed_on_error
from evaluation.services.studies import study_unfrozen_require
from evaluation.stimuli.audio import CODEC_EXTENSIONS, AudioError, decode
from evaluation.stimuli.pipeline import (
    EncodedStimulus,
    MatchSettings,
    TrackAudioError,
    prepare_prompt,
)

Progress = Callable[[int, int], None]


def match_settings_for(study: Study) -> MatchSettings:
    return MatchSettings(
        sample_rate=study.sample_rate,
        excerpt_s=study.excerpt_s,
        target_lufs=study.target_lufs,
        max_true_peak_dbtp=study.max_true_peak_dbtp,
        excerpt_start_s=study.excerpt_start_s,
        codec=study.codec,
        bitrate_kbps=study.bitrate_kbps,
    )


def _prompt_tracks(prompt: Prompt) -> list[Track]:
    return list(prompt.tracks.select_related("system").order_by("system__name"))


def _track_error(track: Track, reason) -> ServiceError:
    return ServiceError(
        f"prompt {track.prompt.external_id}: track {track} ({track.original_name}) {reason}",
        code="bad_track",
    )


def _stimulus_store(
    *, track: Track, kind: str, encoded: EncodedStimulus, written: list
) -> Stimulus:
    stimulus = Stimulus(
        track=track,
        kind=kind,
        codec=encoded.codec,
        bitrate_kbps=encoded.bitrate_kbps,
        sample_rate=encoded.sample_rate,
        channels=encoded.channels,
        duration_s=encoded.duration_s,
        excerpt_start_s=encoded.excerpt_start_s,
        loudness_lufs=encoded.loudness_lufs,
        true_peak_dbtp=encoded.true_peak_dbtp,
        gain_db=encoded.gain_db,
        peak_reduction_db=encoded.peak_reduction_db,
        size_bytes=len(encoded.content),
        sha256=hashlib.sha256(encoded.content).hexdigest(),
    )
    # The name is random (stimulus_upload_to); this one only carries the extension.
    stimulus.file.save(
        f"s.{CODEC_EXTENSIONS[encoded.codec]}", ContentFile(encoded.content), save=False
    )
    written.append(stimulus.file.name)
    stimulus.save()
    return stimulus


def prompt_prepare(
    *, prompt: Prompt, settings: MatchSettings, with_anchor: bool = False
) -> list[Stimulus]:
    """Make one stimulus per track of the prompt, all matched together, plus the low-quality
    anchor of its human reference when `with_anchor`; atomic per prompt."""
    tracks = _prompt_tracks(prompt)
    decoded = []
    for track in tracks:
        try:
            decoded.append(decode(track.file.path))
        except AudioError as exc:
            raise _track_error(track, exc) from exc
    references = [index for index, track in enumerate(tracks) if track.system.is_human]
    anchor_of = references[0] if with_anchor and references else None
    try:
        encoded, anchor = prepare_prompt(decoded, settings, anchor_of=anchor_of)
    except TrackAudioError as exc:
        raise _track_error(tracks[exc.index], exc) from exc
    except AudioError as exc:
        raise ServiceError(f"prompt {prompt.external_id}: {exc}", code="bad_track") from exc
    stimuli = []
    with files_removed_on_error() as written, transaction.atomic():
        for track, audio in zip(tracks, encoded, strict=True):
            stimuli.append(
                _stimulus_store(
                    track=track, kind=Stimulus.Kind.REGULAR, encoded=audio, written=written
                )
            )
        if anchor is not None:
            stimuli.append(
                _stimulus_store(
                    track=tracks[anchor_of],
                    kind=Stimulus.Kind.ANCHOR,
                    encoded=anchor,
                    written=written,
                )
            )
    return stimuli


def pairs_build(*, study: Study) -> int:
    """One pair per prompt and pair of systems that both have a stimulus; returns new pairs."""
    created = 0
    stimuli = (
        Stimulus.objects.filter(track__prompt__study=study, kind=Stimulus.Kind.REGULAR)
        .select_related("track__system", "track__prompt")
        .order_by("track__prompt_id", "track__system__name")
    )
    by_prompt: dict[int, list[Stimulus]] = {}
    for stimulus in stimuli:
        by_prompt.setdefault(stimulus.track.prompt_id, []).append(stimulus)
    for prompt_id, group in by_prompt.items():
        for first, second in combinations(group, 2):
            _, was_created = Pair.objects.get_or_create(
                study=study, first=first, second=second, defaults={"prompt_id": prompt_id}
            )
            created += was_created
    return created


def catch_pairs_build(*, study: Study) -> int:
    """Catch pairs of every prepared prompt: its reference against the reference's low-pass
    anchor, and one excerpt against itself (the first AI system's, else the first). Returns
    how many were new."""
    created = 0
    anchors = Stimulus.objects.filter(track__prompt__study=study, kind=Stimulus.Kind.ANCHOR)
    for anchor in anchors.select_related("track"):
        prompt_regular = Stimulus.objects.filter(
            track__prompt_id=anchor.track.prompt_id, kind=Stimulus.Kind.REGULAR
        )
        reference = prompt_regular.get(track=anchor.track)
        # AI systems first ("ai" < "human"): the repeated excerpt is an AI system's if any.
        repeated = prompt_regular.order_by("track__system__kind", "track__system__name")[0]
        for first, second in ((reference, anchor), (repeated, repeated)):
            _, was_created = Pair.objects.get_or_create(
                study=study,
                first=first,
                second=second,
                defaults={"prompt_id": anchor.track.prompt_id, "is_catch": True},
            )
            created += was_created
    return created


def stimuli_prepare(*, study: Study, progress: Progress | None = None) -> dict:
    """Prepare every prompt that has no stimuli yet, then build pairs (and catch pairs when
    the study has a catch rate). Returns a summary. Refused once the study has opened: its
    stimuli and pairs are frozen."""
    study_unfrozen_require(study)
    settings = match_settings_for(study)
    with_anchor = study.catch_rate > 0
    prompts = [
        prompt
        for prompt in study.prompts.order_by("external_id")
        if prompt.tracks.count() >= 2
        and not Stimulus.objects.filter(track__prompt=prompt, kind=Stimulus.Kind.REGULAR).exists()
    ]
    failures = []
    for done, prompt in enumerate(prompts, start=1):
        try:
            prompt_prepare(prompt=prompt, settings=settings, with_anchor=with_anchor)
        except ServiceError as exc:
            failures.append(str(exc))
        if progress:
            progress(done, len(prompts))
    new_pairs = pairs_build(study=study) + catch_pairs_build(study=study)
    if prompts or new_pairs:
        audit_record(
            study=study,
            action=AuditEntry.Action.PREPARE,
            detail={"prompts": len(prompts), "pairs": new_pairs, "failures": len(failures)},
        )
    return {"prompts": len(prompts), "failures": failures, "pairs": new_pairs}


def stimuli_prepare_queue(*, study: Study, user=None) -> Job:
    """Queue stimulus preparation for a study that has not opened yet, and audit who asked."""
    study_unfrozen_require(study)
    job = job_queue(study=study, kind=Job.Kind.PREPARE_STIMULI)
    audit_record(
        study=study,
        action=AuditEntry.Action.PREPARE,
        user=user,
        detail={"job": job.pk, "queued": True},
    )
    return job
