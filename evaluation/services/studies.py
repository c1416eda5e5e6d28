"""Creating, editing, versioning, opening, closing, exporting and deleting studies.

Every state change here appends an entry to the study's audit log (services.audit_log)."""

import re

from django.db import transaction
from django.utils import timezone

from evaluation.exports import responses_csv
from evaluation.models import (
    AuditEntry,
    Pair,
    Prompt,
    Response,
    Study,
    System,
    Track,
    Trial,
    TrialCandidate,
)
from evaluation.models.listener_texts import language_codes, listener_texts_problems
from evaluation.selectors.blindness import study_audit
from evaluation.selectors.designs import pool_plan, pool_stimuli_by_pair
from evaluation.services import ServiceError
from evaluation.services.audit_log import audit_record


def study_get_or_create_draft(
    *, slug: str, title: str | None = None, user=None, actor_name: str = "", **protocol
) -> Study:
    """The study with this slug, or a new draft with it (title defaults to the slug)."""
    study, created = Study.objects.get_or_create(
        slug=slug, defaults={"title": title or slug.replace("-", " ").capitalize(), **protocol}
    )
    if created:
        audit_record(study=study, action=AuditEntry.Action.CREATE, user=user, actor_name=actor_name)
    return study


def study_unfrozen_require(study: Study) -> None:
    """ServiceError (409, ``study_frozen``) once the study has opened: its protocol, pairs,
    tracks and stimuli must not change, or earlier answers would change meaning."""
    if study.is_frozen:
        raise ServiceError(study.frozen_reason(), code="study_frozen", status=409)


def study_save(*, study: Study, user=None, changed: list[str] | tuple[str, ...] = ()) -> Study:
    """Save a study made or edited in a form (the admin): a new one is audited as created,
    an edit as edited with the changed fields. A frozen field of an opened study is refused."""
    if study.pk is None:
        study.created_by = study.created_by or (user if user and user.is_authenticated else None)
        study.save()
        audit_record(study=study, action=AuditEntry.Action.CREATE, user=user)
        return study
    frozen = study.frozen_changes()
    if frozen:
        raise ServiceError(
            f"{study.frozen_reason()} (changed: {', '.join(frozen)})",
            code="study_frozen",
            status=409,
        )
    study.save()
    if "stratum_quotas" in changed and study.opened_at is not None:
        # A stratum added to an opened study needs its K slots per pair now.
        slots_ensure(study=study)
    if changed:
        values = {
            name: getattr(study, name)
            for name in changed
            if name != "systems" and isinstance(getattr(study, name, None), str | int | float)
        }
        audit_record(
            study=study,
            action=AuditEntry.Action.EDIT,
            user=user,
            detail={"changed": sorted(changed), "values": values},
        )
    return study


def study_design_set(*, study: Study, user=None, **settings) -> Study:
    """Change the study's design and questions (``Study.DESIGN_FIELDS`` only). Refused with
    nothing changed: an opened study (409, ``study_frozen``), an unknown setting, or a design
    that ``Study.design_errors`` rejects (``invalid_design``, one sentence per field)."""
    unknown = sorted(set(settings) - set(Study.DESIGN_FIELDS))
    if unknown:
        raise ServiceError(
            f"not a design setting: {', '.join(unknown)} (settable: "
            f"{', '.join(Study.DESIGN_FIELDS)})",
            code="invalid_design",
        )
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        study_unfrozen_require(study)
        changed = [name for name, value in settings.items() if getattr(study, name) != value]
        for name, value in settings.items():
            setattr(study, name, value)
        _design_settings_require(study)
        study.save(update_fields=list(settings) or None)
        if changed:
            audit_record(
                study=study,
                action=AuditEntry.Action.EDIT,
                user=user,
                detail={"changed": sorted(changed), "values": {n: settings[n] for n in changed}},
            )
    return study


def system_get_or_create(*, name: str, kind: str, source: str = System.Source.IMPORTED) -> System:
    """The system called ``name``; a new one is made with ``kind`` (``human`` or ``ai``).

    Nothing is guessed from the name. ``kind`` may be "" for a system that exists already
    (it keeps its kind); ServiceError when a new system has no kind, a kind is not human or
    ai, or it contradicts the stored one."""
    if kind and kind not in System.Kind.values:
        raise ServiceError(
            f"system {name!r}: kind must be human or ai, not {kind!r}", code="invalid_kind"
        )
    system = System.objects.filter(name=name).first()
    if system is None:
        if not kind:
            raise ServiceError(
                f"system {name!r} is new: say whether its tracks are human-made or AI "
                f"(kind = human or ai)",
                code="missing_kind",
            )
        system, _ = System.objects.get_or_create(
            name=name, defaults={"kind": kind, "source": source}
        )
    if kind and system.kind != kind:
        raise ServiceError(
            f"system {name!r} is stored as {system.kind}, but this says {kind}; a system's "
            f"kind never changes (use another name for another system)",
            code="kind_mismatch",
        )
    return system


