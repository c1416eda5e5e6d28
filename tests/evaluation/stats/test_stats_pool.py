"""Pool trials: AI share of first picks vs the pool, pick rates per system, implied-pairs ranking."""

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import read_responses, summarize
from evaluation.stats.pool import has_pool_rows, implied_pairs, pool_rows, pool_summary
from evaluation.stats.responses import RESPONSE_COLUMNS, normalize_responses


def candidate(panelist, trial, system, kind, position, rank="") -> dict:
    row = dict.fromkeys(RESPONSE_COLUMNS, "")
    row.update(
        panelist_id=panelist,
        response_id=f"{panelist}-{trial}",
        trial_id=f"t{trial}",
        trial_kind="pool",
        system_a=system,
        system_a_kind=kind,
        pool_position=str(position),
        pick_rank=str(rank),
    )
    return row


def trial(panelist, number, systems, ranks) -> list[dict]:
    """One pool trial: ``systems`` shown in order, ``ranks`` {position: rank}."""
    size = len(systems)
    rows = []
    for position, system in enumerate(systems, start=1):
        kind = "human" if system.startswith("human") else "ai"
        rows.append(candidate(panelist, number, system, kind, position, ranks.get(position, "")))
        rows[-1]["pool_size"] = str(size)
    return rows


def frame(rows) -> pd.DataFrame:
    return normalize_responses(pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS)))


def test_ai_share_of_first_picks_is_compared_with_the_ai_share_of_the_pools_shown():
    rows = (
        trial("p1", 1, ["human", "ai-1", "ai-2", "human-2"], {2: 1})  # AI share 1/2, AI picked
        + trial("p1", 2, ["human", "ai-1", "human-2", "human-3"], {1: 1})  # 1/4, human picked
        + trial("p2", 3, ["ai-1", "ai-2", "ai-3", "human"], {4: 1})  # 3/4, human picked
        + trial("p2", 4, ["ai-1", "ai-2", "ai-3"], {1: 1})  # one kind: says nothing
    )
    section = pool_summary(frame(rows), min_panelists=2, n_bootstrap=0)
    share = section["ai_share"]
    assert (share["n_trials"], share["n_trials_one_kind"], share["picked_ai"]) == (3, 1, 1)
    assert share["ai_pick_rate"] == pytest.approx((0.5 + 0.0) / 2)  # p1: 1 of 2, p2: 0 of 1
    assert share["expected_share"] == pytest.approx(((0.5 + 0.25) / 2 + 0.75) / 2)
    p1 = ((1 - 0.5) + (0 - 0.25)) / 2
    p2 = 0 - 0.75
    assert share["difference"] == pytest.approx((p1 + p2) / 2)
    assert section["n_trials"] == 4 and section["n_panelists"] == 2
    assert section["mean_pool_size"] == pytest.approx(15 / 4)


def test_pick_rates_are_per_time_shown_against_one_in_n():
    rows = trial("p1", 1, ["human", "ai-1", "ai-2"], {1: 1}) + trial(
        "p2", 2, ["human", "ai-1", "ai-2", "ai-3"], {2: 1}
    )
    systems = {row["system"]: row for row in pool_summary(frame(rows), n_bootstrap=0)["systems"]}
    assert (systems["human"]["shown"], systems["human"]["picked"]) == (2, 1)
    assert systems["human"]["pick_rate"] == pytest.approx(0.5)  # p1 1 of 1, p2 0 of 1
    assert systems["human"]["expected_rate"] == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert systems["ai-3"]["kind"] == "ai" and systems["ai-3"]["picked"] == 0
    assert all(row["verdict"] == "too_little_data" for row in systems.values())


def test_a_top_three_implies_each_ranked_candidate_beat_those_below_it():
    rows = trial("p1", 1, ["a", "b", "c", "d", "e"], {3: 1, 1: 2, 5: 3})
    analysed = pool_rows(frame(rows))
    codes = pd.factorize(analysed["trial"].to_numpy())[0]
    votes = implied_pairs(analysed, codes)
    pairs = set(zip(votes["system_a"], votes["system_b"], strict=True))
    assert pairs == {
        ("c", "a"), ("c", "b"), ("c", "d"), ("c", "e"),
        ("a", "b"), ("a", "d"), ("a", "e"),
        ("e", "b"), ("e", "d"),
    }  # fmt: skip
    assert (votes["choice"] == "a").all()


