"""The neural harmonizer: a recurrent network that writes alto, tenor and bass under a soprano.

Model (``ChoraleNet``, about 0.4 M parameters as shipped):

- a bidirectional GRU reads the whole soprano line (pitch, onset, scale degree, fermata,
  position in the bar, key, distance to the start and to the end), so every decision sees the
  melody's future, cadences included;
- a causal GRU walks the 16th-note grid, fed at step ``t`` the soprano context of ``t`` and the
  alto/tenor/bass of step ``t - 1``;
- three heads factorise the step jointly, ``p(A_t) p(T_t | A_t) p(B_t | A_t, T_t)``, so the
  voices of one step are sampled in sequence, each seeing the ones already written.

Each lower voice emits one token per step: ``HOLD`` (keep sounding), ``REST``, or the onset of a
MIDI pitch 36..74. Pitches are absolute (the key is an input, every pitch also carries its scale
degree) and training transposes whole chorales, so the network sees every key.

Harmonizing is a seeded search (numpy ``default_rng``, float64): sequential Monte Carlo over
chord steps, the network's probabilities weighed by soft voice-leading penalties calibrated to
Bach's rates and two hard rules (ranges, the final tonic chord); see :mod:`generation.search`.
The GRU state makes each step O(1): no re-reading of the past; all particles advance together
as one batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.special import erf
from threadpoolctl import threadpool_limits
from torch import nn

from generation.backends.base import VOICE_RANGES, Melody, Voices
from generation.dataset import METERS, REST, Chorale
from generation.search import (
    Penalties,
    StepContext,
    draw_rows,
    effective_sample_size,
    log_potentials,
    log_sum_exp,
    systematic_resample,
)

LOWEST = 36  # lowest MIDI pitch any input or output token names
SOUND_VOCAB = 51  # sounding pitch: 0 rest, 1..49 = MIDI 36..84, 50 = before the start
BEFORE_START = 50
HOLD, REST_TOKEN = 0, 1
TOKENS = 2 + 74 - LOWEST + 1  # HOLD, REST, onsets of MIDI 36..74
BUCKETS = 32  # quarter notes from the start / to the end, capped
LOWER = ("alto", "tenor", "bass")
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
CHECKPOINT_PATH = CHECKPOINT_DIR / "builtin.pt"
METADATA_PATH = CHECKPOINT_DIR / "builtin.json"


def sounding_index(pitches: np.ndarray) -> np.ndarray:
    """int64 [...]: 0 for a rest, else 1 + (pitch - 36), clipped to the vocabulary."""
    pitches = np.asarray(pitches, dtype=np.int64)
    return np.where(pitches == REST, 0, np.clip(pitches - LOWEST + 1, 1, BEFORE_START - 1))


def degree_index(pitches: np.ndarray, tonic: int) -> np.ndarray:
    """int64 [...]: scale degree (pitch - tonic) mod 12, 12 for a rest."""
    pitches = np.asarray(pitches, dtype=np.int64)
    return np.where(pitches == REST, 12, (pitches - tonic) % 12)


def position_index(steps: int, *, meter: str, bar_offset: int) -> np.ndarray:
    """int64 [steps]: 16th-note position in the bar (3/4 offset by 16 so meters stay apart)."""
    return (bar_offset + np.arange(steps)) % METERS[meter] + (16 if meter == "3/4" else 0)


def voice_tokens(pitches: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """int64 [3, steps] target tokens of the lower voices (rows 1..3 of a setting)."""
    pitches = pitches.astype(np.int64)
    tokens = np.where(pitches == REST, REST_TOKEN, 2 + pitches - LOWEST)
    return np.where(onsets, tokens, HOLD)


def soprano_features(
    pitches: np.ndarray,
    onsets: np.ndarray,
    fermatas: np.ndarray,
    *,
    key_tonic: int,
    key_mode: str,
    meter: str,
    bar_offset: int,
) -> np.ndarray:
    """int64 [9, steps]: the conditioning rows (see ``ChoraleNet.soprano_inputs``)."""
    steps = len(pitches)
    position = position_index(steps, meter=meter, bar_offset=bar_offset)
    from_start = np.minimum(np.arange(steps) // 4, BUCKETS - 1)
    to_end = np.minimum((steps - 1 - np.arange(steps)) // 4, BUCKETS - 1)
    return np.stack(
        [
            sounding_index(pitches),
            onsets.astype(np.int64),
            degree_index(pitches, key_tonic),
            fermatas.astype(np.int64),
            position,
            np.full(steps, int(key_mode == "minor")),
            np.full(steps, key_tonic % 12),
            from_start,
            to_end,
        ]
    ).astype(np.int64)


def lower_inputs(pitches: np.ndarray, onsets: np.ndarray, key_tonic: int) -> np.ndarray:
    """int64 [3, 3, steps]: per lower voice, (sounding index, onset, degree) at each step."""
    lower = pitches[1:]
    return np.stack(
        [
            sounding_index(lower),
            onsets[1:].astype(np.int64),
            degree_index(lower, key_tonic),
        ],
        axis=1,
    )


@dataclass(frozen=True)
class Encoded:
    """One chorale as model arrays: ``soprano`` [9, T], ``current`` [3, 3, T] and ``previous``
    [3, 3, T] (the lower voices at t and at t - 1) and ``targets`` [3, T]."""

    soprano: np.ndarray
    current: np.ndarray
    previous: np.ndarray
    targets: np.ndarray


def encode_chorale(chorale: Chorale, *, shift: int = 0) -> Encoded:
    """Model arrays of ``chorale`` transposed by ``shift`` semitones."""
    pitches = np.where(chorale.pitches == REST, REST, chorale.pitches.astype(np.int64) + shift)
    tonic = (chorale.key_tonic + shift) % 12
    current = lower_inputs(pitches, chorale.onsets, tonic)
    previous = np.empty_like(current)
    previous[:, :, 1:] = current[:, :, :-1]
    previous[:, 0, 0], previous[:, 1, 0], previous[:, 2, 0] = BEFORE_START, 0, 12
    return Encoded(
        soprano=soprano_features(
            pitches[0],
            chorale.onsets[0],
            chorale.fermatas,
            key_tonic=tonic,
            key_mode=chorale.key_mode,
            meter=chorale.meter,
            bar_offset=chorale.bar_offset,
        ),
        current=current,
        previous=previous,
        targets=voice_tokens(pitches[1:], chorale.onsets[1:]),
    )


def allowed_shifts(chorale: Chorale, span: int = 6) -> list[int]:
    """Transpositions in [-span, span] that keep every voice inside ``VOICE_RANGES``."""
    shifts = []
    for shift in range(-span, span + 1):
        ok = True
        for index, name in enumerate(("soprano", *LOWER)):
            row = chorale.pitches[index]
            sounding = row[row != REST].astype(int) + shift
            low, high = VOICE_RANGES[name]
            if len(sounding) and (sounding.min() < low or sounding.max() > high):
                ok = False
                break
        if ok:
            shifts.append(shift)
    return shifts or [0]


class VoiceEmbedding(nn.Module):
    """Sum of sounding-pitch, onset and scale-degree embeddings of one voice."""

    def __init__(self, width: int):
        super().__init__()
        self.sound = nn.Embedding(SOUND_VOCAB, width)
        self.onset = nn.Embedding(2, width)
        self.degree = nn.Embedding(13, width)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features int64 [..., 3] (sound, onset, degree) -> float [..., width]."""
        return (
            self.sound(features[..., 0])
            + self.onset(features[..., 1])
            + self.degree(features[..., 2])
        )


