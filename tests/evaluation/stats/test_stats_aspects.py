"""Aspects: A/B preference per aspect, 1-5 ratings, "liked, but <aspect> weaker"."""

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import read_responses, summarize
from evaluation.stats.aspects import aspects_summary, has_aspect_columns
from evaluation.stats.responses import RESPONSE_COLUMNS, normalize_responses


def response_row(**values) -> dict:
    """One export row, every other cell empty."""
    return {**dict.fromkeys(RESPONSE_COLUMNS, ""), **{k: str(v) for k, v in values.items()}}


def frame(rows: list[dict]) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS)))


def ab(panelist, a, b, **values) -> dict:
    return response_row(panelist_id=panelist, trial_kind="ab", system_a=a, system_b=b, **values)


def test_an_aspect_preference_is_the_listener_averaged_share_with_a_cluster_verdict():
    # Two listeners: p1 prefers X on melody in 2 of 2 (once shown at B), p2 in 1 of 2 (tie half).
    rows = [
        ab("p1", "X", "Y", aspect_melody="a", choice="a"),
        ab("p1", "Y", "X", aspect_melody="b", choice="a"),
        ab("p2", "X", "Y", aspect_melody="tie", choice="b"),
        ab("p2", "X", "Y", aspect_melody="a", choice="b"),
    ]
    section = aspects_summary(frame(rows), min_panelists=2)

    (melody,) = section["preference"]
    (pair,) = melody["pairs"]
    assert melody["aspect"] == "melody"
    assert (pair["system_a"], pair["system_b"]) == ("X", "Y")
    assert (pair["wins_a"], pair["wins_b"], pair["ties"], pair["n_panelists"]) == (3, 0, 1, 2)
    assert pair["panelist_rate_a"] == pytest.approx((1.0 + 0.75) / 2)
    assert pair["verdict"] == "no_clear_preference"  # two listeners cannot settle it
    assert section["n_comparisons"] == 1
    assert section["aspects_asked"] == ["melody"]


def test_a_clear_aspect_preference_by_enough_listeners_is_a_verdict_and_few_are_too_little():
    rows = []
    for panelist in range(12):
        for _ in range(3):
            rows.append(ab(f"p{panelist}", "X", "Y", aspect_structure="a"))
    rows[0]["aspect_structure"] = "b"
    section = aspects_summary(frame(rows), min_panelists=8)
    assert section["preference"][0]["pairs"][0]["verdict"] == "prefers_a"

    few = aspects_summary(frame(rows[:9]), min_panelists=8)
    assert few["preference"][0]["pairs"][0]["verdict"] == "too_little_data"


def test_ratings_give_listener_means_with_intervals_and_paired_differences():
    rows = []
    for panelist, (x, y) in enumerate([(5, 3), (4, 2), (5, 4), (3, 3)] * 3):
        rows.append(ab(f"p{panelist}", "X", "Y", score_emotion_a=x, score_emotion_b=y))
    section = aspects_summary(frame(rows), min_panelists=8)

    (emotion,) = section["ratings"]
    means = {row["system"]: row for row in emotion["systems"]}
    assert means["X"]["mean"] == pytest.approx(17 / 4)
    assert means["Y"]["mean"] == pytest.approx(3.0)
    assert means["X"]["ci_low"] < 17 / 4 < means["X"]["ci_high"] <= 5.0
    (pair,) = emotion["pairs"]
    assert pair["difference"] == pytest.approx(17 / 4 - 3.0)
    assert pair["n_panelists"] == 12
    assert pair["verdict"] == "prefers_a"
    from scipy.stats import ttest_1samp

    differences = np.array([2, 2, 1, 0] * 3, dtype=float)
    assert pair["p_value"] == pytest.approx(ttest_1samp(differences, 0.0).pvalue)


def test_every_rating_at_the_top_is_a_lower_bound_not_a_zero_width_interval():
    rows = [ab(f"p{i}", "X", "Y", score_vocals_a=5, score_vocals_b=5) for i in range(10)]
    (vocals,) = aspects_summary(frame(rows))["ratings"]
    row = vocals["systems"][0]
    assert row["ci_bound"] == "lower" and row["ci_high"] == 5.0
    assert row["ci_low"] == pytest.approx(1.0 + 4.0 * 0.025**0.1)
    assert vocals["pairs"][0]["verdict"] == "no_clear_preference"


def test_liked_but_lyrics_weaker_counts_the_seed_example():
    # "Of ten listeners five liked the song and two liked it but found the lyrics weaker."
    rows = []
    for panelist in range(10):
        liked = panelist < 5
        weaker = "lyrics" if panelist < 2 else ""
        rows.append(
            response_row(
                panelist_id=f"p{panelist}",
                trial_kind="single",
                system_a="song",
                rating_a=5 if liked else 2,
                weaker_a=weaker,
            )
        )
    section = aspects_summary(frame(rows))
    (song,) = section["weaker"]
    assert (song["n_heard"], song["n_liked"], song["n_panelists"]) == (10, 5, 10)
    (lyrics,) = song["aspects"]
    assert lyrics["count"] == 2
    assert lyrics["panelist_share"] == pytest.approx(0.2)
    assert lyrics["share_of_liked"] == pytest.approx(0.4)
    assert lyrics["n_panelists_liked"] == 5
    assert lyrics["cluster_ci_low"] < 0.2 < lyrics["cluster_ci_high"]