def test_a_system_every_listener_picks_ranks_first_and_beats_its_expected_rate():
    rng = np.random.default_rng(3)
    rows = []
    for panelist in range(12):
        for number in range(4):
            shown = ["star", *rng.choice(["human", "ai-1", "ai-2", "ai-3"], 3, replace=False)]
            rng.shuffle(shown)
            rows += trial(
                f"p{panelist}", f"{panelist}-{number}", shown, {shown.index("star") + 1: 1}
            )
    section = pool_summary(frame(rows), min_panelists=8, n_bootstrap=100)
    star = next(row for row in section["systems"] if row["system"] == "star")
    assert star["pick_rate"] == 1.0 and star["cluster_ci_bound"] == "lower"
    assert star["verdict"] == "above_expected"
    assert section["ranking"][0]["system"] == "star"
    assert section["ranking_meta"]["status"] == "ok"
    assert section["n_implied_pairs"] == 12 * 4 * 3

    few = pool_summary(frame(rows[: 4 * 4 * 3]), min_panelists=8, n_bootstrap=20)
    assert few["ranking_meta"]["status"] == "too_little_data"
    assert all(row["verdict"] == "too_little_data" for row in few["systems"])


def null_pools(rng, n_panelists=20, trials=6, size=5, spread=0.8) -> pd.DataFrame:
    """Listeners who differ in how much they like AI, but on average pick AI exactly as often
    as it is shown: P(AI favourite) = e + d_p e (1 - e), d_p = ±spread; the favourite is drawn
    uniformly among the chosen kind's candidates."""
    systems = np.array(["human-1", "human-2", "ai-1", "ai-2", "ai-3"], dtype=object)
    n_trials = n_panelists * trials
    shown = rng.integers(0, 5, size=(n_trials, size))
    ai = shown >= 2
    share = ai.mean(axis=1)
    d = np.repeat(rng.choice([-spread, spread], n_panelists), trials)
    pick_ai = rng.random(n_trials) < share + d * share * (1 - share)
    mixed = (share > 0) & (share < 1)
    eligible = np.where(mixed[:, None], ai == pick_ai[:, None], True)
    keys = np.where(eligible, rng.random((n_trials, size)), -1.0)
    favourite = keys.argmax(axis=1)  # uniform among the eligible candidates
    rank = np.full((n_trials, size), np.nan)
    rank[np.arange(n_trials), favourite] = 1.0
    trial = np.repeat(np.arange(n_trials), size)
    study = pd.DataFrame(
        {
            "panelist_id": np.char.add("p", (trial // trials).astype(str)).astype(object),
            "response_id": trial.astype(str).astype(object),
            "trial_kind": "pool",
            "system_a": systems[shown.ravel()],
            "system_a_kind": np.where(ai.ravel(), "ai", "human").astype(object),
            "pick_rank": rank.ravel(),
        }
    )
    study.attrs["earshot_normalized"] = True
    return study


def test_null_pool_studies_rarely_claim_any_difference_from_the_pool_share():
    rng = np.random.default_rng(11)
    studies, false = 150, 0
    for _ in range(studies):
        section = pool_summary(null_pools(rng), min_panelists=8, n_bootstrap=0)
        tests = [section["ai_share"], *section["systems"]]
        assert len(tests) == 6
        false += any(test["verdict"] in ("above_expected", "below_expected") for test in tests)
    assert false / studies <= 0.05


def test_the_pool_section_equals_a_recomputation_from_the_csv(responses_csv, design_rows):
    path = responses_csv(design_rows(n_panelists=10, trials_each=4, seed=5, ai_pick_boost=1.0))
    summary = summarize(read_responses(path), n_bootstrap=50, min_panelists=3)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    pool = raw[raw["trial_kind"] == "pool"].copy()
    pool["ai"] = (pool["system_a_kind"] == "ai").astype(float)
    trials = pool.groupby(["panelist_id", "response_id"]).agg(
        expected=("ai", "mean"),
        picked=("ai", lambda ai: float(ai[pool.loc[ai.index, "pick_rank"] == "1"].iloc[0])),
    )
    mixed = trials[(trials["expected"] > 0) & (trials["expected"] < 1)]
    per_listener = mixed.groupby(level="panelist_id").mean()
    share = summary["pool"]["ai_share"]
    assert share["ai_pick_rate"] == pytest.approx(per_listener["picked"].mean())
    assert share["expected_share"] == pytest.approx(per_listener["expected"].mean())
    assert share["difference"] == pytest.approx(
        (per_listener["picked"] - per_listener["expected"]).mean()
    )
    assert summary["pool"]["n_candidates_shown"] == len(pool)
    assert summary["pool"]["n_trials"] == len(trials)
    # Pool rows never reach the pairwise figures.
    assert summary["meta"]["n_votes"] == (raw["trial_kind"] == "ab").sum()
    assert has_pool_rows(read_responses(path))
