"""The soprano continuation model: a causal GRU that writes a chorale melody step by step.

Continuation (:mod:`generation.continuation`) needs a soprano for the bars it invents; the
harmonizer (:mod:`generation.neural`) then writes the three lower voices under it.

``SopranoNet`` reads, at each 16th-note step ``t``, the soprano of step ``t - 1`` (sounding
pitch, onset, scale degree) and the context of step ``t`` (position in the bar and meter,
fermata, key tonic and mode), and predicts the soprano token of ``t``: ``HOLD``, ``REST`` or
the onset of a MIDI pitch in the soprano's range (``VOICE_RANGES["soprano"]``, 57..81), so a
sampled soprano can never leave its range. Pitches are absolute; training transposes whole
chorales by a random in-range shift in [-6, 6].

The baseline it is measured against (:class:`SopranoBigram`) is a count model over the same
tokens: ``p(token_t | position in bar_t, sounding pitch_{t-1})`` with add-``alpha`` smoothing,
fitted on the same transposed train chorales.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from generation.backends.base import VOICE_RANGES
from generation.dataset import REST, Chorale
from generation.neural import (
    CHECKPOINT_DIR,
    _draw,
    allowed_shifts,
    degree_index,
    load_weights,
    position_index,
)

LOWEST, HIGHEST = VOICE_RANGES["soprano"]
HOLD, REST_TOKEN = 0, 1
TOKENS = 2 + HIGHEST - LOWEST + 1  # HOLD, REST, onsets of MIDI 57..81
SOUND_VOCAB = TOKENS  # sounding pitch of the previous step: 0 rest, 1..25 pitches, 26 before
BEFORE_START = TOKENS - 1
POSITIONS = 32  # 16th-note position in the bar; 3/4 bars use 16..27
CHECKPOINT_PATH = CHECKPOINT_DIR / "soprano.pt"
METADATA_PATH = CHECKPOINT_DIR / "soprano.json"

# Pitch of each token (HOLD has no pitch of its own).
TOKEN_PITCH = np.concatenate(([-1, REST], np.arange(LOWEST, HIGHEST + 1))).astype(np.int64)


def soprano_tokens(pitches: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """int64 [steps]: the token of each step; ValueError if a pitch leaves the range."""
    pitches = pitches.astype(np.int64)
    sounding = pitches[pitches != REST]
    if len(sounding) and (sounding.min() < LOWEST or sounding.max() > HIGHEST):
        raise ValueError(f"soprano leaves its range {LOWEST}-{HIGHEST}")
    tokens = np.where(pitches == REST, REST_TOKEN, 2 + pitches - LOWEST)
    return np.where(onsets, tokens, HOLD)


def sounding_index(pitch: np.ndarray) -> np.ndarray:
    """int64: 0 for a rest, 1 + (pitch - 57) for a sounding pitch."""
    pitch = np.asarray(pitch, dtype=np.int64)
    return np.where(pitch == REST, 0, pitch - LOWEST + 1)


def step_features(
    pitches: np.ndarray,
    onsets: np.ndarray,
    fermatas: np.ndarray,
    *,
    key_tonic: int,
    key_mode: str,
    meter: str,
    bar_offset: int,
) -> np.ndarray:
    """int64 [7, steps]: per step ``t`` the soprano of ``t - 1`` (sounding index, onset,
    degree) and the context of ``t`` (position, fermata, mode, tonic)."""
    steps = len(pitches)
    pitches = pitches.astype(np.int64)
    sound = np.full(steps, BEFORE_START)
    sound[1:] = sounding_index(pitches[:-1])
    onset = np.zeros(steps, dtype=np.int64)
    onset[1:] = onsets[:-1]
    degree = np.full(steps, 12)
    degree[1:] = degree_index(pitches[:-1], key_tonic)
    return np.stack(
        [
            sound,
            onset,
            degree,
            position_index(steps, meter=meter, bar_offset=bar_offset),
            fermatas.astype(np.int64),
            np.full(steps, int(key_mode == "minor")),
            np.full(steps, key_tonic % 12),
        ]
    )


@dataclass(frozen=True)
class EncodedSoprano:
    """One chorale's soprano as model arrays: ``features`` [7, T] and ``targets`` [T]."""

    features: np.ndarray
    targets: np.ndarray


def encode_soprano(chorale: Chorale, *, shift: int = 0) -> EncodedSoprano:
    """Model arrays of ``chorale``'s soprano transposed by ``shift`` semitones."""
    pitches, onsets = chorale.soprano
    pitches = np.where(pitches == REST, REST, pitches.astype(np.int64) + shift)
    return EncodedSoprano(
        features=step_features(
            pitches,
            onsets,
            chorale.fermatas,
            key_tonic=(chorale.key_tonic + shift) % 12,
            key_mode=chorale.key_mode,
            meter=chorale.meter,
            bar_offset=chorale.bar_offset,
        ),
        targets=soprano_tokens(pitches, onsets),
    )


