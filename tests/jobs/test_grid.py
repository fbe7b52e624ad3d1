"""Grids of independent fits: serial and on a two-worker Dask LocalCluster."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bayes_kfdi.data.simulate import simulate_dynamic_panel
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm import xtabond2
from bayes_kfdi.jobs.grid import Task, run_grid

CMD = ("fdi L.fdi gdp wage exports, gmm(L.fdi, lag(2 4) collapse) iv(gdp wage exports) "
       "twostep robust")


def gmm_tasks() -> list[Task]:
    """Two small GMM fits on panels of different seeds, and one that fails."""
    tasks = []
    for seed in (3, 4):
        frame = simulate_dynamic_panel(seed=seed, n_series=1, n_countries=25, n_years=10).frame
        tasks.append(Task(xtabond2, {"df": frame.drop(columns="fdi_latent"), "cmd": CMD,
                                     "entity": "country", "time": "year"}, f"seed {seed}"))
    tasks.append(Task(xtabond2, {"df": frame, "cmd": "fdi L.fdi nosuchvar, gmm(L.fdi)",
                                 "entity": "country", "time": "year"}, "broken"))
    return tasks


def check_grid(results, tasks) -> None:
    assert [r.index for r in results] == list(range(len(tasks)))
    assert [r.label for r in results] == [t.label for t in tasks]
    assert [r.ok for r in results] == [True, True, False]
    broken = results[2]
    assert broken.value is None
    assert "nosuchvar" in broken.error
    assert "Traceback" in broken.traceback


def test_serial_grid_records_a_failed_task():
    tasks = gmm_tasks()
    results = run_grid(tasks, scheduler="serial", progress=False)
    check_grid(results, tasks)
    # each result is the fit of its own panel, in task order
    for task, result in zip(tasks[:2], results[:2], strict=True):
        direct = xtabond2(**task.kwargs)
        np.testing.assert_array_equal(result.value.params.to_numpy(),
                                      direct.params.to_numpy())
    assert not np.allclose(results[0].value.params, results[1].value.params)


def test_local_cluster_equals_serial():
    pytest.importorskip("distributed", reason="Dask is an extra: pip install '.[dask]'")
    tasks = gmm_tasks()
    serial = run_grid(tasks, scheduler="serial", progress=False)
    local = run_grid(tasks, scheduler="local", n_workers=2, progress=True)
    check_grid(local, tasks)
    for a, b in zip(serial[:2], local[:2], strict=True):
        np.testing.assert_array_equal(a.value.params.to_numpy(), b.value.params.to_numpy())
        np.testing.assert_array_equal(a.value.std_errors.to_numpy(),
                                      b.value.std_errors.to_numpy())
    assert local[2].error == serial[2].error


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SpecificationError, match=r"install bayes-kfdi\[dask\]"):
        run_grid(gmm_tasks()[:1], scheduler="local", progress=False)
    # the serial fallback needs no Dask
    assert run_grid(gmm_tasks()[:1], scheduler="serial", progress=False)[0].ok


@pytest.mark.parametrize(("scheduler", "n_workers"), [("", 2), (3, 2), ("serial", 0)])
def test_bad_arguments_are_refused(scheduler, n_workers):
    with pytest.raises(SpecificationError):
        run_grid([], scheduler=scheduler, n_workers=n_workers, progress=False)
