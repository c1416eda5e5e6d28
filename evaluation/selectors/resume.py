"""Reads for resuming: a panelist's resume code, its normal form and hash, and the panelist a
code (or a retried consent form's enrolment key) belongs to. Nothing here writes.

A resume code is 16 symbols of RESUME_ALPHABET (31 symbols: about 79 bits), shown in groups
of four (``7F3K-2QXA-M9RT-WC4D``); only its SHA-256 is stored (``Panelist.resume_code_hash``).
Typing is forgiving: case, spaces and dashes do not matter."""

import hashlib

from evaluation.models import Panelist, Study

RESUME_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: nothing to misread
RESUME_CODE_LENGTH = 16


def resume_code_normalize(text: str) -> str:
    """`text` as a bare code: upper case, without spaces, dashes or other separators."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def resume_code_format(code: str) -> str:
    """A bare code in groups of four joined by dashes, as shown to the listener."""
    bare = resume_code_normalize(code)
    return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def resume_code_valid(text: str) -> bool:
    """Whether `text` could be a code at all (length and alphabet), before any lookup."""
    bare = resume_code_normalize(text)
    return len(bare) == RESUME_CODE_LENGTH and all(ch in RESUME_ALPHABET for ch in bare)


def secret_hash(text: str) -> str:
    """SHA-256 hex of a normalised secret (resume code or enrolment key). The secrets carry
    79 bits or more of randomness, so a plain hash is enough to keep them out of the database."""
    return hashlib.sha256(text.encode()).hexdigest()


def panelist_by_resume_code(*, study: Study, code: str) -> Panelist | None:
    """The study's panelist whose resume code is `code` (any typing of it), or None."""
    if not resume_code_valid(code):
        return None
    return (
        Panelist.objects.select_related("study")
        .filter(study=study, resume_code_hash=secret_hash(resume_code_normalize(code)))
        .first()
    )


def panelist_by_enrolment_key(*, study: Study, key: str) -> Panelist | None:
    """The study's panelist enrolled by the consent form carrying `key`, or None."""
    if not key:
        return None
    return (
        Panelist.objects.select_related("study")
        .filter(study=study, enrolment_key_hash=secret_hash(key))
        .first()
    )


def resume_code_matches(*, panelist: Panelist, code: str) -> bool:
    """Whether `code` is this panelist's current resume code."""
    return (
        bool(panelist.resume_code_hash)
        and resume_code_valid(code)
        and (secret_hash(resume_code_normalize(code)) == panelist.resume_code_hash)
    )