class ChoraleNet(nn.Module):
    """See the module docstring. Shapes: B batch, T steps, H ``hidden``, D ``width``."""

    def __init__(self, *, width: int = 128, hidden: int = 256, layers: int = 1, dropout=0.3):
        super().__init__()
        self.config = {"width": width, "hidden": hidden, "layers": layers, "dropout": dropout}
        sizes = (SOUND_VOCAB, 2, 13, 2, 32, 2, 12, BUCKETS, BUCKETS)
        self.soprano_embeddings = nn.ModuleList(nn.Embedding(n, width) for n in sizes)
        self.soprano_rnn = nn.GRU(width, width // 2, batch_first=True, bidirectional=True)
        self.previous_embeddings = nn.ModuleList(VoiceEmbedding(width) for _ in LOWER)
        self.decoder = nn.GRU(
            2 * width,
            hidden,
            num_layers=layers,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.input_dropout = nn.Dropout(dropout)
        self.join = nn.Sequential(nn.Linear(hidden + width, hidden), nn.GELU())
        self.condition = nn.ModuleList(VoiceEmbedding(hidden) for _ in range(2))
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Dropout(dropout),
                nn.Linear(hidden, hidden),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden, TOKENS),
            )
            for _ in LOWER
        )

    def soprano_context(self, soprano: torch.Tensor) -> torch.Tensor:
        """soprano int64 [B, 9, T] -> context float [B, T, D]."""
        embedded = sum(
            embedding(soprano[:, row]) for row, embedding in enumerate(self.soprano_embeddings)
        )
        return self.soprano_rnn(embedded)[0]

    def step_input(self, context: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """context [B, T, D], previous int64 [B, 3, 3, T] -> decoder input [B, T, 2D]."""
        voices = sum(
            embedding(previous[:, v].permute(0, 2, 1))
            for v, embedding in enumerate(self.previous_embeddings)
        )
        return torch.cat([context, voices], dim=-1)

    def head_logits(
        self, joined: torch.Tensor, voice: int, current: torch.Tensor | None
    ) -> torch.Tensor:
        """Logits [..., TOKENS] of lower voice ``voice`` given the voices above it at this step
        (``current`` int64 [..., 3, 3] rows alto, tenor, ...; unused for the alto)."""
        conditioned = joined
        for above in range(voice):
            conditioned = conditioned + self.condition[above](current[..., above, :])
        return self.heads[voice](conditioned)

    def forward(
        self, soprano: torch.Tensor, previous: torch.Tensor, current: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced logits [B, 3, T, TOKENS] (inputs as in :class:`Encoded`, batched)."""
        context = self.soprano_context(soprano)
        hidden = self.decoder(self.input_dropout(self.step_input(context, previous)))[0]
        joined = self.join(torch.cat([hidden, context], dim=-1))
        current_steps = current.permute(0, 3, 1, 2)  # [B, T, 3, 3]
        return torch.stack(
            [self.head_logits(joined, voice, current_steps) for voice in range(3)], dim=1
        )


def sequence_bits(model: ChoraleNet, encoded: list[Encoded]) -> tuple[float, int]:
    """Total bits of the lower voices of ``encoded`` under ``model`` (teacher forced, no
    sampling constraints) and the number of voice-steps they cover."""
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for item in encoded:
            logits = model(
                torch.from_numpy(item.soprano)[None],
                torch.from_numpy(item.previous)[None],
                torch.from_numpy(item.current)[None],
            )[0]
            targets = torch.from_numpy(item.targets)
            nats = nn.functional.cross_entropy(
                logits.reshape(-1, TOKENS), targets.reshape(-1), reduction="sum"
            )
            total += float(nats) / np.log(2)
            count += targets.numel()
    return total, count


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_weights(
    path: Path | str, network: type[nn.Module], *, train_command: str
) -> tuple[nn.Module, str]:
    """The ``network`` stored at ``path`` (``{"config", "state_dict"}``) and the file's
    SHA-256; FileNotFoundError naming ``train_command`` when the file is missing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; train it with `{train_command}`")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = network(**payload["config"])
    model.load_state_dict(payload["state_dict"])
    return model, file_sha256(path)


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn in proportion to non-negative ``weights`` (inverse CDF)."""
    cumulative = np.cumsum(weights)
    index = np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")
    return int(min(index, len(weights) - 1))


# Pitch of each output token (HOLD and REST get sentinel values handled separately).
TOKEN_PITCH = np.concatenate(([-1, REST], np.arange(LOWEST, 75))).astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class StepDecoder:
    """One-step-at-a-time inference of a single-layer :class:`ChoraleNet`, in numpy float64.

    Everything that does not depend on sampled notes (the soprano context and its share of the
    GRU input and join projections) is computed once per melody; each step then costs a few
    matrix-vector products. The input projections of the voice embeddings are folded into
    lookup tables, since a projection of a sum of embeddings is the sum of projected rows.
    """

    def __init__(self, model: ChoraleNet):
        if model.config["layers"] != 1:
            raise ValueError("step decoding supports single-layer decoders only")
        self.model = model

        def array(tensor: torch.Tensor) -> np.ndarray:
            return tensor.detach().double().numpy()

        width = model.config["width"]
        w_ih = array(model.decoder.weight_ih_l0)  # [3H, 2D]
        self.w_context, w_voices = w_ih[:, :width], w_ih[:, width:]
        self.b_ih = array(model.decoder.bias_ih_l0)
        self.w_hh = array(model.decoder.weight_hh_l0)
        self.b_hh = array(model.decoder.bias_hh_l0)
        self.hidden = self.w_hh.shape[1]
        self.voice_tables = [
            [array(table.weight) @ w_voices.T for table in (e.sound, e.onset, e.degree)]
            for e in model.previous_embeddings
        ]
        join = model.join[0]
        w_join = array(join.weight)  # [H, H + D]
        self.w_join_hidden, self.w_join_context = (
            w_join[:, : self.hidden],
            w_join[:, self.hidden :],
        )
        self.b_join = array(join.bias)
        self.condition_tables = [
            [array(table.weight) for table in (e.sound, e.onset, e.degree)] for e in model.condition
        ]
        self.heads = [
            (array(h[1].weight), array(h[1].bias), array(h[4].weight), array(h[4].bias))
            for h in model.heads
        ]

    def prepare(self, soprano: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """soprano int64 [9, T] -> per-step GRU input gates [T, 3H] and join terms [T, H]."""
        with torch.inference_mode():
            context = self.model.soprano_context(torch.from_numpy(soprano)[None])[0]
        context = context.double().numpy()
        return (
            context @ self.w_context.T + self.b_ih,
            context @ self.w_join_context.T + self.b_join,
        )

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.hidden)

    def step(
        self,
        context: tuple[np.ndarray, np.ndarray],
        t: int,
        previous: np.ndarray,
        state: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Advance the GRU by step ``t`` given the voices of ``t - 1`` (int [..., 3, 3]);
        returns the new state [..., H] and the joined features [..., H] the heads read (a
        leading particle axis is optional)."""
        gates_in = context[0][t] + 0.0
        for voice, tables in enumerate(self.voice_tables):
            for feature, table in enumerate(tables):
                gates_in = gates_in + table[previous[..., voice, feature]]
        gates_hidden = state @ self.w_hh.T + self.b_hh
        h = self.hidden
        reset = _sigmoid(gates_in[..., :h] + gates_hidden[..., :h])
        update = _sigmoid(gates_in[..., h : 2 * h] + gates_hidden[..., h : 2 * h])
        candidate = np.tanh(gates_in[..., 2 * h :] + reset * gates_hidden[..., 2 * h :])
        state = (1.0 - update) * candidate + update * state
        joined = _gelu(state @ self.w_join_hidden.T + context[1][t])
        return state, joined

    def head(self, joined: np.ndarray, voice: int, current: np.ndarray) -> np.ndarray:
        """Logits [..., TOKENS] of lower voice ``voice`` given the voices above it
        (int [..., 3, 3])."""
        conditioned = joined + 0.0
        for above in range(voice):
            for feature, table in enumerate(self.condition_tables[above]):
                conditioned = conditioned + table[current[..., above, feature]]
        w1, b1, w2, b2 = self.heads[voice]
        return _gelu(conditioned @ w1.T + b1) @ w2.T + b2


class NeuralHarmonizer:
    """Loads a trained :class:`ChoraleNet` and harmonizes with it by sequential Monte Carlo
    under soft voice-leading penalties (:mod:`generation.search`).

    ``particles``: partial settings searched in parallel (1 = plain sampling under the
    rules); ``temperature``: divides the network's logits before the rules weigh them;
    ``penalties``: the rule weights in nats. Implements the
    :class:`~generation.backends.base.Harmonizer` interface through
    ``generation.backends.builtin.BuiltinHarmonizer``.
    """

    def __init__(
        self,
        model: ChoraleNet,
        *,
        checkpoint_sha256: str,
        temperature: float = 1.0,
        particles: int = 16,
        penalties: Penalties | None = None,
    ):
        if particles < 1:
            raise ValueError(f"particles must be at least 1, got {particles}")
        self.model = model.eval()
        self.decoder = StepDecoder(self.model)
        self.checkpoint_sha256 = checkpoint_sha256
        self.temperature = temperature
        self.particles = particles
        self.penalties = penalties or Penalties()

    @classmethod
    def load(cls, path: Path | str = CHECKPOINT_PATH, **options) -> NeuralHarmonizer:
        model, sha256 = load_weights(path, ChoraleNet, train_command="python -m generation.train")
        return cls(model, checkpoint_sha256=sha256, **options)

    def harmonize(
        self, melody: Melody, *, seed: int, forced: Voices | None = None, forced_steps: int = 0
    ) -> Voices:
        """Alto, tenor and bass under ``melody``; the same seed gives the same notes.

        With ``forced`` (a setting of the same length), the lower voices of the first
        ``forced_steps`` steps are copied from it instead of searched (the network reads them
        as it would its own notes), which is how continuation keeps the given bars.
        """
        if forced_steps and (forced is None or forced.pitches.shape != (4, melody.steps)):
            raise ValueError(f"forced_steps needs a forced setting of shape (4, {melody.steps})")
        # Small matrix products: BLAS threads only contend (and the machine may be shared).
        with threadpool_limits(limits=1, user_api="blas"):
            return self._search(melody, seed=seed, forced=forced, forced_steps=forced_steps)

    def _search(
        self, melody: Melody, *, seed: int, forced: Voices | None, forced_steps: int
    ) -> Voices:
        rng = np.random.default_rng(seed)
        steps, count = melody.steps, self.particles
        soprano = soprano_features(
            melody.pitches,
            melody.onsets,
            melody.fermatas,
            key_tonic=melody.key_tonic,
            key_mode=melody.key_mode,
            meter=melody.meter,
            bar_offset=melody.bar_offset,
        )
        plan = step_plan(melody)
        pitches = np.zeros((count, 4, steps), dtype=np.int64)
        onsets = np.zeros((count, 4, steps), dtype=bool)
        pitches[:, 0], onsets[:, 0] = melody.pitches, melody.onsets
        previous = np.tile(np.array([[BEFORE_START, 0, 12]] * 3, dtype=np.int64), (count, 1, 1))
        held = np.full((count, 4), REST, dtype=np.int64)
        last_slice = np.full((count, 4), REST, dtype=np.int64)
        before_held = np.full((count, 4), REST, dtype=np.int64)
        stepped_off_beat = np.zeros((count, 4), dtype=bool)
        lowest = np.full((count, 4), REST, dtype=np.int64)
        highest = np.full((count, 4), REST, dtype=np.int64)
        log_weights = np.zeros(count)
        decoder = self.decoder
        context = decoder.prepare(soprano)
        state = np.zeros((count, decoder.hidden))
        rows = np.arange(count)
        for t in range(steps):
            state, joined = decoder.step(context, t, previous, state)
            sounding = np.full((count, 4), REST, dtype=np.int64)
            sounding[:, 0] = melody.pitches[t]
            current = np.zeros((count, 3, 3), dtype=np.int64)
            for voice in range(3):
                if t < forced_steps:
                    pitch = np.full(count, int(forced.pitches[voice + 1, t]))
                    onset = np.full(count, bool(forced.onsets[voice + 1, t]))
                else:
                    logits = decoder.head(joined, voice, current) / self.temperature
                    log_probs = logits - log_sum_exp(logits)[:, None]
                    scores = log_probs + log_potentials(
                        voice,
                        TOKEN_PITCH,
                        sounding=sounding,
                        held=held,
                        last_slice=last_slice,
                        before_held=before_held,
                        stepped_off_beat=stepped_off_beat,
                        lowest=lowest,
                        highest=highest,
                        step=plan[t],
                        penalties=self.penalties,
                    )
                    log_weights += log_sum_exp(scores)
                    tokens = draw_rows(scores, rng)
                    onset = tokens != HOLD
                    pitch = np.where(onset, TOKEN_PITCH[tokens], held[:, voice + 1])
                sounding[:, voice + 1] = pitch
                pitches[:, voice + 1, t], onsets[:, voice + 1, t] = pitch, onset
                current[:, voice] = np.stack(
                    [
                        sounding_index(pitch),
                        onset.astype(np.int64),
                        degree_index(pitch, melody.key_tonic),
                    ],
                    axis=1,
                )
            attacked = onsets[:, :, t].any(axis=1)
            last_slice = np.where(attacked[:, None], sounding, last_slice)
            struck = onsets[:, :, t] & (sounding != held)
            distance = np.abs(sounding - held)
            stepwise = (held != REST) & (sounding != REST) & (distance >= 1) & (distance <= 2)
            stepped_off_beat = np.where(struck, stepwise & (not plan[t].on_beat), stepped_off_beat)
            before_held = np.where(struck, held, before_held)
            notes = sounding != REST
            lowest = np.where(notes & ((lowest == REST) | (sounding < lowest)), sounding, lowest)
            highest = np.where(notes & (sounding > highest), sounding, highest)
            held, previous = sounding, current
            if count > 1 and effective_sample_size(log_weights) < count / 2:
                ancestors = systematic_resample(log_weights, rng)
                pitches, onsets = pitches[ancestors], onsets[ancestors]
                state, previous = state[ancestors], previous[ancestors]
                held, last_slice = held[ancestors], last_slice[ancestors]
                before_held = before_held[ancestors]
                stepped_off_beat = stepped_off_beat[ancestors]
                lowest, highest = lowest[ancestors], highest[ancestors]
                log_weights = np.zeros(count)
        chosen = int(draw_rows(log_weights[None, :], rng)[0]) if count > 1 else int(rows[0])
        return Voices(pitches=pitches[chosen].astype(np.int16), onsets=onsets[chosen])


def step_plan(melody: Melody) -> list[StepContext]:
    """What the search rules need per step of ``melody`` (see :class:`StepContext`)."""
    starts = np.flatnonzero(melody.onsets)
    sounding = np.flatnonzero(melody.pitches != REST)
    last_note = starts[starts <= sounding[-1]][-1] if len(sounding) else melody.steps
    return [
        StepContext(
            first=t == 0,
            on_beat=bool((melody.bar_offset + t) % 4 == 0),
            on_sixteenth=bool((melody.bar_offset + t) % 2 == 1),
            soprano_rests=bool(melody.pitches[t] == REST),
            fermata_onset=bool(melody.fermatas[t] and melody.onsets[t]),
            final=bool(t >= last_note),
            tonic=melody.key_tonic % 12,
        )
        for t in range(melody.steps)
    ]


def read_metadata(path: Path = METADATA_PATH) -> dict:
    return json.loads(Path(path).read_text())
