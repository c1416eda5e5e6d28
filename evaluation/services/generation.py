"""Generating a study's tracks with the built-in generator: Bach's setting vs a system's.

Each prompt is the soprano melody of a chorale from a held-out split; its two tracks (Bach's
own harmonization and the system's) are rendered by the one shared renderer. Generation is
idempotent: a prompt whose two tracks exist is skipped, a missing one is made, nothing is ever
stored twice, so re-running a cancelled or partly failed job fills the gaps.
"""

from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction

from evaluation.models import AuditEntry, Job, Study, System, Track
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record
from evaluation.services.jobs import job_queue
from evaluation.services.storage import files_removed_on_error
from evaluation.services.studies import system_get_or_create
from evaluation.services.tracks import TrackInput, tracks_store
from evaluation.stimuli.audio import audio_fingerprint, decode_bytes, encode_flac

REFERENCE_SYSTEM = "Bach (human reference)"
GENERATOR_SYSTEMS = {"builtin": "Built-in neural harmonizer", "markov": "Markov baseline"}


def generator_systems() -> dict[str, str]:
    """Generator key -> System name, for the generators usable right now: the built-in ones
    whose model ships, plus ``http`` when ``EARSHOT["GENERATION_HTTP_URL"]`` is set."""
    from generation.backends import available_systems

    usable = {k: v for k, v in GENERATOR_SYSTEMS.items() if k in available_systems()}
    if settings.EARSHOT.get("GENERATION_HTTP_URL"):
        usable["http"] = settings.EARSHOT["GENERATION_HTTP_SYSTEM"]
    return usable


def study_draft_require(study: Study) -> None:
    """ServiceError unless ``study`` is a draft: an open study's pairs must not change."""
    if study.status != Study.Status.DRAFT:
        raise ServiceError(
            f"study '{study.slug}' is {study.status}; tracks can be generated for a draft only",
            code="not_draft",
        )


def generator_default() -> str:
    """The neural ``builtin`` system when its checkpoint ships, else the Markov baseline."""
    from generation.backends import available_systems

    return "builtin" if "builtin" in available_systems() else "markov"


def generation_parameters_clean(
    *, study: Study, system: str | None = None, prompts: int | None = None, split: str = "test"
) -> dict:
    """Checked job parameters ``{"system", "prompts", "split"}``; ServiceError says what to fix.

    ``prompts`` defaults to the study's trials per panelist, capped by the split's size.
    """
    from generation.dataset import SPLITS, load_dataset

    study_draft_require(study)
    system = system or generator_default()
    usable = list(generator_systems())
    if system not in usable:
        raise ServiceError(
            f"unknown or unavailable generator {system!r}; choose one of {usable}",
            code="unknown_system",
        )
    if split not in SPLITS:
        raise ServiceError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    size = len(load_dataset().split[split])
    if prompts is None:
        prompts = min(study.trials_per_panelist, size)
    if not isinstance(prompts, int) or isinstance(prompts, bool) or not 1 <= prompts <= size:
        raise ServiceError(
            f"prompts must be a whole number from 1 to {size} (the {split} split's size), "
            f"got {prompts!r}"
        )
    return {"system": system, "prompts": prompts, "split": split}


def _http_track_input(prompt_id: str, prompt_text: str, system: str, audio) -> TrackInput:
    return TrackInput(
        kind=System.Kind.AI,
        source=System.Source.EXTERNAL_HTTP,
        decoded_sha256=audio_fingerprint(audio.samples, audio.sample_rate),
        label=f"prompt {prompt_id}",
        prompt_id=prompt_id,
        system=system,
        prompt_text=prompt_text,
        content=audio.content,
        original_name=f"{prompt_id.replace('/', '_')}.{audio.format.lower()}",
        format=audio.format.lower(),
        duration_s=audio.duration_s,
        sample_rate=audio.sample_rate,
        channels=int(audio.samples.shape[0]),
        provenance={**audio.provenance, "prompt_id": prompt_id, "prompt": prompt_text},
    )


def _track_input(
    prompt_id: str, prompt_text: str, system: str, rendered, *, kind: str, source: str
) -> TrackInput:
    content = encode_flac(rendered.samples, rendered.sample_rate)
    return TrackInput(
        kind=kind,
        source=source,
        # Of the stored FLAC, as an import of that file would compute it.
        decoded_sha256=audio_fingerprint(*decode_bytes(content, "flac")),
        label=f"prompt {prompt_id}",
        prompt_id=prompt_id,
        system=system,
        prompt_text=prompt_text,
        content=content,
        original_name=f"{prompt_id.replace('/', '_')}.flac",
        format="flac",
        duration_s=rendered.samples.shape[1] / rendered.sample_rate,
        sample_rate=rendered.sample_rate,
        channels=int(rendered.samples.shape[0]),
        provenance={**rendered.provenance, "prompt_id": prompt_id, "prompt": prompt_text},
    )


