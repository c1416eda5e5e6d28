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
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
# Labels carry user text (system names, expertise labels): "$" must stay a dollar sign, not
# start matplotlib's mathtext (a name like "cost $5 $x$" would fail to parse and end the
# page with a 500). Read when each Text is made, so set for every figure of this process.
matplotlib.rcParams["text.parse_math"] = False

from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .contract import (  # noqa: E402
    AiIdentification,
    Aspects,
    Familiarity,
    HitPotential,
    Identification,
    Liked,
    Meta,
    Pair,
    Pool,
    ProgressDay,
    RankingMeta,
    Summary,
    SystemRank,
)

FIGURE_TITLES = {
    "forest": "Win rate per system pair",
    "ranking": "Bradley–Terry ranking",
    "liked": "Liked it",
    "ai_by_expertise": "AI identification by expertise",
    "progress": "Progress over time",
}
"""Figure keys of :func:`report_figures`, in report order, with their titles."""

DESIGN_FIGURE_TITLES = {
    "aspect_preference": "Preference per aspect",
    "aspect_ratings": "Ratings per aspect",
    "weaker": "Liked, but … weaker",
    "pool": "Pool trials: picks per time shown",
    "calibration": "Human or AI? Accuracy by stated confidence",
    "familiarity": "Do you know this piece?",
    "hit_potential": "Hit potential: playlist and release",
}
"""Figures of the study-design sections (issue 12), drawn after :data:`FIGURE_TITLES` when
the study used that design (a section that is None is not a figure left out)."""

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


def _level(summary: Summary) -> str:
    return f"{100 * summary['meta']['confidence']:g}% CI"


def share_range(low: float | None, high: float | None, bound: str | None = "two_sided") -> str:
    """A share's interval in words: "57–67%", or a one-sided bound ("≥ 63%", "≤ 37%")."""
    if bound == "lower":
        return f"≥ {100 * low:.0f}%"
    if bound == "upper":
        return f"≤ {100 * high:.0f}%"
    return percent_range(low, high)


def _who(meta: Meta | None) -> str:
    """The sentence subject: "Musicians" only when every analysed panelist declared a
    musician expertise, else "Listeners"."""
    listeners = (meta or {}).get("listeners") or {}
    return "Musicians" if listeners.get("all_musicians") else "Listeners"


# --- headlines -----------------------------------------------------------------------------


def subject_headline(meta: Meta) -> str | None:
    """Who answered: "Who answered: 12 listeners: 7 professional musicians, 5 amateur
    musicians." (analysed panelists only)."""
    listeners = meta.get("listeners") or {}
    if not listeners.get("n"):
        return None
    return f"Who answered: {listeners['subject']}."


def pair_headline(
    pair: Pair,
    level: str = "95% CI",
    *,
    who: str = "Listeners",
    n_pairs: int = 1,
    min_panelists: int | None = None,
) -> str:
    """One pair in words, from its verdict (:mod:`evaluation.stats.verdicts`) and the
    listener-level figures it rests on, told from the side of the system listeners chose more.

    "Listeners clearly preferred X over Y: on average a listener chose X in 62% of their votes
    on this pair (30 listeners, each weighted equally; 95% CI 57–67%; Holm-adjusted p = 0.003
    across 10 pairs)."
    """
    a, b = pair["system_a"], pair["system_b"]
    if pair["verdict"] == "too_little_data":
        needed = f"; a verdict needs at least {min_panelists}" if min_panelists else ""
        return (
            f"{a} vs {b}: too little data for a verdict ({pair['n_panelists']} "
            f"{'listener' if pair['n_panelists'] == 1 else 'listeners'}{needed})."
        )
    rate, low, high = pair["panelist_rate_a"], pair["cluster_ci_low"], pair["cluster_ci_high"]
    bound = pair.get("cluster_ci_bound", "two_sided")
    winner, loser = a, b
    if pair["verdict"] == "prefers_b" or (pair["verdict"] != "prefers_a" and rate < 0.5):
        winner, loser = b, a
        rate, low, high = 1.0 - rate, 1.0 - high, 1.0 - low
        bound = {"lower": "upper", "upper": "lower"}.get(bound, bound)
    adjusted = "" if n_pairs == 1 else "Holm-adjusted "
    across = "" if n_pairs == 1 else f" across {n_pairs} pairs"
    if pair["verdict"] in ("prefers_a", "prefers_b"):
        opening = f"{who} clearly preferred {winner} over {loser}"
    else:
        opening = f"No clear preference between {winner} and {loser}"
    sentence = (
        f"{opening}: on average a listener chose {winner} in {percent(rate)} of their votes on "
        f"this pair ({pair['n_panelists']} listeners, each weighted equally; {level} "
        f"{share_range(low, high, bound)}; {adjusted}{p_text(pair['verdict_p'])}{across})"
    )
    if pair.get("decided"):
        sentence += f"; the monitor has decided for {pair['decided_for']}"
    return sentence + "."


