"""CSV exports. Columns are fixed and ordered (docs/data-dictionary.md); new ones are appended.

Every cell that a spreadsheet would read as a formula (leading = + - @, tab or CR) is prefixed
with a single quote, the OWASP recommendation against CSV injection.
"""

import csv
import io
from collections.abc import Iterable, Iterator

from evaluation.models import ASPECTS, Response, Study
from evaluation.selectors.listening_evidence import evidence_columns

# One contract for writer and reader: the stats module (pure, no Django) reads these columns.
from evaluation.stats.contract import Summary
from evaluation.stats.responses import RESPONSE_COLUMNS

SUMMARY_COLUMNS = ("section", "key", "metric", "value")

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str:
    """Text for one CSV cell, neutralised against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(round(value, 6))
    text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        # Negative numbers are data, not formulas.
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def _flag(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


def response_row(response: Response, study: Study) -> dict:
    """One export row. What the answer meant (systems, kinds, tracks, stimuli, positions,
    catch outcome, protocol hash and seed) comes from the response's snapshot taken when it
    was recorded, never from today's tracks, pairs, trials or protocol."""
    panelist = response.panelist
    return {
        "study": study.slug,
        "response_id": response.pk,
        "panelist_id": panelist.pseudonym,
        "panel": panelist.panel.name,
        "expertise": panelist.expertise,
        "prompt_id": response.prompt_external_id,
        "system_a": response.system_a,
        "system_b": response.system_b,
        "track_a": response.track_a_sha256[:12],
        "track_b": response.track_b_sha256[:12],
        "choice": response.choice,
        "preferred_system": response.preferred_system,
        "liked_a": _flag(response.liked_a),
        "liked_b": _flag(response.liked_b),
        "guess_ai": response.guess_ai,
        "listen_a_s": response.listen_a_s,
        "listen_b_s": response.listen_b_s,
        "is_catch": response.is_catch,
        "simulated": panelist.simulated,
        "started_at": response.started_at.isoformat(),
        "submitted_at": response.submitted_at.isoformat(),
        "study_config_hash": response.study_config_hash,
        "seed": response.study_seed,
        "ai_side": response.ai_side,
        "trial_id": response.trial_id,
        "position_swapped": response.position_swapped,
        "catch_passed": _flag(response.catch_passed),
        "headphone_check_passed": _flag(panelist.headphone_passed),
        **evidence_columns(response),
        "system_a_kind": response.system_a_kind,
        "system_b_kind": response.system_b_kind,
        "stimulus_a_id": response.stimulus_a_id,
        "stimulus_b_id": response.stimulus_b_id,
        "stimulus_a_sha256": response.stimulus_a_sha256,
        "stimulus_b_sha256": response.stimulus_b_sha256,
        "study_version": response.study_version,
        "stratum": panelist.stratum,
        "instrument_family": panelist.instrument_family,
        "languages": panelist.languages,
    }


# The B side of a row: empty on single-track and pool rows (docs/data-dictionary.md).
B_COLUMNS = (
    "system_b",
    "track_b",
    "choice",
    "preferred_system",
    "liked_b",
    "guess_ai",
    "listen_b_s",
    "ai_side",
    "heard_b_s",
    "heard_overlap_s",
    "system_b_kind",
    "stimulus_b_id",
    "stimulus_b_sha256",
)


def design_columns(response: Response) -> dict:
    """Columns 41-82 of a response (the questions of issue 12), for its A/B or single row, or
    the trial-level cells of a pool's rows; empty where a question was not asked."""
    aspects = response.aspects or {}
    row = {
        "trial_kind": response.trial_kind or "ab",
        "familiar": response.familiar,
        "playlist_a": _flag(response.playlist_a),
        "playlist_b": _flag(response.playlist_b),
        "release_a": _flag(response.release_a),
        "release_b": _flag(response.release_b),
        "rating_a": response.rating_a,
        "rating_b": response.rating_b,
        "guess_kind": response.guess_kind,
        "guess_confidence": response.guess_confidence,
        "pool_size": response.pool_size,
        "pool_position": None,
        "pick_rank": None,
        "weaker_a": response.weaker_a,
        "weaker_b": response.weaker_b,
    }
    for name in ASPECTS:
        given = aspects.get(name) or {}
        row[f"aspect_{name}"] = given.get("choice", "")
        row[f"score_{name}_a"] = given.get("a")
        row[f"score_{name}_b"] = given.get("b")
    return row


