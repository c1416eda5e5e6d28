import json

import pytest
import torch

from generation.dataset import SPLIT_SEED
from generation.neural import NeuralHarmonizer, file_sha256
from generation.train import learning_rate, main

TINY = ["--batch", "2", "--crop", "16", "--width", "8", "--hidden", "8", "--threads", "1"]


def test_a_tiny_run_exports_weights_metadata_and_resumes(tmp_path, capsys, dataset):
    out = tmp_path / "run"
    assert main([*TINY, "--steps", "2", "--eval-every", "2", "--out", str(out)]) == 0
    metadata = json.loads((out / "builtin.json").read_text())
    assert metadata["checkpoint_step"] == 2
    assert [h["step"] for h in metadata["training_history"]] == [2]
    assert metadata["split"]["seed"] == SPLIT_SEED
    assert metadata["split"]["test"] == dataset.split["test"]
    assert metadata["hyper_parameters"]["width"] == 8
    assert metadata["sha256"] == file_sha256(out / "builtin.pt")
    assert 0 < metadata["training_history"][0]["validation_bits_per_voice_step"] < 10
    assert "best validation" in capsys.readouterr().out

    assert main([*TINY, "--steps", "4", "--eval-every", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "resuming from" in printed.out and "at step 2" in printed.out
    state = torch.load(out / "state.pt", weights_only=False)
    assert state["step"] == 4
    assert [h["step"] for h in state["history"]] == [2, 4]
    # The exported weights load into a harmonizer that writes valid settings.
    harmonizer = NeuralHarmonizer.load(out / "builtin.pt")
    assert harmonizer.model.config["width"] == 8


def test_the_learning_rate_warms_up_then_decays():
    rates = [learning_rate(step, peak=1.0, warmup=10, total=110) for step in (0, 9, 60, 110)]
    assert [round(rate, 4) for rate in rates] == [0.1, 1.0, 0.525, 0.05]


def test_init_warm_starts_from_exported_weights_and_refuses_another_architecture(
    tmp_path, capsys, dataset
):
    first = tmp_path / "first"
    assert main([*TINY, "--steps", "2", "--eval-every", "2", "--out", str(first)]) == 0
    exported = torch.load(first / "builtin.pt", weights_only=False)["state_dict"]
    warm = tmp_path / "warm"
    argv = [*TINY, "--steps", "1", "--lr", "0", "--warmup", "1", "--eval-every", "1"]
    assert main([*argv, "--init", str(first / "builtin.pt"), "--out", str(warm)]) == 0
    assert "warm start from" in capsys.readouterr().out
    again = torch.load(warm / "builtin.pt", weights_only=False)["state_dict"]
    # Learning rate 0 (AdamW's weight decay is lr-scaled too): the weights are unchanged.
    assert all(torch.equal(exported[name], again[name]) for name in exported)
    metadata = json.loads((warm / "builtin.json").read_text())
    assert metadata["note"].startswith(f"warm-started from {first / 'builtin.pt'}")
    assert file_sha256(first / "builtin.pt") in metadata["note"]

    wider = [arg if arg != "8" else "16" for arg in TINY]
    with pytest.raises(ValueError, match="architecture"):
        main([*wider, "--steps", "1", "--init", str(first / "builtin.pt"), "--out", str(tmp_path)])