def liked_headline(liked: Liked, level: str = "95% CI") -> str:
    """ "7 of 10 listeners liked X ..." where N of 10 weighs every listener equally."""
    bound = liked.get("cluster_ci_bound", "two_sided")
    if bound == "lower":
        interval = f"at least {liked['of_10_low']:.1f} of 10"
    elif bound == "upper":
        interval = f"at most {liked['of_10_high']:.1f} of 10"
    elif bound == "none":
        interval = "too few listeners for an interval"
    else:
        interval = f"{level} {liked['of_10_low']:.1f}–{liked['of_10_high']:.1f} of 10"
    return (
        f"{liked['of_10']:.0f} of 10 listeners liked {liked['system']} (each listener weighted "
        f"equally: the mean of every listener's share of liked tracks; {interval}; "
        f"{liked['n_panelists']} listeners, {liked['n']} answers)."
    )


def ai_headline(
    ai: AiIdentification | None, level: str = "95% CI", *, who: str = "Listeners"
) -> str | None:
    """How often listeners picked the AI track of a human-vs-AI pair, from its verdict."""
    if not ai or not ai.get("n_decided"):
        return None
    rate = ai["panelist_accuracy_decided"]
    interval = share_range(
        ai["decided_cluster_ci_low"],
        ai["decided_cluster_ci_high"],
        ai.get("decided_cluster_ci_bound", "two_sided"),
    )
    sentence = (
        f"{who} picked the AI track in {percent(rate)} of their guesses on average "
        f"({ai['n_panelists']} listeners, each weighted equally; {ai['n_decided']} guesses; "
        f"{level} {interval})"
    )
    verdict = ai["verdict"]
    if verdict == "too_little_data":
        sentence += ", too little data to compare with chance"
    elif verdict == "not_distinguishable_from_chance":
        sentence += f", not distinguishable from chance ({p_text(ai['verdict_p'])})"
    else:
        direction = "better" if verdict == "better_than_chance" else "worse"
        sentence += f", {direction} than chance ({p_text(ai['verdict_p'])})"
    if ai.get("d_prime_bound") == "lower" and ai.get("d_prime_low") is not None:
        sentence += f"; sensitivity d′ ≥ {ai['d_prime_low']:.2f} (at the ceiling)"
    if ai.get("unsure"):
        sentence += f"; {ai['unsure']} more answered “can't tell”"
    return sentence + "."


def ranking_headline(
    systems: Sequence[SystemRank],
    pairs: Sequence[Pair] = (),
    ranking: RankingMeta | None = None,
) -> str | None:
    """The leader of the ranking, never contradicting the pair verdicts: a system is "first"
    only when listeners clearly preferred it over every other system; otherwise the sentence
    names the systems tied with it for first."""
    if len(systems) < 2:
        return None
    ranking = ranking or {}
    if ranking.get("status") == "too_little_data":
        return (
            f"Too little data to rank the {len(systems)} systems ({ranking['n_panelists']} "
            f"listeners; a ranking needs at least {ranking['min_panelists']})."
        )
    leader = systems[0]["system"]
    verdicts = {}
    for pair in pairs:
        if leader in (pair["system_a"], pair["system_b"]):
            other = pair["system_b"] if pair["system_a"] == leader else pair["system_a"]
            ahead = "prefers_a" if pair["system_a"] == leader else "prefers_b"
            verdicts[other] = pair["verdict"] == ahead
    others = [entry["system"] for entry in systems[1:]]
    tied = [other for other in others if not verdicts.get(other, False)]
    if not tied:
        return (
            f"{leader} ranks first of {len(systems)} systems: listeners clearly preferred it "
            "over every other system."
        )
    names = ", ".join(tied[:-1]) + (" and " if len(tied) > 1 else "") + tied[-1]
    return (
        f"{leader} is tied for first with {names} of {len(systems)} systems (Bradley–Terry "
        f"leader, but no clear preference over {'it' if len(tied) == 1 else 'them'} yet)."
    )


def identification_headline(
    identification: Identification | None, level: str = "95% CI"
) -> str | None:
    """Single-track "human or AI?" judgments in words, from their listener-level verdict."""
    if not identification or not identification.get("n"):
        return None
    interval = share_range(
        identification["cluster_ci_low"],
        identification["cluster_ci_high"],
        identification.get("cluster_ci_bound", "two_sided"),
    )
    sentence = (
        f"Judging single tracks, listeners were right {percent(identification['panelist_accuracy'])} "
        f"of the time on average ({identification['n_panelists']} listeners, each weighted "
        f"equally; {identification['n']} judgments; {level} {interval})"
    )
    verdict = identification.get("verdict")
    if verdict == "too_little_data":
        sentence += ", too little data to compare with chance"
    elif verdict in ("better_than_chance", "worse_than_chance"):
        sentence += f", {verdict.replace('_', ' ')} ({p_text(identification['verdict_p'])})"
    elif verdict:
        sentence += f", not distinguishable from chance ({p_text(identification['verdict_p'])})"
    if identification.get("d_prime_bound") == "lower" and identification.get("d_prime_low"):
        sentence += f"; sensitivity d′ ≥ {identification['d_prime_low']:.2f} (at the ceiling)"
    if identification.get("d_prime") is not None:
        sentence += f"; sensitivity d′ = {identification['d_prime']:.2f}"
        if identification.get("d_prime_cluster_low") is not None:
            sentence += (
                f" ({identification['d_prime_cluster_low']:.2f} to "
                f"{identification['d_prime_cluster_high']:.2f})"
            )
    return sentence + "."


