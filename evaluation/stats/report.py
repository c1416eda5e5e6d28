"""The researcher's report: headline sentences, a methods paragraph and SVG figures.

Everything here is computed from a :func:`evaluation.stats.summarize` result (and, for the
methods paragraph, a plain dict of study settings), so the report page, the downloadable HTML
file and ``python -m evaluation.stats`` tell the same story. Pure Python + matplotlib; no
Django.

Figures are drawn with matplotlib's object API (no ``pyplot`` global state, safe in a web
worker) and returned as SVG text ready to be inlined in HTML. A figure that cannot be drawn
(its data is missing) is ``None`` and listed in ``figures_left_out`` with the reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Labels carry user text (system names, expertise labels): "$" must stay a dollar sign, not
# start matplotlib's mathtext (a name like "cost $5 $x$" would fail to parse and end the
# page with a 500). Read when each Text is made, so set for every figure of this process.
matplotlib.rcParams["text.parse_math"] = False

from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FIGURE_TITLES = {
    "forest": "Win rate per system pair",
    "ranking": "Bradley–Terry ranking",
    "liked": "Liked it",
    "ai_by_expertise": "AI identification by expertise",
    "progress": "Progress over time",
}
"""Figure keys of :func:`report_figures`, in report order, with their titles."""

_BLUE, _GREY, _ORANGE = "#1f5f99", "#8a8a8a", "#c0612b"


# --- numbers in words ----------------------------------------------------------------------


def percent(rate: float | None) -> str:
    """0.623 -> "62%"; None -> "–"."""
    return "–" if rate is None else f"{100 * rate:.0f}%"


def percent_range(low: float | None, high: float | None) -> str:
    """(0.571, 0.668) -> "57–67%"."""
    if low is None or high is None:
        return "–"
    return f"{100 * low:.0f}–{100 * high:.0f}%"


def p_text(p_value: float | None) -> str:
    """ "p = 0.21", "p = 0.003" or "p < 0.001"."""
    if p_value is None:
        return "p not available"
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.01:
        return f"p = {p_value:.3f}"
    return f"p = {p_value:.2f}"


def _level(summary: dict[str, Any]) -> str:
    return f"{100 * summary['meta']['confidence']:g}% CI"


# --- headlines -----------------------------------------------------------------------------


def pair_headline(pair: dict[str, Any], level: str = "95% CI") -> str:
    """One pair in words, from the side of the system that won more often.

    "Musicians preferred X over Y in 62% of 418 comparisons (95% CI 57–67%); ..." with the
    verdict of the exact binomial test and of the anytime-valid confidence sequence.
    """
    rate, low, high = pair["win_rate_a"], pair["ci_low"], pair["ci_high"]
    winner, loser = pair["system_a"], pair["system_b"]
    if rate is not None and rate < 0.5:
        winner, loser = loser, winner
        rate, low, high = 1.0 - rate, 1.0 - high, 1.0 - low
    sentence = (
        f"Musicians preferred {winner} over {loser} in {percent(rate)} of {pair['n']} "
        f"comparisons ({level} {percent_range(low, high)})"
    )
    if low is not None and low > 0.5:
        sentence += f", a clear preference ({p_text(pair['p_value'])})"
    else:
        sentence += f", not distinguishable from an even split ({p_text(pair['p_value'])})"
    if pair.get("decided"):
        sentence += "; decided by the anytime-valid test"
    return sentence + "."


def liked_headline(liked: dict[str, Any]) -> str:
    """ "7 of 10 liked X (6.4–7.6), 412 answers."."""
    return (
        f"{liked['of_10']:.0f} of 10 liked {liked['system']} "
        f"({liked['of_10_low']:.1f}–{liked['of_10_high']:.1f} of 10; {liked['n']} answers)."
    )


def ai_headline(ai: dict[str, Any], level: str = "95% CI") -> str | None:
    """How often listeners picked the AI track of a human-vs-AI pair, against chance."""
    if not ai or not ai.get("n_decided"):
        return None
    accuracy = ai["accuracy_decided"]
    interval = percent_range(ai["decided_ci_low"], ai["decided_ci_high"])
    sentence = (
        f"Listeners identified the AI track {percent(accuracy)} of the time "
        f"({ai['n_decided']} guesses, {level} {interval})"
    )
    if ai["p_value"] is not None and ai["p_value"] < 0.05:
        direction = "better" if accuracy > 0.5 else "worse"
        sentence += f", {direction} than chance ({p_text(ai['p_value'])})"
    else:
        sentence += f", not distinguishable from chance ({p_text(ai['p_value'])})"
    if ai.get("unsure"):
        sentence += f"; {ai['unsure']} more answered “can't tell”"
    return sentence + "."


def ranking_headline(systems: Sequence[dict[str, Any]]) -> str | None:
    """The leader of the Bradley-Terry ranking and how sure its place is."""
    if len(systems) < 2:
        return None
    leader = systems[0]
    sentence = f"{leader['system']} ranks first of {len(systems)} systems (Bradley–Terry"
    if leader.get("rank_high") is not None:
        if leader["rank_high"] == 1:
            sentence += ", first in at least 97.5% of panelist resamples)"
        else:
            sentence += f", rank 1–{leader['rank_high']} across panelist resamples)"
    else:
        sentence += ")"
    return sentence + "."


def identification_headline(identification: dict[str, Any] | None) -> str | None:
    """Single-track "human or AI?" judgments in words."""
    if not identification or not identification.get("n"):
        return None
    sentence = (
        f"Judging single tracks, listeners were right {percent(identification['accuracy'])} "
        f"of the time ({identification['n']} judgments, 95% CI "
        f"{percent_range(identification['accuracy_low'], identification['accuracy_high'])})"
    )
    if identification.get("d_prime") is not None:
        sentence += f"; sensitivity d′ = {identification['d_prime']:.2f}"
    return sentence + "."


def headlines(summary: dict[str, Any], *, max_pairs: int = 6) -> list[str]:
    """The report's plain-word sentences, most informative first.

    Pairs are listed by number of comparisons (largest first, at most ``max_pairs``), then
    the ranking leader, the liked rates, and AI identification.
    """
    level = _level(summary)
    caution = simulated_headline(summary.get("meta") or {})
    sentences: list[str] = [caution] if caution else []
    pairs = sorted(summary.get("pairs") or [], key=lambda pair: (-pair["n"], pair["system_a"]))
    sentences += [pair_headline(pair, level) for pair in pairs[:max_pairs]]
    for sentence in (
        ranking_headline(summary.get("systems") or []),
        *(
            liked_headline(liked)
            for liked in sorted(summary.get("liked") or [], key=lambda row: -row["rate"])
        ),
        ai_headline(summary.get("ai_identification"), level),
        identification_headline(summary.get("identification")),
    ):
        if sentence:
            sentences.append(sentence)
    return sentences


def simulated_headline(meta: dict[str, Any]) -> str | None:
    """A warning when simulated panelists' rows are part of the figures above."""
    simulated, total = meta.get("n_simulated") or 0, meta.get("n_responses") or 0
    excluded = any(rule.get("rule") == "simulated" for rule in meta.get("exclusions") or [])
    if not simulated or excluded:
        return None
    return (
        f"Caution: {simulated} of {total} responses come from simulated panelists "
        "(simulate_panel), not people; leave them out with --exclude-simulated."
    )


