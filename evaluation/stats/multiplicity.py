"""Adjusting p-values when many system pairs are tested at once.

With 20 systems there are 190 pairs; at the 5% level about 9 of them would look "significant"
by chance alone. Holm (1979) controls the family-wise error rate (the chance of any false
claim) and is uniformly more powerful than Bonferroni; Benjamini-Hochberg (1995) controls the
false discovery rate (the expected share of false claims among the claims made).
"""

from __future__ import annotations

import numpy as np


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values, same shape ``[n_tests]`` and order as the input.

    Matches ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``.
    """
    p_values = np.asarray(p_values, dtype=float)
    n = p_values.size
    if n == 0:
        return p_values.copy()
    order = np.argsort(p_values, kind="stable")
    stepped = (n - np.arange(n)) * p_values[order]
    adjusted = np.minimum(1.0, np.maximum.accumulate(stepped))
    result = np.empty(n)
    result[order] = adjusted
    return result


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values), same shape and order.

    Matches ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``.
    """
    p_values = np.asarray(p_values, dtype=float)
    n = p_values.size
    if n == 0:
        return p_values.copy()
    order = np.argsort(p_values, kind="stable")[::-1]
    stepped = p_values[order] * n / (n - np.arange(n))
    adjusted = np.minimum(1.0, np.minimum.accumulate(stepped))
    result = np.empty(n)
    result[order] = adjusted
    return result
