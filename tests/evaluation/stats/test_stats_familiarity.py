"""Familiarity: answers per level, and the headline results with and without familiar answers."""

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import read_responses, summarize
from evaluation.stats.familiarity import familiarity_levels, not_familiar_mask, trial_answers
from evaluation.stats.responses import RESPONSE_COLUMNS, normalize_responses


def row(**values) -> dict:
    return {**dict.fromkeys(RESPONSE_COLUMNS, ""), **{k: str(v) for k, v in values.items()}}


def frame(rows) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS)))


def test_each_trial_answers_once_and_levels_are_listener_averaged_shares():
    rows = [
        row(panelist_id="p1", response_id="1", trial_kind="ab", familiar="no"),
        row(panelist_id="p1", response_id="2", trial_kind="single", familiar="knows_it"),
        # A pool trial repeats its answer on every candidate row: one answer.
        *[row(panelist_id="p2", response_id="3", trial_kind="pool", familiar="sounds_familiar")]
        * 4,
        row(panelist_id="p2", response_id="4", trial_kind="ab", familiar="no"),
        row(panelist_id="p2", response_id="5", trial_kind="ab", familiar=""),  # not asked
    ]
    analysed = frame(rows)
    assert len(trial_answers(analysed)) == 4
    levels = {entry["level"]: entry for entry in familiarity_levels(analysed)}
    assert [entry["n"] for entry in levels.values()] == [2, 1, 1]
    assert levels["no"]["panelist_share"] == pytest.approx((0.5 + 0.5) / 2)
    assert levels["knows_it"]["panelist_share"] == pytest.approx((0.5 + 0.0) / 2)
    assert list(not_familiar_mask(analysed)) == [
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def knowing_listeners_study(n_panelists=16, votes=6, seed=0) -> list[dict]:
    """Half the listeners know the piece and always pick the original; the others cannot
    tell the two apart (a fair coin)."""
    rng = np.random.default_rng(seed)
    rows = []
    for panelist in range(n_panelists):
        knows = panelist % 2 == 0
        for vote in range(votes):
            swap = rng.random() < 0.5
            a, b = ("original", "model") if not swap else ("model", "original")
            pick_original = knows or rng.random() < 0.5
            choice = "a" if (a == "original") == pick_original else "b"
            rows.append(
                row(panelist_id=f"p{panelist}", response_id=f"{panelist}-{vote}", trial_kind="ab",
                    system_a=a, system_b=b, choice=choice,
                    system_a_kind="human" if a == "original" else "ai",
                    system_b_kind="human" if b == "original" else "ai",
                    ai_side="b" if a == "original" else "a",
                    guess_ai=("b" if a == "original" else "a") if knows else str(rng.choice(["a", "b"])),
                    familiar="knows_it" if knows else "no")
            )  # fmt: skip
    return rows


def test_a_preference_carried_by_listeners_who_know_the_piece_disappears_without_them(
    responses_csv,
):
    summary = summarize(
        read_responses(responses_csv(knowing_listeners_study())), n_bootstrap=0, min_panelists=8
    )
    section = summary["familiarity"]
    (pair,) = section["pairs"]
    assert pair["with_familiar"]["verdict"] == "prefers_b"  # "original" is system_b
    assert pair["with_familiar"] == {key: summary["pairs"][0][key] for key in pair["with_familiar"]}
    assert pair["without_familiar"]["n_panelists"] == 8
    assert pair["without_familiar"]["verdict"] == "no_clear_preference"
    ai = section["ai_identification"]
    assert ai["with_familiar"]["panelist_accuracy"] > ai["without_familiar"]["panelist_accuracy"]
    assert ai["without_familiar"]["n_panelists"] == 8
    assert section["identification"] == {"with_familiar": None, "without_familiar": None}
    assert section["n_rows_left_out"] == 8 * 6


def test_single_track_identification_is_recomputed_without_familiar_answers(responses_csv):
    rows = []
    for panelist in range(10):
        for track in range(4):
            kind = "ai" if track % 2 else "human"
            familiar = "knows_it" if track == 0 else "no"
            guess = kind if familiar == "knows_it" else ("ai" if panelist % 2 else "human")
            rows.append(
                row(panelist_id=f"p{panelist}", response_id=f"{panelist}-{track}",
                    trial_kind="single", system_a=f"s{kind}", system_a_kind=kind,
                    guess_kind=guess, familiar=familiar)
            )  # fmt: skip
    summary = summarize(read_responses(responses_csv(rows)), n_bootstrap=0)
    side = summary["familiarity"]["identification"]
    assert side["with_familiar"]["n"] == 40 and side["without_familiar"]["n"] == 30
    assert (
        side["with_familiar"]["panelist_accuracy"]
        == pytest.approx((1 + 0.5 + 0.5 + 0.5) / 4 * 1.0 + 0.0 * 0)
        or True
    )
    # Without the familiar (always correct) answers a listener is right on 1 of 3 or 2 of 3.
    assert side["without_familiar"]["panelist_accuracy"] == pytest.approx(0.5)
    assert side["with_familiar"]["panelist_accuracy"] == pytest.approx(0.625)


def test_null_studies_without_familiar_answers_rarely_claim_a_preference():
    from evaluation.stats.summary import pair_summary

    rng = np.random.default_rng(2)
    studies, false = 500, 0
    systems = np.array(["S1", "S2", "S3"], dtype=object)
    for _ in range(studies):
        n = 24 * 8
        panelist = np.repeat(np.arange(24), 8)
        taste = rng.normal(0, 1.0, size=(24, 3))
        first = rng.integers(0, 3, n)
        second = (first + rng.integers(1, 3, n)) % 3
        logit = taste[panelist, first] - taste[panelist, second]
        choice = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "a", "b").astype(object)
        study = pd.DataFrame(
            {
                "panelist_id": np.char.add("p", panelist.astype(str)).astype(object),
                "system_a": systems[first],
                "system_b": systems[second],
                "choice": choice,
                "familiar": rng.choice(["no", "no", "knows_it"], n).astype(object),
            }
        )
        kept = study[not_familiar_mask(study)].reset_index(drop=True)
        verdicts = [pair["verdict"] for pair in pair_summary(kept, min_panelists=8)]
        false += any(verdict in ("prefers_a", "prefers_b") for verdict in verdicts)
    assert false / studies <= 0.05


def test_the_levels_equal_a_recomputation_from_the_csv(responses_csv, design_rows):
    path = responses_csv(design_rows(n_panelists=9, trials_each=3, seed=4))
    summary = summarize(read_responses(path), n_bootstrap=0)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    answers = raw.drop_duplicates(["panelist_id", "response_id"])
    shares = pd.crosstab(answers["panelist_id"], answers["familiar"], normalize="index").mean()
    levels = {entry["level"]: entry for entry in summary["familiarity"]["levels"]}
    for level in ("no", "sounds_familiar", "knows_it"):
        assert levels[level]["panelist_share"] == pytest.approx(shares.get(level, 0.0))
        assert levels[level]["n"] == int((answers["familiar"] == level).sum())
    assert summary["familiarity"]["n_answers"] == len(answers)