def slots_ensure(*, study: Study) -> int:
    """Create the K rating slots (trials) of every pair, within every quota stratum of the
    study (one set per stratum named in ``study.stratum_quotas``; one unnamed set without
    quotas); returns how many were added.

    Within a pair, A/B positions alternate by round, so each pair is heard equally often
    each way round (counterbalancing) within each stratum, and a pair-dependent offset
    balances across pairs. A single-track pair's slots are never swapped; a pool's slots get
    their candidates (``selectors.designs.pool_plan``: balanced subsets and screen order,
    the same plan in every stratum).
    """
    existing = set(
        Trial.objects.filter(pair__study=study, is_catch=False).values_list(
            "pair_id", "stratum", "round"
        )
    )
    strata = sorted(study.stratum_quotas) or [""]
    if study.design == Study.Design.POOL:
        return _pool_slots_ensure(study, existing, strata)
    new_slots = [
        Trial(
            pair=pair,
            prompt_id=pair.prompt_id,
            round=k,
            stratum=stratum,
            swapped=bool((k + pair.pk) % 2) if pair.kind == Pair.Kind.AB else False,
        )
        # Catch pairs have no slots: scheduling makes their trials per panelist.
        for pair in Pair.objects.filter(study=study, is_catch=False)
        for stratum in strata
        for k in range(study.ratings_per_pair)
        if (pair.pk, stratum, k) not in existing
    ]
    Trial.objects.bulk_create(new_slots)
    return len(new_slots)


def _pool_slots_ensure(study: Study, existing: set[tuple[int, str, int]], strata: list[str]) -> int:
    """The K slots of every pool pair (per stratum), each with its candidates; returns how
    many were added."""
    added = 0
    for pair_id, stimuli in pool_stimuli_by_pair(study).items():
        plan = pool_plan(
            stimuli, pool_size=study.pool_size, rounds=study.ratings_per_pair, seed=study.seed
        )
        prompt_id = Pair.objects.values_list("prompt_id", flat=True).get(pk=pair_id)
        for stratum in strata:
            for k, shown in enumerate(plan):
                if (pair_id, stratum, k) in existing:
                    continue
                trial = Trial.objects.create(
                    pair_id=pair_id, prompt_id=prompt_id, round=k, stratum=stratum, swapped=False
                )
                TrialCandidate.objects.bulk_create(
                    TrialCandidate(trial=trial, position=n, stimulus_id=pk)
                    for n, pk in enumerate(shown, start=1)
                )
                added += 1
    return added


def _design_settings_require(study: Study) -> None:
    """ServiceError (``invalid_design``, one sentence per field) when ``Study.design_errors``
    rejects the study's design settings."""
    errors = study.design_errors()
    if errors:
        raise ServiceError(
            "the study's design is not valid: "
            + "; ".join(f"{name}: {text}" for name, text in errors.items()),
            code="invalid_design",
        )


def study_design_require(study: Study) -> None:
    """ServiceError (``invalid_design``) when the study's design settings are inconsistent,
    or its prepared pairs do not match the design (prepare again after changing it)."""
    _design_settings_require(study)
    other = Pair.objects.filter(study=study, is_catch=False).exclude(kind=study.design)
    if other.exists():
        raise ServiceError(
            f"study '{study.slug}' is a {study.design} study but its pairs were prepared for "
            f"another design; run `python manage.py prepare_stimuli {study.slug}` again",
            code="invalid_design",
        )
    if study.design == Study.Design.POOL:
        short = [
            prompt.external_id
            for prompt in study.prompts.all()
            if prompt.tracks.count() >= 2 and not prompt.pairs.filter(kind=Pair.Kind.POOL).exists()
        ]
        if short:
            raise ServiceError(
                f"a pool of {study.pool_size} needs {study.pool_size} prepared tracks per "
                f"prompt; too few for: {', '.join(short)} (lower pool_size or add tracks)",
                code="invalid_design",
            )


def study_open(*, study: Study, user=None) -> Study:
    """Open a study for listening: it needs prepared pairs that pass the blindness audit
    (measured before the transaction, so the database is not held while files are read);
    rating slots are created here."""
    if study.status == Study.Status.OPEN:
        return study
    if not Pair.objects.filter(study=study).exists():
        if study.design == Study.Design.POOL:
            study_design_require(study)  # says which prompts have too few tracks for a pool
        raise ServiceError(
            f"Study '{study.slug}' has no prepared pairs: import tracks, then run "
            f"`python manage.py prepare_stimuli {study.slug}`.",
            code="not_prepared",
        )
    study_design_require(study)
    report = study_audit(study=study)
    if not report.passed:
        listing = "\n".join(f"  - {line}" for line in report.failure_lines())
        raise ServiceError(
            f"Study '{study.slug}' failed the blindness audit and stays {study.status}:\n"
            f"{listing}\nDetails: `python manage.py audit_blindness {study.slug}`.",
            code="blindness_audit_failed",
        )
    return _study_mark_open(study=study, user=user)


