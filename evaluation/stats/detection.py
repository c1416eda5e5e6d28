"""Signal-detection measures: how well listeners tell AI from human, apart from their bias.

Accuracy mixes two things: sensitivity (can the listener hear a difference?) and bias (does
the listener say "AI" a lot?). d' (d-prime) measures the first on a scale where 0 is chance
and 1 is a clear but imperfect discrimination; the criterion ``c`` measures the second
(positive = reluctant to say "AI"). Formulas follow Macmillan & Creelman, *Detection Theory:
A User's Guide* (2nd ed., 2005).
"""

from __future__ import annotations

import math

import numpy as np

from .distributions import norm_cdf, norm_pdf, norm_ppf
from .intervals import wilson_interval, z_value


def d_prime_two_alternative(
    correct: float, n: float, confidence: float = 0.95
) -> dict[str, float | None]:
    """d' for a two-alternative forced choice ("which of A and B is the AI track?").

    ``correct``: number of correct answers (may be fractional: an "unsure" answer scores 0.5,
    what a forced guess would score on average); ``n``: answers. ``d' = sqrt(2) * z(pc)`` with
    ``pc = correct / n`` (Macmillan & Creelman eq. 7.2); a ``pc`` of 0 or 1 is moved to
    ``1 / (2 n)`` from the edge so that d' stays finite. The interval maps the Wilson
    interval of ``pc`` through the same (monotone) function.

    Returns ``{"d_prime", "d_prime_low", "d_prime_high"}`` (all None when ``n == 0``).
    """
    if n <= 0:
        return {"d_prime": None, "d_prime_low": None, "d_prime_high": None}
    edge = 1.0 / (2.0 * n)
    low, high = wilson_interval(correct, n, confidence)

    def transform(pc: float) -> float:
        return math.sqrt(2.0) * float(norm_ppf(min(max(pc, edge), 1.0 - edge)))

    return {
        "d_prime": transform(correct / n),
        "d_prime_low": transform(low),
        "d_prime_high": transform(high),
    }


def d_prime_yes_no(
    hits: float,
    n_signal: float,
    false_alarms: float,
    n_noise: float,
    confidence: float = 0.95,
) -> dict[str, float | None]:
    """d' and criterion ``c`` for single-track "AI or human?" judgments.

    ``hits``: AI tracks called AI, of ``n_signal`` AI tracks; ``false_alarms``: human tracks
    called AI, of ``n_noise`` human tracks. Rates use the log-linear correction of Hautus
    (1995), ``(count + 0.5) / (n + 1)``, which keeps d' finite and is less biased than the
    1/(2N) rule. ``d' = z(H) - z(F)``, ``c = -(z(H) + z(F)) / 2``; the intervals are Wald
    intervals with the variance of Gourevitch & Galanter (1967).

    Returns ``{"d_prime", "d_prime_low", "d_prime_high", "criterion", "criterion_low",
    "criterion_high"}`` (all None unless both kinds of track were judged).
    """
    keys = ("d_prime", "d_prime_low", "d_prime_high", "criterion", "criterion_low")
    if n_signal <= 0 or n_noise <= 0:
        return dict.fromkeys((*keys, "criterion_high"))
    hit_rate = (hits + 0.5) / (n_signal + 1.0)
    false_alarm_rate = (false_alarms + 0.5) / (n_noise + 1.0)
    z_hit = float(norm_ppf(hit_rate))
    z_false = float(norm_ppf(false_alarm_rate))
    variance = hit_rate * (1.0 - hit_rate) / (n_signal * norm_pdf(z_hit) ** 2) + (
        false_alarm_rate * (1.0 - false_alarm_rate) / (n_noise * norm_pdf(z_false) ** 2)
    )
    half_width = z_value(confidence) * math.sqrt(variance)
    d_prime = z_hit - z_false
    criterion = -(z_hit + z_false) / 2.0
    return {
        "d_prime": d_prime,
        "d_prime_low": d_prime - half_width,
        "d_prime_high": d_prime + half_width,
        "criterion": criterion,
        "criterion_low": criterion - half_width / 2.0,
        "criterion_high": criterion + half_width / 2.0,
    }


def proportion_correct_from_d_prime(d_prime: np.ndarray) -> np.ndarray:
    """Inverse of the 2AFC relation: expected proportion correct for a given d'."""
    return norm_cdf(np.asarray(d_prime) / math.sqrt(2.0))


def d_prime_from_share(estimate: dict) -> dict[str, float | str | None]:
    """Two-alternative d' of a panelist-level share correct (a
    :func:`evaluation.stats.clusters.cluster_estimate` result) with the interval mapped through
    the same monotone function ``sqrt(2) z(pc)``.

    At the ceiling (every listener always right, or an interval reaching 100%) d' has no upper
    end: ``d_prime_high`` is None and ``d_prime_bound`` is ``"lower"`` (report "d′ ≥ low");
    likewise at the floor (``"upper"``). ``d_prime`` itself is None at a share of exactly 0 or
    1, where any finite value would come from a correction, not from the data.
    """
    rate, low, high = estimate["rate"], estimate["low"], estimate["high"]
    if rate is None:
        return {"d_prime": None, "d_prime_low": None, "d_prime_high": None, "d_prime_bound": "none"}

    def transform(pc: float) -> float | None:
        if pc <= 0.0 or pc >= 1.0:
            return None
        return math.sqrt(2.0) * float(norm_ppf(pc))

    d_low, d_high = transform(low), transform(high)
    if d_low is None and d_high is None:
        bound = "none"
    elif d_high is None:
        bound = "lower"
    elif d_low is None:
        bound = "upper"
    else:
        bound = "two_sided"
    return {
        "d_prime": transform(rate),
        "d_prime_low": d_low,
        "d_prime_high": d_high,
        "d_prime_bound": bound,
    }
