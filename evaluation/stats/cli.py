"""Command line: ``python -m evaluation.stats responses.csv [--json] ...``.

Start-up is part of every run, so this module imports only the standard library, the results
contract and the option defaults: :func:`main` starts reading the CSV on a thread (pandas'
parser runs without the GIL) and imports scipy and the statistics modules meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from .contract import Summary, json_schema
from .defaults import (
    DEFAULT_HIT_THRESHOLD,
    DEFAULT_MIN_PANELISTS,
    MUSHRA_MIN_CATCH_PASS_RATE,
    TIES_MODELS,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.stats",
        description="Recompute Earshot's study statistics from an exported responses.csv.",
    )
    parser.add_argument(
        "responses",
        nargs="?",
        help="path to responses.csv (the export, or any CSV with "
        "panelist_id, system_a, system_b, choice)",
    )
    parser.add_argument(
        "--schema",
        action="store_true",
        help="print the JSON schema of --json output (docs/summary.schema.json) and exit",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--include-catch",
        action="store_true",
        help="count catch trials as comparisons (left out by default)",
    )
    parser.add_argument(
        "--exclude-failed-catch",
        action="store_true",
        help="drop panelists who passed fewer than --min-catch-pass-rate of their catch trials",
    )
    parser.add_argument(
        "--min-catch-pass-rate",
        type=float,
        default=MUSHRA_MIN_CATCH_PASS_RATE,
        help="threshold for --exclude-failed-catch (default %(default)s)",
    )
    parser.add_argument(
        "--min-listen",
        type=float,
        default=None,
        metavar="SECONDS",
        help="drop responses where a track was heard for less than SECONDS",
    )
    parser.add_argument(
        "--include-simulated",
        action="store_true",
        help="analyse simulated panelists' responses too (left out by default; the report "
        "then says so)",
    )
    parser.add_argument(
        "--min-panelists",
        type=int,
        default=DEFAULT_MIN_PANELISTS,
        metavar="N",
        help="panelists a comparison needs before it gets a verdict; fewer give "
        "too_little_data (default %(default)s)",
    )
    parser.add_argument(
        "--hit-threshold",
        type=float,
        default=DEFAULT_HIT_THRESHOLD,
        metavar="RATE",
        help="hit potential: the playlist / release rate an AI system is tested to exceed "
        "(one-sided; default %(default)s = 5%%)",
    )
    parser.add_argument(
        "--confidence", type=float, default=0.95, help="interval level (default %(default)s)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="ROUNDS",
        help="panelist-bootstrap rounds for the ranking and cluster intervals, 0 for none "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="bootstrap random seed (default %(default)s)"
    )
    parser.add_argument(
        "--ties",
        choices=TIES_MODELS,
        default="half",
        help="ranking tie model: a tie is half a win each way, or Davidson's model "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="do not print a progress bar on stderr"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.schema:
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
        return 0
    if args.responses is None:
        parser.error("the path to responses.csv is required (or --schema)")
    if args.bootstrap < 0:
        parser.error(f"--bootstrap must be 0 or more rounds, not {args.bootstrap}")
    if args.min_panelists < 2:
        parser.error(f"--min-panelists must be 2 or more, not {args.min_panelists}")
    if not 0.0 < args.hit_threshold < 1.0:
        parser.error(f"--hit-threshold must lie strictly between 0 and 1, not {args.hit_threshold}")
    if not 0.0 < args.confidence < 1.0:
        parser.error(f"--confidence must lie strictly between 0 and 1, not {args.confidence}")
    _one_blas_thread()
    _without_huge_pages()
    from .responses import ResponsesError, read_responses

    reading = _on_thread(read_responses, args.responses)
    from .summary import summarize  # scipy and the statistics modules, while the CSV is read

    if args.bootstrap and not args.no_progress:
        import tqdm  # noqa: F401 - loaded while the CSV is read; the bar starts after it

    try:
        responses = reading()
    except (OSError, ResponsesError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    bar = _progress_bar(args.bootstrap, args.no_progress)
    try:
        summary = summarize(
            responses,
            exclude_catch=not args.include_catch,
            exclude_failed_catch=args.exclude_failed_catch,
            min_catch_pass_rate=args.min_catch_pass_rate,
            min_listen_s=args.min_listen,
            include_simulated=args.include_simulated,
            min_panelists=args.min_panelists,
            hit_threshold=args.hit_threshold,
            confidence=args.confidence,
            ties=args.ties,
            n_bootstrap=args.bootstrap,
            seed=args.seed,
            progress=None if bar is None else bar.update,
        )
    except ResponsesError as error:
        if bar is not None:
            bar.close()
        print(f"error: {args.responses}: {error}", file=sys.stderr)
        return 2
    if bar is not None:
        bar.close()
    if args.json:
        # One line: json's C encoder runs only without indent (a million responses give
        # thousands of rater rows); pipe through `python -m json.tool` to read it.
        sys.stdout.write(json.dumps(summary, allow_nan=False, separators=(",", ":")) + "\n")
    else:
        sys.stdout.write(format_summary(summary))
    return 0


def _on_thread(function: Callable[..., Any], *arguments: Any) -> Callable[[], Any]:
    """Start ``function(*arguments)`` on a thread; the returned callable waits for it and
    returns its result or raises its exception."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function(*arguments)
        except BaseException as error:  # noqa: BLE001 - re-raised on the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="read-responses", daemon=True)
    thread.start()

    def result() -> Any:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return result


