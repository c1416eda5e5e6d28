import json

import torch

from generation.dataset import SPLIT_SEED
from generation.neural import file_sha256
from generation.soprano import SopranoContinuer
from generation.train_soprano import main

TINY = ["--batch", "2", "--crop", "16", "--width", "8", "--hidden", "8", "--threads", "1"]


def test_a_tiny_soprano_run_exports_weights_metadata_and_resumes(tmp_path, capsys, dataset):
    out = tmp_path / "run"
    assert main([*TINY, "--steps", "2", "--eval-every", "2", "--out", str(out)]) == 0
    metadata = json.loads((out / "soprano.json").read_text())
    assert metadata["checkpoint_step"] == 2
    assert metadata["split"]["seed"] == SPLIT_SEED
    assert metadata["split"]["test"] == dataset.split["test"]
    assert metadata["sha256"] == file_sha256(out / "soprano.pt")
    assert metadata["bigram_validation_bits_per_step"] == 0.8817
    assert "bigram baseline 0.882 bits per step" in capsys.readouterr().out

    assert main([*TINY, "--steps", "4", "--eval-every", "2", "--out", str(out)]) == 0
    assert "resuming from" in capsys.readouterr().out
    assert torch.load(out / "state.pt", weights_only=False)["step"] == 4
    assert SopranoContinuer.load(out / "soprano.pt").model.config["hidden"] == 8
