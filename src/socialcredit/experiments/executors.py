"""Executors: one interface, several ways to run a sweep's batches (xarray's backends are the
model). Each takes batches and yields their results as they finish; the sweep writes each one
to its folder as it arrives, so nothing finished is lost and the same seeds give the same
results whichever executor ran them.

- ``InProcess`` (default): this process, one batch after another.
- ``Processes``: local worker processes (spawned, each with its own JAX).
- ``DaskExecutor``: a Dask distributed cluster: an existing scheduler (``--scheduler
  tcp://HOST:PORT``), a ``LocalCluster`` of ``--workers N`` processes, or an HPC cluster
  through dask-jobqueue (``slurm_cluster``; docs/experiments.md has the recipe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from socialcredit.experiments.worker import Batch, BatchResult, run_batch


class ExecutorError(RuntimeError):
    """The executor cannot start (an unreachable scheduler, a missing package): one line."""


class Executor(Protocol):
    name: str
    workers: int

    def run(self, batches: Iterable[Batch]) -> Iterator[BatchResult]: ...

    def close(self) -> None: ...


class InProcess:
    """Batches one after another in this process."""

    name = "in-process"
    workers = 1

    def __init__(self, fn: Callable[[Batch], BatchResult] = run_batch) -> None:
        self.fn = fn

    def run(self, batches: Iterable[Batch]) -> Iterator[BatchResult]:
        for b in batches:
            yield self.fn(b)

    def close(self) -> None:
        pass


class Processes:
    """Batches on ``workers`` local processes (spawned: JAX does not survive a fork)."""

    name = "processes"

    def __init__(self, workers: int, fn: Callable[[Batch], BatchResult] = run_batch) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.fn = fn
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

    def run(self, batches: Iterable[Batch]) -> Iterator[BatchResult]:
        from concurrent.futures import as_completed

        futures = [self.pool.submit(self.fn, b) for b in batches]
        try:
            for f in as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Batches on a Dask distributed cluster (``client``: a ``distributed.Client``)."""

    name = "dask"

    def __init__(self, client: Any, cluster: Any = None, fn: Callable = run_batch) -> None:
        self.client, self.cluster, self.fn = client, cluster, fn
        info = client.scheduler_info()
        self.workers = max(1, len(info.get("workers", {})))
        self.address = client.scheduler.address

    @classmethod
    def connect(cls, scheduler: str, timeout_s: float = 10.0) -> DaskExecutor:
        """A client of the scheduler at ``scheduler`` (tcp://HOST:PORT)."""
        distributed = _import_distributed()
        try:
            client = distributed.Client(scheduler, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {scheduler} ({type(e).__name__}: "
                f"{str(e).splitlines()[0] if str(e) else 'no answer'}); start one with "
                "`dask scheduler` and `dask worker tcp://HOST:PORT`, or use --workers N for a "
                "local cluster"
            ) from None
        return cls(client)

    @classmethod
    def local(cls, workers: int) -> DaskExecutor:
        """A LocalCluster of ``workers`` single-threaded processes."""
        distributed = _import_distributed()
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        return cls(distributed.Client(cluster), cluster)

    def run(self, batches: Iterable[Batch]) -> Iterator[BatchResult]:
        distributed = _import_distributed()
        futures = [
            self.client.submit(self.fn, b, pure=False, key=f"batch-{b.index}-{id(b)}")
            for b in batches
        ]
        try:
            for f in distributed.as_completed(futures):
                yield f.result()
        finally:
            for f in futures:
                f.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _import_distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - a dependency
        raise ExecutorError(
            "the Dask executor needs `distributed`: pip install 'dask[distributed]'"
        ) from None
    return distributed


def slurm_cluster(
    workers: int = 4,
    *,
    cores: int = 4,
    memory: str = "16GB",
    walltime: str = "02:00:00",
    queue: str | None = None,
    account: str | None = None,
    python: str | None = None,
    job_extra: list[str] | None = None,
):
    """A dask-jobqueue ``SLURMCluster`` for a sweep: one SLURM job per worker, each a single
    process (JAX uses the job's cores itself). ``cluster.job_script()`` shows the job script
    without submitting anything; ``cluster.scale(jobs=workers)`` submits (docs/experiments.md)."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:  # pragma: no cover - a dependency
        raise ExecutorError(
            "the SLURM executor needs dask-jobqueue: pip install dask-jobqueue"
        ) from None
    return SLURMCluster(
        cores=cores,
        processes=1,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        python=python,
        job_extra_directives=list(job_extra or []),
        job_script_prologue=["export XLA_FLAGS=--xla_cpu_multi_thread_eigen=true"],
        scheduler_options={"dashboard_address": None},
    )


def make_executor(
    kind: str = "in-process", workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """The executor a command line asks for (raises ExecutorError for one that cannot start)."""
    if scheduler is not None:
        return DaskExecutor.connect(scheduler)
    if kind == "in-process":
        return InProcess()
    if kind == "processes":
        return Processes(workers or 2)
    if kind == "dask":
        return DaskExecutor.local(workers or 2)
    if kind == "slurm":
        cluster = slurm_cluster(workers or 4)
        cluster.scale(jobs=workers or 4)
        distributed = _import_distributed()
        return DaskExecutor(distributed.Client(cluster), cluster)
    raise ExecutorError(f"unknown executor {kind!r}; use in-process, processes, dask or slurm")
