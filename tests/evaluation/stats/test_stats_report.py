"""The report: headline sentences, the methods paragraph and the SVG figures."""

import pandas as pd
import pytest

from evaluation.stats import summarize
from evaluation.stats.report import (
    FIGURE_TITLES,
    ai_headline,
    headlines,
    liked_headline,
    methods_paragraph,
    p_text,
    pair_headline,
    ranking_headline,
    report,
    report_figures,
    report_figures_left_out,
    svg_ids,
)

PAIR = {
    "system_a": "Y",
    "system_b": "X",
    "n": 418,
    "n_panelists": 30,
    "panelist_rate_a": 0.38,
    "cluster_ci_low": 0.333,
    "cluster_ci_high": 0.428,
    "cluster_ci_bound": "two_sided",
    "verdict": "prefers_b",
    "verdict_p": 0.0000021,
    "decided": True,
    "decided_for": "X",
}


def test_a_clear_preference_is_told_from_the_winners_side_with_the_listener_interval():
    assert pair_headline(PAIR, n_pairs=10) == (
        "Listeners clearly preferred X over Y: on average a listener chose X in 62% of their "
        "votes on this pair (30 listeners, each weighted equally; 95% CI 57–67%; "
        "Holm-adjusted p < 0.001 across 10 pairs); the monitor has decided for X."
    )


def test_no_clear_preference_never_reads_as_a_preference():
    pair = {
        **PAIR,
        "panelist_rate_a": 0.53,
        "cluster_ci_low": 0.46,
        "cluster_ci_high": 0.6,
        "verdict": "no_clear_preference",
        "verdict_p": 0.41,
        "decided": False,
    }

    assert pair_headline(pair, who="Musicians") == (
        "No clear preference between Y and X: on average a listener chose Y in 53% of their "
        "votes on this pair (30 listeners, each weighted equally; 95% CI 46–60%; p = 0.41)."
    )


def test_all_votes_one_way_read_as_a_one_sided_bound():
    pair = {
        **PAIR,
        "panelist_rate_a": 0.0,
        "cluster_ci_low": 0.0,
        "cluster_ci_high": 0.31,
        "cluster_ci_bound": "upper",
        "decided": False,
    }

    assert "chose X in 100% of their votes" in pair_headline(pair)
    assert "95% CI ≥ 69%;" in pair_headline(pair)


def test_too_little_data_says_how_many_listeners_a_verdict_needs():
    pair = {**PAIR, "n_panelists": 3, "verdict": "too_little_data"}

    assert pair_headline(pair, min_panelists=8) == (
        "Y vs X: too little data for a verdict (3 listeners; a verdict needs at least 8)."
    )


def test_n_of_10_counts_listeners_each_weighted_equally():
    liked = {
        "system": "X",
        "n": 200,
        "n_panelists": 20,
        "of_10": 7.0,
        "of_10_low": 6.354,
        "of_10_high": 7.574,
        "cluster_ci_bound": "two_sided",
    }

    assert liked_headline(liked) == (
        "7 of 10 listeners liked X (each listener weighted equally: the mean of every "
        "listener's share of liked tracks; 95% CI 6.4–7.6 of 10; 20 listeners, 200 answers)."
    )


def test_ai_identification_against_chance_follows_its_listener_level_verdict():
    ai = {
        "n_decided": 250,
        "n_panelists": 25,
        "panelist_accuracy_decided": 0.54,
        "decided_cluster_ci_low": 0.478,
        "decided_cluster_ci_high": 0.601,
        "decided_cluster_ci_bound": "two_sided",
        "verdict": "not_distinguishable_from_chance",
        "verdict_p": 0.2,
        "unsure": 0,
        "d_prime_bound": "two_sided",
    }

    assert ai_headline(ai) == (
        "Listeners picked the AI track in 54% of their guesses on average (25 listeners, each "
        "weighted equally; 250 guesses; 95% CI 48–60%), not distinguishable from chance "
        "(p = 0.20)."
    )
    assert ai_headline(
        {**ai, "verdict": "better_than_chance", "verdict_p": 0.003, "unsure": 12}
    ).endswith("better than chance (p = 0.003); 12 more answered “can't tell”.")
    ceiling = {
        **ai,
        "verdict": "better_than_chance",
        "verdict_p": 0.001,
        "d_prime_bound": "lower",
        "d_prime_low": 1.234,
    }
    assert "sensitivity d′ ≥ 1.23 (at the ceiling)" in ai_headline(ceiling)
    assert ai_headline({"n_decided": 0}) is None