def headlines(summary: Summary, *, max_pairs: int = 6) -> list[str]:
    """The report's plain-word sentences: who answered, then pairs with a verdict first (by
    number of listeners), the ranking leader, the liked rates, and AI identification."""
    level = _level(summary)
    meta = summary.get("meta") or {}
    caution = simulated_headline(meta)
    sentences: list[str] = [caution] if caution else []
    subject = subject_headline(meta)
    if subject:
        sentences.append(subject)
    who = _who(meta)
    all_pairs = summary.get("pairs") or []
    pairs = sorted(
        all_pairs,
        key=lambda pair: (
            pair["verdict"] == "too_little_data",
            -pair["n_panelists"],
            pair["system_a"],
            pair["system_b"],
        ),
    )
    sentences += [
        pair_headline(
            pair,
            level,
            who=who,
            n_pairs=len(all_pairs),
            min_panelists=meta.get("min_panelists"),
        )
        for pair in pairs[:max_pairs]
    ]
    for sentence in (
        ranking_headline(summary.get("systems") or [], all_pairs, meta.get("ranking")),
        *(
            liked_headline(liked, level)
            for liked in sorted(
                summary.get("liked") or [], key=lambda row: (-row["of_10"], row["system"])
            )
        ),
        ai_headline(summary.get("ai_identification"), level, who=who),
        identification_headline(summary.get("identification"), level),
        *aspect_headlines(summary.get("aspects"), level, who=who),
        pool_headline(summary.get("pool"), level),
        familiarity_headline(summary.get("familiarity")),
        *hit_headlines(summary.get("hit_potential"), level),
    ):
        if sentence:
            sentences.append(sentence)
    return sentences


def _listeners(count: int) -> str:
    return f"{count} {'listener' if count == 1 else 'listeners'}"


def _answers(count: int) -> str:
    return f"{count} {'answer' if count == 1 else 'answers'}"


def _interval_words(low: float, high: float, bound: str, level: str) -> str:
    """ "95% CI 57–67%", "95% CI ≥ 63%", or "too few listeners for an interval"."""
    if bound == "none":
        return "too few listeners for an interval"
    return f"{level} {share_range(low, high, bound)}"


def aspect_headlines(
    aspects: Aspects | None, level: str = "95% CI", *, who: str = "Listeners"
) -> list[str]:
    """Aspect comparisons with a verdict, in words; one sentence for "none clear" or "too
    little data"; and, per system, the most named "liked, but <aspect> weaker"."""
    if not aspects:
        return []
    sentences = []
    k = aspects["n_comparisons"]
    across = f"Holm-adjusted across {k} aspect comparisons" if k > 1 else "one comparison"
    clear, tested, scarce = [], 0, 0
    for aspect in aspects["preference"]:
        for pair in aspect["pairs"]:
            if pair["verdict"] == "too_little_data":
                scarce += 1
                continue
            tested += 1
            if pair["verdict"] in ("prefers_a", "prefers_b"):
                winner, loser, rate = pair["system_a"], pair["system_b"], pair["panelist_rate_a"]
                low, high, bound = pair["cluster_ci_low"], pair["cluster_ci_high"], pair[
                    "cluster_ci_bound"]  # fmt: skip
                if pair["verdict"] == "prefers_b":
                    winner, loser, rate = loser, winner, 1.0 - rate
                    low, high = 1.0 - high, 1.0 - low
                    bound = {"lower": "upper", "upper": "lower"}.get(bound, bound)
                clear.append(
                    f"On {aspect['aspect']}, {who.lower()} clearly preferred {winner} over "
                    f"{loser}: on average a listener chose {winner} in {percent(rate)} of their "
                    f"answers ({_listeners(pair['n_panelists'])}, each weighted equally; "
                    f"{_interval_words(low, high, bound, level)}; {p_text(pair['verdict_p'])}, "
                    f"{across})."
                )
    for aspect in aspects["ratings"]:
        for pair in aspect["pairs"]:
            if pair["verdict"] == "too_little_data":
                scarce += 1
                continue
            tested += 1
            if pair["verdict"] in ("prefers_a", "prefers_b"):
                higher, lower = pair["system_a"], pair["system_b"]
                if pair["verdict"] == "prefers_b":
                    higher, lower = lower, higher
                clear.append(
                    f"{who} rated {higher} higher than {lower} on {aspect['aspect']} by "
                    f"{abs(pair['difference']):.1f} points of 5 on average "
                    f"({_listeners(pair['n_panelists'])} who rated both; "
                    f"{p_text(pair['verdict_p'])}, {across})."
                )
    sentences += clear
    if tested and not clear:
        sentences.append(
            f"Aspects: no clear difference in any of the {tested} aspect comparisons with enough "
            f"listeners ({across})."
        )
    if scarce:
        sentences.append(
            f"Aspects: {scarce} of {k} comparisons have too little data for a verdict (fewer "
            f"than {aspects['min_panelists']} listeners)."
        )
    for row in aspects["weaker"]:
        top = max(row["aspects"], key=lambda entry: (entry["count"], -len(entry["aspect"])))
        if not top["count"] or top["share_of_liked"] is None:
            continue
        sentences.append(
            f"{row['system']}: liked in {10 * (row['liked_share'] or 0):.0f} of 10 hearings "
            f"per listener on average; of the liked ones, {10 * top['share_of_liked']:.0f} in "
            f"10 were “liked, but {top['aspect']} weaker” ({_answers(top['count'])}, "
            f"{_listeners(top['n_panelists_liked'])} who liked it; "
            + _interval_words(
                top["liked_ci_low"], top["liked_ci_high"], top["liked_ci_bound"], level
            )
            + ")."
        )
    return sentences


