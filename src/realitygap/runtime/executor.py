"""Run one pure function over many tasks: serially, on a local process pool, or on a Ray cluster.

Results come back in task order whatever the completion order, so a run's output does not depend on
scheduling, on the worker count or on the executor (tests/runtime/test_executor_ray.py compares the bytes).
Local workers use the 'spawn' start method: EGL contexts must not cross a fork.

The choice is an `Executor`, a frozen pydantic config passed down where a bare worker count used to be:
`Executor(kind="local", workers=N)` (the default; N = 1 runs in this process) or
`Executor(kind="ray", workers=N, address=None | "HOST:PORT" | "auto" | "ray://HOST:PORT")`. Without an
address, Ray runs a local instance of N CPUs on the loopback interface; with one, it joins that cluster
and Ray schedules over all of its CPUs. Ray is an optional extra (`pip install 'realitygap[ray]'`),
imported only when asked for. Every function that takes `workers` takes either.
"""

from __future__ import annotations

import importlib.util
import inspect
import ipaddress
import logging
import multiprocessing
import os
import socket
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from typing import Any, Callable, Iterator, Literal, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from realitygap.runtime.errors import InputError, one_line

T = TypeVar("T")
R = TypeVar("R")

EXECUTOR_KINDS = ("local", "ray")
RAY_EXTRA = "pip install 'realitygap[ray]'"
FORWARDED_ENV = ("MUJOCO_GL", "PYOPENGL_PLATFORM", "MUJOCO_EGL_DEVICE_ID", "OMP_NUM_THREADS")
FORWARDED_ENV_PREFIX = "REALITYGAP_"
"""Environment variables of this process that Ray workers get too (a local pool's workers inherit them all):
the renderer's, the thread count when set, and every REALITYGAP_* (model checkpoints and options)."""
PROBE_TIMEOUT_S = 5.0
"""How long `--address` may take to accept a TCP connection before it counts as unreachable."""
DEFAULT_RAY_PORT = 6379


class Executor(BaseModel):
    """Where the per-episode tasks run. `workers`: local processes (1: this process), or the CPUs of a
    local Ray instance; `address`: the Ray cluster to join (kind 'ray' only; None starts a local instance)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["local", "ray"] = "local"
    workers: int = Field(1, ge=1)
    address: str | None = None

    @model_validator(mode="after")
    def _address_only_for_ray(self) -> "Executor":
        if self.address is not None and self.kind != "ray":
            raise ValueError("address applies to the ray executor only")
        return self

    def check(self) -> None:
        """Raise InputError now, before any work, when Ray is asked for but not installed or the address
        does not answer."""
        if self.kind != "ray":
            return
        if importlib.util.find_spec("ray") is None:
            raise InputError(f"--executor ray needs Ray, which is not installed here: {RAY_EXTRA}")
        if self.address is not None:
            _probe(self.address)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Ray: connect (or start the local instance) for the duration, unless this process is already
        connected, in which case that connection is used as is; disconnect, or stop the local instance, on
        exit. Wrap several `run_tasks` calls in one session to connect once. Local: nothing to do."""
        if self.kind != "ray":
            yield
            return
        self.check()
        import ray

        if ray.is_initialized():
            yield
            return
        _connect(ray, self)
        try:
            yield
        finally:
            ray.shutdown()


def executor_from_options(kind: str, workers: int, address: str | None = None) -> Executor:
    """The executor of the command-line options `--executor KIND --workers N --address ADDR`, checked
    (InputError in the options' words on a bad value, a missing Ray or an unreachable address)."""
    if kind not in EXECUTOR_KINDS:
        raise InputError(f"--executor must be one of {', '.join(EXECUTOR_KINDS)}, got {kind!r}")
    if address is not None and kind != "ray":
        raise InputError("--address applies to --executor ray only")
    executor = Executor(kind=kind, workers=as_executor(workers).workers, address=address)  # type: ignore[arg-type]
    executor.check()
    return executor


def as_executor(value: "int | Executor") -> Executor:
    """An Executor as is; a worker count as the local pool of that many processes."""
    if isinstance(value, Executor):
        return value
    if value < 1:
        raise InputError(f"--workers must be at least 1, got {value}")
    return Executor(workers=value)


