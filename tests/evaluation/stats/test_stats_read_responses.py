import math

import pandas as pd
import pytest

from evaluation.stats import ResponsesError, read_responses, unescape_cell
from evaluation.stats.responses import normalize_responses


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
