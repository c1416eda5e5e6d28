import json

import pytest

from generation.evaluate import evaluate, main


@pytest.fixture(scope="module")
def table():
    return evaluate(split="test", seed=0, systems=["builtin", "markov"], limit=3)


def test_bach_is_scored_with_the_same_measures_and_is_the_reference(table):
    bach = table["systems"]["bach"]
    assert (table["chorales"], table["beats"]) == (3, 152.0)
    assert bach["scale_degree_distance"] == bach["interval_distance"] == 0.0
    assert bach["out_of_range_per_100_beats"] == 0.0
    assert "nll_bits_per_note" not in bach


def test_the_neural_model_beats_the_baseline_on_likelihood_and_voice_leading(table):
    neural, markov = table["systems"]["builtin"], table["systems"]["markov"]
    assert neural["nll_bits_per_note"] < markov["nll_bits_per_note"]
    # The sampler's check forbids parallels by both definitions (music21 and numpy).
    assert neural["parallel_fifths_octaves_numpy_per_100_beats"] == 0.0
    assert neural["parallel_fifths_octaves_per_100_beats"] == 0.0
    assert markov["parallel_fifths_octaves_per_100_beats"] > 5
    assert neural["interval_distance"] < markov["interval_distance"]
    assert neural["describe"]["system"] == "builtin"


def test_the_cli_prints_json(capsys):
    assert main(["--split", "test", "--limit", "1", "--systems", "markov", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["split"], printed["chorales"]) == ("test", 1)
    assert sorted(printed["systems"]) == ["bach", "markov"]


def test_the_cli_prints_a_table(capsys):
    assert main(["--limit", "1", "--systems", "markov"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 test chorales, 40 beats, seed 0"
    assert lines[1].split() == ["measure", "bach", "markov"]


def test_the_soprano_model_is_scored_against_the_bigram_baseline_in_the_same_run(table):
    assert table["soprano"] == {
        "steps": 608,
        "neural_bits_per_step": 0.6607,
        "bigram_bits_per_step": 0.8884,
    }


def test_continuations_are_measured_on_the_written_bars_only(table):
    continuation = table["continuation"]
    # Three chorales, 4 written bars of 4/4 or 3/4 each after the given 4 bars.
    assert (continuation["chorales"], continuation["beats"], continuation["bars"]) == (3, 44.0, 4)
    bach, model = continuation["systems"]["bach"], continuation["systems"]["builtin-continuation"]
    assert bach["scale_degree_distance"] == bach["interval_distance"] == 0.0
    assert model["parallel_fifths_octaves_per_100_beats"] == 0.0
    assert model["out_of_range_per_100_beats"] == 0.0
    assert 0 < model["interval_distance"] < 0.5
