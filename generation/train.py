"""``python -m generation.train``: train the built-in neural harmonizer on the train split.

    python -m generation.train --steps 2000 --out var/train/neural

Random crops of ``--crop`` steps from randomly transposed train chorales, AdamW with warmup and
cosine decay, validation bits per voice-step on the whole validation chorales every
``--eval-every`` steps. A resumable state (model, optimizer, step, RNG) is written to
``OUT/state.pt`` at every evaluation; re-running the same command resumes from it. The best
weights by validation loss are exported to ``OUT/builtin.pt`` with ``OUT/builtin.json``
(split, hyper-parameters, metrics, command, git hash); ``--ship`` copies both to
``generation/checkpoints/``. Uses a GPU when one is present, never requires one.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from generation.dataset import SPLIT_SEED, load_dataset
from generation.neural import (
    CHECKPOINT_DIR,
    TOKENS,
    ChoraleNet,
    allowed_shifts,
    encode_chorale,
    file_sha256,
    sequence_bits,
)


def git_hash() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def training_state_load(
    path: Path, *, model: nn.Module, optimizer, rng: np.random.Generator, device
) -> tuple[int, float, list, float]:
    """Restore model, optimizer and RNGs from ``path``; returns (step, best validation bits,
    history, elapsed seconds) and says so."""
    state = torch.load(path, map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    rng.bit_generator.state = state["rng"]
    torch.set_rng_state(state["torch_rng"])
    step, best = state["step"], state["best"]
    print(f"resuming from {path} at step {step} (best validation {best:.3f} bits)")
    return step, best, state["history"], state["elapsed_s"]


def training_state_save(
    path: Path,
    *,
    model: nn.Module,
    optimizer,
    rng: np.random.Generator,
    step: int,
    best: float,
    history: list,
    elapsed_s: float,
) -> None:
    """Everything a re-run of the same command needs to resume at ``step``."""
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "best": best,
            "history": history,
            "elapsed_s": elapsed_s,
            "rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
        },
        path,
    )


def optimizer_step(model: nn.Module, optimizer, loss: torch.Tensor, *, step: int, args) -> float:
    """One AdamW step at the scheduled learning rate (``args.lr``, ``args.warmup``,
    ``args.steps``) with gradients clipped at norm 1; returns the loss in bits."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, peak=args.lr, warmup=args.warmup, total=args.steps)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item() / math.log(2)


def checkpoint_ship(out: Path, name: str) -> None:
    """Copy ``OUT/<name>.pt`` and ``OUT/<name>.json`` to ``generation/checkpoints/``."""
    CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in (".pt", ".json"):
        shutil.copy(out / f"{name}{suffix}", CHECKPOINT_DIR / f"{name}{suffix}")
    print(f"shipped to {CHECKPOINT_DIR}")


def training_run(
    *,
    model: nn.Module,
    optimizer,
    args,
    rng: np.random.Generator,
    device: torch.device,
    out: Path,
    batch_loss: Callable[[], torch.Tensor],
    validation_bits: Callable[[], float],
    on_best: Callable[[int, list], None],
    unit: str,
    description: str,
    note: str = "",
) -> float:
    """The training loop both models share; returns the best validation bits per ``unit``.

    Resumes from ``out/state.pt`` when it exists. Every ``args.eval_every`` steps (and at the
    end) it measures validation bits on the CPU, appends to the history (keys
    ``train_bits_per_<unit>``, ``validation_bits_per_<unit>``, ``elapsed_s``), calls
    ``on_best(step, history)`` on an improvement and saves the resumable state there.
    """
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.pt"
    step, best, history, elapsed_before = 0, float("inf"), [], 0.0
    if state_path.exists():
        step, best, history, elapsed_before = training_state_load(
            state_path, model=model, optimizer=optimizer, rng=rng, device=device
        )
    started = time.perf_counter()
    running: list[float] = []
    progress = tqdm(total=args.steps, initial=step, desc=description, unit="step")
    while step < args.steps:
        model.train()
        running.append(optimizer_step(model, optimizer, batch_loss(), step=step, args=args))
        step += 1
        progress.update(1)
        progress.set_postfix(train_bits=f"{np.mean(running[-50:]):.3f}")
        if step % args.eval_every and step != args.steps:
            continue
        model.to("cpu")
        validation = validation_bits()
        model.to(device)
        elapsed = elapsed_before + time.perf_counter() - started
        history.append(
            {
                "step": step,
                f"train_bits_per_{unit}": round(float(np.mean(running[-args.eval_every :])), 4),
                f"validation_bits_per_{unit}": round(validation, 4),
                "elapsed_s": round(elapsed, 1),
            }
        )
        label = unit.replace("_", "-")
        tqdm.write(
            f"step {step}: train {history[-1][f'train_bits_per_{unit}']:.3f}, validation "
            f"{validation:.3f} bits per {label}{note}, {elapsed / 60:.1f} min"
        )
        if validation < best:
            best = validation
            on_best(step, history)
        training_state_save(
            state_path,
            model=model,
            optimizer=optimizer,
            rng=rng,
            step=step,
            best=best,
            history=history,
            elapsed_s=elapsed,
        )
        started, elapsed_before = time.perf_counter(), elapsed
    progress.close()
    return best


