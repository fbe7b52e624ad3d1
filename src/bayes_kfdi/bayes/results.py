"""The results face of a Bayesian fit: the same as a GMM result's.

``params`` (posterior means), ``std_errors`` (posterior sds), ``conf_int(level)``
(highest-density intervals), ``nobs``, ``model_label``, ``summary()`` (a
:class:`bayes_kfdi.tables.ResultTable`), ``to_frame()``, ``to_latex()`` and
``_repr_html_``, so that a fit enters :func:`bayes_kfdi.etable` beside GMM results.

Coefficient labels follow the GMM equations of the same panel: ``L.fdi`` for the
lagged-outcome coefficient ``rho``, the covariate name for a slope ``beta`` (at the
average year of the modelled rows for a time-varying slope), and ``<term>_trend`` for
its per-year change ``beta_trend``. A fit of one series is indexed by these labels; a
fit of several by (series, term), and :meth:`PosteriorEstimates.for_series` gives one
series with plain labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from bayes_kfdi.bayes.summary import INTERVAL_KIND
from bayes_kfdi.constants import CI_PROB
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.formatting import format_number
from bayes_kfdi.tables import ResultTable

if TYPE_CHECKING:
    from bayes_kfdi.bayes.fit import FitResult

__all__ = ["PosteriorEstimates", "SeriesFit", "LAG_LABEL", "coefficient_label", "hdi_interval"]


def hdi_interval(draws: np.ndarray, prob: float = CI_PROB) -> tuple[float, float]:
    """Highest-density interval of a sample (any shape; all values pooled)."""
    flat = np.asarray(draws, float).ravel()
    hdi = azs.hdi(xr.DataArray(flat[None, :], dims=("chain", "draw")), prob=prob)
    lo, hi = (float(v) for v in np.asarray(hdi.values).ravel()[:2])
    return lo, hi

#: Label of ``rho``, as the GMM equations name the lagged dependent variable.
LAG_LABEL = "L.fdi"
#: Summary parameters that are coefficients of the outcome equation, in table order.
_COEFFICIENTS = ("rho", "beta", "beta_trend")
_SAMPLE_DIMS = ("chain", "draw")


def coefficient_label(parameter: str, term: str) -> str:
    """Label of a ``summary.csv`` coefficient row (``L.fdi``, ``gdp``, ``gdp_trend``)."""
    if parameter == "rho":
        return LAG_LABEL
    if parameter == "beta_trend":
        return f"{term}_trend"
    return term


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise SpecificationError(f"level={level}; expected a number in (0, 1), e.g. 0.9.")


class PosteriorEstimates:
    """Mixin giving a fit the shared results face (see the module docstring)."""

    __slots__ = ()

    # what a subclass provides
    def _fit(self) -> FitResult:
        raise NotImplementedError

    def _only(self) -> str | None:
        """Return the one series shown, or None for all."""
        return None

    # -- labelled estimates ----------------------------------------------------------
    def _coef_rows(self) -> pd.DataFrame:
        s = self._fit().posterior_summary
        rows = s[s["parameter"].isin(_COEFFICIENTS)].copy()
        only = self._only()
        if only is not None:
            rows = rows[rows["series"] == only]
        rows["label"] = [coefficient_label(p, t) for p, t in zip(rows["parameter"],
                                                                 rows["term"], strict=True)]
        order = {p: i for i, p in enumerate(_COEFFICIENTS)}
        rows["_order"] = rows["parameter"].map(order)
        series = list(dict.fromkeys(rows["series"]))
        rows["_series"] = rows["series"].map({v: i for i, v in enumerate(series)})
        return rows.sort_values(["_series", "_order"], kind="stable")

    def _index(self, rows: pd.DataFrame) -> pd.Index:
        if self._only() is not None or rows["series"].nunique() <= 1:
            return pd.Index(rows["label"].tolist(), name="term")
        return pd.MultiIndex.from_arrays([rows["series"].tolist(), rows["label"].tolist()],
                                         names=["series", "term"])

    @property
    def series(self) -> tuple[str, ...]:
        """Series whose coefficients are shown."""
        return tuple(dict.fromkeys(self._coef_rows()["series"]))

    @property
    def params(self) -> pd.Series:
        """Posterior means of ``rho``, the slopes and their trends (labels: module doc)."""
        rows = self._coef_rows()
        return pd.Series(rows["mean"].to_numpy(float), index=self._index(rows), name="params")

    @property
    def std_errors(self) -> pd.Series:
        """Posterior standard deviations (the Bayesian counterpart of standard errors)."""
        rows = self._coef_rows()
        return pd.Series(rows["sd"].to_numpy(float), index=self._index(rows),
                         name="std_error")

    def _draws(self) -> np.ndarray:
        """Return (samples, coefficients) posterior draws in the order of :attr:`params`."""
        post = self._fit().idata["posterior"]
        rows = self._coef_rows()
        cols = []
        for par, ser, term in zip(rows["parameter"], rows["series"], rows["term"],
                                  strict=True):
            da: xr.DataArray = post[par]
            sel: dict[str, Any] = {}
            if "series" in da.dims:
                sel["series"] = ser
            for dim in ("term", "tv_term"):
                if dim in da.dims:
                    sel[dim] = term
            da = da.sel(sel)
            cols.append(np.asarray(da.transpose(*_SAMPLE_DIMS).values, float).ravel())
        n = int(post.sizes["chain"] * post.sizes["draw"])
        return np.column_stack(cols) if cols else np.empty((n, 0))

    def conf_int(self, level: float = CI_PROB) -> pd.DataFrame:
        """Highest-density intervals (HDI, :func:`arviz_stats.hdi`) of the coefficients.

        The same kind as ``summary.csv``'s ``hdi_low``/``hdi_high`` and the report's
        intervals (``q05``/``q95`` in ``summary.csv`` are equal-tailed quantiles).
        """
        _check_level(level)
        draws = self._draws()
        rows = self._coef_rows()
        chains = int(self._fit().idata["posterior"].sizes["chain"])
        arr = xr.DataArray(draws.T.reshape(draws.shape[1], chains, -1),
                           dims=("coef", *_SAMPLE_DIMS))
        hdi = np.asarray(azs.hdi(arr, prob=level, dim=list(_SAMPLE_DIMS)).values, float)
        return pd.DataFrame({"lower": hdi[:, 0], "upper": hdi[:, 1]}, index=self._index(rows))

    @property
    def interval_kind(self) -> str:
        """Interval kind of :meth:`conf_int`."""
        return f"{INTERVAL_KIND}, posterior"

    @property
    def nobs(self) -> int:
        """Modelled rows (observations in the likelihood), over all series."""
        return int(self._fit().idata.attrs.get("n_obs", 0))

    @property
    def depvar(self) -> str:
        """Dependent variable."""
        return "fdi"

    @property
    def model_label(self) -> str:
        """Short estimator description, e.g. ``"Bayes, partial pooling, censored"``."""
        spec = self._fit().spec
        pooling = "partial pooling" if spec.slopes == "partial" else "unpooled"
        return f"Bayes, {pooling}, {spec.likelihood}"

    def table_stats(self) -> dict[str, float | int | None]:
        """Rows under the coefficients in :func:`bayes_kfdi.etable` (fit-level checks)."""
        d = self._fit().diagnostics
        return {"Max R-hat": d.max_rhat, "Min ESS bulk": int(d.min_ess_bulk),
                "Divergences": int(d.n_divergent)}

    def to_frame(self, level: float = CI_PROB) -> pd.DataFrame:
        """Tidy coefficient table: estimate, std_error, lower, upper (HDI), r_hat, ESS."""
        rows = self._coef_rows()
        ci = self.conf_int(level)
        idx = self._index(rows)
        return pd.DataFrame({
            "estimate": rows["mean"].to_numpy(float),
            "std_error": rows["sd"].to_numpy(float),
            "lower": ci["lower"].to_numpy(), "upper": ci["upper"].to_numpy(),
            "r_hat": rows["r_hat"].to_numpy(float),
            "ess_bulk": rows["ess_bulk"].to_numpy(float),
            "ess_tail": rows["ess_tail"].to_numpy(float),
        }, index=idx)

    # -- output ---------------------------------------------------------------------
    def summary(self, level: float = CI_PROB) -> ResultTable:
        """Coefficient table with fit-level checks (text, HTML, LaTeX, Markdown)."""
        res = self._fit()
        frame = self.to_frame(level)
        flat = frame.reset_index()
        multi = isinstance(frame.index, pd.MultiIndex)
        rows: list[tuple[str, tuple[str, ...]] | None] = []
        last = None
        for r in flat.itertuples(index=False):
            if multi and r.series != last:
                if last is not None:
                    rows.append(None)
                rows.append((str(r.series), ("",) * 6))
                last = r.series
            rows.append((str(r.term), (
                format_number(r.estimate, 4), format_number(r.std_error, 4),
                format_number(r.lower, 4), format_number(r.upper, 4),
                format_number(r.r_hat, 3), format_number(int(r.ess_bulk)
                                                         if np.isfinite(r.ess_bulk) else None),
            )))
        d = res.diagnostics
        post = res.idata["posterior"]
        pct = f"{level * 100:g}%"
        left = (("Number of obs", str(self.nobs)),
                ("Series", str(len(self.series)) if not self._only() else str(self._only())),
                ("Chains x draws", f"{post.sizes['chain']} x {post.sizes['draw']}"))
        right = (("Sampler", str(res.spec.sampler.sampler)),
                 ("Max R-hat", format_number(d.max_rhat, 3)),
                 ("Divergences", str(d.n_divergent)))
        notes = [f"Mean and sd of the posterior; [{pct} HDI] is the highest-density interval "
                 "(summary.csv: hdi_low/hdi_high; its q05/q95 are equal-tailed).",
                 "R-hat and ESS in the header are the worst over all posterior variables."]
        if not d.converged:
            notes.insert(0, "NOT CONVERGED: " + "; ".join(d.problems))
        return ResultTable(
            title=f"Bayesian hierarchical dynamic panel, {res.spec.likelihood} likelihood",
            columns=("Mean", "Posterior\nSD", f"[{pct} HDI", "]", "R-hat", "ESS bulk"),
            rows=tuple(rows), corner=self.depvar, info_left=left, info_right=right,
            notes=tuple(notes), frame=frame, min_widths=(10, 10, 10, 10, 6, 8),
        )

    def to_latex(self) -> str:
        """Return :meth:`summary` as a booktabs LaTeX table."""
        return self.summary().to_latex()

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __str__(self) -> str:
        return self.summary().to_text()

    def for_series(self, series: str) -> SeriesFit:
        """One series of the fit, with plain coefficient labels (for :func:`etable`)."""
        known = tuple(s for s in dict.fromkeys(self._fit().posterior_summary["series"]) if s)
        if series not in known:
            raise SpecificationError(
                f"series {series!r} is not in this fit; it has {', '.join(map(str, known))}."
            )
        return SeriesFit(self._fit(), series)


@dataclass(frozen=True, slots=True, repr=False)
class SeriesFit(PosteriorEstimates):
    """One series of a :class:`~bayes_kfdi.bayes.fit.FitResult`, with the same face."""

    fit: FitResult
    name: str

    def _fit(self) -> FitResult:
        return self.fit

    def _only(self) -> str | None:
        return self.name

    def __repr__(self) -> str:
        return f"<SeriesFit {self.name!r} of {self.fit!r}>"
