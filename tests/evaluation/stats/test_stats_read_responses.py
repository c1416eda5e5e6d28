import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from evaluation.stats import ResponsesError, read_responses, summarize, unescape_cell
from evaluation.stats.comparisons import build_comparisons
from evaluation.stats.responses import (
    READER_CODES,
    normalize_responses,
    reader_codes,
    sorted_codes,
)


def test_unescape_cell_removes_only_the_formula_quote():
    assert unescape_cell("'=SUM(A1)") == "=SUM(A1)"
    assert unescape_cell("'-3.5") == "-3.5"
    assert unescape_cell("'+1") == "+1"
    assert unescape_cell("'@me") == "@me"
    assert unescape_cell("'Round Midnight") == "'Round Midnight"
    assert unescape_cell("'") == "'"


def test_read_responses_types_every_contract_column(responses_csv, response_row):
    path = responses_csv(
        [
            response_row(
                panelist_id="p1",
                system_a="'=evil",
                system_b="human",
                choice="A",
                liked_a="1",
                liked_b="",
                guess_ai="unsure",
                listen_a_s="'-0.5",
                listen_b_s="12.25",
                is_catch="1",
                catch_passed="0",
                ai_side="a",
                started_at="2025-03-01T10:00:00Z",
                submitted_at="2025-03-01T10:00:42.5+00:00",
            )
        ]
    )

    frame = read_responses(path)
    row = frame.iloc[0]

    assert row["system_a"] == "=evil"
    assert row["choice"] == "a"
    assert row["liked_a"] == 1.0 and math.isnan(row["liked_b"])
    assert row["guess_ai"] == "unsure"
    assert row["listen_a_s"] == -0.5 and row["listen_b_s"] == 12.25
    assert bool(row["is_catch"]) is True and bool(row["simulated"]) is False
    assert row["catch_passed"] == 0.0
    assert row["submitted_at"] - row["started_at"] == pd.Timedelta(seconds=42.5)
    assert len(frame.attrs["sha256"]) == 64


