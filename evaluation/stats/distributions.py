"""The few distribution functions the summary needs, straight from :mod:`scipy.special`.

``scipy.stats`` builds hundreds of distribution objects when imported (over a second of the
command line's start-up); these are the special functions its ``norm``, ``t``, ``binom`` and
``nct`` methods call, vectorised over numpy arrays. :mod:`scipy.stats` itself is imported only
by the rarely used exact tests (``binomtest``, ``fisher_exact``) that need it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special


def norm_ppf(q):
    """Standard normal quantile (``scipy.stats.norm.ppf``)."""
    return special.ndtri(q)


def norm_cdf(x):
    """Standard normal distribution function (``scipy.stats.norm.cdf``)."""
    return special.ndtr(x)


def norm_pdf(x):
    """Standard normal density (``scipy.stats.norm.pdf``)."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def t_ppf(q, df):
    """Student t quantile with ``df`` degrees of freedom (``scipy.stats.t.ppf``)."""
    return special.stdtrit(df, q)


def t_sf(x, df):
    """Student t upper tail ``P(T > x)`` (``scipy.stats.t.sf``)."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def nct_cdf(x, df, noncentrality):
    """Non-central t distribution function (``scipy.stats.nct.cdf``)."""
    return special.nctdtr(df, noncentrality, x)


def binom_cdf(k, n, p):
    """Binomial ``P(K <= k)`` for whole or real ``k`` (floored; 0 below 0, 1 from ``n`` on)."""
    k, n = np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float)
    whole = np.clip(k, 0.0, n).astype(np.int64)
    inside = special.bdtr(whole, n.astype(np.int64), p)
    return np.where(k < 0, 0.0, np.where(k >= n, 1.0, inside))


def binom_sf(k, n, p):
    """Binomial ``P(K > k)`` (``scipy.stats.binom.sf``)."""
    k, n = np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float)
    whole = np.clip(k, 0.0, n).astype(np.int64)
    inside = special.bdtrc(whole, n.astype(np.int64), p)
    return np.where(k < 0, 1.0, np.where(k >= n, 0.0, inside))
