"""Reading the export's ``responses.csv`` into a typed, normalised DataFrame.

The export contract (docs/data-dictionary.md) fixes the columns and their order. Only
``panelist_id, system_a, system_b, choice`` are required; every other column is optional and a
figure that needs a missing one is left out of the summary with a reason.

After :func:`normalize_responses` a DataFrame holds:

- text columns (``panelist_id``, ``system_a``, ``panel``, ...) as ``str`` with ``""`` for empty;
- ``choice`` in ``{"a", "b", "tie", ""}``, ``guess_ai`` in ``{"a", "b", "unsure", ""}``,
  ``ai_side`` in ``{"a", "b", "both", "none", ""}`` (``""`` = missing or not understood);
- flags (``is_catch``, ``simulated``, ``position_swapped``) as ``bool`` (missing = False);
- yes/no answers (``liked_a``, ``liked_b``, ``catch_passed``) as ``float`` 1.0 / 0.0 / NaN;
- ``listen_a_s``, ``listen_b_s`` as ``float`` seconds (NaN when missing);
- ``started_at``, ``submitted_at`` as timezone-aware UTC timestamps (NaT when missing);
- the study-design columns (docs/data-dictionary.md, columns 41-82): ``trial_kind`` in
  ``{"ab", "single", "pool", ""}`` (``""`` = an old file's row, read as ``ab``), ``familiar``
  in ``{"no", "sounds_familiar", "knows_it", ""}``, ``guess_kind`` in ``{"human", "ai", ""}``;
  ``playlist_a/b`` and ``release_a/b`` as yes/no floats; the integer answers (``rating_a/b``
  and ``score_<aspect>_a/b`` 1-5, ``guess_confidence`` 50-100, ``pool_size`` 3-10,
  ``pool_position`` 1-10, ``pick_rank`` 1-3) as ``float`` with NaN for empty or out of range;
  ``weaker_a/b`` as text, the aspect names joined by ``;`` (:func:`split_weaker` lists them).

:func:`read_responses` also keeps the CSV reader's integer codes of the text columns in
``frame.attrs[READER_CODES]`` (:class:`ReaderCodes`); :func:`reader_codes` gives them to the
vote encoding and the rater figures while the frame still holds those very columns.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

RESPONSE_COLUMNS: tuple[str, ...] = (
    "study",
    "response_id",
    "panelist_id",
    "panel",
    "expertise",
    "prompt_id",
    "system_a",
    "system_b",
    "track_a",
    "track_b",
    "choice",
    "preferred_system",
    "liked_a",
    "liked_b",
    "guess_ai",
    "listen_a_s",
    "listen_b_s",
    "is_catch",
    "simulated",
    "started_at",
    "submitted_at",
    "study_config_hash",
    "seed",
    "ai_side",
    "trial_id",
    "position_swapped",
    "catch_passed",
    "headphone_check_passed",
    "heard_a_s",
    "heard_b_s",
    "heard_overlap_s",
    "switches",
    "audio_fetched",
    "system_a_kind",
    "system_b_kind",
    "stimulus_a_id",
    "stimulus_b_id",
    "stimulus_a_sha256",
    "stimulus_b_sha256",
    "study_version",
    "trial_kind",
    "familiar",
    "playlist_a",
    "playlist_b",
    "release_a",
    "release_b",
    "rating_a",
    "rating_b",
    "guess_kind",
    "guess_confidence",
    "pool_size",
    "pool_position",
    "pick_rank",
    "weaker_a",
    "weaker_b",
    "aspect_melody",
    "score_melody_a",
    "score_melody_b",
    "aspect_lyrics",
    "score_lyrics_a",
    "score_lyrics_b",
    "aspect_vocals",
    "score_vocals_a",
    "score_vocals_b",
    "aspect_arrangement",
    "score_arrangement_a",
    "score_arrangement_b",
    "aspect_structure",
    "score_structure_a",
    "score_structure_b",
    "aspect_emotion",
    "score_emotion_a",
    "score_emotion_b",
    "aspect_production",
    "score_production_a",
    "score_production_b",
    "aspect_originality",
    "score_originality_a",
    "score_originality_b",
    "aspect_prompt_adherence",
    "score_prompt_adherence_a",
    "score_prompt_adherence_b",
    "stratum",
    "instrument_family",
    "languages",
)
"""The export's columns, in export order (``evaluation.exports`` writes exactly these)."""

