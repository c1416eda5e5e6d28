import json

import numpy as np
from music21 import converter

from generation.cli import main
from generation.pairs import PromptPair, Rendered

# seed 0 draws the same two test chorales for harmonize and continue
TWO_PAIRS = [
    f"{slug}{suffix}"
    for slug in ("bwv144_3", "bwv74_8")
    for suffix in (".mid", ".ref.mid", ".ref.wav", ".wav")
] + ["manifest.json"]


def test_harmonize_writes_both_sides_per_chorale(tmp_path, capsys):
    assert (
        main(["harmonize", "--split", "test", "--n", "2", "--seed", "0", "--out", str(tmp_path)])
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == TWO_PAIRS
    generated = converter.parse(str(tmp_path / "bwv74_8.mid"))
    reference = converter.parse(str(tmp_path / "bwv74_8.ref.mid"))
    assert len(generated.parts) == 4
    soprano = [(n.offset, n.pitch.midi) for n in generated.parts[0].flatten().notes]
    assert soprano == [(n.offset, n.pitch.midi) for n in reference.parts[0].flatten().notes]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [entry["prompt_id"] for entry in manifest] == ["bach/bwv144.3", "bach/bwv74.8"]
    assert [entry["provenance"]["system"] for entry in manifest] == ["builtin", "builtin"]
    assert capsys.readouterr().out.startswith("2 chorales harmonized by builtin (seed 0)")


def test_the_markov_baseline_is_one_flag_away(tmp_path, capsys):
    main(["harmonize", "--n", "1", "--system", "markov", "--out", str(tmp_path)])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest[0]["provenance"]["system"] == "markov"
    assert capsys.readouterr().out.startswith("1 chorales harmonized by markov (seed 0)")


def test_harmonize_caps_n_at_the_split_size(tmp_path, capsys, monkeypatch):
    silent = Rendered(np.zeros((2, 48), dtype=np.float32), 48_000, b"MThd", {"system": "x"})

    def instant_pair(chorale, *, seed, system):
        # Rendering all 36 chorales would take half a minute; only the count matters here.
        return PromptPair(chorale.chorale_id, "", silent, silent)

    monkeypatch.setattr("generation.cli.build_pair", instant_pair)
    main(["harmonize", "--split", "validation", "--n", "500", "--out", str(tmp_path)])
    assert capsys.readouterr().out.startswith(
        "36 chorales (the validation split holds 36) harmonized by builtin (seed 0)"
    )
    assert len(list(tmp_path.glob("*.ref.wav"))) == 36


def test_continue_writes_the_continuation_and_bachs_real_one(tmp_path, capsys):
    arguments = ["continue", "--split", "test", "--n", "2", "--bars", "4"]
    assert main([*arguments, "--continue-bars", "4", "--seed", "0", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == TWO_PAIRS
    generated = converter.parse(str(tmp_path / "bwv144_3.mid"))
    reference = converter.parse(str(tmp_path / "bwv144_3.ref.mid"))
    # The first four bars (a one-beat pickup + 3 bars = 13 quarters) are the same notes.
    for ours, bachs in zip(generated.parts, reference.parts, strict=True):
        given = [(n.offset, n.pitch.midi) for n in ours.flatten().notes if n.offset < 13]
        assert given == [(n.offset, n.pitch.midi) for n in bachs.flatten().notes if n.offset < 13]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [entry["provenance"]["system"] for entry in manifest] == ["builtin-continuation"] * 2
    assert capsys.readouterr().out.startswith(
        "2 chorales continued after 4 bars for 4 bars (seed 0)"
    )


def test_split_prints_the_corpus_ids_of_every_split(capsys, dataset):
    assert main(["split", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {name: printed[name] for name in ("train", "validation", "test")} == dataset.split
    assert (len(printed["train"]), len(printed["validation"]), len(printed["test"])) == (
        286,
        36,
        36,
    )
    assert printed["excluded"]["bach/bwv398"] == "duplicate of bach/bwv197.7-a"
    assert printed["family_threshold"] == 0.30
    assert main(["split"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("358 chorales in 225 tune families; tune families:")
    assert lines[3].startswith("test (36): bach/")
