"""``python -m generation.train_soprano``: train the soprano continuation model.

    python -m generation.train_soprano --steps 1500 --threads 1 --out var/train/soprano --ship

Random crops of ``--crop`` steps from randomly transposed train chorales, AdamW with warmup and
cosine decay, validation bits per step on the whole validation chorales every ``--eval-every``
steps, beside the bigram baseline's. ``OUT/state.pt`` (model, optimizer, step, RNG) makes a
re-run of the same command resume. The best weights by validation loss are exported to
``OUT/soprano.pt`` with ``OUT/soprano.json`` (split, hyper-parameters, history, baseline,
command, git hash, SHA-256); ``--ship`` copies both to ``generation/checkpoints/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generation.dataset import SPLIT_SEED, load_dataset
from generation.neural import allowed_shifts, file_sha256
from generation.soprano import (
    TOKENS,
    SopranoBigram,
    SopranoNet,
    encode_soprano,
    soprano_bits,
)
from generation.train import (
    checkpoint_ship,
    git_hash,
    training_run,
)


def make_batch(
    encoded: dict, chorales: list, *, batch: int, crop: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random crops: features [B, 7, crop], targets [B, crop] (padding -100)."""
    features = np.zeros((batch, 7, crop), dtype=np.int64)
    targets = np.full((batch, crop), -100, dtype=np.int64)
    for row in range(batch):
        chorale = chorales[rng.integers(len(chorales))]
        shifts = allowed_shifts(chorale)
        shift = shifts[rng.integers(len(shifts))]
        item = encoded.get((chorale.chorale_id, shift))
        if item is None:
            item = encoded[(chorale.chorale_id, shift)] = encode_soprano(chorale, shift=shift)
        steps = len(item.targets)
        start = int(rng.integers(max(steps - crop, 0) + 1))
        end = min(start + crop, steps)
        features[row, :, : end - start] = item.features[:, start:end]
        targets[row, : end - start] = item.targets[start:end]
    return torch.from_numpy(features), torch.from_numpy(targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.train_soprano", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=192)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("var/train/soprano"))
    parser.add_argument("--ship", action="store_true", help="copy the best to checkpoints/")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    dataset = load_dataset()
    train = dataset.in_split("train")
    validation = [encode_soprano(c) for c in dataset.in_split("validation")]
    bigram_bits, bigram_count = SopranoBigram.fit(train).bits(validation)
    baseline = round(bigram_bits / bigram_count, 4)
    model = SopranoNet(width=args.width, hidden=args.hidden, dropout=args.dropout).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    parameters = sum(p.numel() for p in model.parameters())

    out: Path = args.out
    print(
        f"SopranoNet: {parameters:,} parameters on {device}; {len(train)} train chorales; "
        f"bigram baseline {baseline:.3f} bits per step on validation"
    )
    encoded: dict = {}

    def batch_loss() -> torch.Tensor:
        features, targets = (
            t.to(device)
            for t in make_batch(encoded, train, batch=args.batch, crop=args.crop, rng=rng)
        )
        logits, _ = model(features)
        return nn.functional.cross_entropy(
            logits.reshape(-1, TOKENS), targets.reshape(-1), ignore_index=-100
        )

    def validation_bits() -> float:
        bits, count = soprano_bits(model, validation)
        return bits / count

    best = training_run(
        model=model,
        optimizer=optimizer,
        args=args,
        rng=rng,
        device=device,
        out=out,
        batch_loss=batch_loss,
        validation_bits=validation_bits,
        on_best=lambda step, history: export(
            model,
            args,
            out,
            history=history,
            parameters=parameters,
            step=step,
            baseline=baseline,
        ),
        unit="step",
        description="training soprano",
        note=f" (bigram {baseline:.3f})",
    )
    print(f"done: best validation {best:.3f} bits per step -> {out / 'soprano.pt'}")
    if args.ship:
        checkpoint_ship(out, "soprano")
    return 0


def export(
    model: SopranoNet, args, out: Path, *, history, parameters: int, step: int, baseline: float
) -> None:
    """Write the weights (float32, CPU) and their metadata JSON."""
    weights = out / "soprano.pt"
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    torch.save({"config": model.config, "state_dict": state}, weights)
    keys = ("steps", "batch", "crop", "lr", "warmup", "weight_decay", "width", "hidden")
    metadata = {
        "model": "SopranoNet (causal GRU over the soprano on the 16th-note grid)",
        "parameters": parameters,
        "hyper_parameters": {key: getattr(args, key) for key in keys}
        | {"dropout": args.dropout, "seed": args.seed, "transposition": "[-6, 6] in range"},
        "checkpoint_step": step,
        "training_history": history,
        "bigram_validation_bits_per_step": baseline,
        "split": {"seed": SPLIT_SEED, **load_dataset().split},
        "command": "python -m generation.train_soprano " + " ".join(sys.argv[1:]),
        "git_hash": git_hash(),
        "torch_version": torch.__version__,
        "sha256": file_sha256(weights),
    }
    (out / "soprano.json").write_text(json.dumps(metadata, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