class SopranoNet(nn.Module):
    """Causal GRU over the soprano. Shapes: B batch, T steps, D ``width``, H ``hidden``."""

    def __init__(self, *, width: int = 64, hidden: int = 192, dropout: float = 0.2):
        super().__init__()
        self.config = {"width": width, "hidden": hidden, "dropout": dropout}
        sizes = (SOUND_VOCAB, 2, 13, POSITIONS, 2, 2, 12)
        self.embeddings = nn.ModuleList(nn.Embedding(n, width) for n in sizes)
        self.input_dropout = nn.Dropout(dropout)
        self.rnn = nn.GRU(width, hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, TOKENS)
        )

    def forward(
        self, features: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features int64 [B, 7, T] -> (logits [B, T, TOKENS], final state [1, B, H])."""
        embedded = sum(embedding(features[:, row]) for row, embedding in enumerate(self.embeddings))
        hidden, state = self.rnn(self.input_dropout(embedded), state)
        return self.head(hidden), state


def soprano_bits(model: SopranoNet, encoded: list[EncodedSoprano]) -> tuple[float, int]:
    """Total bits of the soprano tokens of ``encoded`` under ``model`` and their count."""
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for item in encoded:
            logits, _ = model(torch.from_numpy(item.features)[None])
            targets = torch.from_numpy(item.targets)
            nats = nn.functional.cross_entropy(logits[0], targets, reduction="sum")
            total += float(nats) / np.log(2)
            count += len(item.targets)
    return total, count


class SopranoBigram:
    """The baseline: ``p(token_t | position_t, sounding_{t-1})``, add-``alpha`` smoothed counts
    ``[POSITIONS, SOUND_VOCAB, TOKENS]`` over transposed train chorales."""

    def __init__(self, counts: np.ndarray, *, alpha: float):
        self.counts = counts
        self.alpha = alpha
        smoothed = counts + alpha
        self.log2_probs = np.log2(smoothed / smoothed.sum(axis=-1, keepdims=True))

    @classmethod
    def fit(cls, chorales: list[Chorale], *, alpha: float = 0.1) -> SopranoBigram:
        counts = np.zeros((POSITIONS, SOUND_VOCAB, TOKENS))
        for chorale in chorales:
            for shift in allowed_shifts(chorale):
                item = encode_soprano(chorale, shift=shift)
                np.add.at(counts, (item.features[3], item.features[0], item.targets), 1)
        return cls(counts, alpha=alpha)

    def bits(self, encoded: list[EncodedSoprano]) -> tuple[float, int]:
        """Total bits of the soprano tokens of ``encoded`` and their count."""
        total, count = 0.0, 0
        for item in encoded:
            total -= float(self.log2_probs[item.features[3], item.features[0], item.targets].sum())
            count += len(item.targets)
        return total, count


class SopranoContinuer:
    """Loads a trained :class:`SopranoNet` and continues a soprano line (seeded)."""

    def __init__(self, model: SopranoNet, *, checkpoint_sha256: str, temperature: float = 0.9):
        # float64 so that the same seed gives the same notes whatever the BLAS.
        self.model = model.eval().double()
        self.checkpoint_sha256 = checkpoint_sha256
        self.temperature = temperature

    @classmethod
    def load(cls, path: Path | str = CHECKPOINT_PATH, **options) -> SopranoContinuer:
        model, sha256 = load_weights(
            path, SopranoNet, train_command="python -m generation.train_soprano --ship"
        )
        return cls(model, checkpoint_sha256=sha256, **options)

    def continue_line(
        self,
        pitches: np.ndarray,
        onsets: np.ndarray,
        fermatas: np.ndarray,
        *,
        prefix_steps: int,
        key_tonic: int,
        key_mode: str,
        meter: str,
        bar_offset: int,
        seed: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The soprano with steps ``prefix_steps..`` resampled: (pitches int16 [steps], onsets
        bool [steps]); steps before ``prefix_steps`` are copied from ``pitches``/``onsets``.

        ``fermatas`` bool [steps] is the phrase plan the new bars follow. Deterministic in
        ``seed``; every sampled pitch lies in ``VOICE_RANGES["soprano"]``.
        """
        steps = len(pitches)
        if not 0 < prefix_steps <= steps:
            raise ValueError(f"prefix_steps must be in 1..{steps}, got {prefix_steps}")
        rng = np.random.default_rng(seed)
        out_pitches = np.asarray(pitches, dtype=np.int64).copy()
        out_onsets = np.asarray(onsets, dtype=bool).copy()
        context = {
            "key_tonic": key_tonic,
            "key_mode": key_mode,
            "meter": meter,
            "bar_offset": bar_offset,
        }
        with torch.inference_mode():
            prefix = step_features(
                out_pitches[:prefix_steps],
                out_onsets[:prefix_steps],
                fermatas[:prefix_steps],
                **context,
            )
            _, state = self.model(torch.from_numpy(prefix)[None])
            plan = step_features(out_pitches, out_onsets, fermatas, **context)
            for t in range(prefix_steps, steps):
                previous = out_pitches[t - 1]
                features = plan[:, t].copy()
                features[0] = sounding_index(previous)
                features[1] = int(out_onsets[t - 1])
                features[2] = 12 if previous == REST else (previous - key_tonic) % 12
                logits, state = self.model(torch.from_numpy(features)[None, :, None], state)
                token = self._choose(logits[0, 0].numpy(), rng)
                out_pitches[t] = previous if token == HOLD else TOKEN_PITCH[token]
                out_onsets[t] = token != HOLD
        return out_pitches.astype(np.int16), out_onsets

    def _choose(self, logits: np.ndarray, rng: np.random.Generator) -> int:
        scaled = (logits - logits.max()) / self.temperature
        return _draw(np.exp(scaled), rng)


def read_metadata(path: Path = METADATA_PATH) -> dict:
    return json.loads(Path(path).read_text())
