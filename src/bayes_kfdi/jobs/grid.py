"""Grids of independent fits, run one after another or on Dask distributed.

A grid is a list of :class:`Task` (a picklable callable and its keyword arguments: a
seed, a spec, a panel). :func:`run_grid` runs it and returns one :class:`TaskResult` per
task, in task order, whatever order the tasks finished in; :func:`iter_grid` yields the
results as they finish, for a caller that saves each one at once (a long Monte Carlo).

Schedulers:

- ``"serial"``: in this process, one task at a time; needs nothing beyond the package;
- ``None`` or ``"local"``: a :class:`dask.distributed.LocalCluster` of ``n_workers``
  processes with one thread each, started for the grid and closed after it;
- any other string: the address of a running Dask scheduler (``tcp://host:8786``).

Dask is an optional extra (``pip install "bayes-kfdi[dask]"``), imported only when a
grid asks for it. Every task runs with BLAS limited to ``blas_threads`` threads (one by
default), so ``n`` workers use ``n`` cores and a task's numbers do not depend on how many
BLAS threads it happened to get. A task that raises is recorded in its result (the
exception's type and message, and the traceback), and the grid goes on.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from threadpoolctl import threadpool_limits

from bayes_kfdi.exceptions import SpecificationError

__all__ = ["SERIAL", "Task", "TaskResult", "iter_grid", "run_grid"]

#: The scheduler name that runs a grid in this process, without Dask.
SERIAL = "serial"
#: The scheduler name (or None) that starts a LocalCluster for the grid.
LOCAL = "local"
DASK_MISSING = (
    "scheduler={scheduler!r} needs Dask, which is not installed; install bayes-kfdi[dask] "
    "(pip install \"bayes-kfdi[dask]\") or pass scheduler='serial'"
)


@dataclass(frozen=True, slots=True)
class Task:
    """One independent unit of a grid: ``fn(**kwargs)``.

    ``fn`` and ``kwargs`` must pickle (Dask ships them to a worker process); ``label``
    names the task in the progress line and in an error.
    """

    fn: Callable[..., Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What one task gave: its value, or the error it raised.

    Attributes
    ----------
    index : int
        Position of the task in the grid.
    label : str
    value : object
        ``fn(**kwargs)``; None when the task failed.
    error : str or None
        ``"<ExceptionType>: <message>"`` when the task raised (or its worker died).
    traceback : str
        The formatted traceback of a failed task ("" otherwise).
    seconds : float
        Wall time of the call, on the worker.
    """

    index: int
    label: str
    value: Any = None
    error: str | None = None
    traceback: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the task returned without raising."""
        return self.error is None


def run_task(index: int, task: Task, blas_threads: int | None = 1) -> TaskResult:
    """Run one task where it is called, catching its error (a worker calls this)."""
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=blas_threads):
            value = task.fn(**dict(task.kwargs))
    except Exception as exc:  # a failed task is recorded, the grid goes on
        return TaskResult(
            index, task.label, error=_describe(exc), traceback=traceback.format_exc(),
            seconds=time.perf_counter() - t0,
        )
    return TaskResult(index, task.label, value=value, seconds=time.perf_counter() - t0)


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _check_args(scheduler: str | None, n_workers: int) -> None:
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise SpecificationError(
            f"scheduler = {scheduler!r}; expected 'serial', 'local' or a Dask scheduler "
            "address such as 'tcp://127.0.0.1:8786'"
        )
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise SpecificationError(
            f"n_workers = {n_workers!r}; expected a positive integer; pass --workers 1 or more"
        )


def _import_distributed(scheduler: str | None) -> Any:
    try:
        import distributed
    except ImportError:
        raise SpecificationError(DASK_MISSING.format(scheduler=scheduler or LOCAL)) from None
    return distributed


def _serial(tasks: Sequence[Task], blas_threads: int | None) -> Iterator[TaskResult]:
    for i, task in enumerate(tasks):
        yield run_task(i, task, blas_threads)


def _distributed(
    tasks: Sequence[Task], scheduler: str | None, n_workers: int, blas_threads: int | None
) -> Iterator[TaskResult]:
    dd = _import_distributed(scheduler)
    cluster = None
    if scheduler in (None, LOCAL):
        # one single-threaded worker process per core asked for; no dashboard (no port)
        cluster = dd.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )
        client = dd.Client(cluster)
    else:
        client = dd.Client(scheduler)
    try:
        futures = {
            client.submit(run_task, i, task, blas_threads, pure=False): i
            for i, task in enumerate(tasks)
        }
        for future in dd.as_completed(futures):
            i = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker died or the result did not come back
                yield TaskResult(i, tasks[i].label, error=_describe(exc),
                                 traceback=traceback.format_exc())
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def iter_grid(
    tasks: Sequence[Task],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = True,
    blas_threads: int | None = 1,
) -> Iterator[TaskResult]:
    """Run ``tasks`` and yield each :class:`TaskResult` as it finishes.

    Parameters
    ----------
    tasks : sequence of Task
    scheduler : str, optional
        ``"serial"``, ``None``/``"local"`` (a LocalCluster) or a Dask scheduler address.
    n_workers : int, default 2
        Worker processes of the LocalCluster (ignored by the other schedulers).
    progress : bool, default True
        Show a progress bar of the grid (done, failed, elapsed) on stderr.
    blas_threads : int or None, default 1
        BLAS threads per task (None leaves them as they are).

    Yields
    ------
    TaskResult
        In completion order (task order under ``"serial"``); ``index`` gives the place.

    Raises
    ------
    SpecificationError
        A malformed scheduler or worker count, or a Dask scheduler without Dask installed.
    """
    tasks = list(tasks)
    _check_args(scheduler, n_workers)
    if scheduler == SERIAL:
        results = _serial(tasks, blas_threads)
    else:
        results = _distributed(tasks, scheduler, n_workers, blas_threads)
    if not progress:
        yield from results
        return
    columns = (TextColumn("grid"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        job = bar.add_task("grid", total=len(tasks), failed=0)
        failed = 0
        for result in results:
            failed += not result.ok
            bar.update(job, advance=1, failed=failed)
            yield result


def run_grid(
    tasks: Sequence[Task],
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    progress: bool = True,
    blas_threads: int | None = 1,
) -> list[TaskResult]:
    """Run ``tasks`` and return their results in task order (see :func:`iter_grid`).

    The results equal those of ``scheduler="serial"`` for tasks that are deterministic
    given their arguments (a seeded fit is).
    """
    tasks = list(tasks)
    out: list[TaskResult | None] = [None] * len(tasks)
    for result in iter_grid(tasks, scheduler=scheduler, n_workers=n_workers,
                            progress=progress, blas_threads=blas_threads):
        out[result.index] = result
    return [r for r in out if r is not None]
