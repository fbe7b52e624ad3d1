"""Sample a hierarchical model, attach log-likelihood, predictive draws and provenance.

nutpie ignores PyMC's ``idata_kwargs``, so the pointwise log-likelihood that LOO needs is
computed afterwards with :func:`pymc.compute_log_likelihood`, for every sampler alike.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from bayes_kfdi.bayes.diagnostics import Diagnostics, diagnose, ppc_table, warn_if_not_converged
from bayes_kfdi.bayes.model import ModelData, build_model, prepare_data
from bayes_kfdi.bayes.results import PosteriorEstimates
from bayes_kfdi.bayes.spec import HierarchicalSpec
from bayes_kfdi.bayes.summary import summarize
from bayes_kfdi.data.panel import PanelData
from bayes_kfdi.exceptions import EstimationError

__all__ = [
    "FitResult",
    "fit",
    "sample_model",
    "frame_sha256",
    "MODEL_TYPE",
    "EVAL_COMPILE",
    "add_deterministics",
]

MODEL_TYPE = "bayes_kfdi.HierarchicalDynamicPanel"
_PACKAGES = ("bayes-kfdi", "pymc", "pytensor", "nutpie", "arviz", "arviz-stats", "numpy", "xarray")
#: Row-level groups are stored in float32: 7 significant digits are ample for LOO and
#: predictive checks and halve the file size.
_ROW_GROUPS = ("log_likelihood", "posterior_predictive")
#: Posterior variables with at least this many values per draw (latent outcomes, imputed
#: covariates, unit effects, slope paths) are stored in float32 too, for the same reason.
_BIG_VAR = 100
#: The posterior predictive is drawn for about this many posterior draws (every k-th
#: draw of every chain): predictive checks of shares and moments need far fewer draws
#: than the slopes, and 5,000 rows x 4,800 draws would add 100 MB to posterior.nc.
PREDICTIVE_DRAWS = 1000
#: Compile mode of the functions run once per draw after sampling (deterministics,
#: log-likelihood, log prior, predictive draws): PyTensor's Python linker. Numba would
#: compile each of them, ~30 s in all on a cold machine, for seconds of evaluation.
EVAL_COMPILE: dict[str, str] = {"mode": "FAST_COMPILE"}
#: The pointwise log-likelihood (and the log prior written beside it) is kept for about
#: this many draws: LOO and power-scaling are stable at a few thousand draws, and each
#: 1,000 draws of 5,000 rows cost 20 MB in posterior.nc (limit 200 MB).
ROW_DRAWS = 3000
#: Prior draws of the slopes, kept as the ``prior`` group: the report's "not identified"
#: rule compares each slope's posterior sd with its prior sd.
PRIOR_DRAWS = 1000
#: Variables whose prior draws are kept (the slopes and their trends).
PRIOR_VARS = ("beta", "beta_trend")
#: Posterior variables not written to posterior.nc: the standard-normal innovations of
#: non-centred effects (``*_z``), exact functions of the stored effects and their
#: scales. They are kept in memory (log prior, predictive draws need them).
_DROP_SUFFIXES = ("_z",)
#: ``progress`` of :func:`fit`: off, the sampler's bar, or a nutpie progress callback.
Progress = bool | Callable[[list[Any]], None]


@dataclass(frozen=True, slots=True, repr=False)
class FitResult(PosteriorEstimates):
    """A finished fit, with the results face of a GMM result.

    ``params`` (posterior means), ``std_errors`` (posterior sds), ``conf_int(level)``
    (highest-density intervals), ``nobs``, ``model_label``, ``summary()`` (a
    :class:`~bayes_kfdi.tables.ResultTable`), ``to_frame()``, ``to_latex()``; labels and
    the multi-series index are described in :mod:`bayes_kfdi.bayes.results`.

    Attributes
    ----------
    idata : xarray.DataTree
        posterior, sample_stats, log_likelihood, posterior_predictive, observed_data,
        constant_data; provenance in ``idata.attrs``.
    spec : HierarchicalSpec
    diagnostics : Diagnostics
    posterior_summary : pandas.DataFrame
        posterior summary table (docs/contracts.md), written as ``summary.csv`` (see
        :func:`bayes_kfdi.bayes.summary.summarize`).
    ppc : pandas.DataFrame
        Per-series predictive checks (share at floor, mean, sd).
    timings : dict of str to float
        Seconds spent building, compiling, sampling and post-processing.
    """

    idata: xr.DataTree
    spec: HierarchicalSpec
    diagnostics: Diagnostics
    posterior_summary: pd.DataFrame
    ppc: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    def _fit(self) -> FitResult:
        return self

    def __repr__(self) -> str:
        post = self.idata["posterior"]
        state = "converged" if self.diagnostics.converged else "NOT CONVERGED"
        return (f"<FitResult: {self.model_label} of {self.depvar}, {len(self.series)} series, "
                f"{len(self.params)} coefficients, {self.nobs} obs, "
                f"{post.sizes['chain']}x{post.sizes['draw']} draws, {state}>")


def _thin_step(idata: xr.DataTree, target: int) -> int:
    """Keep-every-k step that leaves at most about ``target`` draws over all chains."""
    post = idata["posterior"]
    total = int(post.sizes["chain"] * post.sizes["draw"])
    return max(1, -(-total // target))


def _by_series_term(md: ModelData, values: np.ndarray) -> dict[str, dict[str, float]]:
    """(S, K) standardisation statistics as ``{series: {term: value}}`` for the attributes."""
    return {
        s: dict(zip(md.terms, row.tolist(), strict=True))
        for s, row in zip(md.series, values, strict=True)
    }


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's canonical CSV rendering (row order and float repr fixed)."""
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def _versions() -> dict[str, str]:
    out = {}
    for pkg in _PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def sample_model(
    model: pm.Model, spec: HierarchicalSpec, *, progress: Progress = False
) -> tuple[xr.DataTree, dict[str, float]]:
    """Sample ``model`` with the backend named in ``spec.sampler``.

    Parameters
    ----------
    model : pymc.Model
    spec : HierarchicalSpec
    progress : bool or callable
        ``True``: the sampler's own progress bar. A callable: nutpie calls it with its
        ``ChainProgress`` list instead of drawing a bar (draws, divergences, run time per
        chain); PyMC and numpyro, which take no callback, show their own bar.

    Returns
    -------
    (xarray.DataTree, dict)
        The trace and the seconds spent compiling and sampling.
    """
    cfg = spec.sampler
    t0 = time.perf_counter()
    if cfg.sampler == "nutpie":
        import nutpie

        # Only the free variables are stored by nutpie: compiling the deterministics
        # into its numba expand function cost ~11 s of a cold (first-run) compile,
        # while evaluating them afterwards in PyTensor's Python mode takes ~4 s for
        # 7,200 draws and compiles nothing.
        compiled = nutpie.compile_pymc_model(model, var_names=[v.name for v in model.free_RVs])
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=cfg.draws,
            tune=cfg.tune,
            chains=cfg.chains,
            cores=cfg.cores,
            seed=cfg.seed,
            progress_bar=progress is True,
            progress_callback=progress if callable(progress) else None,
            save_warmup=False,
            target_accept=cfg.target_accept,
            adaptation=cfg.adaptation,
            maxdepth=cfg.max_treedepth,
        )
        if model.deterministics:
            post = add_deterministics(idata["posterior"].to_dataset(), model)
            idata["posterior"] = xr.DataTree(post)
        t2 = time.perf_counter()
        return idata, {"compile": t1 - t0, "sample": t2 - t1}
    if cfg.sampler == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError:
            raise EstimationError(
                "sampler = 'numpyro' but numpyro is not installed; install it with "
                "`pip install -e \".[numpyro]\"` (or `pip install numpyro`), or choose "
                "--sampler nutpie"
            ) from None
    with model:
        idata = pm.sample(
            draws=cfg.draws,
            tune=cfg.tune,
            chains=cfg.chains,
            cores=cfg.cores,
            random_seed=cfg.seed,
            target_accept=cfg.target_accept,
            nuts_sampler=cfg.sampler,
            # PyMC's NUTS and numpyro name the tree-depth limit differently
            nuts={
                "max_treedepth" if cfg.sampler == "pymc" else "max_tree_depth": cfg.max_treedepth
            },
            progressbar=bool(progress),
            compute_convergence_checks=False,
        )
    t2 = time.perf_counter()
    return idata, {"compile": 0.0, "sample": t2 - t0}


