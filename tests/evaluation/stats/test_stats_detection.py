"""d-prime and criterion: the textbook formulas on hand-checked counts."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from evaluation.stats.detection import (
    d_prime_two_alternative,
    d_prime_yes_no,
    proportion_correct_from_d_prime,
)
from evaluation.stats.intervals import wilson_interval


def test_two_alternative_d_prime_is_root_two_times_z_of_proportion_correct():
    figures = d_prime_two_alternative(76, 100)

    low, high = wilson_interval(76, 100)
    assert figures["d_prime"] == pytest.approx(math.sqrt(2) * norm.ppf(0.76), abs=1e-12)
    assert figures["d_prime_low"] == pytest.approx(math.sqrt(2) * norm.ppf(low), abs=1e-12)
    assert figures["d_prime_high"] == pytest.approx(math.sqrt(2) * norm.ppf(high), abs=1e-12)


def test_chance_performance_is_d_prime_zero():
    assert d_prime_two_alternative(50, 100)["d_prime"] == pytest.approx(0.0, abs=1e-12)


def test_perfect_performance_stays_finite():
    figures = d_prime_two_alternative(20, 20)

    assert figures["d_prime"] == pytest.approx(math.sqrt(2) * norm.ppf(1 - 1 / 40), abs=1e-12)


def test_no_answers_give_no_d_prime():
    assert d_prime_two_alternative(0, 0) == {
        "d_prime": None,
        "d_prime_low": None,
        "d_prime_high": None,
    }


def test_yes_no_d_prime_and_criterion_use_the_log_linear_rates():
    figures = d_prime_yes_no(40, 50, 10, 50)

    hit, false_alarm = 40.5 / 51, 10.5 / 51
    z_hit, z_false = norm.ppf(hit), norm.ppf(false_alarm)
    variance = hit * (1 - hit) / (50 * norm.pdf(z_hit) ** 2) + false_alarm * (1 - false_alarm) / (
        50 * norm.pdf(z_false) ** 2
    )
    half = 1.959963984540054 * math.sqrt(variance)
    assert figures["d_prime"] == pytest.approx(z_hit - z_false, abs=1e-12)
    assert figures["criterion"] == pytest.approx(-(z_hit + z_false) / 2, abs=1e-12)
    assert figures["d_prime_low"] == pytest.approx(z_hit - z_false - half, abs=1e-9)
    assert figures["criterion_high"] == pytest.approx(-(z_hit + z_false) / 2 + half / 2, abs=1e-9)


def test_an_unbiased_listener_has_criterion_zero():
    assert d_prime_yes_no(30, 40, 10, 40)["criterion"] == pytest.approx(0.0, abs=1e-12)


def test_yes_no_needs_both_kinds_of_track():
    assert set(d_prime_yes_no(5, 10, 0, 0).values()) == {None}


def test_proportion_correct_inverts_the_two_alternative_d_prime():
    d_prime = d_prime_two_alternative(70, 100)["d_prime"]

    assert float(proportion_correct_from_d_prime(np.array(d_prime))) == pytest.approx(
        0.7, abs=1e-12
    )
