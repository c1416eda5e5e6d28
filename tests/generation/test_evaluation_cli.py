import json

import pytest

from generation.evaluate import evaluate, main


@pytest.fixture(scope="module")
def table():
    return evaluate(split="test", seed=0, systems=["builtin", "markov"], limit=3)


def test_bach_is_scored_with_the_same_measures_and_is_the_reference(table):
    bach = table["systems"]["bach"]
    assert (table["chorales"], table["beats"]) == (3, 166.0)
    assert bach["scale_degree_distance"] == bach["interval_distance"] == 0.0
    assert bach["out_of_range_per_100_beats"] == 0.0
    assert "nll_bits_per_note" not in bach


def test_the_neural_model_beats_the_baseline_on_likelihood_and_voice_leading(table):
    neural, markov = table["systems"]["builtin"], table["systems"]["markov"]
    assert (neural["nll_bits_per_note"], markov["nll_bits_per_note"]) == (2.653, 3.844)
    # None in these 166 beats (a soft rule: the whole test split has a few), the chain's 14.
    assert neural["parallel_fifths_octaves_per_100_beats"] == 0.0
    assert markov["parallel_fifths_octaves_per_100_beats"] == 8.43
    assert (neural["interval_distance"], markov["interval_distance"]) == (0.0999, 0.3455)
    assert neural["describe"]["system"] == "builtin"


def test_it_measures_what_a_listener_hears(table):
    bach, neural, markov = (table["systems"][name] for name in ("bach", "builtin", "markov"))
    assert bach["final_chord_correct_percent"] == neural["final_chord_correct_percent"] == 100.0
    assert (
        bach["passing_notes_per_beat_bass"],
        neural["passing_notes_per_beat_bass"],
        markov["passing_notes_per_beat_bass"],
    ) == (0.265, 0.108, 0.0)
    assert (
        bach["hidden_fifths_octaves_outer_per_100_beats"],
        neural["hidden_fifths_octaves_outer_per_100_beats"],
    ) == (0.6, 0.0)
    assert "discriminator_accuracy" not in bach
    # Three melodies are far too few to tell anything: the interval says so.
    assert (neural["discriminator_accuracy"], neural["discriminator_95ci"]) == (
        0.8333,
        [0.4365, 0.9699],
    )
    assert (markov["discriminator_accuracy"], markov["discriminator_95ci"]) == (1.0, [0.6097, 1.0])


def test_the_cli_prints_json(capsys):
    assert main(["--split", "test", "--limit", "1", "--systems", "markov", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["split"], printed["chorales"]) == ("test", 1)
    assert sorted(printed["systems"]) == ["bach", "markov"]


def test_the_cli_prints_a_table(capsys):
    assert main(["--limit", "1", "--systems", "markov"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 test chorales, 52 beats, seed 0"
    assert lines[1].split() == ["measure", "bach", "markov"]


def test_the_soprano_model_is_scored_against_the_bigram_baseline_in_the_same_run(table):
    assert table["soprano"] == {
        "steps": 664,
        "neural_bits_per_step": 0.6056,
        "bigram_bits_per_step": 0.935,
    }


def test_continuations_are_measured_on_the_written_bars_only(table):
    continuation = table["continuation"]
    # Three chorales, 4 written bars of 4/4 or 3/4 each after the given 4 bars.
    assert (continuation["chorales"], continuation["beats"], continuation["bars"]) == (3, 40.0, 4)
    bach, model = continuation["systems"]["bach"], continuation["systems"]["builtin-continuation"]
    assert bach["scale_degree_distance"] == bach["interval_distance"] == 0.0
    assert model["parallel_fifths_octaves_per_100_beats"] == 0.0
    assert model["out_of_range_per_100_beats"] == 0.0
    assert 0 < model["interval_distance"] < 0.5