def test_the_section_needs_an_answer_in_an_aspect_column():
    assert not has_aspect_columns(frame([ab("p1", "X", "Y", choice="a")]))
    assert has_aspect_columns(frame([ab("p1", "X", "Y", weaker_a="melody")]))


def null_study(rng, n_panelists=24, trials=8, taste_sd=1.0) -> pd.DataFrame:
    """Three systems equal on every aspect on average; each listener has their own taste."""
    systems = np.array(["S1", "S2", "S3"])
    taste = rng.normal(0.0, taste_sd, size=(n_panelists, 3))
    rating_taste = rng.normal(0.0, 0.7, size=(n_panelists, 3))
    panelist = np.repeat(np.arange(n_panelists), trials)
    first = rng.integers(0, 3, panelist.size)
    second = (first + rng.integers(1, 3, panelist.size)) % 3
    logit = taste[panelist, first] - taste[panelist, second]
    chose_a = rng.random(panelist.size) < 1.0 / (1.0 + np.exp(-logit))
    score_a = np.clip(
        np.rint(3 + rating_taste[panelist, first] + rng.normal(0, 1, panelist.size)), 1, 5
    )
    score_b = np.clip(
        np.rint(3 + rating_taste[panelist, second] + rng.normal(0, 1, panelist.size)), 1, 5
    )
    study = pd.DataFrame(
        {
            "panelist_id": np.char.add("p", panelist.astype(str)).astype(object),
            "system_a": systems[first].astype(object),
            "system_b": systems[second].astype(object),
            "trial_kind": "ab",
            "aspect_melody": np.where(chose_a, "a", "b").astype(object),
            "score_melody_a": score_a,
            "score_melody_b": score_b,
        }
    ).assign(choice="")
    study.attrs["earshot_normalized"] = True  # typed as normalize_responses types them
    return study


def test_null_studies_with_listener_taste_rarely_claim_any_aspect_difference():
    rng = np.random.default_rng(7)
    false = 0
    studies = 400
    for _ in range(studies):
        section = aspects_summary(null_study(rng), min_panelists=8)
        verdicts = [
            pair["verdict"]
            for group in ("preference", "ratings")
            for aspect in section[group]
            for pair in aspect["pairs"]
        ]
        assert len(verdicts) == 6
        false += any(verdict in ("prefers_a", "prefers_b") for verdict in verdicts)
    assert false / studies <= 0.05


def test_the_summary_section_equals_a_recomputation_from_the_csv(responses_csv, design_rows):
    path = responses_csv(design_rows(n_panelists=10, trials_each=4, seed=3))
    summary = summarize(read_responses(path), n_bootstrap=0, min_panelists=3)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    ab_rows = raw[raw["trial_kind"] == "ab"]

    # Melody preference, pair (human, model-x): per listener share of votes for "human".
    votes = ab_rows[ab_rows["aspect_melody"] != ""]
    pair_rows = votes[
        votes[["system_a", "system_b"]].apply(sorted, axis=1).map(tuple) == ("human", "model-x")
    ]
    human_won = np.where(
        pair_rows["aspect_melody"] == "tie",
        0.5,
        (pair_rows["aspect_melody"] == "a") == (pair_rows["system_a"] == "human"),
    ).astype(float)
    expected = pd.Series(human_won).groupby(pair_rows["panelist_id"].to_numpy()).mean().mean()
    melody = next(a for a in summary["aspects"]["preference"] if a["aspect"] == "melody")
    pair = next(
        p for p in melody["pairs"] if (p["system_a"], p["system_b"]) == ("human", "model-x")
    )
    assert pair["panelist_rate_a"] == pytest.approx(expected)

    # Emotion rating of model-y: every score_emotion_a (all designs) and _b (ab rows).
    scores = pd.concat(
        [
            raw[["panelist_id", "system_a", "score_emotion_a"]].set_axis(["p", "s", "v"], axis=1),
            ab_rows[["panelist_id", "system_b", "score_emotion_b"]].set_axis(
                ["p", "s", "v"], axis=1
            ),
        ]
    )
    scores = scores[(scores["v"] != "") & (scores["s"] == "model-y")]
    expected_mean = scores.assign(v=scores["v"].astype(float)).groupby("p")["v"].mean().mean()
    emotion = next(a for a in summary["aspects"]["ratings"] if a["aspect"] == "emotion")
    row = next(r for r in emotion["systems"] if r["system"] == "model-y")
    assert row["mean"] == pytest.approx(expected_mean)
    assert row["n"] == len(scores)