def add_deterministics(post: xr.Dataset, model: pm.Model) -> xr.Dataset:
    """Return ``post`` with the model's deterministics, evaluated for all draws at once.

    The graph from the free variables to the deterministics is vectorised over a
    leading (chain x draw) axis (``pytensor.graph.replace.vectorize_graph``) and run
    once, instead of once per draw as ``pm.compute_deterministics`` does. Same values
    (max abs difference 7e-15 on the shipped panel's default fit) in 2.1 s against
    4.6 s for 6,000 draws, compiling included. A graph that cannot be vectorised falls
    back to ``pm.compute_deterministics``.
    """
    from pytensor import function
    from pytensor.graph.replace import vectorize_graph
    from pytensor.tensor import tensor

    dets = list(model.deterministics)
    rvs = list(model.free_RVs)
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    batched = [tensor(dtype=rv.dtype, shape=(None, *rv.type.shape)) for rv in rvs]
    try:
        outs = vectorize_graph(dets, replace=dict(zip(rvs, batched, strict=True)))
        fn = function(batched, outs, mode=EVAL_COMPILE["mode"], on_unused_input="ignore")
    except Exception:  # noqa: BLE001 - an op without a batched form: evaluate per draw
        return pm.compute_deterministics(
            post.copy(), model=model, extend_dataset=True, progressbar=False,
            compile_kwargs=EVAL_COMPILE,
        )
    values = fn(*[
        post[rv.name].values.reshape(n_chain * n_draw, *post[rv.name].shape[2:])
        for rv in rvs
    ])
    out = post.copy()
    for det, val in zip(dets, values, strict=True):
        val = np.asarray(val)
        if val.ndim == det.type.ndim:  # constant in the free variables: no batch axis
            val = np.broadcast_to(val, (n_chain * n_draw, *val.shape))
        val = val.reshape(n_chain, n_draw, *val.shape[1:])
        dims = model.named_vars_to_dims.get(det.name) or tuple(
            f"{det.name}_dim_{i}" for i in range(val.ndim - 2)
        )
        coords = {
            d: np.asarray(model.coords[d]) for d in dims if model.coords.get(d) is not None
        }
        out[det.name] = xr.DataArray(val, dims=("chain", "draw", *dims), coords=coords)
    return out