@transaction.atomic
def _study_mark_open(*, study: Study, user=None) -> Study:
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status == Study.Status.OPEN:
        return study
    slots = slots_ensure(study=study)
    reopened = study.opened_at is not None
    study.status = Study.Status.OPEN
    study.opened_at = study.opened_at or timezone.now()
    study.closed_at = None
    study.save(update_fields=["status", "opened_at", "closed_at"])
    audit_record(
        study=study,
        action=AuditEntry.Action.OPEN,
        user=user,
        detail={"config_hash": study.config_hash(), "new_slots": slots, "reopened": reopened},
    )
    return study


@transaction.atomic
def study_close(*, study: Study, user=None) -> Study:
    """Close the study: from now on every answer is refused (services.responses), also for
    a trial reserved before closing."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status == Study.Status.CLOSED:
        return study
    study.status = Study.Status.CLOSED
    study.closed_at = timezone.now()
    study.save(update_fields=["status", "closed_at"])
    audit_record(study=study, action=AuditEntry.Action.CLOSE, user=user)
    return study


def study_export(*, study: Study, user=None, via: str) -> str:
    """``responses.csv`` of the study, with an audit entry saying who exported it and how
    (``via``: "api", "admin" or "command")."""
    text = responses_csv(study)
    audit_record(
        study=study,
        action=AuditEntry.Action.EXPORT,
        user=user,
        actor_name="" if user is not None else via,
        detail={"via": via, "rows": max(text.count("\n") - 1, 0)},
    )
    return text


@transaction.atomic
def study_delete(*, study: Study, user=None) -> None:
    """Delete a study that has no answers (a draft, or one that never got any). A study with
    answers is refused: answers are kept; a panelist's own data goes through
    services.panelists.panelist_data_delete."""
    answers = Response.objects.filter(trial__pair__study=study).count()
    if answers:
        raise ServiceError(
            f"study '{study.slug}' has {answers} answer(s) and is never deleted; close it "
            f"instead (a panelist's privacy request: panelist_data_delete)",
            code="has_responses",
            status=409,
        )
    audit_record(
        study=study,
        action=AuditEntry.Action.DELETE,
        user=user,
        detail={"title": study.title, "config_hash": study.config_hash()},
    )
    study.delete()


def _version_slug(study: Study, version: int) -> str:
    base = re.sub(r"-v\d+$", "", study.slug) if study.version > 1 else study.slug
    suffix = f"-v{version}"
    slug = base[: 64 - len(suffix)] + suffix
    while Study.objects.filter(slug=slug).exists():
        version += 1
        suffix = f"-v{version}"
        slug = base[: 64 - len(suffix)] + suffix
    return slug


@transaction.atomic
def study_new_version(*, study: Study, user=None) -> Study:
    """A new draft copied from ``study`` so that its protocol can change: the same title,
    texts, protocol settings, systems, prompts and tracks (same audio files), no stimuli,
    pairs, panelists or answers. Its slug is ``<slug>-v<n>``; both studies get an entry."""
    version = study.version + 1
    draft = Study(
        slug=_version_slug(study, version),
        title=study.title,
        description=study.description,
        consent_text=study.consent_text,
        listener_texts=study.listener_texts,
        default_language=study.default_language,
        version=version,
        previous_version=study,
        created_by=user if user is not None and user.is_authenticated else None,
        **study.protocol(),
    )
    draft.save()
    draft.systems.set(study.systems.all())
    for prompt in study.prompts.prefetch_related("tracks"):
        copy = Prompt.objects.create(study=draft, external_id=prompt.external_id, text=prompt.text)
        Track.objects.bulk_create(
            Track(
                prompt=copy,
                system_id=track.system_id,
                file=track.file.name,
                sha256=track.sha256,
                decoded_sha256=track.decoded_sha256,
                original_name=track.original_name,
                format=track.format,
                duration_s=track.duration_s,
                sample_rate=track.sample_rate,
                channels=track.channels,
                provenance={**track.provenance, "copied_from_track": track.pk},
            )
            for track in prompt.tracks.all()
        )
    audit_record(
        study=draft, action=AuditEntry.Action.NEW_VERSION, user=user, detail={"from": study.slug}
    )
    audit_record(
        study=study, action=AuditEntry.Action.NEW_VERSION, user=user, detail={"to": draft.slug}
    )
    return draft


def study_listener_texts_set(
    *, study: Study, listener_texts: dict | None = None, default_language: str | None = None
) -> Study:
    """Replace what listeners read (``{language: {"title", "description", "consent"}}``,
    models.listener_texts) and/or the study's default language. Allowed in every status: the
    texts are not part of the protocol. ServiceError (``invalid_listener_texts``) says every
    problem at once and nothing is stored."""
    problems = []
    if listener_texts is not None:
        problems += listener_texts_problems(listener_texts)
    if default_language is not None and default_language not in language_codes():
        problems.append(
            f"default_language {default_language!r} is not one of {', '.join(language_codes())}"
        )
    if problems:
        raise ServiceError("; ".join(problems), code="invalid_listener_texts")
    fields = []
    if listener_texts is not None:
        study.listener_texts = {
            language: {key: text.strip() for key, text in texts.items()}
            for language, texts in listener_texts.items()
        }
        fields.append("listener_texts")
    if default_language is not None:
        study.default_language = default_language
        fields.append("default_language")
    if fields:
        study.save(update_fields=fields)
    return study
