"""Sample size and proportional allocation with a minimum per office."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cati.domain.sampling import allocate, sample_size


@pytest.mark.parametrize(
    ("eligible", "kwargs", "expected"),
    [
        (1000, {"rate": 0.1}, 100),
        (15, {"rate": 0.1}, 2),  # 1.5 rounds half up
        (14, {"rate": 0.1}, 1),
        (50, {"size": 20}, 20),
        (50, {"size": 80}, 50),  # never more than there are
        (0, {"rate": 0.2}, 0),
    ],
)
def test_sample_size(eligible, kwargs, expected):
    assert sample_size(eligible, **kwargs) == expected


def test_sample_size_needs_a_rate_or_a_size():
    with pytest.raises(ValueError, match="rate or a size"):
        sample_size(10)


@pytest.mark.parametrize(
    ("eligible", "total", "minimum", "expected"),
    [
        ({"A": 500, "B": 300, "C": 200}, 100, 0, {"A": 50, "B": 30, "C": 20}),
        ({"A": 200, "B": 60, "C": 3}, 26, 5, {"A": 18, "B": 5, "C": 3}),
        ({"A": 1000, "B": 10}, 20, 5, {"A": 15, "B": 5}),
        ({"A": 1, "B": 1, "C": 1}, 2, 0, {"A": 1, "B": 1, "C": 0}),  # ties by name
        ({"A": 10, "B": 10}, 2, 5, {"A": 5, "B": 5}),  # minimums exceed the total
        ({"A": 0, "B": 7}, 3, 5, {"A": 0, "B": 5}),
        ({}, 10, 5, {}),
    ],
    ids=[
        "proportional",
        "small-office-keeps-all",
        "minimum-taken-from-big",
        "tie-break",
        "minimums-win",
        "empty-office",
        "no-offices",
    ],
)
def test_allocate(eligible, total, minimum, expected):
    assert allocate(eligible, total, minimum) == expected


@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 5000), max_size=12),
    st.integers(0, 20000),
    st.integers(0, 20),
)
def test_allocation_invariants(eligible, total, minimum):
    result = allocate(eligible, total, minimum)
    assert result.keys() == eligible.keys()
    for key, n in result.items():
        assert 0 <= n <= eligible[key]
        assert n >= min(minimum, eligible[key])
    floor = sum(min(minimum, n) for n in eligible.values())
    assert sum(result.values()) == max(min(total, sum(eligible.values())), floor)
