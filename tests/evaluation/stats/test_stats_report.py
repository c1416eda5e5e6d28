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
    "win_rate_a": 0.38,
    "ci_low": 0.333,
    "ci_high": 0.428,
    "p_value": 0.0000021,
    "decided": True,
}


def test_a_pair_is_told_from_the_side_of_the_system_that_won_more():
    assert pair_headline(PAIR) == (
        "Musicians preferred X over Y in 62% of 418 comparisons (95% CI 57–67%), a clear "
        "preference (p < 0.001); decided by the anytime-valid test."
    )


def test_a_pair_whose_interval_holds_half_is_called_an_even_split():
    pair = {**PAIR, "win_rate_a": 0.53, "ci_low": 0.46, "ci_high": 0.6, "p_value": 0.41}

    assert pair_headline({**pair, "decided": False}) == (
        "Musicians preferred Y over X in 53% of 418 comparisons (95% CI 46–60%), not "
        "distinguishable from an even split (p = 0.41)."
    )


def test_liked_rates_read_as_n_of_10_with_the_interval_in_the_same_units():
    liked = {"system": "X", "n": 200, "of_10": 7.0, "of_10_low": 6.354, "of_10_high": 7.574}

    assert liked_headline(liked) == "7 of 10 liked X (6.4–7.6 of 10; 200 answers)."


def test_ai_identification_against_chance_in_words():
    ai = {
        "n_decided": 250,
        "accuracy_decided": 0.54,
        "decided_ci_low": 0.478,
        "decided_ci_high": 0.601,
        "p_value": 0.2,
        "unsure": 0,
    }

    assert ai_headline(ai) == (
        "Listeners identified the AI track 54% of the time (250 guesses, 95% CI 48–60%), not "
        "distinguishable from chance (p = 0.20)."
    )
    assert ai_headline({**ai, "p_value": 0.003, "unsure": 12}).endswith(
        "better than chance (p = 0.003); 12 more answered “can't tell”."
    )
    assert ai_headline({"n_decided": 0}) is None


def test_the_ranking_leader_says_how_sure_its_place_is():
    systems = [
        {"system": "X", "rank_high": 1},
        {"system": "Y", "rank_high": 2},
    ]

    assert ranking_headline(systems) == (
        "X ranks first of 2 systems (Bradley–Terry, first in at least 97.5% of panelist resamples)."
    )
    assert ranking_headline(systems[:1]) is None


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
    assert bundle["headlines"][0].startswith("Musicians preferred")
    assert [figure["key"] for figure in bundle["figures"]] == list(FIGURE_TITLES)
    assert bundle["anytime_note"].endswith("stays below 5%.")


def test_a_report_with_simulated_rows_opens_with_a_caution():
    meta = {"n_simulated": 12, "n_responses": 30, "exclusions": [], "confidence": 0.95}
    assert headlines({"meta": meta}) == [
        "Caution: 12 of 30 responses come from simulated panelists (simulate_panel), not "
        "people; leave them out with --exclude-simulated."
    ]


def test_no_caution_once_simulated_rows_are_excluded_or_absent():
    excluded = {"rule": "simulated", "reason": "simulated panelists", "n_responses": 12}
    assert (
        headlines(
            {
                "meta": {
                    "n_simulated": 12,
                    "n_responses": 30,
                    "exclusions": [excluded],
                    "confidence": 0.95,
                }
            }
        )
        == []
    )
    assert (
        headlines(
            {"meta": {"n_simulated": 0, "n_responses": 30, "exclusions": [], "confidence": 0.95}}
        )
        == []
    )
