"""Figures drawn by arviz-plots from a fit's tree (matplotlib backend)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from bayes_kfdi.report import figures


def _tree(n_obs: int = 40) -> xr.DataTree:
    rng = np.random.default_rng(3)
    dims = ("chain", "draw", "obs")
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"rho": (("chain", "draw"), rng.normal(size=(2, 100)))}),
        "log_likelihood": xr.Dataset({"fdi": (dims, rng.normal(-1, 0.3, (2, 100, n_obs)))}),
        "posterior_predictive": xr.Dataset({"fdi": (dims, rng.normal(1, 1, (2, 100, n_obs)))}),
        "observed_data": xr.Dataset({"fdi": (("obs",), rng.normal(1, 1, n_obs))}),
    })


def test_pareto_k_plot_names_the_sample_size_aware_threshold():
    fig = figures.pareto_k_plot(_tree(), title="Pareto k")
    assert isinstance(fig, Figure)
    # 200 draws: min(1 - 1/log10(200), 0.7) = 0.57, not the large-sample 0.7
    assert "above 0.57" in fig._suptitle.get_text()


def test_ppc_dist_plot_draws_observed_and_replicated_curves():
    fig = figures.ppc_dist_plot(_tree(), title="Predictive check", num_samples=10)
    assert isinstance(fig, Figure)
    lines = [ln for ax in fig.axes for ln in ax.get_lines()]
    assert len(lines) >= 11  # ten replicated ECDFs and the observed one