def _one_blas_thread() -> None:
    """Run OpenBLAS on one thread (unless the user set ``OPENBLAS_NUM_THREADS``), before numpy
    is first imported. The command's BLAS work is dozens of small products in the batched
    Newton iterations and one ``[1000, 5000] @ [5000, 380]`` float32 product (about 50 ms on
    one core); on the shared two-core machine a second BLAS thread spinning between those
    calls cost about 0.1 s of CPU per run and made the run slower, not faster. Results are
    the same: the product is exact (whole and half counts in float32) and the small products
    are the same calls."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _without_huge_pages() -> None:
    """Ask numpy not to back large arrays with transparent huge pages (numpy's documented
    ``NUMPY_MADVISE_HUGEPAGE=0``, read when numpy is first imported; unless the user set it).
    The command's arrays live for a fraction of a second; on Linux with THP "madvise" each
    fresh huge page is zeroed (and possibly compacted) in the kernel, which cost 0.2-0.3 s of
    system time per run on the benchmark CSV (measured with ``/usr/bin/time``). Memory layout
    only: no result changes."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def _progress_bar(total: int, hidden: bool):
    """A tqdm bar on stderr over the bootstrap rounds (None when hidden or nothing to do)."""
    if hidden or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="panelist bootstrap", unit="round", file=sys.stderr)


