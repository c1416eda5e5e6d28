"""Bradley-Terry and Davidson paired-comparison models, fitted by Newton's method in batches.

A system ``i`` has a log-strength ``score[i]`` (natural log, mean zero over systems). Under
Bradley-Terry the probability that ``i`` beats ``j`` is ``1 / (1 + exp(score[j] - score[i]))``.

Ties, two ways:

- ``"half"``: a tie counts as half a win for each side. The fit then equals an unregularised
  logistic regression on ``score[i] - score[j]`` with each tie entered as two half-weight rows
  (the recipe of the public arena leaderboards).
- ``"davidson"`` (Davidson 1970): ``P(i wins) = pi_i / D``, ``P(tie) = nu * sqrt(pi_i pi_j) / D``
  with ``D = pi_i + pi_j + nu * sqrt(pi_i pi_j)`` and ``pi = exp(score)``; ``nu >= 0`` is fitted.

Every fit here is *batched*: the counts may carry leading dimensions (``[rounds, n_pairs]``),
and all rounds take their Newton steps together as array operations, so a 1000-round bootstrap
costs about as much as a few dozen single fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ELO_SCALE = 400.0 / math.log(10.0)
"""Elo points per unit of natural-log strength: Elo = ELO_SCALE * score + ELO_ORIGIN."""
ELO_ORIGIN = 1000.0

BOOTSTRAP_RIDGE = 1e-2
"""Gaussian penalty ``ridge / 2 * sum(score**2)`` used where the unpenalised fit does not exist
(a system that never lost, or a comparison graph in pieces): a N(0, 10^2) prior on each
log-strength, negligible next to the information of even a handful of votes."""

_MAX_STEP = 4.0


@dataclass(frozen=True)
class BradleyTerryFit:
    """Result of :func:`fit_bradley_terry`.

    - ``scores``: float array ``[..., n_systems]``, log-strengths with mean zero.
    - ``tie_log_nu``: Davidson's ``log(nu)`` per fit (shape ``[...]``); None for ``"half"``.
    - ``converged``: bool array ``[...]``.
    - ``iterations``: Newton steps taken.
    - ``ridge``: the penalty used (0.0 for the plain maximum-likelihood fit).
    """

    scores: np.ndarray
    tie_log_nu: np.ndarray | None
    converged: np.ndarray
    iterations: int
    ridge: float


def elo(scores: np.ndarray) -> np.ndarray:
    """Log-strengths on the Elo scale (400 points = 10:1 odds), centred on 1000."""
    return ELO_SCALE * np.asarray(scores) + ELO_ORIGIN


def mle_exists(
    wins_first: np.ndarray,
    wins_second: np.ndarray,
    ties: np.ndarray,
    pair_first: np.ndarray,
    pair_second: np.ndarray,
    n_systems: int,
) -> bool:
    """Whether the unpenalised maximum-likelihood scores are finite (Zermelo/Ford condition).

    They are if and only if, for every split of the systems into two groups, some system of
    each group beat or tied some system of the other: the "beat or tied" graph is strongly
    connected. Counts are ``[n_pairs]`` arrays.
    """
    if n_systems <= 1:
        return True
    beat_first = (wins_first + ties) > 0
    beat_second = (wins_second + ties) > 0
    rows = np.concatenate([pair_first[beat_first], pair_second[beat_second]])
    cols = np.concatenate([pair_second[beat_first], pair_first[beat_second]])
    if n_systems > _DENSE_GRAPH_LIMIT:
        # Heavy import (scipy.sparse pulls in scipy.linalg): only for very many systems.
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n_systems, n_systems))
        n_components, _ = connected_components(graph, directed=True, connection="strong")
        return n_components == 1
    beats = np.zeros((n_systems, n_systems), dtype=bool)
    beats[rows, cols] = True
    # Strongly connected iff every system is reachable from system 0 along the edges and
    # against them.
    return _reaches_all(beats) and _reaches_all(beats.T)


_DENSE_GRAPH_LIMIT = 2000
"""Up to this many systems the comparison graph is checked as a dense boolean matrix
(``[systems, systems]``, 4 MB at the limit) without importing ``scipy.sparse``."""


def _reaches_all(adjacency: np.ndarray) -> bool:
    """Whether a breadth-first search from node 0 of ``adjacency`` (``[n, n]`` bool, an edge
    ``i -> j`` where ``[i, j]``) reaches every node."""
    seen = np.zeros(adjacency.shape[0], dtype=bool)
    seen[0] = True
    frontier = seen.copy()
    while frontier.any():
        frontier = adjacency[frontier].any(axis=0) & ~seen
        seen |= frontier
    return bool(seen.all())


def fit_bradley_terry(
    wins_first: np.ndarray,
    wins_second: np.ndarray,
    ties: np.ndarray,
    pair_first: np.ndarray,
    pair_second: np.ndarray,
    n_systems: int,
    *,
    ties_model: str = "half",
    ridge: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
    initial_scores: np.ndarray | None = None,
    initial_log_nu: float | None = None,
) -> BradleyTerryFit:
    """Fit log-strengths to pairwise counts, for one data set or a batch of them at once.

    ``wins_first``, ``wins_second``, ``ties``: vote counts (float, may be fractional weights)
    of shape ``[..., n_pairs]``: how often ``pair_first[k]`` beat ``pair_second[k]``, the
    reverse, and ties. ``pair_first``, ``pair_second``: int arrays ``[n_pairs]`` of system
    codes in ``range(n_systems)``, each unordered pair at most once.

    ``ties_model``: ``"half"`` or ``"davidson"`` (see the module docstring).
    ``ridge``: Gaussian penalty strength; None picks 0 when the plain fit exists for an
    unbatched input (see :func:`mle_exists`) and :data:`BOOTSTRAP_RIDGE` otherwise.
    ``initial_scores`` (``[n_systems]``) and ``initial_log_nu``: where Newton starts (zeros and
    a moment estimate by default); a bootstrap starts from the full-data fit, which saves
    steps because every round lands near it.

    Returns a :class:`BradleyTerryFit` whose ``scores`` have shape ``[..., n_systems]``.
    """
    if ties_model not in ("half", "davidson"):
        raise ValueError(f"ties_model must be 'half' or 'davidson', not {ties_model!r}")
    wins_first = np.asarray(wins_first, dtype=float)
    wins_second = np.asarray(wins_second, dtype=float)
    ties = np.asarray(ties, dtype=float)
    pair_first = np.asarray(pair_first, dtype=np.int64)
    pair_second = np.asarray(pair_second, dtype=np.int64)
    batch_shape = wins_first.shape[:-1]
    n_pairs = wins_first.shape[-1]
    if n_pairs == 0:
        # No comparison at all: every system is equally strong and nothing is estimated.
        return BradleyTerryFit(
            scores=np.zeros((*batch_shape, n_systems)),
            tie_log_nu=None if ties_model == "half" else np.full(batch_shape, -np.inf),
            converged=np.ones(batch_shape, dtype=bool),
            iterations=0,
            ridge=0.0,
        )
    if ridge is None:
        exists = batch_shape == () and mle_exists(
            wins_first, wins_second, ties, pair_first, pair_second, n_systems
        )
        ridge = 0.0 if exists else BOOTSTRAP_RIDGE
    flat = [array.reshape(-1, n_pairs) for array in (wins_first, wins_second, ties)]
    use_davidson = ties_model == "davidson" and float(ties.sum()) > 0
    design = (pair_first, pair_second, n_systems, ridge, max_iter, tol, initial_scores)
    if use_davidson:
        scores, log_nu, converged, iterations = _newton_davidson(*flat, *design, initial_log_nu)
        log_nu = log_nu.reshape(batch_shape)
    else:
        half_wins, n = flat[0] + flat[2] / 2.0, flat[0] + flat[1] + flat[2]
        scores, converged, iterations = _newton_half(half_wins, n, *design)
        log_nu = None
        if ties_model == "davidson":
            # No ties at all: Davidson's nu is 0 and the model is plain Bradley-Terry.
            log_nu = np.full(batch_shape, -np.inf)
    return BradleyTerryFit(
        scores=scores.reshape(*batch_shape, n_systems),
        tie_log_nu=log_nu,
        converged=converged.reshape(batch_shape),
        iterations=iterations,
        ridge=float(ridge),
    )


def _incidence(
    pair_first: np.ndarray, pair_second: np.ndarray, n_systems: int
) -> tuple[np.ndarray, np.ndarray]:
    """Signed (``e_first - e_second``) and unsigned incidence matrices, each ``[n_pairs, m]``."""
    signed = np.zeros((pair_first.size, n_systems))
    rows = np.arange(pair_first.size)
    signed[rows, pair_first] = 1.0
    signed[rows, pair_second] = -1.0
    return signed, np.abs(signed)


def _laplacian(
    weights: np.ndarray, pair_first: np.ndarray, pair_second: np.ndarray, unsigned: np.ndarray
) -> np.ndarray:
    """``sum_k weights[:, k] x_k x_k^T`` as ``[batch, m, m]``, with ``x_k = e_first - e_second``."""
    batch, n_systems = weights.shape[0], unsigned.shape[1]
    hessian = np.zeros((batch, n_systems, n_systems))
    hessian[:, pair_first, pair_second] = -weights
    hessian[:, pair_second, pair_first] = -weights
    index = np.arange(n_systems)
    hessian[:, index, index] = weights @ unsigned
    return hessian


def _clip(step: np.ndarray) -> np.ndarray:
    """Shrink each round's Newton step so that no coordinate moves more than ``_MAX_STEP``."""
    largest = np.max(np.abs(step), axis=-1, keepdims=True)
    return step * np.minimum(1.0, _MAX_STEP / np.maximum(largest, 1e-300))


