"""Stimulus preparation: pure functions on arrays (no Django), used by services.stimuli."""