def test_a_large_file_is_read_and_hashed_like_a_small_one(responses_csv, response_row, monkeypatch):
    # From HASH_ON_THREAD_BYTES the file's bytes are read once, hashed on a thread and
    # parsed from memory: the same frame, codes and SHA-256 as reading the path.
    import hashlib

    from evaluation.stats import responses as responses_module

    rows = [
        response_row(panelist_id=f"p{index % 5}", system_a="x", system_b=" y", choice="a ")
        for index in range(40)
    ]
    path = responses_csv(rows)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a byte-order mark too
    small = read_responses(path)
    monkeypatch.setattr(responses_module, "HASH_ON_THREAD_BYTES", 0)
    large = read_responses(path)

    pd.testing.assert_frame_equal(large, small)
    assert large.attrs["sha256"] == small.attrs["sha256"]
    assert large.attrs["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    codes_small = reader_codes(small["panelist_id"])
    codes_large = reader_codes(large["panelist_id"])
    np.testing.assert_array_equal(codes_large[0], codes_small[0])
    np.testing.assert_array_equal(codes_large[1], codes_small[1])


def test_a_large_unreadable_file_names_its_path_in_the_error(tmp_path, monkeypatch):
    from evaluation.stats import responses as responses_module

    monkeypatch.setattr(responses_module, "HASH_ON_THREAD_BYTES", 0)
    path = tmp_path / "latin1.csv"
    path.write_bytes("panelist_id,system_a,system_b,choice\np\xe9,x,y,a\n".encode("latin-1"))

    with pytest.raises(ResponsesError, match=f"{path}: not a readable UTF-8 CSV"):
        read_responses(path)


def test_read_responses_accepts_the_four_required_columns_only(responses_csv, response_row):
    path = responses_csv(
        [response_row(panelist_id="p1", system_a="x", system_b="y", choice="tie")],
        columns=("panelist_id", "system_a", "system_b", "choice"),
    )

    frame = read_responses(path)

    assert list(frame.columns) == ["panelist_id", "system_a", "system_b", "choice"]
    assert frame.loc[0, "choice"] == "tie"


def test_read_responses_refuses_a_csv_without_choice(responses_csv, response_row):
    path = responses_csv(
        [response_row(panelist_id="p1")], columns=("panelist_id", "system_a", "system_b")
    )

    with pytest.raises(ResponsesError, match="missing: choice"):
        read_responses(path)


def test_normalize_responses_accepts_python_values_from_the_database():
    frame = normalize_responses(
        pd.DataFrame(
            {
                "panelist_id": [1, 2],
                "system_a": ["x", "y"],
                "system_b": ["y", "x"],
                "choice": ["b", None],
                "liked_a": [True, None],
                "is_catch": [False, True],
                "guess_ai": ["can't tell", "B"],
            }
        )
    )

    assert frame["panelist_id"].tolist() == ["1", "2"]
    assert frame["choice"].tolist() == ["b", ""]
    assert frame["liked_a"].iloc[0] == 1.0 and math.isnan(frame["liked_a"].iloc[1])
    assert frame["is_catch"].tolist() == [False, True]
    assert frame["guess_ai"].tolist() == ["unsure", "b"]


def test_read_responses_explains_an_empty_file(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text("")

    with pytest.raises(ResponsesError, match="the file is empty; expected a CSV whose header"):
        read_responses(path)


def test_read_responses_explains_a_file_that_is_not_utf8_text(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_bytes(b"panelist_id,system_a,system_b,choice\n\xff\xfe,x,y,a\n")

    with pytest.raises(ResponsesError, match="not a readable UTF-8 CSV"):
        read_responses(path)


def test_the_contract_appends_the_42_design_columns_in_order():
    from evaluation.catalogue import ASPECTS
    from evaluation.stats.responses import RESPONSE_COLUMNS

    tail = RESPONSE_COLUMNS[40:82]
    assert len(RESPONSE_COLUMNS) == 85 and len(tail) == 42
    # ...then the panel attributes (docs/panels.md)
    assert RESPONSE_COLUMNS[82:] == ("stratum", "instrument_family", "languages")
    assert tail[:15] == (
        "trial_kind", "familiar", "playlist_a", "playlist_b", "release_a", "release_b",
        "rating_a", "rating_b", "guess_kind", "guess_confidence", "pool_size",
        "pool_position", "pick_rank", "weaker_a", "weaker_b",
    )  # fmt: skip
    assert tail[15:] == tuple(
        column
        for aspect in ASPECTS
        for column in (f"aspect_{aspect}", f"score_{aspect}_a", f"score_{aspect}_b")
    )


def test_read_responses_types_the_design_columns(responses_csv, response_row):
    from evaluation.stats.responses import pairwise_mask, split_weaker, trial_kind_mask

    path = responses_csv(
        [
            response_row(panelist_id="p1", system_a="x", system_b="y", choice="a",
                         trial_kind="AB", familiar="sounds_familiar", playlist_a="yes",
                         playlist_b="0", release_a="true", rating_a="4", rating_b="9",
                         weaker_a="lyrics;vocals", aspect_melody="B", score_melody_a="2.5",
                         score_melody_b="5"),
            response_row(panelist_id="p1", system_a="x", trial_kind="single",
                         guess_kind="AI", guess_confidence="75", familiar="knows_it"),
            response_row(panelist_id="p2", system_a="x", trial_kind="pool", pool_size="5",
                         pool_position="2", pick_rank="1", familiar="maybe"),
            response_row(panelist_id="p2", system_a="x", system_b="y", choice="b"),  # old row
        ]
    )  # fmt: skip
    frame = read_responses(path)
    ab, single, pool, old = (frame.iloc[index] for index in range(4))
    assert list(frame["trial_kind"]) == ["ab", "single", "pool", ""]
    assert (ab["familiar"], single["familiar"], pool["familiar"]) == (
        "sounds_familiar",
        "knows_it",
        "",  # not a level: empty
    )
    assert (ab["playlist_a"], ab["playlist_b"], ab["release_a"]) == (1.0, 0.0, 1.0)
    assert math.isnan(ab["release_b"])
    assert ab["rating_a"] == 4.0 and math.isnan(ab["rating_b"])  # 9 is off the 1-5 scale
    assert ab["aspect_melody"] == "b"
    assert math.isnan(ab["score_melody_a"]) and ab["score_melody_b"] == 5.0  # 2.5 not whole
    assert split_weaker(ab["weaker_a"]) == ["lyrics", "vocals"] and split_weaker("") == []
    assert (single["guess_kind"], single["guess_confidence"]) == ("ai", 75.0)
    assert (pool["pool_size"], pool["pool_position"], pool["pick_rank"]) == (5.0, 2.0, 1.0)
    assert list(pairwise_mask(frame)) == [True, False, False, True]
    assert list(trial_kind_mask(frame, "pool")) == [False, False, True, False]
    assert old["familiar"] == ""


def test_pairwise_figures_ignore_single_and_pool_rows(responses_csv, response_row):
    from evaluation.stats import summarize

    votes = [
        response_row(panelist_id=f"p{i}", system_a="x", system_b="y", choice="a", liked_a="1",
                     trial_kind="ab" if i % 2 else "")
        for i in range(6)
    ]  # fmt: skip
    other = [
        response_row(panelist_id="p0", system_a="y", trial_kind="single", liked_a="0",
                     guess_kind="ai", system_a_kind="ai"),
        response_row(panelist_id="p0", system_a="z", system_b="x", choice="b",
                     trial_kind="pool", pick_rank="1", liked_a="0"),
    ]  # fmt: skip
    plain = summarize(read_responses(responses_csv(votes)), n_bootstrap=0)
    mixed = summarize(read_responses(responses_csv(votes + other)), n_bootstrap=0)
    for key in ("pairs", "systems", "liked", "ai_identification"):
        assert mixed[key] == plain[key], key
    assert mixed["meta"]["n_votes"] == 6 and mixed["meta"]["n_not_votes"] == 0
    assert mixed["meta"]["n_by_trial_kind"] == {"ab": 6, "single": 1, "pool": 1}


def _messy_votes(response_row):
    """Votes whose raw cells type alike (blanks around names, upper-case choices), with a
    blank system and a choice that is not a vote."""
    cells = [
        ("p2", " model-x", "human", "A"),
        ("p1", "model-x", "human ", "b"),
        ("p3", "human", "model-x", "tie"),
        ("p1", "", "human", "a"),
        ("p2", "human", "model-y", "maybe"),
        ("p10", "model-y", " model-x ", " B"),
        ("p2", "model-y", "human", "draw"),
    ]
    return [
        response_row(panelist_id=panelist, system_a=a, system_b=b, choice=choice)
        for panelist, a, b, choice in cells
    ]


def test_reader_codes_number_the_typed_cells(responses_csv, response_row):
    frame = read_responses(responses_csv(_messy_votes(response_row)))

    for column in ("panelist_id", "system_a", "system_b", "choice", "panel"):
        codes, uniques = reader_codes(frame[column])
        assert list(uniques[codes]) == list(frame[column])
        assert len(set(uniques)) == len(uniques)  # " model-x" and "model-x" are one cell
        assert set(uniques) == set(frame[column])
    # A shallow copy holds the same column; a filtered, sorted or rebuilt one does not.
    assert reader_codes(frame.copy(deep=False)["system_a"]) is not None
    assert reader_codes(frame[frame["choice"] != ""]["system_a"]) is None
    assert reader_codes(frame.sort_values("panelist_id")["system_a"]) is None
    assert reader_codes(frame.iloc[::-1]["system_a"]) is None
    rebuilt = frame.copy()
    assert reader_codes(rebuilt["system_a"]) is None
    frame["system_a"] = frame["system_a"].str.upper()
    assert reader_codes(frame["system_a"]) is None
    in_memory = normalize_responses(
        pd.DataFrame({"panelist_id": ["p1"], "system_a": ["x"], "system_b": ["y"], "choice": ["a"]})
    )
    assert reader_codes(in_memory["panelist_id"]) is None


def test_sorted_codes_equal_a_sorted_factorize():
    values = np.array(["b", "", "a", "c", "b", "a"], dtype=object)
    codes, uniques = pd.factorize(values)
    for rows in (None, np.array([0, 2, 4]), np.array([5, 1]), np.array([], dtype=np.int64)):
        expected_codes, expected_names = pd.factorize(
            values if rows is None else values[rows], sort=True
        )
        got_codes, got_names = sorted_codes(codes, np.asarray(uniques), rows=rows)
        assert got_codes.tolist() == expected_codes.tolist()
        assert list(got_names) == list(expected_names)


def test_the_reader_codes_give_the_same_votes_and_figures_as_factorising(
    responses_csv, response_row
):
    frame = read_responses(responses_csv(_messy_votes(response_row)))
    # The same rows without the reader's codes: every text column is factorised again.
    plain = frame.copy()
    plain.attrs = {key: value for key, value in frame.attrs.items() if key != READER_CODES}

    fast, slow = build_comparisons(frame), build_comparisons(plain)
    for field in dataclasses.fields(fast):
        assert np.array_equal(getattr(fast, field.name), getattr(slow, field.name)), field.name
    assert fast.systems == ("human", "model-x", "model-y")
    assert fast.panelists == ("p1", "p10", "p2", "p3")
    fast_summary = summarize(frame, n_bootstrap=20)
    slow_summary = summarize(plain, n_bootstrap=20)
    assert json.dumps(fast_summary) == json.dumps(slow_summary)
    assert fast_summary["meta"]["n_panelists"] == 4
