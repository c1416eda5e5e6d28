"""Importing finished audio from a manifest CSV: validate every row, then store all or nothing."""

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction

from evaluation.models import Prompt, Study, Track
from evaluation.services import ServiceError
from evaluation.services.storage import files_removed_on_error
from evaluation.services.studies import study_get_or_create_draft, system_get_or_create
from evaluation.stimuli.audio import AudioError, decode
from evaluation.stimuli.pipeline import check_usable

REQUIRED_COLUMNS = ("prompt_id", "system", "file")
OPTIONAL_COLUMNS = ("prompt_text",)


class ManifestError(ServiceError):
    code = "invalid_manifest"

    def __init__(self, manifest: Path, problems: list[str]):
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"{manifest}: {len(problems)} problem(s), nothing was imported:\n{listing}\n"
            f"Fix the rows above and run the import again."
        )


@dataclass
class TrackInput:
    """One validated track ready to store: bytes plus what decoding told us."""

    prompt_id: str
    system: str
    content: bytes
    original_name: str
    format: str
    duration_s: float
    sample_rate: int
    channels: int
    prompt_text: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


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
    for number, row in enumerate(rows, start=2):
        if progress:
            progress(number - 1, len(rows))
        empty = [c for c in REQUIRED_COLUMNS if not row.get(c)]
        if empty:
            problems.append(f"row {number}: empty {', '.join(empty)}")
            continue
        key = (row["prompt_id"], row["system"])
        if key in seen:
            problems.append(
                f"row {number}: duplicate (prompt_id={key[0]}, system={key[1]}), "
                f"already on row {seen[key]}"
            )
            continue
        seen[key] = number
        path = (manifest.parent / row["file"]).resolve()
        if not path.is_file():
            problems.append(f"row {number}: file not found: {row['file']}")
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
                content=path.read_bytes(),
                original_name=path.name,
                format=decoded.format,
                duration_s=decoded.duration_s,
                sample_rate=decoded.sample_rate,
                channels=decoded.channels,
                provenance={"source": "manifest", "manifest": manifest.name, "row": number},
            )
        )
    if problems:
        raise ManifestError(manifest, problems)
    return inputs


def tracks_store(*, study: Study, inputs: list[TrackInput], written: list[str]) -> list[Track]:
    """Store validated tracks; call inside a transaction. Saved file names go to `written`
    so the caller can remove them if the transaction rolls back."""
    stored = []
    for item in inputs:
        system = system_get_or_create(name=item.system)
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
            original_name=item.original_name,
            format=item.format,
            duration_s=item.duration_s,
            sample_rate=item.sample_rate,
            channels=item.channels,
            provenance=item.provenance,
        )
        track.file.save(item.original_name, ContentFile(item.content), save=False)
        written.append(track.file.name)
        track.save()
        stored.append(track)
    return stored


def tracks_import(*, study_slug: str, manifest: Path, progress=None) -> list[Track]:
    """Validate the whole manifest, then create the study (as a draft) and its tracks.

    For a study that exists already, tracks shorter than its excerpt are refused here; for a
    new one, preparation refuses them once the excerpt length is set."""
    existing = Study.objects.filter(slug=study_slug).first()
    needed = (existing.excerpt_start_s or 0.0) + existing.excerpt_s if existing else 0.0
    inputs = manifest_read(manifest, progress=progress, min_duration_s=needed)
    with files_removed_on_error() as written, transaction.atomic():
        study = study_get_or_create_draft(slug=study_slug)
        return tracks_store(study=study, inputs=inputs, written=written)