def tracks_generate(
    *,
    study: Study,
    system: str,
    prompts: int,
    split: str = "test",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Make the missing Bach and ``system`` tracks for ``prompts`` chorales of ``split``.

    The chorales are drawn by the study's seed (the same study always gets the same melodies);
    the sampling seed of each prompt follows from it (``generation.pairs.prompt_seed``). Each
    prompt is stored in its own transaction, so a failure or a cancellation (raised by
    ``progress``) keeps the prompts already done. Returns ``{"prompts", "created",
    "skipped", "failures"}`` (``failures``: "<prompt id>: <error>" lines).
    """
    from generation.backends import get_harmonizer
    from generation.backends.http import HttpBackend, prompt_payload
    from generation.pairs import (
        REFERENCE_SYSTEM as REFERENCE_NAME,
    )
    from generation.pairs import (
        harmonize_chorale,
        prompt_seed,
        prompt_text,
        render_track,
        select_chorales,
    )

    study_draft_require(study)
    usable = generator_systems()
    if system not in usable:
        raise ServiceError(
            f"unknown or unavailable generator {system!r}; choose one of {list(usable)}",
            code="unknown_system",
        )
    generator_name = usable[system]
    # Stated here, never guessed: Bach's own harmonizations are human-made, the generator's
    # (built-in or external) are AI. A stored system of the other kind is refused.
    system_get_or_create(name=REFERENCE_SYSTEM, kind=System.Kind.HUMAN, source=System.Source.CORPUS)
    source = System.Source.EXTERNAL_HTTP if system == "http" else System.Source.BUILTIN
    system_get_or_create(name=generator_name, kind=System.Kind.AI, source=source)
    if system == "http":
        backend = HttpBackend(
            settings.EARSHOT["GENERATION_HTTP_URL"],
            timeout_s=settings.EARSHOT["GENERATION_HTTP_TIMEOUT_S"],
        )
    else:
        harmonizer = get_harmonizer(system)
    chorales = select_chorales(n=prompts, seed=study.seed, split=split)
    created = skipped = 0
    failures: list[str] = []
    if progress:
        progress(0, len(chorales))
    for done, chorale in enumerate(chorales, start=1):
        existing = set(
            Track.objects.filter(
                prompt__study=study, prompt__external_id=chorale.chorale_id
            ).values_list("system__name", flat=True)
        )
        missing = [name for name in (REFERENCE_SYSTEM, generator_name) if name not in existing]
        if not missing:
            skipped += 1
        else:
            text = prompt_text(chorale)
            try:
                inputs = []
                if REFERENCE_SYSTEM in missing:
                    reference = render_track(
                        chorale, provenance={"system": REFERENCE_NAME, "seed": None}
                    )
                    inputs.append(
                        _track_input(
                            chorale.chorale_id,
                            text,
                            REFERENCE_SYSTEM,
                            reference,
                            kind=System.Kind.HUMAN,
                            source=System.Source.CORPUS,
                        )
                    )
                seed = prompt_seed(study.seed, chorale.chorale_id)
                if generator_name in missing and system == "http":
                    audio = backend.generate(prompt_payload(chorale, text=text), seed=seed)
                    inputs.append(
                        _http_track_input(chorale.chorale_id, text, generator_name, audio)
                    )
                elif generator_name in missing:
                    generated = render_track(
                        harmonize_chorale(chorale, system=system, seed=seed),
                        provenance={
                            **harmonizer.describe(),
                            "seed": seed,
                            "study_seed": study.seed,
                        },
                    )
                    inputs.append(
                        _track_input(
                            chorale.chorale_id,
                            text,
                            generator_name,
                            generated,
                            kind=System.Kind.AI,
                            source=System.Source.BUILTIN,
                        )
                    )
                with files_removed_on_error() as written, transaction.atomic():
                    tracks_store(study=study, inputs=inputs, written=written)
                created += len(inputs)
            except IntegrityError:
                skipped += 1  # another run stored this prompt meanwhile: nothing to add
            except ServiceError as exc:
                if exc.code != "duplicate_track":
                    failures.append(f"{chorale.chorale_id}: {exc}")
                skipped += exc.code == "duplicate_track"
            except Exception as exc:  # one bad prompt must not stop the others
                failures.append(f"{chorale.chorale_id}: {type(exc).__name__}: {exc}")
        if progress:
            progress(done, len(chorales))
    if created or failures:
        audit_record(
            study=study,
            action=AuditEntry.Action.GENERATE,
            detail={"system": system, "created": created, "failures": len(failures)},
        )
    return {"prompts": len(chorales), "created": created, "skipped": skipped, "failures": failures}


def tracks_generate_queue(*, study: Study, user=None, **parameters) -> Job:
    """Check the generation parameters (``generation_parameters_clean``), queue the job and
    audit who asked for it. ServiceError says what to fix; nothing is queued then."""
    cleaned = generation_parameters_clean(study=study, **parameters)
    job = job_queue(study=study, kind=Job.Kind.GENERATE_TRACKS, parameters=cleaned)
    audit_record(
        study=study,
        action=AuditEntry.Action.GENERATE,
        user=user,
        detail={"job": job.pk, "queued": True, **cleaned},
    )
    return job
