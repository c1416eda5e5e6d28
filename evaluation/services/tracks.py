"""Importing finished audio from a manifest CSV: validate every row, then store all or nothing."""

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.validators import validate_slug
from django.db import transaction

from evaluation.models import AuditEntry, Prompt, Study, System, Track
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record
from evaluation.services.storage import files_removed_on_error
from evaluation.services.studies import (
    study_get_or_create_draft,
    study_unfrozen_require,
    system_get_or_create,
)
from evaluation.stimuli.audio import AudioError, audio_fingerprint, decode
from evaluation.stimuli.pipeline import check_usable

REQUIRED_COLUMNS = ("prompt_id", "system", "file")
# `kind` (human or ai) is required on every row of a system that is not stored yet.
OPTIONAL_COLUMNS = ("kind", "prompt_text")


class ManifestError(ServiceError):
    code = "invalid_manifest"

    def __init__(self, manifest: Path, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"{manifest}: {len(problems)} problem(s), nothing was imported:\n{listing}\n"
            f"Fix the rows above and run the import again."
        )


# Bytes read at a time when hashing and copying an imported file: no file is ever held whole.
CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in CHUNK_BYTES chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def study_slug_problems(slug: str) -> list[str]:
    """Why `slug` cannot name a study (it appears in every URL of the study), or []."""
    limit = Study._meta.get_field("slug").max_length
    problems = []
    try:
        validate_slug(slug)
    except ValidationError:
        problems.append(
            f"study slug {slug!r} is not valid: use only letters, digits, hyphens and "
            f"underscores (e.g. 'pilot-2026')"
        )
    if len(slug) > limit:
        problems.append(f"study slug is {len(slug)} characters long; the limit is {limit}")
    return problems


# Column (or TrackInput attribute) -> the model field it is stored in.
_LENGTH_LIMITS = {
    "prompt_id": (Prompt, "external_id"),
    "system": (System, "name"),
    "original_name": (Track, "original_name"),
}


def field_length_problems(values: dict[str, str]) -> list[str]:
    """``"<column> is N characters long; the limit is M"`` for each value over its field."""
    problems = []
    for column, (model, field_name) in _LENGTH_LIMITS.items():
        limit = model._meta.get_field(field_name).max_length
        value = values.get(column) or ""
        if len(value) > limit:
            problems.append(f"{column} is {len(value)} characters long; the limit is {limit}")
    return problems


@dataclass
class TrackInput:
    """One validated track ready to store: its audio (bytes in `content`, or a file at
    `audio_path` that is streamed into storage) plus what decoding told us."""

    prompt_id: str
    system: str
    content: bytes | None
    original_name: str
    format: str
    duration_s: float
    sample_rate: int
    channels: int
    prompt_text: str = ""
    provenance: dict = field(default_factory=dict)
    kind: str = ""  # human or ai; "" for a system that exists (it keeps its kind)
    decoded_sha256: str = ""
    source: str = System.Source.IMPORTED  # where the system's tracks come from
    label: str = ""  # how errors name this track, e.g. "row 3"
    audio_path: Path | None = None  # the file to stream into storage, when not `content`
    audio_path_sha256: str = ""

    @property
    def sha256(self) -> str:
        if self.audio_path is not None:
            return self.audio_path_sha256
        return hashlib.sha256(self.content).hexdigest()

    def as_file(self) -> File:
        """The audio for ``FieldFile.save``: an open file (copied in chunks) or the bytes.
        Close it after saving."""
        if self.audio_path is not None:
            return File(self.audio_path.open("rb"), name=self.original_name)
        return ContentFile(self.content, name=self.original_name)