# --- methods -------------------------------------------------------------------------------


def methods_paragraph(summary: dict[str, Any], settings: dict[str, Any]) -> str:
    """A methods paragraph generated from the study settings and the analysis actually run.

    ``settings`` (all keys optional): ``title, systems`` (list of names), ``n_prompts,
    n_pairs, n_catch_pairs, ratings_per_pair, trials_per_panelist, excerpt_s, min_listen_s,
    target_lufs, max_true_peak_dbtp, sample_rate, codec, ask_liked, ask_ai, seed, opened_at,
    closed_at`` (dates as text).
    """
    meta = summary["meta"]
    ranking = meta.get("ranking") or {}
    parts = []
    systems = settings.get("systems") or [entry["system"] for entry in summary.get("systems", [])]
    design = f"Blind paired comparison of {len(systems)} systems"
    if systems:
        design += f" ({', '.join(systems)})"
    if settings.get("n_prompts"):
        design += f" on {settings['n_prompts']} prompts"
    if settings.get("n_pairs"):
        design += f", {settings['n_pairs']} track pairs"
        if settings.get("n_catch_pairs"):
            design += f" of which {settings['n_catch_pairs']} were catch trials"
    parts.append(design + ".")
    if settings.get("excerpt_s") is not None:
        parts.append(
            f"Each track was cut to a {settings['excerpt_s']:g} s excerpt with fades, "
            f"loudness-matched to {settings.get('target_lufs', -23):g} LUFS (ITU-R BS.1770) "
            f"with true peaks below {settings.get('max_true_peak_dbtp', -1):g} dBTP, and "
            f"delivered as {str(settings.get('codec', 'flac')).upper()} at "
            f"{settings.get('sample_rate', 48000) / 1000:g} kHz without metadata."
        )
    questions = ["which of A and B they preferred (or no preference)"]
    if settings.get("ask_liked", True):
        questions.append("whether they liked each track")
    if settings.get("ask_ai", True):
        questions.append("which track they thought was AI-generated")
    if len(questions) > 1:
        questions[-1] = "and " + questions[-1]
    quota = ""
    if settings.get("ratings_per_pair"):
        quota = (
            f" Every pair was rated {settings['ratings_per_pair']} times before any was rated "
            f"again, A/B positions were counterbalanced, and each panelist rated at most "
            f"{settings.get('trials_per_panelist', '–')} trials with a minimum listening time "
            f"of {settings.get('min_listen_s', 0):g} s per track."
        )
    parts.append("Panelists were asked " + ", ".join(questions) + "." + quota)
    parts.append(
        f"{meta['n_responses']} responses from {meta['n_panelists']} panelists were collected"
        + (
            f" between {settings['opened_at']} and {settings['closed_at']}"
            if settings.get("opened_at") and settings.get("closed_at")
            else ""
        )
        + f"; {meta['n_analysed']} were analysed."
    )
    for exclusion in meta["exclusions"]:
        if not exclusion["n_responses"]:
            continue
        parts.append(
            f"Excluded: {exclusion['n_responses']} responses from {exclusion['n_panelists']} "
            f"panelists ({exclusion['reason']})."
        )
    level = f"{100 * meta['confidence']:g}%"
    parts.append(
        f"Win rates count a tie as half a win and carry {level} Wilson intervals and exact "
        "binomial tests on decisive votes, with Holm-adjusted p-values across pairs; "
        "listener-cluster intervals and anytime-valid confidence sequences (Howard et al. "
        "2021) account for repeated votes by the same panelist."
    )
    if ranking:
        model = "Davidson's tie model" if ranking.get("ties") == "davidson" else "ties as half"
        bootstrap = (
            f" with {ranking['n_bootstrap']}-round percentile intervals from a bootstrap that "
            f"resamples panelists (seed {ranking['seed']})"
            if ranking.get("n_bootstrap")
            else ""
        )
        parts.append(f"The ranking is a Bradley–Terry fit ({model}){bootstrap}.")
    if settings.get("seed") is not None:
        parts.append(f"Trial order and positions were drawn with seed {settings['seed']}.")
    if meta.get("source_sha256"):
        parts.append(f"Input file SHA-256 {meta['source_sha256'][:16]}….")
    return " ".join(parts)