def _pool_rows(response: Response, base: dict) -> Iterator[dict]:
    """One row per candidate of a pool answer: the candidate in the A columns, its screen
    position and rank; the trial's cells (familiar, pool_size, ...) repeated."""
    for candidate in response.candidates.all():
        yield {
            **base,
            "system_a": candidate.system,
            "system_a_kind": candidate.system_kind,
            "track_a": candidate.track_sha256[:12],
            "stimulus_a_id": candidate.stimulus_id,
            "stimulus_a_sha256": candidate.stimulus_sha256,
            "listen_a_s": candidate.listen_s,
            "heard_a_s": candidate.heard_s,
            "pool_position": candidate.position,
            "pick_rank": candidate.pick_rank,
        }


def response_export_rows(response: Response, study: Study) -> list[dict]:
    """The export rows of one response: one for A/B and single-track answers, one per
    candidate for a pool answer; B columns empty unless A/B."""
    row = {**response_row(response, study), **design_columns(response)}
    if row["trial_kind"] == "ab":
        return [row]
    row.update(dict.fromkeys(B_COLUMNS))
    if row["trial_kind"] == "pool":
        return list(_pool_rows(response, row))
    return [row]


def study_responses(study: Study):
    return (
        Response.objects.filter(trial__pair__study=study)
        .select_related("panelist__panel", "evidence")
        .prefetch_related("candidates")
        .order_by("submitted_at", "id")
    )


def response_rows(study: Study) -> Iterator[dict]:
    for response in study_responses(study).iterator(chunk_size=2000):
        yield from response_export_rows(response, study)


def write_csv(rows: Iterable[dict], columns: tuple[str, ...], handle) -> int:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([escape_cell(row[column]) for column in columns])
        count += 1
    return count


def responses_csv(study: Study) -> str:
    buffer = io.StringIO()
    write_csv(response_rows(study), RESPONSE_COLUMNS, buffer)
    return buffer.getvalue()


def summary_rows(summary: Summary) -> Iterator[dict]:
    """Flatten the stats summary (the typed contract of :mod:`evaluation.stats.contract`) into
    long-format rows (section, key, metric, value)."""
    for pair in summary.get("pairs", []):
        key = f"{pair['system_a']} vs {pair['system_b']}"
        for metric in ("n", "wins_a", "wins_b", "ties", "win_rate_a", "ci_low", "ci_high"):
            yield {"section": "pairs", "key": key, "metric": metric, "value": pair.get(metric)}
        yield {"section": "pairs", "key": key, "metric": "p_value", "value": pair.get("p_value")}
    for liked in summary.get("liked", []):
        for metric in ("n", "liked", "rate", "ci_low", "ci_high", "of_10"):
            yield {
                "section": "liked",
                "key": liked["system"],
                "metric": metric,
                "value": liked.get(metric),
            }
    ai = summary.get("ai_identification") or {}
    for metric in ("n", "correct", "accuracy", "ci_low", "ci_high", "p_value"):
        if metric in ai:
            yield {
                "section": "ai_identification",
                "key": "all",
                "metric": metric,
                "value": ai[metric],
            }
    for panel in summary.get("panels", []):
        for metric in ("n_panelists", "n_responses"):
            yield {
                "section": "panels",
                "key": panel["panel"],
                "metric": metric,
                "value": panel[metric],
            }
    # Appended after the original sections so that existing readers keep their rows.
    for system in summary.get("systems", []):
        for metric in ("rank", "score", "ci_low", "ci_high", "elo", "rank_low", "rank_high"):
            yield {
                "section": "systems",
                "key": system["system"],
                "metric": metric,
                "value": system.get(metric),
            }
    yield from _verdict_rows(summary)


def _verdict_rows(summary: Summary) -> Iterator[dict]:
    """The listener-level figures every sentence uses, appended as their own sections."""
    for pair in summary.get("pairs", []):
        key = f"{pair['system_a']} vs {pair['system_b']}"
        for metric in (
            "verdict",
            "verdict_p",
            "n_panelists",
            "panelist_rate_a",
            "cluster_ci_low",
            "cluster_ci_high",
            "cluster_ci_bound",
        ):
            yield {"section": "pair_verdicts", "key": key, "metric": metric, "value": pair[metric]}
    for liked in summary.get("liked", []):
        for metric in ("n_panelists", "panelist_rate", "cluster_ci_low", "cluster_ci_high"):
            yield {
                "section": "liked_listeners",
                "key": liked["system"],
                "metric": metric,
                "value": liked[metric],
            }
    ai = summary.get("ai_identification")
    if ai:
        for metric in (
            "verdict",
            "verdict_p",
            "n_panelists",
            "panelist_accuracy_decided",
            "decided_cluster_ci_low",
            "decided_cluster_ci_high",
        ):
            yield {
                "section": "ai_verdict",
                "key": "all",
                "metric": metric,
                "value": ai[metric],
            }


def summary_csv(summary: Summary) -> str:
    buffer = io.StringIO()
    write_csv(summary_rows(summary), SUMMARY_COLUMNS, buffer)
    return buffer.getvalue()