TRIAL_KINDS: tuple[str, ...] = ("ab", "single", "pool")
"""Trial designs of the ``trial_kind`` column (an empty cell is an old file's ``ab`` row)."""

FAMILIAR_LEVELS: tuple[str, ...] = ("no", "sounds_familiar", "knows_it")
"""Answers to "Do you know this piece?", from not at all to known."""

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "rating_a": (1, 5),
    "rating_b": (1, 5),
    "guess_confidence": (50, 100),
    "pool_size": (3, 10),
    "pool_position": (1, 10),
    "pick_rank": (1, 3),
}
"""Integer answers and their allowed range (``score_<aspect>_a/b`` are 1-5 too)."""

SCORE_PREFIX = "score_"
"""Aspect ratings: ``score_<aspect>_a`` / ``score_<aspect>_b``, integers 1-5."""

REQUIRED_COLUMNS: tuple[str, ...] = ("panelist_id", "system_a", "system_b", "choice")
"""The least a CSV of pairwise votes must have to be summarised."""

SINGLE_TRACK_COLUMNS: tuple[str, ...] = ("panelist_id", "system", "is_ai", "guess")
"""The least a CSV of single-track "human or AI?" judgments must have."""

FLAG_COLUMNS = ("is_catch", "simulated", "position_swapped")
ANSWER_COLUMNS = (
    "liked_a",
    "liked_b",
    "catch_passed",
    "is_ai",
    "playlist_a",
    "playlist_b",
    "release_a",
    "release_b",
)
SECONDS_COLUMNS = ("listen_a_s", "listen_b_s")
TIME_COLUMNS = ("started_at", "submitted_at")
TEXT_COLUMNS = (
    "study",
    "response_id",
    "panelist_id",
    "panel",
    "expertise",
    "prompt_id",
    "system_a",
    "system_b",
    "track_a",
    "track_b",
    "preferred_system",
    "study_config_hash",
    "seed",
    "trial_id",
    "system",
    "system_a_kind",
    "system_b_kind",
    "stimulus_a_id",
    "stimulus_b_id",
    "stimulus_a_sha256",
    "stimulus_b_sha256",
    "study_version",
    "weaker_a",
    "weaker_b",
    "stratum",
    "instrument_family",
    "languages",
)

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"1", "true", "t", "yes", "y", "1.0"}
_FALSE = {"0", "false", "f", "no", "n", "0.0"}
_CHOICES = {
    "a": "a",
    "b": "b",
    "tie": "tie",
    "draw": "tie",
    "none": "tie",
    "no preference": "tie",
    "no_preference": "tie",
}
_GUESSES = {
    "a": "a",
    "b": "b",
    "unsure": "unsure",
    "can't tell": "unsure",
    "cant tell": "unsure",
    "cant_tell": "unsure",
    "not sure": "unsure",
    "unknown": "unsure",
}
_SIDES = {"a": "a", "b": "b", "both": "both", "none": "none", "neither": "none"}
_TURING_GUESSES = {"human": "human", "ai": "ai", "familiar": "familiar"}
_TRIAL_KINDS = {"ab": "ab", "single": "single", "pool": "pool"}
_FAMILIAR = {
    "no": "no",
    "sounds_familiar": "sounds_familiar",
    "sounds familiar": "sounds_familiar",
    "knows_it": "knows_it",
    "i know it": "knows_it",
}
_GUESS_KINDS = {"human": "human", "ai": "ai"}
_CODES = {
    "choice": _CHOICES,
    "guess_ai": _GUESSES,
    "ai_side": _SIDES,
    "guess": _TURING_GUESSES,
    "trial_kind": _TRIAL_KINDS,
    "familiar": _FAMILIAR,
    "guess_kind": _GUESS_KINDS,
}


ASPECT_PREFIX = "aspect_"
"""Optional per-aspect choices (``aspect_melody``, ``aspect_sound``, ...): ``a``, ``b`` or
``tie``, which track was better on that aspect."""


def aspect_columns(frame: pd.DataFrame) -> list[str]:
    """The ``aspect_<name>`` columns of ``frame``, in frame order."""
    return [str(column) for column in frame.columns if str(column).startswith(ASPECT_PREFIX)]


def split_weaker(cell: str) -> list[str]:
    """The aspect names of one ``weaker_a`` / ``weaker_b`` cell (``"lyrics;vocals"`` ->
    ``["lyrics", "vocals"]``; blanks and empty parts dropped)."""
    return [part.strip() for part in str(cell).split(";") if part.strip()]