# --- figures -------------------------------------------------------------------------------


def _figure(rows: int, width: float = 7.0, row_height: float = 0.38) -> Figure:
    return Figure(figsize=(width, max(2.2, 0.9 + row_height * rows)), layout="constrained")


_SVG_STYLE = re.compile(r"<style[^>]*>[^<]*</style>\s*")


def _svg(figure: Figure, name: str) -> str:
    """The figure as inline SVG text: no XML prolog, no date, ids unique to ``name``."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"earshot-{name}", "svg.fonttype": "path"}):
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # No <style> element: the page's Content-Security-Policy refuses one without its nonce.
    # Its only rule (round joins, butt caps) becomes inherited attributes of the root.
    text = _SVG_STYLE.sub("", text)
    text = text.replace("<svg ", '<svg stroke-linejoin="round" stroke-linecap="butt" ', 1)
    # Several figures share one HTML page: prefix every id (and every reference to one).
    text = text.replace('id="', f'id="{name}-')
    text = text.replace("url(#", f"url(#{name}-")
    return text.replace('xlink:href="#', f'xlink:href="#{name}-')


def _interval_errors(values, lows, highs):
    """matplotlib's ``xerr``: distances below and above, never negative (a Wilson bound can
    sit a rounding error inside a rate of exactly 0 or 1)."""
    return [
        [max(0.0, value - low) for value, low in zip(values, lows, strict=True)],
        [max(0.0, high - value) for value, high in zip(values, highs, strict=True)],
    ]


def _intervals(axes, values, positions, lows, highs, **style) -> None:
    """Horizontal interval bars (and dots, unless ``fmt="none"``) at ``positions``."""
    axes.errorbar(values, positions, xerr=_interval_errors(values, lows, highs), **style)


def forest_plot(pairs: Sequence[dict[str, Any]]) -> str | None:
    """Win rate of each pair's first system with its Wilson interval (thick) and listener-
    cluster interval (thin), against the 50% line."""
    pairs = [pair for pair in pairs if pair["n"]]
    if not pairs:
        return None
    figure = _figure(len(pairs), row_height=0.6)
    axes = figure.add_subplot()
    positions = list(range(len(pairs)))[::-1]
    rates = [pair["win_rate_a"] for pair in pairs]
    cluster = [
        (pair["cluster_ci_low"], pair["cluster_ci_high"])
        for pair in pairs
        if pair.get("cluster_ci_low") is not None
    ]
    if len(cluster) == len(pairs):
        _intervals(
            axes,
            rates,
            positions,
            *zip(*cluster, strict=True),
            fmt="none",
            ecolor=_GREY,
            capsize=3,
            label="listener-cluster interval",
        )
    lows, highs = [pair["ci_low"] for pair in pairs], [pair["ci_high"] for pair in pairs]
    _intervals(
        axes,
        rates,
        positions,
        lows,
        highs,
        fmt="o",
        color=_BLUE,
        elinewidth=3,
        label="Wilson interval",
    )
    axes.axvline(0.5, color=_ORANGE, linewidth=1, linestyle="--")
    # Two lines per label: long system names would otherwise squeeze the axes to a sliver.
    axes.set_yticks(
        positions,
        [f"{pair['system_a']} vs\n{pair['system_b']} (n={pair['n']})" for pair in pairs],
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel("win rate of the first-named system (ties count half)")
    figure.legend(loc="outside upper right", ncols=2, fontsize="small", frameon=False)
    return _svg(figure, "forest")


def ranking_plot(systems: Sequence[dict[str, Any]]) -> str | None:
    """Elo-scale Bradley-Terry scores with panelist-bootstrap intervals, best at the top."""
    if len(systems) < 2:
        return None
    figure = _figure(len(systems))
    axes = figure.add_subplot()
    positions = list(range(len(systems)))[::-1]
    elos = [entry["elo"] for entry in systems]
    lows = [entry["elo_low"] for entry in systems]
    highs = [entry["elo_high"] for entry in systems]
    if None in lows:
        lows = highs = elos  # no bootstrap: dots without intervals
    _intervals(axes, elos, positions, lows, highs, fmt="o", color=_BLUE, elinewidth=3)
    axes.axvline(1000, color=_GREY, linewidth=1, linestyle=":")
    axes.set_yticks(
        positions, [f"{entry['rank']}. {entry['system']}" for entry in systems], fontsize="small"
    )
    axes.set_xlabel("Elo (400 points = 10:1 odds; 1000 = average system)")
    return _svg(figure, "ranking")


def liked_plot(liked: Sequence[dict[str, Any]]) -> str | None:
    """ "N of 10 liked it" per system with its interval."""
    if not liked:
        return None
    figure = _figure(len(liked))
    axes = figure.add_subplot()
    positions = list(range(len(liked)))[::-1]
    values = [row["of_10"] for row in liked]
    axes.barh(positions, values, color=_BLUE, alpha=0.8)
    lows, highs = [row["of_10_low"] for row in liked], [row["of_10_high"] for row in liked]
    _intervals(axes, values, positions, lows, highs, fmt="none", ecolor="black", capsize=3)
    axes.set_yticks(positions, [f"{row['system']} (n={row['n']})" for row in liked])
    axes.set_xlim(0, 10)
    axes.set_xlabel("liked it, out of 10 listeners")
    return _svg(figure, "liked")


def ai_by_expertise_plot(ai: dict[str, Any] | None) -> str | None:
    """Share of correct AI guesses (decided answers) overall and per expertise group."""
    if not ai or not ai.get("n_decided"):
        return None
    groups = [("all listeners", ai)] + [
        (group["expertise"], group) for group in ai.get("by_expertise", []) if group["n_decided"]
    ]
    figure = _figure(len(groups))
    axes = figure.add_subplot()
    positions = list(range(len(groups)))[::-1]
    values = [figures["accuracy_decided"] for _, figures in groups]
    lows = [figures["decided_ci_low"] for _, figures in groups]
    highs = [figures["decided_ci_high"] for _, figures in groups]
    _intervals(axes, values, positions, lows, highs, fmt="o", color=_BLUE, elinewidth=3)
    axes.axvline(0.5, color=_ORANGE, linewidth=1, linestyle="--", label="chance")
    axes.set_yticks(positions, [f"{name} (n={figures['n_decided']})" for name, figures in groups])
    axes.set_xlim(0, 1)
    axes.set_xlabel("guesses that picked the AI track (“can't tell” left out)")
    axes.legend(loc="lower right", fontsize="small", frameon=False)
    return _svg(figure, "ai_by_expertise")


def progress_plot(progress: Sequence[dict[str, Any]] | None) -> str | None:
    """Cumulative responses and panelists per day."""
    if not progress:
        return None
    figure = Figure(figsize=(7.0, 2.6), layout="constrained")
    axes = figure.add_subplot()
    days = list(range(len(progress)))
    axes.plot(days, [day["responses_total"] for day in progress], "o-", color=_BLUE)
    axes.plot(days, [day["panelists_total"] for day in progress], "s-", color=_ORANGE)
    axes.legend(["responses", "panelists"], loc="upper left", fontsize="small", frameon=False)
    step = max(1, len(days) // 8)
    axes.set_xticks(days[::step], [day["date"] for day in progress][::step], fontsize="small")
    axes.set_ylim(bottom=0)
    axes.set_ylabel("total so far")
    return _svg(figure, "progress")


_FIGURES = {
    "forest": (forest_plot, "pairs", "no preference votes yet"),
    "ranking": (ranking_plot, "systems", "needs votes on two systems"),
    "liked": (liked_plot, "liked", "no “did you like it?” answers"),
    "ai_by_expertise": (
        ai_by_expertise_plot,
        "ai_identification",
        "no human-vs-AI pairs with a guess (needs the columns guess_ai and ai_side)",
    ),
    "progress": (progress_plot, "progress", "no submission times (needs the column submitted_at)"),
}
"""Per figure key: the drawing function, the summary key it draws, and why it may be missing."""


def report_figures(summary: dict[str, Any]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """All figures as ``{key: svg}`` (keys of :data:`FIGURE_TITLES`, in order) and the list
    of ``{figure, reason}`` for those that could not be drawn."""
    drawn = {key: draw(summary.get(source)) for key, (draw, source, _) in _FIGURES.items()}
    figures = {key: svg for key, svg in drawn.items() if svg is not None}
    left_out = [
        {"figure": FIGURE_TITLES[key], "reason": _FIGURES[key][2]}
        for key, svg in drawn.items()
        if svg is None
    ]
    return figures, left_out


def report_figures_left_out(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The ``left_out`` list of :func:`report_figures`, without drawing anything: a figure
    is drawn exactly when its function has data, which these checks mirror."""
    ai = summary.get("ai_identification") or {}
    has_data = {
        "forest": any(pair["n"] for pair in summary.get("pairs") or []),
        "ranking": len(summary.get("systems") or []) >= 2,
        "liked": bool(summary.get("liked")),
        "ai_by_expertise": bool(ai.get("n_decided")),
        "progress": bool(summary.get("progress")),
    }
    return [
        {"figure": FIGURE_TITLES[key], "reason": _FIGURES[key][2]}
        for key, present in has_data.items()
        if not present
    ]


