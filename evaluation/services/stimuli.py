"""Preparing a study's tracks into matched stimuli and pairing them."""

import hashlib
from collections.abc import Callable
from itertools import combinations

from django.core.files.base import ContentFile
from django.db import transaction

from evaluation.models import Pair, Prompt, Stimulus, Study, Track
from evaluation.services import ServiceError
from evaluation.services.storage import files_removed_on_error
from evaluation.stimuli.audio import AudioError, decode, encode_flac
from evaluation.stimuli.pipeline import MatchSettings, match_tracks

Progress = Callable[[int, int], None]


def match_settings_for(study: Study) -> MatchSettings:
    return MatchSettings(
        sample_rate=study.sample_rate,
        excerpt_s=study.excerpt_s,
        target_lufs=study.target_lufs,
        max_true_peak_dbtp=study.max_true_peak_dbtp,
    )


def _prompt_tracks(prompt: Prompt) -> list[Track]:
    return list(prompt.tracks.select_related("system").order_by("system__name"))


def prompt_prepare(*, prompt: Prompt, settings: MatchSettings) -> list[Stimulus]:
    """Make one stimulus per track of the prompt, all matched together; atomic per prompt."""
    tracks = _prompt_tracks(prompt)
    decoded = []
    for track in tracks:
        try:
            with track.file.open("rb"):
                decoded.append(decode(track.file.path))
        except AudioError as exc:
            raise ServiceError(
                f"track {track} ({track.original_name}) {exc}", code="bad_track"
            ) from exc
    try:
        prepared = match_tracks(decoded, settings)
    except AudioError as exc:
        raise ServiceError(f"prompt {prompt.external_id}: a track {exc}", code="bad_track") from exc
    stimuli = []
    with files_removed_on_error() as written, transaction.atomic():
        for track, audio in zip(tracks, prepared, strict=True):
            encoded = encode_flac(audio.samples, audio.sample_rate)
            stimulus = Stimulus(
                track=track,
                codec="flac",
                sample_rate=audio.sample_rate,
                channels=int(audio.samples.shape[0]),
                duration_s=audio.duration_s,
                excerpt_start_s=audio.excerpt_start_s,
                loudness_lufs=audio.loudness_lufs,
                true_peak_dbtp=audio.true_peak_dbtp,
                gain_db=audio.gain_db,
                size_bytes=len(encoded),
                sha256=hashlib.sha256(encoded).hexdigest(),
            )
            stimulus.file.save("stimulus.flac", ContentFile(encoded), save=False)
            written.append(stimulus.file.name)
            stimulus.save()
            stimuli.append(stimulus)
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


def stimuli_prepare(*, study: Study, progress: Progress | None = None) -> dict:
    """Prepare every prompt that has no stimuli yet, then build pairs. Returns a summary."""
    settings = match_settings_for(study)
    prompts = [
        prompt
        for prompt in study.prompts.order_by("external_id")
        if prompt.tracks.count() >= 2
        and not Stimulus.objects.filter(track__prompt=prompt, kind=Stimulus.Kind.REGULAR).exists()
    ]
    failures = []
    for done, prompt in enumerate(prompts, start=1):
        try:
            prompt_prepare(prompt=prompt, settings=settings)
        except ServiceError as exc:
            failures.append(str(exc))
        if progress:
            progress(done, len(prompts))
    new_pairs = pairs_build(study=study)
    return {"prompts": len(prompts), "failures": failures, "pairs": new_pairs}