def _observed_groups(md: ModelData) -> tuple[xr.Dataset, xr.Dataset]:
    obs = xr.Dataset({"fdi": ("obs", md.y)}, coords={"obs": np.arange(md.n_rows)})
    const = xr.Dataset(
        {
            "series": ("obs", md.data_frame["series"].to_numpy(dtype=str)),
            "country": ("obs", md.data_frame["country"].to_numpy(dtype=str)),
            "year": ("obs", md.data_frame["year"].to_numpy(dtype=np.int64)),
            "fdi_lag": ("obs", md.ylag),
        },
        coords={"obs": np.arange(md.n_rows)},
    )
    return obs, const


def _log_prior(sub: xr.DataTree, model: pm.Model, choose) -> xr.Dataset:
    names = [rv.name for rv in model.free_RVs]
    chosen = [n for n in names if choose is True or choose(n)]
    elementwise = bool(chosen) and choose is not True
    lp = pm.stats.compute_log_prior(
        sub, var_names=chosen if elementwise else names, model=model,
        extend_inferencedata=False, progressbar=False, compile_kwargs=EVAL_COMPILE,
    )
    ds = lp["log_prior"].to_dataset() if isinstance(lp, xr.DataTree) else lp
    if elementwise:
        return ds
    return ds.map(lambda da: da.sum(dim=[d for d in da.dims if d not in ("chain", "draw")]))


def _add_groups(idata, model, md: ModelData, spec: HierarchicalSpec, log_likelihood: bool,
                predictive: bool, log_prior) -> None:
    """Add log-likelihood, log prior, predictive draws and data groups to ``idata``."""
    if log_prior or log_likelihood:
        thin_ll = _thin_step(idata, ROW_DRAWS)
        sub = xr.DataTree.from_dict(
            {"posterior": idata["posterior"].to_dataset().isel(draw=slice(None, None, thin_ll))}
        )
    if log_prior:
        idata["log_prior"] = xr.DataTree(_log_prior(sub, model, log_prior))
    if log_likelihood:
        ll = pm.compute_log_likelihood(
            sub, var_names=["fdi"], model=model, extend_inferencedata=False, progressbar=False,
            compile_kwargs=EVAL_COMPILE,
        )
        ll_ds = ll["log_likelihood"].to_dataset() if isinstance(ll, xr.DataTree) else ll
        idata["log_likelihood"] = xr.DataTree(ll_ds)
    if predictive:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            thin = _thin_step(idata, PREDICTIVE_DRAWS)
            pp = pm.sample_posterior_predictive(
                idata["posterior"].to_dataset().isel(draw=slice(None, None, thin)),
                model=model,
                var_names=["fdi"],
                random_seed=np.random.default_rng(spec.sampler.seed),
                progressbar=False,
                compile_kwargs=EVAL_COMPILE,
            )
        idata["posterior_predictive"] = xr.DataTree(pp["posterior_predictive"].to_dataset())
    for grp in _ROW_GROUPS:
        if grp in idata.children:
            ds = idata[grp].to_dataset()
            idata[grp] = xr.DataTree(ds.astype(np.float32))
    post = idata["posterior"].to_dataset()
    big = [v for v, da in post.data_vars.items() if da.size // max(
        post.sizes["chain"] * post.sizes["draw"], 1) >= _BIG_VAR]
    if big:
        idata["posterior"] = xr.DataTree(post.assign({v: post[v].astype(np.float32) for v in big}))
    obs, const = _observed_groups(md)
    idata["observed_data"] = xr.DataTree(obs)
    idata["constant_data"] = xr.DataTree(const)
    for grp in ("warmup_posterior", "warmup_sample_stats"):
        if grp in idata.children:
            del idata[grp]