def test_the_ranking_never_calls_a_leader_first_over_a_system_it_is_not_clearly_preferred_to():
    systems = [{"system": "X"}, {"system": "Y"}, {"system": "Z"}]
    pairs = [
        {"system_a": "X", "system_b": "Y", "verdict": "prefers_a"},
        {"system_a": "X", "system_b": "Z", "verdict": "no_clear_preference"},
        {"system_a": "Y", "system_b": "Z", "verdict": "prefers_b"},
    ]

    assert ranking_headline(systems, pairs) == (
        "X is tied for first with Z of 3 systems (Bradley–Terry leader, but no clear "
        "preference over it yet)."
    )
    pairs[1]["verdict"] = "prefers_a"
    assert ranking_headline(systems, pairs) == (
        "X ranks first of 3 systems: listeners clearly preferred it over every other system."
    )
    assert ranking_headline(systems[:1], pairs) is None


def test_p_values_are_written_the_way_papers_write_them():
    assert [p_text(value) for value in (0.2149, 0.0042, 0.0002, None)] == [
        "p = 0.21",
        "p = 0.004",
        "p < 0.001",
        "p not available",
    ]


@pytest.fixture
def summary():
    rows = []
    for panelist in range(6):
        for index, (a, b) in enumerate([("human", "model"), ("model", "human")] * 3):
            rows.append(
                {
                    "panelist_id": f"p{panelist}",
                    "expertise": "professional" if panelist < 3 else "hobbyist",
                    "system_a": a,
                    "system_b": b,
                    "choice": "a" if (panelist + index) % 3 else "b",
                    "liked_a": str((panelist + index) % 2),
                    "liked_b": "1",
                    "guess_ai": "a" if index % 2 else "b",
                    "ai_side": "a" if a == "model" else "b",
                    "submitted_at": f"2026-11-0{1 + panelist // 2}T10:00:00Z",
                    "is_catch": "1" if panelist == 5 and index == 0 else "0",
                }
            )
    return summarize(pd.DataFrame(rows), n_bootstrap=100)


def test_every_figure_is_an_inline_svg_with_ids_of_its_own(summary):
    figures, left_out = report_figures(summary)

    assert list(figures) == list(FIGURE_TITLES) and left_out == []
    assert report_figures_left_out(summary) == []
    ids = []
    for key, svg in figures.items():
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "<?xml" not in svg and "<dc:date>" not in svg
        assert all(name.startswith(f"{key}-") for name in svg_ids(svg))
        ids += svg_ids(svg)
    assert len(ids) == len(set(ids))


def test_figures_are_the_same_for_the_same_summary(summary):
    assert report_figures(summary) == report_figures(summary)


def test_figures_without_their_data_are_left_out_with_a_reason():
    bare = summarize(
        pd.DataFrame(
            [("p1", "x", "y", "a"), ("p2", "y", "x", "a")],
            columns=["panelist_id", "system_a", "system_b", "choice"],
        ),
        n_bootstrap=0,
    )

    figures, left_out = report_figures(bare)

    assert list(figures) == ["forest", "ranking"]
    assert [item["figure"] for item in left_out] == [
        "Liked it",
        "AI identification by expertise",
        "Progress over time",
    ]
    assert report_figures_left_out(bare) == left_out
    assert report(bare, with_figures=False)["figures"] == []


def test_a_hostile_system_name_never_reaches_the_svg_as_markup():
    hostile = '<script>alert("x")</script>'
    frame = pd.DataFrame(
        [("p1", hostile, "y", "a"), ("p2", "y", hostile, "b"), ("p2", "y", hostile, "a")],
        columns=["panelist_id", "system_a", "system_b", "choice"],
    )

    figures, _ = report_figures(summarize(frame, n_bootstrap=20))

    assert all("<script" not in svg for svg in figures.values())


