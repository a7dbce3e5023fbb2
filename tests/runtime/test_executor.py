import pytest

from realitygap.runtime.executor import run_tasks


def square(x):
    return x * x


def fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("workers", [1, 2])
def test_results_in_task_order(workers):
    seen = []
    assert run_tasks(square, list(range(6)), workers=workers, on_done=lambda i, r: seen.append(i)) == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == list(range(6))


def test_errors_propagate():
    with pytest.raises(ValueError, match="three"):
        run_tasks(fail_on_three, [1, 2, 3], workers=1)
