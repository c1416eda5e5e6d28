"""The neural harmonizer: a recurrent network that writes alto, tenor and bass under a soprano.

Model (``ChoraleNet``, about 0.9 M parameters as shipped):

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

Sampling is seeded (numpy ``default_rng`` over float64 probabilities, inverse CDF) and, on top
of the network, applies a voice-leading check per candidate: stay in ``VOICE_RANGES``, no
parallel or antiparallel fifths or octaves with a voice already written at this step, no
crossing, no spacing wider than an octave between the upper voices. When no candidate passes, the check relaxes in
that order (range always holds). The GRU state makes each step O(1): no re-reading of the past.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.special import erf
from torch import nn

from generation.backends.base import VOICE_RANGES, Melody, Voices
from generation.dataset import METERS, REST, Chorale

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


class VoiceLeadingCheck:
    """Which tokens a lower voice may take at one step, given what is already written.

    ``last_slice``: int [4] pitches at the last step where any voice attacked (the metric's
    slices, see ``generation.metrics``); ``sounding``: int [4] pitches at the current step for
    voices already decided (soprano and the lower voices above ``voice``), ``held``: int [4]
    pitches sounding at the previous step.
    """

    @staticmethod
    def masks(
        voice: int, *, sounding: np.ndarray, held: np.ndarray, last_slice: np.ndarray, first: bool
    ) -> list[np.ndarray]:
        """Boolean masks [TOKENS], strictest first: all rules, range + no parallels, range."""
        index = voice + 1  # row in the four-voice arrays
        pitch = np.where(TOKEN_PITCH == -1, held[index], TOKEN_PITCH)
        low, high = VOICE_RANGES[LOWER[voice]]
        soprano_rests = sounding[0] == REST
        in_range = (pitch >= low) & (pitch <= high)
        in_range |= (pitch == REST) & soprano_rests
        if first:
            in_range[HOLD] = False
        else:
            in_range[HOLD] = held[index] == REST or low <= held[index] <= high
        moves = pitch != last_slice[index]
        parallel_free = np.ones(TOKENS, dtype=bool)
        for upper in range(index):
            other = sounding[upper]
            before_other, before = last_slice[upper], last_slice[index]
            if REST in (other, before_other, before):
                continue
            interval_before = (before_other - before) % 12
            if interval_before not in (0, 7) or other == before_other:
                continue
            same = (other - pitch) % 12 == interval_before
            # Any direction: similar motion is what generation.metrics counts, contrary motion
            # (a fifth to a twelfth) is the antiparallel that music21 also counts.
            parallel_free &= ~(same & moves & (pitch != REST))
        above = sounding[index - 1]
        ordered = (pitch == REST) | (above == REST) | (pitch <= above)
        if index <= 2 and above != REST:
            ordered &= (pitch == REST) | (above - pitch <= 12)
        return [in_range & parallel_free & ordered, in_range & parallel_free, in_range]


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
        """Advance the GRU by step ``t`` given the voices of ``t - 1`` (int [3, 3]); returns
        the new state [H] and the joined features [H] the heads read."""
        gates_in = context[0][t].copy()
        for voice, tables in enumerate(self.voice_tables):
            for feature, table in enumerate(tables):
                gates_in += table[previous[voice, feature]]
        gates_hidden = self.w_hh @ state + self.b_hh
        h = self.hidden
        reset = _sigmoid(gates_in[:h] + gates_hidden[:h])
        update = _sigmoid(gates_in[h : 2 * h] + gates_hidden[h : 2 * h])
        candidate = np.tanh(gates_in[2 * h :] + reset * gates_hidden[2 * h :])
        state = (1.0 - update) * candidate + update * state
        joined = _gelu(self.w_join_hidden @ state + context[1][t])
        return state, joined

    def head(self, joined: np.ndarray, voice: int, current: np.ndarray) -> np.ndarray:
        """Logits [TOKENS] of lower voice ``voice`` given the voices above it (int [3, 3])."""
        conditioned = joined.copy()
        for above in range(voice):
            for feature, table in enumerate(self.condition_tables[above]):
                conditioned += table[current[above, feature]]
        w1, b1, w2, b2 = self.heads[voice]
        return w2 @ _gelu(w1 @ conditioned + b1) + b2


class NeuralHarmonizer:
    """Loads a trained :class:`ChoraleNet` and samples settings from it (see module doc).

    Implements the :class:`~generation.backends.base.Harmonizer` interface through
    ``generation.backends.builtin.BuiltinHarmonizer``.
    """

    def __init__(self, model: ChoraleNet, *, checkpoint_sha256: str, temperature: float = 0.9):
        self.model = model.eval()
        self.decoder = StepDecoder(self.model)
        self.checkpoint_sha256 = checkpoint_sha256
        self.temperature = temperature

    @classmethod
    def load(cls, path: Path | str = CHECKPOINT_PATH, **options) -> NeuralHarmonizer:
        model, sha256 = load_weights(path, ChoraleNet, train_command="python -m generation.train")
        return cls(model, checkpoint_sha256=sha256, **options)

    def harmonize(
        self, melody: Melody, *, seed: int, forced: Voices | None = None, forced_steps: int = 0
    ) -> Voices:
        """Sample alto, tenor and bass step by step; the same seed gives the same notes.

        With ``forced`` (a setting of the same length), the lower voices of the first
        ``forced_steps`` steps are copied from it instead of sampled (the network reads them as
        it would its own notes), which is how continuation keeps the given bars.
        """
        if forced_steps and (forced is None or forced.pitches.shape != (4, melody.steps)):
            raise ValueError(f"forced_steps needs a forced setting of shape (4, {melody.steps})")
        rng = np.random.default_rng(seed)
        steps = melody.steps
        soprano = soprano_features(
            melody.pitches,
            melody.onsets,
            melody.fermatas,
            key_tonic=melody.key_tonic,
            key_mode=melody.key_mode,
            meter=melody.meter,
            bar_offset=melody.bar_offset,
        )
        pitches = np.zeros((4, steps), dtype=np.int64)
        onsets = np.zeros((4, steps), dtype=bool)
        pitches[0], onsets[0] = melody.pitches, melody.onsets
        previous = np.array([[BEFORE_START, 0, 12]] * 3, dtype=np.int64)  # [voice, feature]
        held = np.full(4, REST, dtype=np.int64)
        last_slice = np.full(4, REST, dtype=np.int64)
        decoder = self.decoder
        context = decoder.prepare(soprano)
        state = decoder.initial_state()
        for t in range(steps):
            state, joined = decoder.step(context, t, previous, state)
            sounding = np.full(4, REST, dtype=np.int64)
            sounding[0] = melody.pitches[t]
            current = np.zeros((3, 3), dtype=np.int64)
            for voice in range(3):
                if t < forced_steps:
                    pitch = int(forced.pitches[voice + 1, t])
                    onset = bool(forced.onsets[voice + 1, t])
                else:
                    token = self._choose(
                        decoder.head(joined, voice, current),
                        VoiceLeadingCheck.masks(
                            voice,
                            sounding=sounding,
                            held=held,
                            last_slice=last_slice,
                            first=t == 0,
                        ),
                        rng,
                    )
                    pitch = held[voice + 1] if token == HOLD else int(TOKEN_PITCH[token])
                    onset = token != HOLD
                sounding[voice + 1] = pitch
                pitches[voice + 1, t], onsets[voice + 1, t] = pitch, onset
                current[voice] = (
                    sounding_index(pitch),
                    int(onset),
                    degree_index(pitch, melody.key_tonic),
                )
            if onsets[:, t].any():
                last_slice = sounding.copy()
            held = sounding
            previous = current
        return Voices(pitches=pitches.astype(np.int16), onsets=onsets)

    def _choose(self, logits: np.ndarray, masks: list[np.ndarray], rng: np.random.Generator) -> int:
        scaled = (logits - logits.max()) / self.temperature
        weights = np.exp(scaled)
        for mask in masks:
            if mask.any():
                return _draw(np.where(mask, weights, 0.0) + 1e-300 * mask, rng)
        raise ValueError("no token keeps the voice in range")


def read_metadata(path: Path = METADATA_PATH) -> dict:
    return json.loads(Path(path).read_text())
