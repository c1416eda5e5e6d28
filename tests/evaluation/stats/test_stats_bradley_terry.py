"""Bradley-Terry and Davidson fits against independent fits of the same data."""

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize

from evaluation.stats.bradley_terry import (
    BOOTSTRAP_RIDGE,
    davidson_probabilities,
    elo,
    fit_bradley_terry,
    mle_exists,
)

# Four systems, every pair rated, with ties: (first, second, wins_first, wins_second, ties).
COUNTS = [
    (0, 1, 30, 12, 5),
    (0, 2, 22, 20, 8),
    (0, 3, 9, 25, 4),
    (1, 2, 14, 18, 6),
    (1, 3, 7, 30, 3),
    (2, 3, 11, 19, 10),
]


def counts():
    table = np.array(COUNTS, dtype=float)
    return (
        table[:, 2],
        table[:, 3],
        table[:, 4],
        table[:, 0].astype(int),
        table[:, 1].astype(int),
    )


def logistic_regression_scores(wins_first, wins_second, ties, first, second, m):
    """Unregularised logistic regression on x = e_first - e_second, a tie as half a win each
    way; system m-1 is the reference (score 0), then centred to mean zero."""
    design, outcome, weight = [], [], []
    for k in range(first.size):
        row = np.zeros(m)
        row[first[k]], row[second[k]] = 1.0, -1.0
        design += [row[:-1], row[:-1]]
        outcome += [1.0, 0.0]
        weight += [wins_first[k] + ties[k] / 2.0, wins_second[k] + ties[k] / 2.0]
    model = sm.GLM(
        np.array(outcome),
        np.array(design),
        family=sm.families.Binomial(),
        freq_weights=np.array(weight),
    )
    coefficients = np.append(model.fit(tol=1e-12).params, 0.0)
    return coefficients - coefficients.mean()


def test_ties_as_half_equal_an_unregularised_logistic_regression_within_1e_4():
    wins_first, wins_second, ties, first, second = counts()

    fit = fit_bradley_terry(wins_first, wins_second, ties, first, second, 4, ties_model="half")

    expected = logistic_regression_scores(wins_first, wins_second, ties, first, second, 4)
    assert fit.ridge == 0.0
    assert bool(fit.converged)
    assert np.max(np.abs(fit.scores - expected)) < 1e-4
    assert fit.scores.sum() == pytest.approx(0.0, abs=1e-12)


def test_davidson_fit_maximises_the_davidson_likelihood():
    wins_first, wins_second, ties, first, second = counts()

    def negative_log_likelihood(params):
        scores = np.append(params[:3], -params[:3].sum())
        p_win, p_loss, p_tie = davidson_probabilities(scores[first], scores[second], params[3])
        return -np.sum(
            wins_first * np.log(p_win) + wins_second * np.log(p_loss) + ties * np.log(p_tie)
        )

    reference = minimize(
        negative_log_likelihood, np.zeros(4), method="BFGS", options={"gtol": 1e-9}
    )
    fit = fit_bradley_terry(wins_first, wins_second, ties, first, second, 4, ties_model="davidson")

    expected_scores = np.append(reference.x[:3], -reference.x[:3].sum())
    assert np.max(np.abs(fit.scores - expected_scores)) < 1e-4
    assert float(fit.tie_log_nu) == pytest.approx(reference.x[3], abs=1e-4)


def test_davidson_without_ties_is_plain_bradley_terry_with_nu_zero():
    wins_first, wins_second, _, first, second = counts()
    no_ties = np.zeros_like(wins_first)

    davidson = fit_bradley_terry(
        wins_first, wins_second, no_ties, first, second, 4, ties_model="davidson"
    )
    half = fit_bradley_terry(wins_first, wins_second, no_ties, first, second, 4)

    np.testing.assert_array_equal(davidson.scores, half.scores)
    assert float(davidson.tie_log_nu) == -math.inf


def test_a_batch_of_data_sets_is_fitted_like_each_one_alone():
    wins_first, wins_second, ties, first, second = counts()
    batch = np.stack([wins_first, wins_second[::-1] + 1.0, ties])
    swapped = np.stack([wins_second, wins_first, ties + 2.0])

    together = fit_bradley_terry(batch, swapped, np.ones_like(batch), first, second, 4, ridge=0.0)

    for index in range(3):
        alone = fit_bradley_terry(
            batch[index], swapped[index], np.ones(6), first, second, 4, ridge=0.0
        )
        np.testing.assert_allclose(together.scores[index], alone.scores, atol=1e-9)
    assert together.scores.shape == (3, 4)


def test_a_system_that_never_lost_gets_a_finite_penalised_score():
    first, second = np.array([0, 0, 1]), np.array([1, 2, 2])
    wins_first, wins_second, ties = (
        np.array([5.0, 4.0, 3.0]),
        np.array([0.0, 0.0, 3.0]),
        np.zeros(3),
    )

    assert not mle_exists(wins_first, wins_second, ties, first, second, 3)
    fit = fit_bradley_terry(wins_first, wins_second, ties, first, second, 3)

    assert fit.ridge == BOOTSTRAP_RIDGE
    assert bool(fit.converged) and np.all(np.isfinite(fit.scores))
    assert fit.scores[0] > 0.0 > max(fit.scores[1], fit.scores[2])
    assert fit.scores[0] < 10.0


def test_a_tie_is_enough_for_the_plain_fit_to_exist():
    first, second = np.array([0]), np.array([1])

    assert mle_exists(np.array([3.0]), np.array([0.0]), np.array([1.0]), first, second, 2)
    assert not mle_exists(np.array([3.0]), np.array([0.0]), np.array([0.0]), first, second, 2)


def test_two_systems_score_half_the_log_odds_each():
    fit = fit_bradley_terry(
        np.array([30.0]), np.array([10.0]), np.array([0.0]), np.array([0]), np.array([1]), 2
    )

    np.testing.assert_allclose(fit.scores, [math.log(3) / 2, -math.log(3) / 2], atol=1e-10)


def test_no_comparison_means_equal_scores():
    empty = np.zeros(0)
    fit = fit_bradley_terry(empty, empty, empty, empty.astype(int), empty.astype(int), 3)

    np.testing.assert_array_equal(fit.scores, np.zeros(3))


def test_elo_puts_10_to_1_odds_400_points_apart():
    assert elo(np.array([math.log(10) / 2, -math.log(10) / 2])).tolist() == pytest.approx(
        [1200.0, 800.0]
    )


def test_an_unknown_tie_model_is_refused():
    with pytest.raises(ValueError, match="ties_model must be 'half' or 'davidson'"):
        fit_bradley_terry(
            np.ones(1), np.ones(1), np.ones(1), np.array([0]), np.array([1]), 2, ties_model="rao"
        )


def test_mle_exists_agrees_with_scipy_strong_components_on_random_graphs():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(7)
    answers = []
    for _ in range(400):
        n = int(rng.integers(2, 8))
        first, second = np.triu_indices(n, k=1)
        wins_first = (rng.random(first.size) < 0.4) * 3.0
        wins_second = (rng.random(first.size) < 0.4) * 2.0
        ties = (rng.random(first.size) < 0.1) * 1.0
        rows = np.concatenate([first[wins_first + ties > 0], second[wins_second + ties > 0]])
        cols = np.concatenate([second[wins_first + ties > 0], first[wins_second + ties > 0]])
        graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        expected = connected_components(graph, directed=True, connection="strong")[0] == 1
        answers.append(expected)
        assert mle_exists(wins_first, wins_second, ties, first, second, n) == expected
    assert 50 < sum(answers) < 350  # both answers were exercised