def test_the_methods_paragraph_follows_the_study_settings(summary):
    settings = {
        "systems": ["human", "model"],
        "n_prompts": 3,
        "n_pairs": 4,
        "n_catch_pairs": 1,
        "ratings_per_pair": 10,
        "trials_per_panelist": 12,
        "excerpt_s": 20.0,
        "min_listen_s": 10.0,
        "target_lufs": -23.0,
        "max_true_peak_dbtp": -1.0,
        "sample_rate": 48000,
        "codec": "flac",
        "ask_liked": True,
        "ask_ai": False,
        "seed": 7,
        "opened_at": "2026-11-01",
        "closed_at": "2026-11-03",
    }

    text = methods_paragraph(summary, settings)

    assert text.startswith(
        "Blind paired comparison of 2 systems (human, model) on 3 prompts, 4 track pairs of "
        "which 1 were catch trials. Each track was cut to a 20 s excerpt with fades, "
        "loudness-matched to -23 LUFS (ITU-R BS.1770) with true peaks below -1 dBTP, and "
        "delivered as FLAC at 48 kHz without metadata. Panelists were asked which of A and B "
        "they preferred (or no preference), and whether they liked each track. Every pair was "
        "rated 10 times"
    )
    assert (
        "36 responses from 6 panelists were collected between 2026-11-01 and 2026-11-03; 35 were analysed."
        in text
    )
    assert "Excluded: 1 responses from 1 panelists (catch trials are attention checks" in text
    assert (
        "100-round percentile intervals from a bootstrap that resamples panelists (seed 0)" in text
    )
    assert text.endswith("Trial order and positions were drawn with seed 7.")


def test_the_report_bundles_headlines_methods_and_figures(summary):
    bundle = report(summary)

    assert bundle["headlines"] == headlines(summary)
    assert bundle["headlines"][0] == (
        "Who answered: 6 listeners: 3 amateur musicians, 3 professional musicians."
    )
    assert bundle["headlines"][1].startswith("human vs model: too little data for a verdict")
    assert [figure["key"] for figure in bundle["figures"]] == list(FIGURE_TITLES)
    assert (
        "the chance that it ever wrongly says “decided” for any pair of this study is at "
        "most 5%" in bundle["anytime_note"]
    )


def test_a_report_with_simulated_rows_included_opens_with_a_caution():
    meta = {
        "n_simulated": 12,
        "n_responses": 30,
        "exclusions": [],
        "confidence": 0.95,
        "include_simulated": True,
    }
    assert headlines({"meta": meta}) == [
        "Caution: 12 of 30 responses come from simulated panelists (simulate_panel), not "
        "people, and are included in every figure below (--include-simulated)."
    ]


def test_no_caution_when_simulated_rows_are_left_out_as_by_default_or_absent():
    meta = {"n_simulated": 12, "n_responses": 30, "exclusions": [], "confidence": 0.95}
    assert headlines({"meta": {**meta, "include_simulated": False}}) == []
    assert headlines({"meta": {**meta, "n_simulated": 0, "include_simulated": True}}) == []


# --- the study-design sections (issue 12) ---


@pytest.fixture(scope="module")
def design_summary():
    from tests.evaluation.stats.conftest import design_rows

    frame = pd.DataFrame(design_rows(n_panelists=12, trials_each=3, seed=2, ai_pick_boost=2.0))
    return summarize(frame, n_bootstrap=50)


def test_design_sections_get_their_figures_after_the_pairwise_ones(design_summary):
    from evaluation.stats.report import DESIGN_FIGURE_TITLES

    figures, left_out = report_figures(design_summary)
    assert list(figures)[-len(DESIGN_FIGURE_TITLES) :] == list(DESIGN_FIGURE_TITLES)
    assert [item["figure"] for item in left_out] == ["Progress over time"]
    assert report_figures_left_out(design_summary) == left_out
    ids = [name for svg in figures.values() for name in svg_ids(svg)]
    assert len(ids) == len(set(ids))


def test_a_study_without_a_design_has_no_design_figure_to_leave_out(summary):
    _, left_out = report_figures(summary)
    assert left_out == [] and summary["pool"] is None