def _newton_half(
    wins: np.ndarray,
    n: np.ndarray,
    pair_first: np.ndarray,
    pair_second: np.ndarray,
    n_systems: int,
    ridge: float,
    max_iter: int,
    tol: float,
    initial_scores: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton's method for ties-as-half: ``wins``, ``n`` are ``[batch, n_pairs]``."""
    batch = wins.shape[0]
    signed, unsigned = _incidence(pair_first, pair_second, n_systems)
    scores = np.zeros((batch, n_systems))
    if initial_scores is not None:
        scores[:] = initial_scores
    centre = np.full((n_systems, n_systems), 1.0 / n_systems)
    converged = np.zeros(batch, dtype=bool)
    active = np.arange(batch)
    iterations = 0
    while iterations < max_iter and active.size:
        iterations += 1
        s = scores[active]
        difference = s[:, pair_first] - s[:, pair_second]
        p_first = 0.5 * (1.0 + np.tanh(difference / 2.0))
        residual = wins[active] - n[active] * p_first
        gradient = residual @ signed - ridge * s
        curvature = n[active] * p_first * (1.0 - p_first)
        hessian = _laplacian(curvature, pair_first, pair_second, unsigned)
        hessian += centre + ridge * np.eye(n_systems)
        step = _clip(np.linalg.solve(hessian, gradient[..., None])[..., 0])
        scores[active] = s + step
        done = np.max(np.abs(step), axis=-1) < tol
        converged[active[done]] = True
        active = active[~done]
    scores -= scores.mean(axis=-1, keepdims=True)
    return scores, converged, iterations


def _newton_davidson(
    wins_first: np.ndarray,
    wins_second: np.ndarray,
    ties: np.ndarray,
    pair_first: np.ndarray,
    pair_second: np.ndarray,
    n_systems: int,
    ridge: float,
    max_iter: int,
    tol: float,
    initial_scores: np.ndarray | None = None,
    initial_log_nu: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Newton's method for Davidson's model over ``(scores, log nu)``; counts ``[batch, K]``."""
    batch = wins_first.shape[0]
    n = wins_first + wins_second + ties
    m = n_systems
    signed, unsigned = _incidence(pair_first, pair_second, m)
    tie_share = np.clip(ties.sum(axis=1) / np.maximum(n.sum(axis=1), 1e-300), 1e-6, 1 - 1e-6)
    params = np.zeros((batch, m + 1))
    params[:, m] = np.log(2.0 * tie_share / (1.0 - tie_share))
    if initial_scores is not None:
        params[:, :m] = initial_scores
    if initial_log_nu is not None and np.isfinite(initial_log_nu):
        params[:, m] = initial_log_nu
    regulariser = np.eye(m + 1) * ridge
    regulariser[m, m] = 1e-9
    regulariser[:m, :m] += 1.0 / m
    converged = np.zeros(batch, dtype=bool)
    active = np.arange(batch)
    iterations = 0
    while iterations < max_iter and active.size:
        iterations += 1
        current = params[active]
        s, log_nu = current[:, :m], current[:, m]
        half_difference = (s[:, pair_first] - s[:, pair_second]) / 2.0
        # Divide every term of D by exp(|d|/2) so that nothing overflows.
        top = np.abs(half_difference)
        up = np.exp(half_difference - top)
        down = np.exp(-half_difference - top)
        tie = np.exp(log_nu[:, None] - top)
        total = up + down + tie
        p_first, p_second, p_tie = up / total, down / total, tie / total
        rows = n[active]
        grad_d = (wins_first[active] - wins_second[active] - rows * (p_first - p_second)) / 2.0
        gradient = np.empty_like(current)
        gradient[:, :m] = grad_d @ signed - ridge * s
        gradient[:, m] = (ties[active] - rows * p_tie).sum(axis=1) - 1e-9 * log_nu
        skew = p_first - p_second
        h_dd = rows * ((p_first + p_second) / 4.0 - skew**2 / 4.0)
        h_dnu = -rows * skew * p_tie / 2.0
        hessian = np.zeros((active.size, m + 1, m + 1))
        hessian[:, :m, :m] = _laplacian(h_dd, pair_first, pair_second, unsigned)
        cross = h_dnu @ signed
        hessian[:, :m, m] = cross
        hessian[:, m, :m] = cross
        hessian[:, m, m] = (rows * p_tie * (1.0 - p_tie)).sum(axis=1)
        hessian += regulariser
        step = _clip(np.linalg.solve(hessian, gradient[..., None])[..., 0])
        params[active] = current + step
        done = np.max(np.abs(step), axis=-1) < tol
        converged[active[done]] = True
        active = active[~done]
    scores = params[:, :m] - params[:, :m].mean(axis=-1, keepdims=True)
    return scores, params[:, m], converged, iterations


def davidson_probabilities(
    score_first: np.ndarray, score_second: np.ndarray, log_nu: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Davidson's (win, loss, tie) probabilities for the first system, elementwise."""
    half = (np.asarray(score_first) - np.asarray(score_second)) / 2.0
    up, down, tie = np.exp(half), np.exp(-half), np.exp(log_nu)
    total = up + down + tie
    return up / total, down / total, tie / total