def pool_headline(pool: Pool | None, level: str = "95% CI") -> str | None:
    """AI share of first picks against its share of the pools shown, from its verdict."""
    share = (pool or {}).get("ai_share")
    if not share or share["ai_pick_rate"] is None:
        return None
    verdict = share["verdict"]
    adjusted = f"Holm-adjusted {p_text(share['verdict_p'])} across {pool['n_comparisons']} tests"
    if verdict == "too_little_data":
        ending = (
            f"too little data for a verdict (a verdict needs {pool['min_panelists']} listeners)"
        )
    elif verdict == "above_expected":
        ending = f"AI was picked more often than its share ({adjusted})"
    elif verdict == "below_expected":
        ending = f"AI was picked less often than its share ({adjusted})"
    else:
        ending = f"not distinguishable from its share ({adjusted})"
    return (
        f"Pick 1 of N (mean N = {pool['mean_pool_size']:.1f}): AI tracks were {percent(share['expected_share'])} "
        f"of the candidates shown and {percent(share['ai_pick_rate'])} of first picks "
        f"({_listeners(share['n_panelists'])}, each weighted equally; {share['n_trials']} pools "
        f"mixing AI and human; "
        + _interval_words(
            share["cluster_ci_low"], share["cluster_ci_high"], share["cluster_ci_bound"], level
        )
        + f"): {ending}."
    )


def familiarity_headline(familiarity: Familiarity | None) -> str | None:
    """How often listeners knew the piece, and which verdicts change without those answers."""
    if not familiarity or not familiarity["n_answers"]:
        return None
    levels = {row["level"]: row for row in familiarity["levels"]}
    known = ", ".join(
        f"“{label}” {percent(levels[level]['panelist_share'])}"
        for level, label in (("sounds_familiar", "sounds familiar"), ("knows_it", "I know it"))
    )
    changed = []
    for pair in familiarity["pairs"]:
        before = pair["with_familiar"]["verdict"]
        after = (pair["without_familiar"] or {}).get("verdict")
        # Too little data before and after (or nothing left) is no change of finding.
        if after != before and not {before, after} <= {"too_little_data", None}:
            changed.append(
                f"{pair['system_a']} vs {pair['system_b']} ({before} → "
                f"{after or 'no answers left'})"
            )
    sentence = (
        f"Do you know this piece? Per listener, on average {known} of "
        f"{_answers(familiarity['n_answers'])} ({_listeners(familiarity['n_panelists'])})"
    )
    if not familiarity["pairs"]:
        return sentence + "."
    if changed:
        return (
            sentence + "; without those answers these verdicts change: " + "; ".join(changed) + "."
        )
    return sentence + "; without those answers no pair verdict changes."


def hit_headlines(hit: HitPotential | None, level: str = "95% CI") -> list[str]:
    """Per AI system and question: the listener-level yes rate and the one-sided verdict."""
    if not hit:
        return []
    sentences = []
    threshold = percent(hit["threshold"])
    words = {
        "playlist": "of its tracks to a playlist",
        "release": "of its tracks for release",
    }
    verbs = {"playlist": "add", "release": "pick"}
    for row in hit["systems"]:
        for question in ("playlist", "release"):
            rate = row[question]
            if not rate or rate["verdict"] is None or rate["rate"] is None:
                continue
            interval = _interval_words(
                rate["cluster_ci_low"], rate["cluster_ci_high"], rate["cluster_ci_bound"], level
            )
            verdict = {
                "exceeds_threshold": f"above {threshold} (Holm-adjusted one-sided "
                f"{p_text(rate['verdict_p'])})",
                "not_shown_to_exceed": f"not shown to exceed {threshold}",
                "too_little_data": "too little data to compare with " + threshold,
            }[rate["verdict"]]
            sentences.append(
                f"{row['system']}: on average a listener would {verbs[question]} "
                f"{percent(rate['rate'])} {words[question]} "
                f"({_listeners(rate['n_panelists'])}, each weighted equally; "
                f"{_answers(rate['n'])}; {interval}): {verdict}."
            )
    return sentences


def simulated_headline(meta: Meta) -> str | None:
    """A warning when simulated panelists' rows are part of the figures (only with
    ``--include-simulated``; they are left out by default)."""
    simulated, total = meta.get("n_simulated") or 0, meta.get("n_responses") or 0
    if not simulated or not meta.get("include_simulated"):
        return None
    return (
        f"Caution: {simulated} of {total} responses come from simulated panelists "
        "(simulate_panel), not people, and are included in every figure below "
        "(--include-simulated)."
    )


# --- methods -------------------------------------------------------------------------------


