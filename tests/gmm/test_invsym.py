"""The generalized inverse's column choice: column order (``_rmcoll``) vs Stata's largest pivot."""

import numpy as np
import pytest

from bayes_kfdi.gmm.weights import invsym

#: A G A = A holds to rounding for a generalized inverse of a well-scaled 3 x 3 matrix.
GINV_ATOL = 1e-10


@pytest.fixture
def collinear() -> np.ndarray:
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(2, 50))
    x = np.column_stack([x1, 2.0 * x1, x2])  # column 1 is column 0 with 4x the variance
    return x.T @ x


def test_order_drops_the_later_copy(collinear: np.ndarray) -> None:
    g, dropped = invsym(collinear, pivot="order")
    assert dropped.tolist() == [False, True, False]
    np.testing.assert_allclose(collinear @ g @ collinear, collinear, atol=GINV_ATOL)


def test_largest_keeps_the_column_with_more_variance(collinear: np.ndarray) -> None:
    g, dropped = invsym(collinear, pivot="largest")
    assert dropped.tolist() == [True, False, False]
    np.testing.assert_allclose(collinear @ g @ collinear, collinear, atol=GINV_ATOL)


def test_full_rank_is_the_same_inverse_either_way(collinear: np.ndarray) -> None:
    a = collinear[np.ix_([0, 2], [0, 2])]
    g1, _ = invsym(a, pivot="order")
    g2, _ = invsym(a, pivot="largest")
    assert np.array_equal(g1, g2)
    np.testing.assert_allclose(g1, np.linalg.inv(a), rtol=1e-12)


def test_unknown_pivot_is_refused() -> None:
    with pytest.raises(ValueError, match="pivot"):
        invsym(np.eye(2), pivot="random")
