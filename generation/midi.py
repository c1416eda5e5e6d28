"""A small Standard MIDI File writer for four-part settings (type 1: tempo track + S, A, T, B).

Hand-rolled (about 100 lines) rather than built through a music21 stream: it is
deterministic byte for byte, takes a few milliseconds, and writes the same tempo map the
renderer plays (fermatas slow the tempo), so the MIDI and the WAV of a track line up.
"""

from __future__ import annotations

import struct

import numpy as np

from generation.dataset import METERS, REST, VOICES, Chorale
from generation.render import DEFAULT_SETTINGS, RenderSettings

TICKS_PER_QUARTER = 480
TICKS_PER_STEP = TICKS_PER_QUARTER // 4
PROGRAM_CHOIR_AAHS = 52  # General MIDI program 53 (0-based 52)
VELOCITY = 80
# Sharps (+) or flats (-) of the major key on each tonic pitch class.
MAJOR_SHARPS = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """events: (absolute tick, order within a tick, message bytes) -> an MTrk chunk."""
    body = bytearray()
    now = 0
    for tick, _, message in sorted(events, key=lambda event: (event[0], event[1])):
        body += _variable_length(tick - now) + message
        now = tick
    body += _variable_length(0) + b"\xff\x2f\x00"  # end of track
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def _meta(kind: int, payload: bytes) -> bytes:
    return bytes([0xFF, kind]) + _variable_length(len(payload)) + payload


def _key_signature(key_tonic: int, key_mode: str) -> bytes:
    major_tonic = key_tonic if key_mode == "major" else (key_tonic + 3) % 12
    return struct.pack(">bB", MAJOR_SHARPS[major_tonic], 0 if key_mode == "major" else 1)


def _conductor(chorale: Chorale, settings: RenderSettings) -> bytes:
    numerator = METERS[chorale.meter] // 4
    events = [
        (0, 0, _meta(0x03, b"Earshot chorale")),
        (0, 1, _meta(0x58, bytes([numerator, 2, 24, 8]))),
        (0, 2, _meta(0x59, _key_signature(chorale.key_tonic, chorale.key_mode))),
    ]
    plain = round(60_000_000 / settings.quarter_bpm)
    slowed = round(plain * settings.fermata_stretch)
    previous = None
    for step, under_fermata in enumerate(chorale.fermatas.tolist()):
        tempo = slowed if under_fermata else plain
        if tempo != previous:
            events.append((step * TICKS_PER_STEP, 3, _meta(0x51, tempo.to_bytes(3, "big"))))
            previous = tempo
    return _track(events)


def _voice_track(index: int, pitches: np.ndarray, onsets: np.ndarray) -> bytes:
    channel = index
    events = [
        (0, 0, _meta(0x03, VOICES[index].capitalize().encode("ascii"))),
        (0, 1, bytes([0xC0 | channel, PROGRAM_CHOIR_AAHS])),
    ]
    starts = np.flatnonzero(onsets | np.concatenate(([True], pitches[1:] != pitches[:-1])))
    ends = np.append(starts[1:], len(pitches))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        pitch = int(pitches[start])
        if pitch == REST:
            continue
        # Note-offs sort before note-ons at the same tick so repeated notes re-strike.
        events.append((start * TICKS_PER_STEP, 3, bytes([0x90 | channel, pitch, VELOCITY])))
        events.append((end * TICKS_PER_STEP, 2, bytes([0x80 | channel, pitch, 0])))
    return _track(events)


def chorale_midi_bytes(chorale: Chorale, settings: RenderSettings = DEFAULT_SETTINGS) -> bytes:
    """A type-1 MIDI file: a tempo track, then one track per voice named Soprano .. Bass."""
    tracks = [_conductor(chorale, settings)] + [
        _voice_track(index, chorale.pitches[index], chorale.onsets[index]) for index in range(4)
    ]
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), TICKS_PER_QUARTER)
    return header + b"".join(tracks)
