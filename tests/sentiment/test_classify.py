"""Turning five SST classes into SST-2's two."""

import numpy as np
from support.doctests import run_examples

from apps.sentiment import classify


def test_docstring_examples():
    examples, failures = run_examples(classify, "apps.sentiment.classify", vars(classify))
    assert examples > 0 and failures == 0


def test_polarity_leaves_the_neutral_share_out():
    rows = np.array(
        [[0.1, 0.1, 0.6, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0, 0.0], [0.3, 0.0, 0.0, 0.0, 0.7]]
    )
    np.testing.assert_allclose(
        classify.polarity(rows), [[0.5, 0.5], [0.5, 0.5], [0.3, 0.7]], atol=1e-7
    )


def test_polarity_rows_sum_to_one_and_follow_the_two_sides():
    rng = np.random.default_rng(0)
    rows = rng.dirichlet(np.ones(5), size=200).astype("float32")
    two = classify.polarity(rows)
    np.testing.assert_allclose(two.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(
        two.argmax(axis=1), (rows[:, 3] + rows[:, 4] > rows[:, 0] + rows[:, 1]).astype(int)
    )