def _percent(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _interval(low: float | None, high: float | None, bound: str, digits: int = 1) -> str:
    """ "55.0%–69.0%", or a one-sided bound ("≥ 63.1%")."""
    if bound == "lower":
        return f"≥ {_percent(low, digits)}"
    if bound == "upper":
        return f"≤ {_percent(high, digits)}"
    return f"{_percent(low, digits)}–{_percent(high, digits)}"


def _decided(pair: dict[str, Any]) -> str:
    """The confidence-sequence verdict: which system is ahead, or "not yet"."""
    if pair.get("decided"):
        return f"decided: {pair['decided_for']}"
    return "not yet"


def _elo(system: dict[str, Any]) -> str:
    """The Elo, or its one-sided bound for a system that never won ("≤ 612")."""
    if system["elo"] is not None:
        return f"{system['elo']:.0f}"
    if system.get("elo_high") is not None:
        return f"≤ {system['elo_high']:.0f}"
    if system.get("elo_low") is not None:
        return f"≥ {system['elo_low']:.0f}"
    return "–"


def _table(header: Sequence[str], rows: list[Sequence[Any]]) -> str:
    cells = [[str(cell) for cell in header]] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def format_summary(summary: Summary) -> str:
    """Readable plain-text report of a :func:`summarize` result."""
    meta = summary["meta"]
    level = f"{100 * meta['confidence']:g}%"
    out = [
        f"{meta['n_responses']} responses from {meta['n_panelists']} panelists; "
        f"{meta['n_analysed']} analysed, {meta['n_votes']} preference votes.\n"
    ]
    for exclusion in meta["exclusions"]:
        out.append(
            f"  excluded {exclusion['n_responses']} responses "
            f"({exclusion['n_panelists']} panelists): {exclusion['reason']}\n"
        )
    for note in meta["figures_left_out"]:
        out.append(f"  left out {note['figure']}: {note['reason']}\n")

    listeners = meta.get("listeners") or {}
    if listeners.get("n"):
        out.append(f"Who answered: {listeners['subject']}.\n")
    if meta.get("include_simulated") and meta.get("n_simulated"):
        out.append(
            f"Caution: {meta['n_simulated']} responses from simulated panelists are included "
            "(--include-simulated).\n"
        )
    if summary.get("pairs"):
        out.append(
            f"\nPairwise preference: verdict = {summary['pairs'][0]['verdict_method']}; "
            f"A share = mean over listeners of each listener's share of votes for A (ties half), "
            f"with its {level} listener-cluster interval; Wilson = single votes, reference only\n"
        )
        rows = [
            (
                f"{pair['system_a']} vs {pair['system_b']}",
                pair["n_panelists"],
                pair["n"],
                _percent(pair["panelist_rate_a"], 1),
                _interval(
                    pair["cluster_ci_low"], pair["cluster_ci_high"], pair["cluster_ci_bound"]
                ),
                pair["verdict"],
                _p(pair["verdict_p"]),
                f"{_percent(pair['ci_low'], 1)}–{_percent(pair['ci_high'], 1)}",
                _decided(pair),
            )
            for pair in summary["pairs"]
        ]
        out.append(
            _table(
                (
                    "pair",
                    "listeners",
                    "votes",
                    "A share",
                    "interval",
                    "verdict",
                    "p (Holm)",
                    "Wilson",
                    "monitor",
                ),
                rows,
            )
        )

    if summary.get("systems"):
        out.append("\nBradley-Terry ranking (panelist bootstrap interval)\n")
        rows = [
            (
                system["system"],
                system["rank"],
                "–" if system["score"] is None else f"{system['score']:+.3f}",
                f"{system['ci_low']:+.3f}..{system['ci_high']:+.3f}"
                if system.get("ci_low") is not None and system.get("ci_high") is not None
                else "–",
                _elo(system),
                system["votes"],
            )
            for system in summary["systems"]
        ]
        out.append(_table(("system", "rank", "score", "interval", "elo", "votes"), rows))

    if summary.get("liked"):
        out.append(
            f"\nLiked it: N of 10 listeners, each listener weighted equally ({level} "
            "listener-cluster interval)\n"
        )
        rows = [
            (
                liked["system"],
                liked["n_panelists"],
                liked["n"],
                liked["liked"],
                f"{liked['of_10']:.1f} of 10",
                f"{liked['of_10_low']:.1f}–{liked['of_10_high']:.1f}",
            )
            for liked in summary["liked"]
        ]
        out.append(_table(("system", "listeners", "answers", "liked", "rate", "interval"), rows))

    ai = summary.get("ai_identification")
    if ai:
        out.append(
            "\nAI identification: per listener share of a/b guesses that picked the AI track, "
            f"averaged ({level} listener-cluster interval)\n"
        )
        rows = [("all", ai)] + [(group["expertise"], group) for group in ai["by_expertise"]]
        out.append(
            _table(
                ("group", "listeners", "guesses", "accuracy", "interval", "unsure", "verdict", "p"),
                [
                    (
                        name,
                        figures["n_panelists"],
                        figures["n_decided"],
                        _percent(figures["panelist_accuracy_decided"], 1),
                        _interval(
                            figures["decided_cluster_ci_low"],
                            figures["decided_cluster_ci_high"],
                            figures["decided_cluster_ci_bound"],
                        ),
                        _percent(figures["unsure_rate"]),
                        figures["verdict"],
                        _p(figures["verdict_p"]),
                    )
                    for name, figures in rows
                ],
            )
        )

    identification = summary.get("identification")
    if identification:
        out.append("\nHuman or AI? (single tracks; 'familiar' answers left out)\n")
        rows = [("all", identification)] + [
            (group["expertise"], group) for group in identification["by_expertise"]
        ]
        out.append(
            _table(
                (
                    "group",
                    "listeners",
                    "n",
                    "accuracy",
                    "interval",
                    "d'",
                    "criterion c",
                    "familiar",
                ),
                [
                    (
                        name,
                        figures["n_panelists"],
                        figures["n"],
                        _percent(figures["panelist_accuracy"], 1),
                        _interval(
                            figures["cluster_ci_low"],
                            figures["cluster_ci_high"],
                            figures["cluster_ci_bound"],
                        ),
                        _number(figures["d_prime"]),
                        _number(figures["criterion"]),
                        figures["n_familiar"],
                    )
                    for name, figures in rows
                ],
            )
        )

    planning = summary.get("planning")
    if planning:
        out.append(
            f"\nPlanning: panelists × votes each per pair for {100 * planning['power']:g}% power "
            f"({planning['test']}; level {planning['alpha_pair']:.4f} per pair; "
            f"{planning['votes_per_panelist_per_pair']:.1f} votes per panelist per pair, "
            f"design effect {planning['design_effect']:.2f})\n"
        )
        rows = [
            (
                _percent(scenario["win_rate"]),
                f"{scenario['panelists']} × {scenario['votes_each']:.1f}",
                f"{scenario['votes']:.0f}",
                scenario["independent_votes_exact"],
            )
            for scenario in planning["scenarios"]
        ]
        out.append(
            _table(("win rate", "panelists × votes", "votes", "independent votes (exact)"), rows)
        )

    out.extend(format_design_sections(summary))

    if summary.get("panels"):
        out.append("\nPanels\n")
        rows = [
            (panel["panel"], panel["n_panelists"], panel["n_responses"], panel["n_analysed"])
            for panel in summary["panels"]
        ]
        out.append(_table(("panel", "panelists", "responses", "analysed"), rows))
    return "".join(out)


def _mean_interval(low: float | None, high: float | None, bound: str) -> str:
    """A mean rating's interval: "3.1–3.9", or a one-sided bound ("≥ 4.6")."""
    if bound == "lower":
        return f"≥ {_number(low)}"
    if bound == "upper":
        return f"≤ {_number(high)}"
    return f"{_number(low)}–{_number(high)}"


def format_design_sections(summary: Summary) -> list[str]:
    """Plain-text tables of the study-design sections (aspects, pool, familiarity,
    hit_potential); the identification table is printed above."""
    out: list[str] = []
    level = f"{100 * summary['meta']['confidence']:g}%"
    aspects = summary.get("aspects")
    if aspects:
        out.append(
            f"\nAspects ({aspects['n_comparisons']} comparisons; verdict = "
            f"{aspects['verdict_method']}; {level} listener-cluster intervals)\n"
        )
        rows = [
            (
                f"{aspect['aspect']}: {pair['system_a']} vs {pair['system_b']}",
                pair["n_panelists"],
                _percent(pair["panelist_rate_a"], 1),
                _interval(
                    pair["cluster_ci_low"], pair["cluster_ci_high"], pair["cluster_ci_bound"]
                ),
                pair["verdict"],
                _p(pair["verdict_p"]),
            )
            for aspect in aspects["preference"]
            for pair in aspect["pairs"]
        ]
        if rows:
            out.append(
                _table(("preference", "listeners", "A share", "interval", "verdict", "p"), rows)
            )
        for aspect in aspects["ratings"]:
            out.append(f"Rating of {aspect['aspect']} (1–5, mean per listener, averaged)\n")
            out.append(
                _table(
                    ("system", "listeners", "answers", "mean", "interval"),
                    [
                        (
                            row["system"],
                            row["n_panelists"],
                            row["n"],
                            _number(row["mean"]),
                            _mean_interval(row["ci_low"], row["ci_high"], row["ci_bound"]),
                        )
                        for row in aspect["systems"]
                    ],
                )
            )
            if aspect["pairs"]:
                out.append(
                    _table(
                        ("pair (A − B)", "listeners", "difference", "verdict", "p"),
                        [
                            (
                                f"{pair['system_a']} − {pair['system_b']}",
                                pair["n_panelists"],
                                _number(pair["difference"]),
                                pair["verdict"],
                                _p(pair["verdict_p"]),
                            )
                            for pair in aspect["pairs"]
                        ],
                    )
                )
        if aspects["weaker"]:
            out.append("Liked, but … weaker (share of the listeners' liked hearings)\n")
            out.append(
                _table(
                    ("system", "aspect", "liked", "count", "of liked", "interval"),
                    [
                        (
                            row["system"],
                            entry["aspect"],
                            row["n_liked"],
                            entry["count"],
                            _percent(entry["share_of_liked"], 1),
                            _interval(
                                entry["liked_ci_low"],
                                entry["liked_ci_high"],
                                entry["liked_ci_bound"],
                            ),
                        )
                        for row in aspects["weaker"]
                        for entry in row["aspects"]
                    ],
                )
            )
    pool = summary.get("pool")
    if pool:
        out.append(
            f"\nPool trials: {pool['n_trials']} picks by {pool['n_panelists']} listeners "
            f"(mean pool size {_number(pool['mean_pool_size'])})\n"
        )
        share = pool.get("ai_share")
        if share:
            out.append(
                f"AI share of first picks {_percent(share['ai_pick_rate'], 1)} "
                f"({_interval(share['cluster_ci_low'], share['cluster_ci_high'], share['cluster_ci_bound'])})"
                f" vs AI share of the pools shown {_percent(share['expected_share'], 1)}: "
                f"{share['verdict']} (p = {_p(share['verdict_p'])})\n"
            )
        out.append(
            _table(
                (
                    "system",
                    "kind",
                    "shown",
                    "picked",
                    "pick rate",
                    "interval",
                    "expected",
                    "verdict",
                ),
                [
                    (
                        row["system"],
                        row["kind"],
                        row["shown"],
                        row["picked"],
                        _percent(row["pick_rate"], 1),
                        _interval(
                            row["cluster_ci_low"], row["cluster_ci_high"], row["cluster_ci_bound"]
                        ),
                        _percent(row["expected_rate"], 1),
                        row["verdict"],
                    )
                    for row in pool["systems"]
                ],
            )
        )
    if pool and pool["ranking"]:
        status = (pool.get("ranking_meta") or {}).get("status")
        out.append(
            f"Ranking from the picks (Bradley–Terry on {pool['n_implied_pairs']} implied pairs, "
            "panelist bootstrap"
            + ("; too little data for a rank range" if status == "too_little_data" else "")
            + ")\n"
        )
        out.append(
            _table(
                ("system", "rank", "elo", "rank range"),
                [
                    (
                        system["system"],
                        system["rank"],
                        _elo(system),
                        f"{system['rank_low']}–{system['rank_high']}"
                        if system.get("rank_low") is not None
                        else "–",
                    )
                    for system in pool["ranking"]
                ],
            )
        )
    familiarity = summary.get("familiarity")
    if familiarity:
        levels = ", ".join(
            f"{row['level']} {_percent(row['panelist_share'])}" for row in familiarity["levels"]
        )
        out.append(
            f"\nFamiliarity ({familiarity['n_answers']} answers, {familiarity['n_panelists']} "
            f"listeners): {levels}\n"
        )
        rows = [
            (
                f"{pair['system_a']} vs {pair['system_b']}",
                pair["with_familiar"]["verdict"],
                (pair["without_familiar"] or {}).get("verdict", "no answers left"),
            )
            for pair in familiarity["pairs"]
        ]
        if rows:
            out.append(_table(("pair", "every answer", "without familiar"), rows))
    hit = summary.get("hit_potential")
    if hit:
        out.append(
            f"\nHit potential (AI systems tested to exceed {_percent(hit['threshold'], 1)}, "
            "one-sided)\n"
        )
        rows = []
        for row in hit["systems"]:
            for question in ("playlist", "release"):
                rate = row[question]
                if rate:
                    rows.append(
                        (
                            row["system"],
                            question,
                            rate["n_panelists"],
                            _percent(rate["rate"], 1),
                            _interval(
                                rate["cluster_ci_low"],
                                rate["cluster_ci_high"],
                                rate["cluster_ci_bound"],
                            ),
                            rate["verdict"] or "–",
                        )
                    )
        out.append(_table(("system", "question", "listeners", "rate", "interval", "verdict"), rows))
    return out