def test_pool_and_hit_headlines_say_who_answered_and_the_verdict(design_summary):
    from evaluation.stats.report import hit_headlines, pool_headline

    share = design_summary["pool"]["ai_share"]
    sentence = pool_headline(design_summary["pool"])
    assert sentence.startswith("Pick 1 of N (mean N = 5.0): AI tracks were ")
    assert f"({share['n_panelists']} listeners, each weighted equally;" in sentence
    assert f"across {design_summary['pool']['n_comparisons']} tests" in sentence
    hit = hit_headlines(design_summary["hit_potential"])
    assert len(hit) == 4  # two AI systems × playlist, release; the human one is not tested
    assert all("12 listeners, each weighted equally" in line for line in hit)


def test_too_little_data_is_said_not_turned_into_a_verdict():
    from evaluation.stats.report import aspect_headlines, pool_headline

    aspects = {
        "n_comparisons": 2,
        "min_panelists": 8,
        "preference": [
            {"aspect": "melody", "pairs": [{"verdict": "too_little_data", "n_panelists": 3}]}
        ],
        "ratings": [
            {"aspect": "vocals", "pairs": [{"verdict": "too_little_data", "n_panelists": 3}]}
        ],
        "weaker": [],
    }
    assert aspect_headlines(aspects) == [
        "Aspects: 2 of 2 comparisons have too little data for a verdict (fewer than 8 listeners)."
    ]
    pool = {
        "min_panelists": 8,
        "n_comparisons": 3,
        "mean_pool_size": 4.0,
        "ai_share": {
            "ai_pick_rate": 0.5,
            "expected_share": 0.5,
            "n_panelists": 2,
            "n_trials": 4,
            "cluster_ci_low": 0.0,
            "cluster_ci_high": 1.0,
            "cluster_ci_bound": "none",
            "verdict": "too_little_data",
            "verdict_p": 1.0,
        },
    }
    assert pool_headline(pool).endswith(
        ": too little data for a verdict (a verdict needs 8 listeners)."
    )


def test_the_seed_example_reads_as_liked_but_lyrics_weaker():
    from evaluation.stats.report import aspect_headlines

    aspects = {
        "n_comparisons": 0,
        "min_panelists": 8,
        "preference": [],
        "ratings": [],
        "weaker": [
            {
                "system": "song",
                "liked_share": 0.5,
                "aspects": [
                    {
                        "aspect": "lyrics",
                        "count": 2,
                        "share_of_liked": 0.4,
                        "n_panelists_liked": 5,
                        "liked_ci_low": 0.1,
                        "liked_ci_high": 0.7,
                        "liked_ci_bound": "two_sided",
                    }
                ],
            }
        ],
    }
    assert aspect_headlines(aspects) == [
        "song: liked in 5 of 10 hearings per listener on average; of the liked ones, 4 in 10 "
        "were “liked, but lyrics weaker” (2 answers, 5 listeners who liked it; 95% CI "
        "10–70%)."
    ]


def test_familiarity_headline_names_the_verdicts_that_change():
    from evaluation.stats.report import familiarity_headline

    brief = {"verdict": "prefers_a"}
    familiarity = {
        "n_answers": 40,
        "n_panelists": 10,
        "levels": [
            {"level": "no", "panelist_share": 0.6},
            {"level": "sounds_familiar", "panelist_share": 0.25},
            {"level": "knows_it", "panelist_share": 0.15},
        ],
        "pairs": [
            {
                "system_a": "bach",
                "system_b": "model",
                "with_familiar": brief,
                "without_familiar": {"verdict": "no_clear_preference"},
            }
        ],
    }
    assert familiarity_headline(familiarity) == (
        "Do you know this piece? Per listener, on average “sounds familiar” 25%, “I know it” "
        "15% of 40 answers (10 listeners); without those answers these verdicts change: bach "
        "vs model (prefers_a → no_clear_preference)."
    )


def test_too_little_data_before_and_after_is_not_a_changed_verdict():
    from evaluation.stats.report import familiarity_headline

    familiarity = {
        "n_answers": 12,
        "n_panelists": 4,
        "levels": [
            {"level": "no", "panelist_share": 0.5},
            {"level": "sounds_familiar", "panelist_share": 0.25},
            {"level": "knows_it", "panelist_share": 0.25},
        ],
        "pairs": [
            {
                "system_a": "x",
                "system_b": "y",
                "with_familiar": {"verdict": "too_little_data"},
                "without_familiar": None,
            }
        ],
    }
    assert familiarity_headline(familiarity).endswith(
        "; without those answers no pair verdict changes."
    )