def make_batch(
    encoded: dict, chorales: list, *, batch: int, crop: int, rng: np.random.Generator
) -> tuple[torch.Tensor, ...]:
    """A batch of ``batch`` random crops: soprano [B, 9, crop], previous/current
    [B, 3, 3, crop], targets [B, 3, crop] (padding targets are -100)."""
    soprano = np.zeros((batch, 9, crop), dtype=np.int64)
    previous = np.zeros((batch, 3, 3, crop), dtype=np.int64)
    current = np.zeros((batch, 3, 3, crop), dtype=np.int64)
    targets = np.full((batch, 3, crop), -100, dtype=np.int64)
    for row in range(batch):
        chorale = chorales[rng.integers(len(chorales))]
        shifts = allowed_shifts(chorale)
        shift = shifts[rng.integers(len(shifts))]
        item = encoded.get((chorale.chorale_id, shift))
        if item is None:
            item = encoded[(chorale.chorale_id, shift)] = encode_chorale(chorale, shift=shift)
        steps = item.targets.shape[1]
        start = int(rng.integers(max(steps - crop, 0) + 1))
        end = min(start + crop, steps)
        length = end - start
        soprano[row, :, :length] = item.soprano[:, start:end]
        previous[row, :, :, :length] = item.previous[:, :, start:end]
        current[row, :, :, :length] = item.current[:, :, start:end]
        targets[row, :, :length] = item.targets[:, start:end]
    return tuple(torch.from_numpy(a) for a in (soprano, previous, current, targets))


def learning_rate(step: int, *, peak: float, warmup: int, total: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min((step - warmup) / max(total - warmup, 1), 1.0)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generation.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps in all")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=128, help="16th-note steps per crop")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("var/train/neural"))
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        help="start from the weights of this exported checkpoint (e.g. the shipped "
        "generation/checkpoints/builtin.pt; its width/hidden/layers must match) with a fresh "
        "optimizer and schedule; ignored when OUT/state.pt exists (that resumes)",
    )
    parser.add_argument(
        "--ship", action="store_true", help="copy the best checkpoint to generation/checkpoints"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    dataset = load_dataset()
    train = dataset.in_split("train")
    validation = [encode_chorale(c) for c in dataset.in_split("validation")]
    model = ChoraleNet(
        width=args.width, hidden=args.hidden, layers=args.layers, dropout=args.dropout
    ).to(device)
    out: Path = args.out
    init_note = ""
    if args.init is not None:
        init_note = f"warm-started from {args.init} (sha256 {file_sha256(args.init)})"
        if not (out / "state.pt").exists():
            warm_start(model, args.init)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    parameters = sum(p.numel() for p in model.parameters())

    print(f"ChoraleNet: {parameters:,} parameters on {device}; {len(train)} train chorales")

    encoded: dict = {}

    def batch_loss() -> torch.Tensor:
        soprano, previous, current, targets = (
            t.to(device)
            for t in make_batch(encoded, train, batch=args.batch, crop=args.crop, rng=rng)
        )
        logits = model(soprano, previous, current)
        return nn.functional.cross_entropy(
            logits.reshape(-1, TOKENS), targets.reshape(-1), ignore_index=-100
        )

    def validation_bits() -> float:
        bits, count = sequence_bits(model, validation)
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
            model, args, out, history=history, parameters=parameters, step=step, note=init_note
        ),
        unit="voice_step",
        description="training",
    )
    print(f"done: best validation {best:.3f} bits per voice-step -> {out / 'builtin.pt'}")
    if args.ship:
        checkpoint_ship(out, "builtin")
    return 0


def warm_start(model: ChoraleNet, path: Path) -> None:
    """Load the weights exported at ``path`` into ``model`` (same architecture, else
    ``ValueError``)."""
    payload = torch.load(path, map_location="cpu", weights_only=False)
    mine = {k: v for k, v in model.config.items() if k != "dropout"}
    theirs = {k: v for k, v in payload["config"].items() if k != "dropout"}
    if mine != theirs:
        raise ValueError(f"--init {path}: architecture {theirs} differs from {mine}")
    model.load_state_dict(payload["state_dict"])
    print(f"warm start from {path} (sha256 {file_sha256(path)[:12]})")


def export(
    model: ChoraleNet, args, out: Path, *, history, parameters: int, step: int, note: str = ""
) -> None:
    """Write the weights (float32, CPU) and their metadata JSON; ``note`` (if any) is stored
    under the key ``note``."""
    weights = out / "builtin.pt"
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    torch.save({"config": model.config, "state_dict": state}, weights)
    dataset = load_dataset()
    metadata = {
        "model": "ChoraleNet (bidirectional GRU soprano encoder, causal GRU decoder, "
        "factorised heads p(A)p(T|A)p(B|A,T))",
        "parameters": parameters,
        "hyper_parameters": {
            key: getattr(args, key)
            for key in (
                "steps",
                "batch",
                "crop",
                "lr",
                "warmup",
                "weight_decay",
                "width",
                "hidden",
                "layers",
            )
        }
        | {"dropout": args.dropout, "seed": args.seed, "transposition": "[-6, 6] in range"},
        "checkpoint_step": step,
        "training_history": history,
        "split": {"seed": SPLIT_SEED, **dataset.split},
        "command": "python -m generation.train " + " ".join(sys.argv[1:]),
        "git_hash": git_hash(),
        "torch_version": torch.__version__,
        "sha256": file_sha256(weights),
    }
    if note:
        metadata["note"] = note
    (out / "builtin.json").write_text(json.dumps(metadata, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