def anytime_note(summary: dict[str, Any]) -> str:
    """What "decided" / "not yet" means, with the false-positive guarantee in numbers."""
    confidence = summary["meta"]["confidence"]
    return (
        f"“Anytime-valid” is a {100 * confidence:g}% confidence sequence over panelists: look "
        "as often as you like and stop when it says “decided”; the chance that any look ever "
        f"wrongly says “decided” stays below {100 * (1 - confidence):g}%."
    )


def report(
    summary: dict[str, Any], settings: dict[str, Any] | None = None, *, with_figures: bool = True
) -> dict[str, Any]:
    """Everything the report page shows besides the tables: ``headlines`` (list of str),
    ``methods`` (str), ``anytime_note`` (str), ``figures`` (list of ``{key, title, svg}``)
    and ``figures_left_out``. ``with_figures=False`` skips drawing (``figures`` is then
    empty; ``figures_left_out`` still says which figures the data cannot support)."""
    if with_figures:
        figures, left_out = report_figures(summary)
    else:
        figures, left_out = {}, report_figures_left_out(summary)
    return {
        "headlines": headlines(summary),
        "methods": methods_paragraph(summary, settings or {}),
        "anytime_note": anytime_note(summary),
        "figures": [
            {"key": key, "title": FIGURE_TITLES[key], "svg": svg} for key, svg in figures.items()
        ],
        "figures_left_out": left_out,
    }


_SVG_ID = re.compile(r'id="([^"]+)"')


def svg_ids(svg: str) -> list[str]:
    """The element ids of an SVG text (to check that inlined figures do not collide)."""
    return _SVG_ID.findall(svg)