def methods_paragraph(summary: Summary, settings: dict[str, Any]) -> str:
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
        "Every rate in a sentence is computed per listener first (each listener's own share, "
        "ties as half a win) and then averaged over listeners, each weighted equally; its "
        f"{level} interval and test are Student's t on those per-listener shares (listeners, "
        "not votes, are the independent units). A pair gets a verdict only with at least "
        f"{meta.get('min_panelists', 8)} listeners, and its t-test p-value is Holm-adjusted "
        "across all pairs of the study. Wilson intervals and exact binomial tests on single "
        "votes are shown for reference only. The “decided yet?” monitor is an "
        "empirical-Bernstein confidence sequence over listeners (Waudby-Smith & Ramdas 2024) "
        "for each pair at level α divided by the number of pairs."
    )
    if meta.get("include_simulated") and meta.get("n_simulated"):
        parts.append(
            f"Simulated panelists' responses ({meta['n_simulated']}) were included on request."
        )
    elif meta.get("n_simulated"):
        parts.append(f"{meta['n_simulated']} responses from simulated panelists were left out.")
    if ranking:
        model = "Davidson's tie model" if ranking.get("ties") == "davidson" else "ties as half"
        bootstrap = (
            f" with {ranking['n_bootstrap']}-round percentile intervals from a bootstrap that "
            f"resamples panelists (seed {ranking['seed']})"
            if ranking.get("n_bootstrap")
            else ""
        )
        parts.append(f"The ranking is a Bradley–Terry fit ({model}){bootstrap}.")
    design = design_methods(summary)
    if design:
        parts.append(design)
    if settings.get("seed") is not None:
        parts.append(f"Trial order and positions were drawn with seed {settings['seed']}.")
    if meta.get("source_sha256"):
        parts.append(f"Input file SHA-256 {meta['source_sha256'][:16]}….")
    return " ".join(parts)


def design_methods(summary: Summary) -> str | None:
    """What the study-design sections computed, in one or two sentences (None without any)."""
    names = {
        "aspects": "aspects",
        "pool": "pool trials",
        "identification": "single-track identification",
        "familiarity": "familiarity",
        "hit_potential": "hit potential",
    }
    present = [label for key, label in names.items() if summary.get(key)]
    if not present:
        return None
    counts = (summary.get("meta") or {}).get("n_by_trial_kind") or {}
    rows = ", ".join(
        f"{counts[kind]} {kind}" for kind in ("ab", "single", "pool") if counts.get(kind)
    )
    sentence = (
        f"Study-design sections ({', '.join(present)}): every rate and mean is computed per "
        "listener and averaged with each listener weighted equally, with a listener-cluster "
        "interval; every test of a section is Holm-adjusted across that section's tests, and "
        "a comparison by fewer than the minimum of listeners has too little data. Pairwise "
        "figures use only A/B rows"
    )
    sentence += f" (analysed rows: {rows})." if rows else "."
    hit = summary.get("hit_potential")
    if hit:
        sentence += (
            f" AI systems' playlist and release rates are tested one-sided against "
            f"{percent(hit['threshold'])}."
        )
    return sentence


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


def _interval_rows_plot(
    rows: Sequence[Mapping[str, Any]],
    labels: Sequence[str],
    *,
    value: str,
    low: str = "cluster_ci_low",
    high: str = "cluster_ci_high",
    xlim: tuple[float, float] = (0, 1),
    xlabel: str,
    ylabel: str | None = "(n) = listeners",
    reference: float | None = None,
    reference_label: str | None = None,
    bars: bool = False,
    interval_label: str | None = None,
    row_height: float = 0.38,
    label_size: str | None = None,
) -> tuple[Figure, Any]:
    """The scaffolding of the interval figures: one row per item of ``rows`` (first at the
    top), its ``row[value]`` drawn as a blue dot (``bars``: a bar) with the interval from
    ``row[low]`` to ``row[high]``, labelled ``labels[i]`` on the y axis, and a dashed orange
    line at ``reference`` (50%, a threshold; None: none).

    Returns the figure and its axes, for what a figure adds (markers, a legend); ``_svg``
    then makes it the page's SVG."""
    figure = _figure(len(rows), row_height=row_height)
    axes = figure.add_subplot()
    positions = list(range(len(rows)))[::-1]
    values = [row[value] for row in rows]
    lows, highs = [row[low] for row in rows], [row[high] for row in rows]
    if bars:
        axes.barh(positions, values, color=_BLUE, alpha=0.8)
        _intervals(axes, values, positions, lows, highs, fmt="none", ecolor="black", capsize=3)
    else:
        style = {"label": interval_label} if interval_label else {}
        _intervals(
            axes, values, positions, lows, highs, fmt="o", color=_BLUE, elinewidth=3, **style
        )
    if reference is not None:
        style = {"label": reference_label} if reference_label else {}
        axes.axvline(reference, color=_ORANGE, linewidth=1, linestyle="--", **style)
    axes.set_yticks(positions, labels, **({"fontsize": label_size} if label_size else {}))
    axes.set_xlim(*xlim)
    axes.set_xlabel(xlabel)
    if ylabel:
        axes.set_ylabel(ylabel, fontsize="small")
    return figure, axes