def run_tasks(
    function: Callable[[T], R],
    tasks: Sequence[T],
    executor: "int | Executor" = 1,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Apply `function` to every task; call `on_done(index, result)` (here, in the caller's process) as each
    finishes; return the results in task order.

    `executor`: an Executor, or a worker count for the local pool. One local worker runs in this process
    (easiest to debug); more use a spawn-based process pool. Ray runs `function` as a remote task (it must be
    importable on the workers: a module-level function of an installed package). An exception in a task is
    re-raised here, as the task's own exception where it can be rebuilt (a Ray task's InputError stays an
    InputError): Ray's remaining tasks are cancelled first, the local pool finishes those it has queued.
    """
    executor = as_executor(executor)
    results: list[Any] = [None] * len(tasks)
    if not tasks:
        return []
    if executor.kind == "ray":
        with executor.session():
            _run_ray(function, tasks, on_done, results)
        return results
    if executor.workers == 1 or len(tasks) <= 1:
        for index, task in enumerate(tasks):
            results[index] = function(task)
            if on_done:
                on_done(index, results[index])
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(executor.workers, len(tasks)), mp_context=context) as pool:
        futures: dict[Future, int] = {pool.submit(function, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if on_done:
                on_done(index, results[index])
    return results


def forwarded_environment() -> dict[str, str]:
    """The variables of FORWARDED_ENV and FORWARDED_ENV_PREFIX set in this process, for Ray's runtime_env."""
    return {name: value for name, value in sorted(os.environ.items())
            if name in FORWARDED_ENV or name.startswith(FORWARDED_ENV_PREFIX)}


def _run_ray(function: Callable, tasks: Sequence, on_done: Callable | None, results: list) -> None:
    import ray

    if not inspect.isfunction(function):  # Ray makes remote functions of functions only: a builtin goes through _apply
        function, tasks = _apply, [(function, task) for task in tasks]
    remote = ray.remote(function).options(runtime_env={"env_vars": forwarded_environment()})
    refs = [remote.remote(task) for task in tasks]
    index_of = {ref: i for i, ref in enumerate(refs)}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                index = index_of[ref]
                results[index] = _ray_result(ray, ref)
                if on_done:
                    on_done(index, results[index])
    except BaseException:
        for ref in pending:
            with suppress(Exception):  # already finished, or Ray is going down
                ray.cancel(ref)
        raise


def _apply(pair: tuple[Callable, Any]) -> Any:
    function, task = pair
    return function(task)


def _ray_result(ray, ref) -> Any:
    """ray.get, with a task's exception re-raised as itself (Ray's wrapper, holding the remote traceback,
    chained as its cause)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = error.cause
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from error
        raise


def _connect(ray, executor: Executor) -> None:
    """ray.init: join `executor.address`, or start a local instance of `workers` CPUs on 127.0.0.1."""
    options: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    try:
        if executor.address is not None:
            with _loopback_node(_loopback_only(executor.address)):
                ray.init(address=executor.address, **options)
        else:  # a local instance serves this process (and drivers it tells): the loopback interface is enough
            with _loopback_node(True):
                ray.init(address="local", _node_ip_address="127.0.0.1", num_cpus=executor.workers, **options)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as error:
        where = f"the Ray cluster at {executor.address}" if executor.address else "a local Ray instance"
        raise InputError(f"--executor ray: could not connect to {where}: {one_line(str(error))}") from error


@contextmanager
def _loopback_node(on: bool) -> Iterator[None]:
    """While `on`: this driver's node is 127.0.0.1. Ray on Linux replaces a loopback node address by the
    machine's routable one unless clustering is off (ray_constants.ENABLE_RAY_CLUSTER, read when an address
    is resolved, so switching it for the duration of ray.init is enough); with no such switch, Ray's default."""
    from ray._private import ray_constants

    clustering = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    if not on or clustering is None:
        yield
        return
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = clustering


def _probe(address: str) -> None:
    """InputError unless something accepts a TCP connection at `address` (HOST[:PORT], ray://HOST:PORT;
    'auto' is left to Ray, which looks for a cluster started on this machine)."""
    host, port = _host_port(address)
    if host is None:
        return
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except (OSError, UnicodeError) as error:  # UnicodeError: a host name IDNA cannot encode (a label over 63 characters)
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise InputError(f"--address {address}: no Ray cluster answers there ({reason}); start one with "
                         f"`ray start --head` on that machine, or leave --address out for a local instance") from error


def _loopback_only(address: str) -> bool:
    """Whether the cluster at `address` listens on this machine's loopback interface only (a local instance
    started by another realitygap process): a loopback address whose port does not answer on the machine's
    routable address. A cluster of `ray start --head` answers on both and is joined the way Ray joins it."""
    host, port = _host_port(address)
    if host is None or address.strip().startswith("ray://"):
        return False
    try:
        if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
            return False
    except (OSError, ValueError):
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:  # no packet is sent: the route's source address
            udp.connect(("192.0.2.1", 9))
            routable = udp.getsockname()[0]
        socket.create_connection((routable, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError:
        return True
    return False


def _host_port(address: str) -> tuple[str | None, int]:
    """(host, port) of HOST[:PORT] or ray://HOST:PORT (port 6379 when left out); (None, 0) for 'auto'."""
    target = address.strip().removeprefix("ray://")
    if target == "auto":
        return None, 0
    host, sep, port = target.rpartition(":")
    if not sep:
        host, port = target, str(DEFAULT_RAY_PORT)
    if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:  # not '²': int() refuses it
        raise InputError(f"--address expects HOST:PORT (e.g. 10.0.0.5:{DEFAULT_RAY_PORT}), ray://HOST:PORT or auto, "
                         f"got {address!r}")
    return host.strip("[]"), int(port)
