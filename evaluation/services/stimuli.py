"""Preparing a study's tracks into matched stimuli and pairing them."""

import hashlib
import random
from collections.abc import Callable
from itertools import combinations

from django.core.files.base import ContentFile
from django.db import transaction

from evaluation.models import AuditEntry, Job, Pair, Prompt, Stimulus, Study, Track
from evaluation.selectors.media import media_local_path
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
    prepare_prompt_with_catch,
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


def catch_sources(*, prompt: Prompt, n_tracks: int) -> tuple[int, int, int]:
    """(anchor_of, twin_of, dither_seed) for a prompt: which track (index in system-name order)
    gives the anchor catch and which the identical pair, drawn from the study seed and the
    prompt, so that knowing how catch trials are made says nothing about which system is AI."""
    digest = hashlib.sha256(f"{prompt.study.seed}:{prompt.external_id}:catch".encode()).digest()
    rng = random.Random(digest)
    return rng.randrange(n_tracks), rng.randrange(n_tracks), int.from_bytes(digest[:4], "big")


def prompt_prepare(
    *, prompt: Prompt, settings: MatchSettings, with_catch: bool = False
) -> list[Stimulus]:
    """Make one stimulus per track of the prompt, all matched together, plus, when
    `with_catch`, its catch stimuli (anchor, unfiltered copy, two identical-pair copies;
    docs/stimuli.md); atomic per prompt."""
    tracks = _prompt_tracks(prompt)
    decoded = []
    for track in tracks:
        try:
            with media_local_path(track.file) as path:
                decoded.append(decode(path))
        except AudioError as exc:
            raise _track_error(track, exc) from exc
        except FileNotFoundError as exc:
            raise _track_error(track, "is missing from storage") from exc
    catch_files = {}
    try:
        if with_catch:
            anchor_of, twin_of, seed = catch_sources(prompt=prompt, n_tracks=len(tracks))
            encoded, catch = prepare_prompt_with_catch(
                decoded, settings, anchor_of=anchor_of, twin_of=twin_of, seed=seed
            )
            catch_files = {
                Stimulus.Kind.ANCHOR: (tracks[anchor_of], catch.anchor),
                Stimulus.Kind.CATCH_FULL: (tracks[anchor_of], catch.full),
                Stimulus.Kind.TWIN_1: (tracks[twin_of], catch.twin_1),
                Stimulus.Kind.TWIN_2: (tracks[twin_of], catch.twin_2),
            }
        else:
            encoded, _ = prepare_prompt(decoded, settings)
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
        for kind, (track, audio) in catch_files.items():
            stimuli.append(_stimulus_store(track=track, kind=kind, encoded=audio, written=written))
    return stimuli


def pairs_build(*, study: Study) -> int:
    """The study's pairs for its design; returns how many were new.

    - ab: one pair per prompt and pair of systems that both have a stimulus;
    - single: one pair per stimulus (first = second = the stimulus);
    - pool: one pair per prompt with at least ``pool_size`` stimuli (its trials' candidates
      are made with the slots, services.studies.slots_ensure).

    Pairs of another design (left from before the design changed in the draft) are removed:
    a draft has no trials yet."""
    Pair.objects.filter(study=study, is_catch=False).exclude(kind=study.design).delete()
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
        if study.design != Study.Design.AB:
            singles = group if study.design == Study.Design.SINGLE else group[:1]
            if study.design == Study.Design.POOL and len(group) < study.pool_size:
                continue  # too few tracks for a pool: study_open says which prompts
            for stimulus in singles:
                _, was_created = Pair.objects.get_or_create(
                    study=study,
                    first=stimulus,
                    second=stimulus,
                    defaults={"prompt_id": prompt_id, "kind": study.design},
                )
                created += was_created
            continue
        for first, second in combinations(group, 2):
            _, was_created = Pair.objects.get_or_create(
                study=study, first=first, second=second, defaults={"prompt_id": prompt_id}
            )
            created += was_created
    return created


def catch_pairs_build(*, study: Study) -> int:
    """Catch pairs of every prompt prepared with catch stimuli: the unfiltered copy against
    the anchor, and the two identical-pair copies. Returns how many were new."""
    created = 0
    if study.design != Study.Design.AB:
        return 0  # catch trials are A/B trials (Study.design_errors refuses a catch rate)
    catch_kinds = (
        Stimulus.Kind.ANCHOR,
        Stimulus.Kind.CATCH_FULL,
        Stimulus.Kind.TWIN_1,
        Stimulus.Kind.TWIN_2,
    )
    by_prompt: dict[int, dict[str, Stimulus]] = {}
    for stimulus in Stimulus.objects.filter(track__prompt__study=study, kind__in=catch_kinds):
        by_prompt.setdefault(stimulus.track.prompt_id, {})[stimulus.kind] = stimulus
    for prompt_id, kinds in sorted(by_prompt.items()):
        if len(kinds) < len(catch_kinds):
            continue  # prepared before catch copies existed: prepare again to get them
        for first, second in (
            (kinds[Stimulus.Kind.CATCH_FULL], kinds[Stimulus.Kind.ANCHOR]),
            (kinds[Stimulus.Kind.TWIN_1], kinds[Stimulus.Kind.TWIN_2]),
        ):
            _, was_created = Pair.objects.get_or_create(
                study=study,
                first=first,
                second=second,
                defaults={"prompt_id": prompt_id, "is_catch": True},
            )
            created += was_created
    return created


def stimuli_prepare(*, study: Study, progress: Progress | None = None) -> dict:
    """Prepare every prompt that has no stimuli yet, then build pairs (and catch pairs when
    the study has a catch rate). Returns a summary. Refused once the study has opened: its
    stimuli and pairs are frozen."""
    study_unfrozen_require(study)
    settings = match_settings_for(study)
    with_catch = study.catch_rate > 0
    prompts = [
        prompt
        for prompt in study.prompts.order_by("external_id")
        # A single-track study rates tracks alone: a prompt with one track is enough.
        if prompt.tracks.count() >= (1 if study.design == Study.Design.SINGLE else 2)
        and not Stimulus.objects.filter(track__prompt=prompt, kind=Stimulus.Kind.REGULAR).exists()
    ]
    failures = []
    for done, prompt in enumerate(prompts, start=1):
        try:
            prompt_prepare(prompt=prompt, settings=settings, with_catch=with_catch)
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