def forest_plot(pairs: Sequence[Pair]) -> str | None:
    """Panelist-averaged win rate of each pair's first system with the listener-cluster
    interval the verdict uses (thick) and the vote-level Wilson interval (thin, reference),
    against the 50% line."""
    pairs = [pair for pair in pairs if pair["n"] and pair.get("panelist_rate_a") is not None]
    if not pairs:
        return None
    figure = _figure(len(pairs), row_height=0.6)
    axes = figure.add_subplot()
    positions = list(range(len(pairs)))[::-1]
    rates = [pair["panelist_rate_a"] for pair in pairs]
    _intervals(
        axes,
        [pair["win_rate_a"] for pair in pairs],
        positions,
        [pair["ci_low"] for pair in pairs],
        [pair["ci_high"] for pair in pairs],
        fmt="none",
        ecolor=_GREY,
        capsize=3,
        label="Wilson interval of single votes (reference)",
    )
    _intervals(
        axes,
        rates,
        positions,
        [pair["cluster_ci_low"] for pair in pairs],
        [pair["cluster_ci_high"] for pair in pairs],
        fmt="o",
        color=_BLUE,
        elinewidth=3,
        label="listener-cluster interval (verdict)",
    )
    axes.axvline(0.5, color=_ORANGE, linewidth=1, linestyle="--")
    # Two lines per label: long system names would otherwise squeeze the axes to a sliver.
    axes.set_yticks(
        positions,
        [
            f"{pair['system_a']} vs\n{pair['system_b']} ({pair['n_panelists']} listeners)"
            for pair in pairs
        ],
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of votes for the first-named system, per listener, averaged (ties half)")
    figure.legend(loc="outside upper right", ncols=1, fontsize="small", frameon=False)
    return _svg(figure, "forest")


def ranking_plot(systems: Sequence[SystemRank]) -> str | None:
    """Elo-scale Bradley-Terry scores with panelist-bootstrap intervals, best at the top; a
    system that never won (never lost) is drawn as its one-sided bound (◀ / ▶)."""
    if len(systems) < 2:
        return None
    figure = _figure(len(systems))
    axes = figure.add_subplot()
    positions = list(range(len(systems)))[::-1]
    fitted = [
        (y, entry) for y, entry in zip(positions, systems, strict=True) if entry["elo"] is not None
    ]
    if fitted:
        elos = [entry["elo"] for _, entry in fitted]
        lows = [entry["elo_low"] for _, entry in fitted]
        highs = [entry["elo_high"] for _, entry in fitted]
        if None in lows or None in highs:
            lows = highs = elos  # no bootstrap: dots without intervals
        _intervals(
            axes, elos, [y for y, _ in fitted], lows, highs, fmt="o", color=_BLUE, elinewidth=3
        )
    for y, entry in zip(positions, systems, strict=True):
        if entry["elo"] is None and entry.get("elo_high") is not None:
            axes.plot([entry["elo_high"]], [y], marker="<", color=_ORANGE)
        elif entry["elo"] is None and entry.get("elo_low") is not None:
            axes.plot([entry["elo_low"]], [y], marker=">", color=_ORANGE)
    axes.axvline(1000, color=_GREY, linewidth=1, linestyle=":")
    axes.set_yticks(
        positions, [f"{entry['rank']}. {entry['system']}" for entry in systems], fontsize="small"
    )
    axes.set_xlabel("Elo (400 points = 10:1 odds; 1000 = average system; ◀ ▶ one-sided bounds)")
    return _svg(figure, "ranking")


def liked_plot(liked: Sequence[Liked]) -> str | None:
    """ "N of 10 listeners liked it" per system (each listener weighted equally) with its
    listener-cluster interval."""
    if not liked:
        return None
    figure, _ = _interval_rows_plot(
        liked,
        [f"{row['system']} ({row['n_panelists']} listeners)" for row in liked],
        value="of_10",
        low="of_10_low",
        high="of_10_high",
        bars=True,
        xlim=(0, 10),
        xlabel="liked it, out of 10 listeners (each listener weighted equally)",
        ylabel=None,
    )
    return _svg(figure, "liked")


def ai_by_expertise_plot(ai: AiIdentification | None) -> str | None:
    """Per-listener share of correct AI guesses (decided answers), averaged over listeners,
    overall and per expertise group, with listener-cluster intervals."""
    if not ai or not ai.get("n_decided"):
        return None
    groups = [("all listeners", ai)] + [
        (group["expertise"], group) for group in ai.get("by_expertise", []) if group["n_decided"]
    ]
    figure, axes = _interval_rows_plot(
        [figures for _, figures in groups],
        [f"{name} ({figures['n_panelists']} listeners)" for name, figures in groups],
        value="panelist_accuracy_decided",
        low="decided_cluster_ci_low",
        high="decided_cluster_ci_high",
        reference=0.5,
        reference_label="chance",
        xlabel="guesses that picked the AI track, per listener (“can't tell” left out)",
        ylabel=None,
    )
    axes.legend(loc="lower right", fontsize="small", frameon=False)
    return _svg(figure, "ai_by_expertise")


def progress_plot(progress: Sequence[ProgressDay] | None) -> str | None:
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


def aspect_preference_plot(aspects: Aspects | None) -> str | None:
    """Per aspect and pair: the listener-averaged share preferring the first-named system,
    with the listener-cluster interval, against 50%."""
    rows = [
        (aspect["aspect"], pair)
        for aspect in (aspects or {}).get("preference", [])
        for pair in aspect["pairs"]
        if pair["panelist_rate_a"] is not None
    ]
    if not rows:
        return None
    figure, _ = _interval_rows_plot(
        [pair for _, pair in rows],
        [
            f"{name}: {pair['system_a']} vs {pair['system_b']} ({pair['n_panelists']})"
            for name, pair in rows
        ],
        value="panelist_rate_a",
        reference=0.5,
        row_height=0.5,
        label_size="small",
        xlabel="share for the first-named system, per listener, averaged (ties half)",
    )
    return _svg(figure, "aspect_preference")


def aspect_ratings_plot(aspects: Aspects | None) -> str | None:
    """Mean 1–5 rating per aspect and system (listener means averaged) with intervals; a
    one-sided bound is drawn as its open end (◀ ▶)."""
    rows = [
        (aspect["aspect"], row)
        for aspect in (aspects or {}).get("ratings", [])
        for row in aspect["systems"]
        if row["mean"] is not None
    ]
    if not rows:
        return None
    figure, _ = _interval_rows_plot(
        [row for _, row in rows],
        [f"{name}: {row['system']} ({row['n_panelists']})" for name, row in rows],
        value="mean",
        low="ci_low",
        high="ci_high",
        row_height=0.4,
        label_size="small",
        xlim=(1, 5),
        xlabel="mean rating (1 = not at all, 5 = very much), per listener, averaged",
    )
    return _svg(figure, "aspect_ratings")


def weaker_plot(aspects: Aspects | None) -> str | None:
    """ "Liked, but <aspect> weaker": per system and aspect, the share of the listeners'
    liked hearings, with the listener-cluster interval."""
    rows = [
        (system["system"], entry)
        for system in (aspects or {}).get("weaker", [])
        for entry in system["aspects"]
        if entry["share_of_liked"] is not None
    ]
    if not rows:
        return None
    figure, _ = _interval_rows_plot(
        [entry for _, entry in rows],
        [f"{name}: {entry['aspect']} ({entry['n_panelists_liked']})" for name, entry in rows],
        value="share_of_liked",
        low="liked_ci_low",
        high="liked_ci_high",
        bars=True,
        row_height=0.4,
        label_size="small",
        xlabel="share of liked hearings with this aspect named weaker, per listener",
    )
    return _svg(figure, "weaker")


def pool_plot(pool: Pool | None) -> str | None:
    """Per system: picked as favourite per time shown (listener-averaged, cluster interval)
    against the ``1/N`` expected with no preference (orange ticks)."""
    systems = [row for row in (pool or {}).get("systems", []) if row["pick_rate"] is not None]
    if not systems:
        return None
    figure, axes = _interval_rows_plot(
        systems,
        [f"{row['system']} ({row['kind'] or '?'}, {row['n_panelists']})" for row in systems],
        value="pick_rate",
        interval_label="picked per time shown",
        xlabel="share of showings where it was the favourite, per listener, averaged",
    )
    axes.plot(
        [row["expected_rate"] for row in systems],
        list(range(len(systems)))[::-1],
        "|",
        color=_ORANGE,
        markersize=14,
        label="expected with no preference (1/N)",
    )
    figure.legend(loc="outside upper right", fontsize="small", frameon=False)
    return _svg(figure, "pool")


def calibration_plot(identification: Identification | None) -> str | None:
    """Human or AI? accuracy per band of stated confidence (listener-averaged, cluster
    interval) against the diagonal of perfect calibration."""
    calibration = (identification or {}).get("calibration") or {}
    bands = [band for band in calibration.get("bands", []) if band["n"]]
    if not bands:
        return None
    figure = Figure(figsize=(5.5, 3.6), layout="constrained")
    axes = figure.add_subplot()
    stated = [band["mean_confidence"] for band in bands]
    accuracy = [band["panelist_accuracy"] for band in bands]
    axes.errorbar(
        stated,
        accuracy,
        yerr=_interval_errors(
            accuracy,
            [band["cluster_ci_low"] for band in bands],
            [band["cluster_ci_high"] for band in bands],
        ),
        fmt="o",
        color=_BLUE,
        elinewidth=3,
    )
    axes.plot([0.5, 1.0], [0.5, 1.0], color=_ORANGE, linestyle="--", linewidth=1)
    axes.set_xlim(0.45, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("stated confidence (mean in the band)")
    axes.set_ylabel("right, per listener, averaged")
    return _svg(figure, "calibration")


def familiarity_plot(familiarity: Familiarity | None) -> str | None:
    """Share of answers per "Do you know this piece?" level (listener-averaged)."""
    levels = [
        row for row in (familiarity or {}).get("levels", []) if row["panelist_share"] is not None
    ]
    if not levels:
        return None
    labels = {"no": "no", "sounds_familiar": "sounds familiar", "knows_it": "I know it"}
    figure, _ = _interval_rows_plot(
        levels,
        [f"{labels[row['level']]} ({row['n']})" for row in levels],
        value="panelist_share",
        bars=True,
        xlabel="share of a listener's answers, averaged over listeners",
        ylabel="(n) = answers",
    )
    return _svg(figure, "familiarity")


def hit_potential_plot(hit: HitPotential | None) -> str | None:
    """Playlist and release rates per system (listener-averaged, cluster intervals) with the
    threshold the AI systems are tested against."""
    rows = [
        (row, question, row[question])
        for row in (hit or {}).get("systems", [])
        for question in ("playlist", "release")
        if row[question] and row[question]["rate"] is not None
    ]
    if not rows:
        return None
    figure, _ = _interval_rows_plot(
        [rate for _, _, rate in rows],
        [f"{row['system']}: {question} ({rate['n_panelists']})" for row, question, rate in rows],
        value="rate",
        reference=hit["threshold"],
        row_height=0.4,
        label_size="small",
        xlabel=f"share answering yes, per listener, averaged (dashed: {percent(hit['threshold'])})",
    )
    return _svg(figure, "hit_potential")


_DESIGN_FIGURES = {
    "aspect_preference": (aspect_preference_plot, "aspects", "no aspect asked as A/B preference"),
    "aspect_ratings": (aspect_ratings_plot, "aspects", "no aspect asked as a 1–5 rating"),
    "weaker": (weaker_plot, "aspects", "no “liked, but … weaker” answer"),
    "pool": (pool_plot, "pool", "no pool trial with a favourite"),
    "calibration": (calibration_plot, "identification", "no stated confidence"),
    "familiarity": (familiarity_plot, "familiarity", "no familiarity answer"),
    "hit_potential": (hit_potential_plot, "hit_potential", "no playlist or release answer"),
}
"""Per design figure: the drawing function, the section it draws, and why it may be missing
when the section is present."""

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


def _design_figure_keys(summary: Summary) -> list[str]:
    """Design figures whose section is present (a study without pool trials has no pool
    figure to leave out); the calibration figure only for single-track trials."""
    keys = []
    for key, (_, source, _) in _DESIGN_FIGURES.items():
        if not summary.get(source):
            continue
        if key == "calibration" and not (summary.get(source) or {}).get("calibration"):
            continue
        keys.append(key)
    return keys


def report_figures(summary: Summary) -> tuple[dict[str, str], list[dict[str, str]]]:
    """All figures as ``{key: svg}`` (keys of :data:`FIGURE_TITLES`, then of
    :data:`DESIGN_FIGURE_TITLES` whose section is present, in order) and the list of
    ``{figure, reason}`` for those that could not be drawn."""
    drawn = {key: draw(summary.get(source)) for key, (draw, source, _) in _FIGURES.items()}
    for key in _design_figure_keys(summary):
        draw, source, _ = _DESIGN_FIGURES[key]
        drawn[key] = draw(summary.get(source))
    figures = {key: svg for key, svg in drawn.items() if svg is not None}
    left_out = [
        {"figure": _title(key), "reason": _reason(key)} for key, svg in drawn.items() if svg is None
    ]
    return figures, left_out


def _title(key: str) -> str:
    return FIGURE_TITLES.get(key) or DESIGN_FIGURE_TITLES[key]


def _reason(key: str) -> str:
    return (_FIGURES.get(key) or _DESIGN_FIGURES[key])[2]


def report_figures_left_out(summary: Summary) -> list[dict[str, str]]:
    """The ``left_out`` list of :func:`report_figures`, without drawing anything: a figure
    is drawn exactly when its function has data, which these checks mirror."""
    ai = summary.get("ai_identification") or {}
    has_data = {
        "forest": any(
            pair["n"] and pair.get("panelist_rate_a") is not None
            for pair in summary.get("pairs") or []
        ),
        "ranking": len(summary.get("systems") or []) >= 2,
        "liked": bool(summary.get("liked")),
        "ai_by_expertise": bool(ai.get("n_decided")),
        "progress": bool(summary.get("progress")),
    }
    aspects = summary.get("aspects") or {}
    design_data = {
        "aspect_preference": any(
            pair["panelist_rate_a"] is not None
            for aspect in aspects.get("preference", [])
            for pair in aspect["pairs"]
        ),
        "aspect_ratings": any(
            row["mean"] is not None
            for aspect in aspects.get("ratings", [])
            for row in aspect["systems"]
        ),
        "weaker": any(
            entry["share_of_liked"] is not None
            for row in aspects.get("weaker", [])
            for entry in row["aspects"]
        ),
        "pool": any(
            row["pick_rate"] is not None for row in (summary.get("pool") or {}).get("systems", [])
        ),  # fmt: skip
        "calibration": any(
            band["n"]
            for band in ((summary.get("identification") or {}).get("calibration") or {}).get(
                "bands", []
            )
        ),
        "familiarity": any(
            row["panelist_share"] is not None
            for row in (summary.get("familiarity") or {}).get("levels", [])
        ),
        "hit_potential": any(
            row[question] and row[question]["rate"] is not None
            for row in (summary.get("hit_potential") or {}).get("systems", [])
            for question in ("playlist", "release")
        ),
    }
    has_data.update({key: design_data[key] for key in _design_figure_keys(summary)})
    return [
        {"figure": _title(key), "reason": _reason(key)}
        for key, present in has_data.items()
        if not present
    ]


def anytime_note(summary: Summary) -> str:
    """What the monitor's "decided" / "not yet" means, with its guarantee in numbers."""
    confidence = summary["meta"]["confidence"]
    n_pairs = max(len(summary.get("pairs") or []), 1)
    alpha = 100 * (1 - confidence)
    return (
        f"The monitor (“decided”) is an empirical-Bernstein confidence sequence over listeners "
        f"for each of the {n_pairs} pairs, each at level {alpha:g}% / {n_pairs}: however often "
        "you look, and whenever you stop, the chance that it ever wrongly says “decided” for "
        f"any pair of this study is at most {alpha:g}%. It needs more listeners than the "
        "verdict column, which is valid for one look at the planned end of the study."
    )


def report(
    summary: Summary, settings: dict[str, Any] | None = None, *, with_figures: bool = True
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
        "figures": [{"key": key, "title": _title(key), "svg": svg} for key, svg in figures.items()],
        "figures_left_out": left_out,
    }


_SVG_ID = re.compile(r'id="([^"]+)"')


def svg_ids(svg: str) -> list[str]:
    """The element ids of an SVG text (to check that inlined figures do not collide)."""
    return _SVG_ID.findall(svg)
