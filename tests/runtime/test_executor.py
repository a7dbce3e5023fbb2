import socket

import pytest

from realitygap.runtime import executor as executor_module
from realitygap.runtime.errors import InputError
from realitygap.runtime.executor import Executor, as_executor, executor_from_options, run_tasks


def square(x):
    return x * x


def fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("executor", [1, 2, Executor(workers=2)])
def test_results_in_task_order(executor):
    seen = []
    assert run_tasks(square, list(range(6)), executor, on_done=lambda i, r: seen.append(i)) == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == list(range(6))


def test_errors_propagate():
    with pytest.raises(ValueError, match="three"):
        run_tasks(fail_on_three, [1, 2, 3], 1)


def test_executor_is_a_serialisable_config():
    executor = Executor(kind="ray", workers=3, address="10.0.0.5:6379")
    assert Executor.model_validate_json(executor.model_dump_json()) == executor
    assert as_executor(2) == Executor(kind="local", workers=2) and as_executor(executor) is executor
    with pytest.raises(ValueError, match="ray executor only"):
        Executor(kind="local", address="10.0.0.5:6379")


@pytest.mark.parametrize("kind, workers, address, fragment", [
    ("dask", 1, None, "--executor must be one of local, ray, got 'dask'"),
    ("local", 0, None, "--workers must be at least 1, got 0"),
    ("local", 1, "10.0.0.5:6379", "--address applies to --executor ray only"),
])
def test_bad_options_are_one_line_input_errors(kind, workers, address, fragment):
    with pytest.raises(InputError) as error:
        executor_from_options(kind, workers, address)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setattr(executor_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"needs Ray, which is not installed here: pip install 'realitygap\[ray\]'"):
        executor_from_options("ray", 1)


@pytest.mark.parametrize("address, fragment", [
    ("closed", "no Ray cluster answers there"),
    ("10.0.0.5:http", "--address expects HOST:PORT"),
])
def test_an_address_that_does_not_answer_fails_before_any_work(monkeypatch, address, fragment):
    monkeypatch.setattr(executor_module.importlib.util, "find_spec", lambda name: object())  # as if Ray were installed
    if address == "closed":
        with socket.socket() as probe:  # a loopback port nothing listens on
            probe.bind(("127.0.0.1", 0))
            address = f"127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(InputError, match=fragment) as error:
        executor_from_options("ray", 1, address)
    assert "\n" not in str(error.value)