def manifest_read(
    manifest: Path, *, progress=None, min_duration_s: float = 0.0
) -> list[TrackInput]:
    """Parse and validate a manifest; raises ManifestError listing every bad row (1-based,
    counting the header as row 1, as spreadsheets show it). Each file must decode completely,
    must not be silent or heavily clipped, and must last at least `min_duration_s` seconds."""
    if not manifest.is_file():
        raise ManifestError(manifest, [f"manifest file not found: {manifest}"])
    with manifest.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        problems = []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        unknown = [c for c in columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        if missing:
            problems.append(f"header: missing column(s) {', '.join(missing)}")
        if unknown:
            allowed = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
            problems.append(f"header: unknown column(s) {', '.join(unknown)} (allowed: {allowed})")
        if problems:
            raise ManifestError(manifest, problems)
        rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        raise ManifestError(manifest, ["the manifest has a header but no rows"])
    inputs, seen = [], {}
    stored_kinds = dict(System.objects.values_list("name", "kind"))
    stated_kinds: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(rows, start=2):
        if progress:
            progress(number - 1, len(rows))
        empty = [c for c in REQUIRED_COLUMNS if not row.get(c)]
        if empty:
            problems.append(f"row {number}: empty {', '.join(empty)}")
            continue
        too_long = field_length_problems({"prompt_id": row["prompt_id"], "system": row["system"]})
        if too_long:
            problems.extend(f"row {number}: {problem}" for problem in too_long)
            continue
        key = (row["prompt_id"], row["system"])
        if key in seen:
            problems.append(
                f"row {number}: duplicate (prompt_id={key[0]}, system={key[1]}), "
                f"already on row {seen[key]}"
            )
            continue
        seen[key] = number
        kind_problem = _kind_problem(row, number, stored_kinds, stated_kinds)
        if kind_problem:
            problems.append(kind_problem)
            continue
        path = (manifest.parent / row["file"]).resolve()
        if not path.is_file():
            problems.append(f"row {number}: file not found: {row['file']}")
            continue
        name_problems = field_length_problems({"original_name": path.name})
        if name_problems:
            problems.extend(
                f"row {number}: file {problem[len('original_name ') :]}"
                for problem in name_problems
            )
            continue
        try:
            decoded = decode(path)
            check_usable(decoded)
        except AudioError as exc:
            problems.append(f"row {number}: {row['file']} {exc}")
            continue
        if decoded.duration_s < min_duration_s:
            problems.append(
                f"row {number}: {row['file']} is too short: {decoded.duration_s:.2f} s, but the "
                f"study's excerpt needs {min_duration_s:g} s"
            )
            continue
        inputs.append(
            TrackInput(
                prompt_id=row["prompt_id"],
                system=row["system"],
                prompt_text=row.get("prompt_text", ""),
                content=None,
                audio_path=path,
                audio_path_sha256=file_sha256(path),
                original_name=path.name,
                format=decoded.format,
                duration_s=decoded.duration_s,
                sample_rate=decoded.sample_rate,
                channels=decoded.channels,
                provenance={"source": "manifest", "manifest": manifest.name, "row": number},
                kind=row.get("kind", "").lower(),
                decoded_sha256=audio_fingerprint(decoded.samples, decoded.sample_rate),
                label=f"row {number}",
            )
        )
    problems.extend(duplicate_audio_problems(inputs))
    if problems:
        raise ManifestError(manifest, problems)
    return inputs


def _kind_problem(
    row: dict, number: int, stored: dict[str, str], stated: dict[str, tuple[str, int]]
) -> str | None:
    """Why the row's ``kind`` is unusable, or None. Human or AI is stated, never guessed:
    a new system needs it; a stated kind must agree with the stored system and other rows."""
    system, kind = row["system"], row.get("kind", "").lower()
    if kind and kind not in System.Kind.values:
        return f"row {number}: kind must be human or ai, not {row['kind']!r}"
    if not kind:
        if system in stored or system in stated:
            return None
        return (
            f"row {number}: system {system!r} is new, so the kind column must say whether its "
            f"tracks are human-made or AI (human or ai)"
        )
    if system in stored and stored[system] != kind:
        return (
            f"row {number}: system {system!r} is stored as {stored[system]}, not {kind}; a "
            f"system's kind never changes (use another name for another system)"
        )
    if system in stated and stated[system][0] != kind:
        first_kind, first_row = stated[system]
        return f"row {number}: system {system!r} is {kind} here but {first_kind} on row {first_row}"
    stated.setdefault(system, (kind, number))
    return None


def _track_label(item: "TrackInput") -> str:
    where = f"{item.label}: " if item.label else ""
    return f"{where}{item.prompt_id}/{item.system}"


def duplicate_audio_problems(
    inputs: list[TrackInput], stored: list[Track] | tuple[Track, ...] = ()
) -> list[str]:
    """One line per track of ``inputs`` whose audio repeats an earlier input's or a stored
    track's: the same file (SHA-256) or the same decoded samples (e.g. a WAV and a FLAC of
    one recording). A study that plays one recording twice compares nothing."""
    problems = []
    # A stored track of the same prompt and system is a replacement, refused on its own
    # (``duplicate_track``) by tracks_store.
    replaced = {(item.prompt_id, item.system) for item in inputs}
    kept = [t for t in stored if (t.prompt.external_id, t.system.name) not in replaced]
    by_file = {track.sha256: f"stored track {track}" for track in kept}
    by_audio = {
        track.decoded_sha256: f"stored track {track}" for track in kept if track.decoded_sha256
    }
    for item in inputs:
        here = _track_label(item)
        if item.sha256 in by_file:
            problems.append(
                f"{here} is the same file as {by_file[item.sha256]} "
                f"(SHA-256 {item.sha256[:12]}…); each track must be different audio"
            )
        elif item.decoded_sha256 and item.decoded_sha256 in by_audio:
            problems.append(
                f"{here} decodes to the same audio as {by_audio[item.decoded_sha256]}; "
                f"each track must be different audio"
            )
        by_file.setdefault(item.sha256, here)
        if item.decoded_sha256:
            by_audio.setdefault(item.decoded_sha256, here)
    return problems


def tracks_store(*, study: Study, inputs: list[TrackInput], written: list[str]) -> list[Track]:
    """Store validated tracks; call inside a transaction. Saved file names go to `written`
    so the caller can remove them if the transaction rolls back. Field lengths are checked
    for every input before anything is written (generated and HTTP tracks come here too).

    Refused (ServiceError) for a study that has opened (frozen), for a new system without a
    kind, and for audio that repeats a track of the study (``duplicate_audio``)."""
    problems = [
        f"prompt {item.prompt_id[:100]!r} of {item.system[:100]!r}: {problem}"
        for item in inputs
        for problem in field_length_problems(
            {
                "prompt_id": item.prompt_id,
                "system": item.system,
                "original_name": item.original_name,
            }
        )
    ]
    if problems:
        raise ServiceError(f"nothing was stored: {'; '.join(problems)}", code="field_too_long")

    study_unfrozen_require(study)
    duplicates = duplicate_audio_problems(
        inputs, Track.objects.filter(prompt__study=study).select_related("prompt", "system")
    )
    if duplicates:
        raise ServiceError(
            f"study '{study.slug}': " + "; ".join(duplicates), code="duplicate_audio"
        )
    stored = []
    for item in inputs:
        system = system_get_or_create(name=item.system, kind=item.kind, source=item.source)
        study.systems.add(system)
        prompt, created = Prompt.objects.get_or_create(
            study=study, external_id=item.prompt_id, defaults={"text": item.prompt_text}
        )
        if not created and item.prompt_text and not prompt.text:
            prompt.text = item.prompt_text
            prompt.save(update_fields=["text"])
        if Track.objects.filter(prompt=prompt, system=system).exists():
            raise ServiceError(
                f"study '{study.slug}' already has a track for prompt {item.prompt_id} from "
                f"system {item.system}; remove it in the admin first to replace it.",
                code="duplicate_track",
            )
        track = Track(
            prompt=prompt,
            system=system,
            sha256=item.sha256,
            decoded_sha256=item.decoded_sha256,
            original_name=item.original_name,
            format=item.format,
            duration_s=item.duration_s,
            sample_rate=item.sample_rate,
            channels=item.channels,
            provenance=item.provenance,
        )
        audio = item.as_file()
        try:
            track.file.save(item.original_name, audio, save=False)
        finally:
            audio.close()
        written.append(track.file.name)
        track.save()
        stored.append(track)
    return stored


def tracks_import(*, study_slug: str, manifest: Path, progress=None) -> list[Track]:
    """Validate the whole manifest, then create the study (as a draft) and its tracks.

    For a study that exists already, tracks shorter than its excerpt are refused here; for a
    new one, preparation refuses them once the excerpt length is set."""
    slug_problems = study_slug_problems(study_slug)
    if slug_problems:
        raise ServiceError(
            f"{'; '.join(slug_problems)}. Nothing was imported.", code="invalid_slug"
        )
    existing = Study.objects.filter(slug=study_slug).first()
    if existing is not None:
        study_unfrozen_require(existing)
    needed = (existing.excerpt_start_s or 0.0) + existing.excerpt_s if existing else 0.0
    inputs = manifest_read(manifest, progress=progress, min_duration_s=needed)
    with files_removed_on_error() as written, transaction.atomic():
        study = study_get_or_create_draft(slug=study_slug, actor_name="import_tracks")
        tracks = tracks_store(study=study, inputs=inputs, written=written)
        audit_record(
            study=study,
            action=AuditEntry.Action.IMPORT,
            actor_name="import_tracks",
            detail={"manifest": manifest.name, "tracks": len(tracks)},
        )
        return tracks
