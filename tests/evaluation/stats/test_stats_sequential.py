"""Confidence sequences: valid at every look, unlike a repeated fixed-n interval."""

import math

import numpy as np
import pytest

from evaluation.stats.intervals import z_value
from evaluation.stats.sequential import (
    PLANNED_PANELISTS,
    confidence_sequence,
    confidence_sequence_radius,
    mixture_precision,
    panelist_rates,
)


def test_the_radius_is_the_normal_mixture_boundary_over_n():
    rho = mixture_precision(0.05)
    total = 0.25 * 100 + rho

    expected = math.sqrt(2 * total * math.log(2 / 0.05 * math.sqrt(total / rho))) / 100
    assert confidence_sequence_radius(100) == pytest.approx(expected, abs=1e-15)


def test_the_boundary_is_tightest_near_the_planned_size():
    rho_planned = mixture_precision(0.05, PLANNED_PANELISTS)
    rho_other = mixture_precision(0.05, 1000)

    def radius(n, rho):
        total = 0.25 * n + rho
        return math.sqrt(2 * total * math.log(2 / 0.05 * math.sqrt(total / rho))) / n

    assert radius(100, rho_planned) < radius(100, rho_other)
    assert radius(1000, rho_other) < radius(1000, rho_planned)


def test_the_sequence_is_wider_than_a_fixed_sample_interval_and_shrinks():
    radii = [confidence_sequence_radius(n) for n in (10, 100, 1000)]

    assert radii[0] > radii[1] > radii[2]
    assert radii[1] > z_value(0.95) * 0.5 / math.sqrt(100)


def test_no_observation_rules_nothing_out():
    assert confidence_sequence_radius(0) == math.inf


def test_looking_after_every_panelist_keeps_false_decisions_below_five_percent():
    rng = np.random.default_rng(7)
    paths, length = 2000, 500
    observations = (rng.random((paths, length)) < 0.5).astype(float)
    n = np.arange(1, length + 1)
    means = np.cumsum(observations, axis=1) / n
    low, high = confidence_sequence(observations[0])
    radius = np.array([confidence_sequence_radius(size) for size in n])

    sequence_errors = np.mean(np.any(np.abs(means - 0.5) > radius, axis=1))
    naive_errors = np.mean(np.any(np.abs(means - 0.5) > 1.96 * 0.5 / np.sqrt(n), axis=1))

    assert sequence_errors <= 0.05
    assert naive_errors > 0.2
    np.testing.assert_allclose(
        high - low, np.minimum(means[0] + radius, 1) - np.maximum(means[0] - radius, 0)
    )


def test_panelist_rates_average_each_panelists_votes_in_arrival_order():
    scores = np.array([1.0, 0.0, 0.5, 1.0, 1.0, 0.0])
    panelist = np.array([0, 0, 1, 2, 2, 1])
    pair = np.array([0, 0, 0, 0, 1, 1])
    order = np.array([5.0, 6.0, 1.0, 3.0, 0.0, 2.0])

    rates = panelist_rates(scores, panelist, pair, 2, order)

    assert [list(values) for values in rates] == [[0.5, 1.0, 0.5], [1.0, 0.0]]