def _add_prior(idata: xr.DataTree, model: pm.Model, seed: int) -> None:
    """Keep :data:`PRIOR_DRAWS` prior draws of the slopes as the ``prior`` group."""
    names = [n for n in PRIOR_VARS if n in model.named_vars]
    if not names:
        return
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = pm.sample_prior_predictive(draws=PRIOR_DRAWS, var_names=names,
                                           random_seed=seed)
    group = prior["prior"] if "prior" in prior.children else prior.prior
    idata["prior"] = xr.DataTree(group.to_dataset()[names])


def fit(
    spec: HierarchicalSpec,
    panel: PanelData | pd.DataFrame | ModelData,
    *,
    data_sha256: str | None = None,
    progress: Progress = False,
    log_likelihood: bool = True,
    predictive: bool = True,
    log_prior: bool | Callable[[str], bool] = False,
) -> FitResult:
    """Fit ``spec`` to ``panel``.

    Parameters
    ----------
    spec : HierarchicalSpec
    panel : PanelData, pandas.DataFrame or ModelData
        A ModelData (from :func:`prepare_data`, possibly adjusted by the caller, e.g.
        :mod:`bayes_kfdi.multisource`) is used as is.
    data_sha256 : str, optional
        Hash of the data file, recorded in the provenance (the CLI passes the file's).
    progress : bool or callable
        Off by default (the library is silent); ``True`` shows the sampler's progress
        bar; a callable receives nutpie's per-chain progress (see :func:`sample_model`).
    log_likelihood, predictive : bool
        Compute the pointwise log-likelihood (for LOO) and posterior predictive draws.
    log_prior : bool or callable
        Compute the ``log_prior`` group (for prior-sensitivity power-scaling) on the
        log-likelihood's draws. ``True`` stores each free variable's total log prior per
        draw; a predicate on variable names stores the chosen variables element-wise and
        the others not at all (all totals if it chooses none).

    Returns
    -------
    FitResult

    Warns
    -----
    ConvergenceWarning
        If any diagnostic fails its threshold; the flag is also stored in the file
        attributes and in every summary row.
    """
    t0 = time.perf_counter()
    if isinstance(panel, ModelData):
        md = panel
        if data_sha256 is None:
            data_sha256 = frame_sha256(md.data_frame)
    else:
        if not isinstance(panel, PanelData):
            panel = PanelData(panel)
        md = prepare_data(spec, panel)
    model = build_model(spec, md)
    t_build = time.perf_counter() - t0
    idata, timings = sample_model(model, spec, progress=progress)
    t1 = time.perf_counter()
    _add_groups(idata, model, md, spec, log_likelihood, predictive, log_prior)
    _add_prior(idata, model, spec.sampler.seed)
    t_post = time.perf_counter() - t1

    diag = diagnose(idata)
    rows_sha = frame_sha256(md.data_frame)
    idata.attrs.update(
        {
            "model_type": MODEL_TYPE,
            "spec_json": spec.to_json(),
            "spec_hash": spec.model_hash(),
            "likelihood": spec.likelihood,
            "seed": spec.sampler.seed,
            "sampler": spec.sampler.sampler,
            "data_sha256": data_sha256 or frame_sha256(panel.frame),
            "likelihood_rows_sha256": rows_sha,
            "n_obs": md.n_rows,
            "n_initial": md.n_initial,
            "n_dropped": md.n_dropped,
            "reference_year": md.reference_year,
            "terms": json.dumps(list(md.terms)),
            "x_mean": json.dumps(_by_series_term(md, md.x_mean)),
            "x_sd": json.dumps(_by_series_term(md, md.x_sd)),
            "imputed_terms": json.dumps([b.term for b in md.impute]),
            "package_versions": json.dumps(_versions()),
            "created_at": datetime.now(UTC).isoformat(),
            "seconds_build": t_build,
            "seconds_compile": timings["compile"],
            "seconds_sample": timings["sample"],
            "seconds_postprocess": t_post,
            **diag.to_attrs(),
        }
    )
    warn_if_not_converged(diag, stacklevel=2)
    summary = summarize(idata, converged=diag.converged)
    ppc = (
        ppc_table(idata, md.data_frame, floor=spec.floor)
        if "posterior_predictive" in idata.children
        else pd.DataFrame()
    )
    return FitResult(
        idata=idata,
        spec=spec,
        diagnostics=diag,
        posterior_summary=summary,
        ppc=ppc,
        timings={"build": t_build, **timings, "postprocess": t_post},
    )
