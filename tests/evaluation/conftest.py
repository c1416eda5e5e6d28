"""Fixtures for the Django side's tests."""

import hashlib

import numpy as np
import pytest

# float32 [2, n] audio per (notes, settings), for this test process (see `renders_remembered`);
# at most RENDERS_KEPT of them (a chorale at 48 kHz is about 15 MB).
RENDERS: dict[str, np.ndarray] = {}
RENDERS_KEPT = 64


@pytest.fixture(autouse=True)
def renders_remembered(monkeypatch):
    """The chorale renderer, remembered for one test process by the notes it is given.

    The services and jobs tested here (generating tracks, the demo) render whole chorales at
    48 kHz, and many tests render the same notes again (the same Bach chorales, the same seeded
    generator output): about half of their time. The renderer is a deterministic function of
    the notes and its settings; tests/generation/test_renderer.py and test_prompt_pairs.py test
    it, always uncached (this fixture lives in tests/evaluation only), and the first render of
    any notes here is a real one. A hit returns a copy of exactly what the renderer returned
    for identical notes earlier in the run, so what these tests check (which tracks are stored,
    their provenance, duplicates found by their decoded samples) is unchanged."""
    import generation.pairs

    render = generation.pairs.render_chorale

    def render_remembered(chorale, settings):
        digest = hashlib.sha256(repr(settings).encode())
        for notes in (chorale.pitches, chorale.onsets, chorale.fermatas):
            notes = np.ascontiguousarray(notes)
            digest.update(repr((notes.dtype.str, notes.shape)).encode())
            digest.update(notes.tobytes())
        key = digest.hexdigest()
        if key in RENDERS:
            return RENDERS[key].copy()
        samples = render(chorale, settings)
        if len(RENDERS) < RENDERS_KEPT:
            RENDERS[key] = samples.copy()
        return samples

    # raising=True (the default): if the renderer moves, every test here fails loudly instead of
    # silently running uncached.
    monkeypatch.setattr(generation.pairs, "render_chorale", render_remembered)