def pairwise_mask(frame: pd.DataFrame) -> np.ndarray:
    """``[n]`` bool: the rows pairwise statistics use (``trial_kind`` ``ab`` or empty; every
    row of an old file without the column)."""
    if "trial_kind" not in frame:
        return np.ones(len(frame), dtype=bool)
    return frame["trial_kind"].isin(["ab", ""]).to_numpy()


def trial_kind_mask(frame: pd.DataFrame, kind: str) -> np.ndarray:
    """``[n]`` bool: the rows of one design (``"ab"`` includes an empty ``trial_kind``)."""
    if kind == "ab":
        return pairwise_mask(frame)
    if "trial_kind" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return (frame["trial_kind"] == kind).to_numpy()


READER_CODES = "earshot_reader_codes"
"""``DataFrame.attrs`` key of the :class:`ReaderCodes` that :func:`read_responses` records."""


class ReaderCodes:
    """The integer codes the CSV reader gave each text column, kept beside the frame.

    The C parser reads every column as a categorical: integer codes per row and the few
    distinct cells. :func:`read_responses` types the distinct cells and spreads them over the
    rows as ``str``; the codes are kept here so that the vote encoding, the rater figures
    and the panelist counts need not hash a million strings again (:func:`reader_codes`).

    A column's codes are used only while the frame still holds the very array they describe
    (the same buffer, length and strides: the column itself or a shallow copy); a filtered,
    sorted or rebuilt column falls back to factorising. The summary never writes into a
    frame; code that writes cells in place must drop ``frame.attrs[READER_CODES]`` first.
    """

    def __init__(self) -> None:
        self._columns: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def __deepcopy__(self, memo: dict) -> ReaderCodes:
        # pandas deep-copies ``attrs`` into every frame or column derived from this one; the
        # codes are immutable and checked against the column they describe, so share them.
        return self

    def record(self, name: str, values: np.ndarray, codes: np.ndarray, uniques: np.ndarray):
        """Keep ``codes`` (``[n]``) and ``uniques`` (``[k]`` distinct, every one used) of the
        object array ``values`` (``[n]``, ``values[i] == uniques[codes[i]]``). The reference
        to ``values`` keeps its buffer from being reused by another array."""
        self._columns[name] = (values, codes, uniques)

    def lookup(self, name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(codes, uniques)`` of column ``name`` if ``values`` is the array they describe."""
        entry = self._columns.get(name)
        if entry is None:
            return None
        recorded, codes, uniques = entry
        if values is not recorded and not (
            values.dtype == recorded.dtype
            and values.shape == recorded.shape
            and values.strides == recorded.strides
            and values.__array_interface__["data"][0] == recorded.__array_interface__["data"][0]
        ):
            return None
        return codes, uniques


def reader_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes [n], uniques [k])`` of a text column as :func:`read_responses` read it, or
    None when ``values`` is not (or no longer) that column. ``uniques`` are the distinct
    typed cells (unsorted, each used at least once): ``values[i] == uniques[codes[i]]``."""
    codes = values.attrs.get(READER_CODES)
    if not isinstance(codes, ReaderCodes) or values.name is None:
        return None
    return codes.lookup(str(values.name), values.to_numpy())


def sorted_codes(
    codes: np.ndarray, uniques: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values[rows], sort=True)`` from the codes of ``values`` (see
    :func:`reader_codes`): int64 codes ``[len(rows)]`` into the sorted distinct values
    ``[m]`` that occur in those rows, without hashing a string per row."""
    if rows is not None:
        codes = codes[rows]
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(uniques, kind="stable")
    present = np.bincount(codes, minlength=uniques.size)[order] > 0
    kept = order[present]
    renumber = np.full(uniques.size, -1, dtype=np.int64)
    renumber[kept] = np.arange(kept.size)
    return renumber[codes], uniques[kept]


_NORMALIZED = "earshot_normalized"
"""``DataFrame.attrs`` flag set by :func:`normalize_responses` (so that a frame read by
:func:`read_responses` is not typed a second time by :func:`summarize`)."""


class ResponsesError(ValueError):
    """The CSV cannot be summarised (for example a required column is missing)."""


def unescape_cell(cell: str) -> str:
    """Undo the export's formula-injection escaping of one cell.

    The exporter prefixes a single quote to a cell that starts with ``= + - @`` (or a tab or
    carriage return) so that spreadsheets do not run it as a formula. Only that quote is
    removed; a value that merely starts with an apostrophe (``'Round Midnight``) is kept.
    """
    if len(cell) >= 2 and cell[0] == "'" and cell[1] in _FORMULA_PREFIXES:
        return cell[1:]
    return cell


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits (recorded in the summary's ``meta``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read an export ``responses.csv`` (or any CSV with the required columns).

    Every cell is read as text, the formula-injection quote is removed, then the columns are
    typed by :func:`normalize_responses`. The file's SHA-256 is kept in ``frame.attrs["sha256"]``
    and its path in ``frame.attrs["source"]``.

    Raises :class:`ResponsesError` when the file is empty, is not a readable UTF-8 CSV, or
    lacks a required column.
    """
    frame, sha256 = _read_cells(path)
    frame.columns = [str(column).strip() for column in frame.columns]
    _check_required(frame)
    kept = ReaderCodes()
    # Each column once: type its distinct cells (few: systems, choices, panelists) and spread
    # them back over the rows; typing a million cells one by one would dominate the command.
    for column in frame.columns:
        cells_read = frame[column].array
        codes = cells_read.codes  # -1 never occurs (na_filter=False); it would pick ""
        uniques = cells_read.categories.to_numpy(dtype=object)
        cells = pd.Series([unescape_cell(str(value)) for value in uniques] + [""], dtype=object)
        typed = normalize_column(str(column), cells)
        # take() keeps the typed dtype (tz-aware times, floats); code -1 picks the "" cell.
        frame[column] = typed.take(codes).set_axis(frame.index)
        if typed.dtype == object and codes.size and codes.min() >= 0:
            # Two raw cells may type alike (" a" and "a"): number the typed cells afresh.
            merged, distinct = pd.factorize(typed.to_numpy()[:-1])
            if distinct.size < uniques.size:
                codes = merged.astype(codes.dtype)[codes]
            kept.record(str(column), frame[column].to_numpy(), codes, np.asarray(distinct))
    frame.attrs[_NORMALIZED] = True
    frame.attrs[READER_CODES] = kept
    frame.attrs["sha256"] = sha256
    frame.attrs["source"] = str(path)
    return frame


_CSV_OPTIONS: dict = {
    # Categorical: the C parser hashes each cell's bytes into codes as it reads, so no
    # million Python strings are built and factorised again.
    "dtype": "category",
    "keep_default_na": False,
    "na_filter": False,
    "encoding": "utf-8-sig",
    "skipinitialspace": False,
}
"""How every response CSV is parsed: every cell as text, nothing read as missing."""

HASH_ON_THREAD_BYTES = 4 << 20
"""Files from this size (4 MiB) are hashed on a second thread while they are parsed."""


def _read_cells(path: str | Path) -> tuple[pd.DataFrame, str]:
    """The CSV's cells as categoricals (``pd.read_csv`` with :data:`_CSV_OPTIONS`) and the
    SHA-256 of its bytes. Raises :class:`ResponsesError` for an empty or unreadable file.

    A large file is read into memory once: its bytes are hashed on a second thread (hashlib
    releases the GIL) while pandas' C parser reads them, instead of reading the file twice
    one after the other. (Parsing pieces of the file on several threads was tried: the
    frame was the same, but joining the pieces and handing the GIL to and fro cost 0.1 s of
    CPU more than it saved on two shared cores.)
    """
    if os.path.getsize(path) < HASH_ON_THREAD_BYTES:
        return _read_csv(path, path), file_sha256(path)
    with open(path, "rb") as stream:
        data = stream.read()
    hashed: list[str] = []
    hasher = threading.Thread(target=lambda: hashed.append(hashlib.sha256(data).hexdigest()))
    hasher.start()
    try:
        frame = _read_csv(io.BytesIO(data), path)
    finally:
        hasher.join()
    return frame, hashed[0]


def _read_csv(source, path: str | Path) -> pd.DataFrame:
    """``pd.read_csv`` of ``source`` (the file ``path`` or its bytes), its errors as
    :class:`ResponsesError`."""
    try:
        return pd.read_csv(source, **_CSV_OPTIONS)
    except pd.errors.EmptyDataError as error:
        raise ResponsesError(
            f"{path}: the file is empty; expected a CSV whose header names at least "
            + ", ".join(REQUIRED_COLUMNS)
        ) from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ResponsesError(
            f"{path}: not a readable UTF-8 CSV ({error}); export it again or save it as CSV UTF-8"
        ) from error


def missing_columns(responses: pd.DataFrame, columns: Iterable[str] = RESPONSE_COLUMNS) -> list:
    """The contract columns that ``responses`` lacks, in contract order."""
    return [column for column in columns if column not in responses.columns]


def _check_required(responses: pd.DataFrame) -> None:
    absent = [column for column in REQUIRED_COLUMNS if column not in responses.columns]
    single_track = set(SINGLE_TRACK_COLUMNS) <= set(responses.columns)
    if absent and not single_track:
        raise ResponsesError(
            "responses need the columns "
            + ", ".join(REQUIRED_COLUMNS)
            + " (or, for single-track judgments, "
            + ", ".join(SINGLE_TRACK_COLUMNS)
            + "); missing: "
            + ", ".join(absent)
        )


def normalize_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """Return a typed copy of ``responses`` (see the module docstring for the types).

    Accepts what :func:`read_responses` reads as well as a frame built in memory (for example
    from database rows with Python ``bool``/``None`` values). Idempotent: a frame this function
    returned (flagged in ``attrs``) is returned as it is. Raises
    :class:`ResponsesError` unless either :data:`REQUIRED_COLUMNS` or
    :data:`SINGLE_TRACK_COLUMNS` are all present.
    """
    if responses.attrs.get(_NORMALIZED):
        return responses
    _check_required(responses)
    frame = responses.copy()
    frame.attrs = dict(responses.attrs)
    for column in frame.columns:
        frame[column] = normalize_column(str(column), frame[column])
    frame = frame.reset_index(drop=True)
    frame.attrs[_NORMALIZED] = True
    return frame


def normalize_column(name: str, values: pd.Series) -> pd.Series:
    """One column typed as :func:`normalize_responses` types it (by its name; a column the
    contract does not know is returned as it is)."""
    if name in TEXT_COLUMNS:
        return _text(values)
    if name in _CODES:
        return _coded(values, _CODES[name])
    if name.startswith(ASPECT_PREFIX):
        return _coded(values, _CHOICES)
    if name in FLAG_COLUMNS:
        return _yes_no(values) == 1.0
    if name in ANSWER_COLUMNS:
        return _yes_no(values)
    if name in SECONDS_COLUMNS:
        return pd.to_numeric(values, errors="coerce").astype(float)
    if name in INTEGER_RANGES:
        return _integers(values, *INTEGER_RANGES[name])
    if name.startswith(SCORE_PREFIX):
        return _integers(values, 1, 5)
    if name in TIME_COLUMNS:
        return pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    return values


def map_distinct(values: pd.Series, transform, missing: object = "") -> pd.Series:
    """``values.map(transform)`` computed once per distinct value (missing -> ``missing``).

    A response column holds few distinct values (system names, choices, panelists) in up to
    a million rows; string methods per row would dominate reading the file.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [transform(value) for value in uniques]
    mapped[-1] = missing  # code -1 marks a missing value
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _text(values: pd.Series) -> pd.Series:
    """Strings with surrounding blanks removed; missing values become ``""``."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return map_distinct(values, lambda value: str(value).strip())
    if pd.api.types.is_float_dtype(values):
        # Integer ids that pandas read as floats because of an empty cell: 7.0 -> "7".
        return values.map(_float_text).astype(object)
    return values.astype(str).mask(values.isna(), "")


def _integers(values: pd.Series, low: int, high: int) -> pd.Series:
    """Whole numbers in ``[low, high]`` as floats; empty, fractional or out of range -> NaN."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers.where((numbers >= low) & (numbers <= high) & (numbers == np.round(numbers)))


def _float_text(value: float) -> str:
    if pd.isna(value):
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _coded(values: pd.Series, codes: dict) -> pd.Series:
    """Map free-text answers onto their codes; anything else becomes ``""``."""
    return map_distinct(_text(values), lambda value: codes.get(value.lower(), ""))


def _yes_no(values: pd.Series) -> pd.Series:
    """1.0 for yes/true/1, 0.0 for no/false/0, NaN for empty or unknown."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        return numbers.where(numbers.isin([0.0, 1.0]))
    text = _text(values).str.lower()
    result = pd.Series(np.nan, index=values.index, dtype=float)
    result[text.isin(_TRUE)] = 1.0
    result[text.isin(_FALSE)] = 0.0
    return result
