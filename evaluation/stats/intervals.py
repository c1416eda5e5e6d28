"""Intervals and exact tests for proportions.

Conventions used throughout Earshot:

- A proportion with no trials (``n == 0``) has the interval ``(0.0, 1.0)``: no data rules
  nothing out. Its point estimate is reported as ``None`` in JSON.
- Successes may be fractional (a tie counts as half a win for each side); the Wilson interval
  is defined for any real ``0 <= successes <= n``.
- Exact binomial p-values use :func:`scipy.stats.binomtest` (two-sided, "minlike" method) and
  need whole counts; with no trials the p-value is 1.0 (no evidence against the null).
"""

from __future__ import annotations

import numpy as np

from .distributions import binom_cdf, norm_ppf


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.959964 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    return float(norm_ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    ``successes`` and ``n`` are counts (``successes`` may be fractional, e.g. ties counted as
    half a win). Returns ``(low, high)`` as floats in [0, 1]; ``(0.0, 1.0)`` when ``n == 0``.
    Equals ``statsmodels.stats.proportion.proportion_confint(successes, n, method="wilson")``.
    """
    low, high = wilson_intervals(np.asarray([successes]), np.asarray([n]), confidence)
    return float(low[0]), float(high[0])


def wilson_intervals(
    successes: np.ndarray, n: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`wilson_interval`: ``successes`` and ``n`` are float arrays of one shape.

    Returns two float arrays ``(low, high)`` of that shape; ``(0, 1)`` where ``n == 0``.
    """
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n < 0) or np.any(successes < 0) or np.any(successes > n):
        raise ValueError("need 0 <= successes <= n")
    z = z_value(confidence)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, successes / n, 0.5)
        safe_n = np.where(n > 0, n, 1.0)
        denominator = 1.0 + z2 / safe_n
        centre = (rate + z2 / (2.0 * safe_n)) / denominator
        half_width = (
            z * np.sqrt(rate * (1.0 - rate) / safe_n + z2 / (4.0 * safe_n**2)) / denominator
        )
    low = np.where(n > 0, np.clip(centre - half_width, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half_width, 0.0, 1.0), 1.0)
    return low, high


def binomial_p_value(
    successes: int, n: int, p: float = 0.5, alternative: str = "two-sided"
) -> float:
    """Exact binomial test of ``successes`` in ``n`` trials against probability ``p``.

    Wraps :func:`scipy.stats.binomtest`; ``alternative`` is ``"two-sided"``, ``"greater"`` or
    ``"less"``. Returns 1.0 when ``n == 0``.
    """
    successes, n = int(round(successes)), int(round(n))
    if n == 0:
        return 1.0
    from scipy.stats import binomtest  # heavy; only this exact test needs it

    return float(binomtest(successes, n, p, alternative=alternative).pvalue)


def binomial_p_values_half(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Vectorised exact two-sided binomial p-values against probability 1/2.

    ``successes``, ``n``: whole counts of one shape. With p = 1/2 the distribution is
    symmetric, so scipy's "minlike" two-sided p-value is twice the smaller tail, capped at 1
    (1 when ``n == 0``). Equals :func:`binomial_p_value` elementwise, without a Python call
    per element (thousands of panelists).
    """
    successes = np.rint(np.asarray(successes, dtype=float))
    n = np.rint(np.asarray(n, dtype=float))
    smaller = np.minimum(successes, n - successes)
    tails = 2.0 * binom_cdf(smaller, n, 0.5)
    return np.where((n == 0) | (2 * smaller == n), 1.0, np.minimum(1.0, tails))


def clopper_pearson_interval(
    successes: int, n: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval, for reference next to Wilson; ``(0, 1)`` if n == 0."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    interval = binomtest(int(successes), int(n)).proportion_ci(
        confidence_level=confidence, method="exact"
    )
    return float(interval.low), float(interval.high)
