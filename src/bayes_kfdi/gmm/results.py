"""SystemGMMResults: labelled estimates, tests, an xtabond2-like table and the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayes_kfdi._typing import Float64Array
from bayes_kfdi.gmm.diagnostics import InapplicableTest, TestStatistic
from bayes_kfdi.gmm.syntax import GmmCommand
from bayes_kfdi.tables import ResultTable

__all__ = ["SystemGMMResults"]

Test = TestStatistic | InapplicableTest


@dataclass(frozen=True, slots=True, repr=False)
class SystemGMMResults:
    """Results of a difference or system GMM fit (xtabond2 conventions).

    Attributes
    ----------
    command : the parsed command
    names : coefficient labels (Stata ``e(b)`` names)
    beta : (k,) coefficients ; cov_matrix : (k, k) reported covariance
    vce : "nonrobust", "robust" (one-step) or "windmeijer" (two-step robust)
    nobs, n_groups, n_instruments, g_min, g_max : counts as xtabond2 prints them
    df_resid : residual degrees of freedom under ``small`` (None otherwise)
    ar_tests : AR(1)..AR(artests) ; sargan, hansen, wald : tests
    diff_hansen : {group label: (excluded, difference) or InapplicableTest}
    hansen_implausible : Hansen p-value above ``HANSEN_P_IMPLAUSIBLE``
    """

    command: GmmCommand
    names: tuple[str, ...]
    beta: Float64Array
    cov_matrix: Float64Array
    vce: str
    nobs: int
    n_groups: int
    n_instruments: int
    g_min: int
    g_max: int
    sigma2: float
    df_resid: int | None
    ar_tests: tuple[Test, ...]
    sargan: Test
    hansen: Test
    diff_hansen: dict[str, tuple[TestStatistic, TestStatistic] | InapplicableTest]
    wald: Test
    hansen_implausible: bool
    instrument_names: tuple[str, ...] = ()
    group_var: str = "entity"
    time_var: str = "time"

    # -- labelled estimates ------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """Coefficients labelled with Stata ``e(b)`` names."""
        return pd.Series(self.beta, index=list(self.names), name="params")

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the coefficients (after the ``small`` rescaling)."""
        return pd.DataFrame(self.cov_matrix, index=list(self.names), columns=list(self.names))

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov_matrix)), index=list(self.names),
                         name="std_error")

    @property
    def tstats(self) -> pd.Series:
        """Z statistics (t under ``small``)."""
        return pd.Series(self.beta / self.std_errors.to_numpy(), index=list(self.names),
                         name="tstat")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values: normal, or t(df_resid) under ``small``."""
        t = np.abs(self.tstats.to_numpy())
        if self.df_resid is not None:
            p = 2 * stats.t.sf(t, self.df_resid)
        else:
            p = 2 * stats.norm.sf(t)
        return pd.Series(p, index=list(self.names), name="pvalue")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals: normal quantiles, or t(df_resid) under ``small``."""
        if not 0 < level < 1:
            from bayes_kfdi.exceptions import SpecificationError

            raise SpecificationError(f"level={level}; expected a number in (0, 1), e.g. 0.95.")
        q = (stats.t.ppf((1 + level) / 2, self.df_resid) if self.df_resid is not None
             else stats.norm.ppf((1 + level) / 2))
        se = self.std_errors.to_numpy()
        return pd.DataFrame({"lower": self.beta - q * se, "upper": self.beta + q * se},
                            index=list(self.names))

    def ar_test(self, order: int) -> Test:
        """Arellano-Bond test for AR(``order``) in first-differenced residuals."""
        if 1 <= order <= len(self.ar_tests):
            return self.ar_tests[order - 1]
        return InapplicableTest(
            f"AR({order}) not computed; the command requested artests({len(self.ar_tests)})",
            f"AR({order})",
        )

    def to_frame(self, level: float | None = None) -> pd.DataFrame:
        """Tidy coefficient table: estimate, std_error, stat, pvalue, lower, upper.

        ``level`` defaults to the command's ``level()`` (95).
        """
        ci = self.conf_int(self.command.level / 100 if level is None else level)
        return pd.DataFrame({
            "estimate": self.params, "std_error": self.std_errors, "stat": self.tstats,
            "pvalue": self.pvalues, "lower": ci["lower"], "upper": ci["upper"],
        })

    # -- output -------------------------------------------------------------------
    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON contract of ``docs/contracts.md``, GMM JSON (null if inapplicable)."""
        diff: dict[str, Any] = {}
        for label, val in self.diff_hansen.items():
            if isinstance(val, InapplicableTest):
                diff[label] = None
            else:
                diff[label] = {"excluded": val[0].to_dict(), "difference": val[1].to_dict()}
        return {
            "command": self.command.command,
            "coef": {k: float(v) for k, v in self.params.items()},
            "se": {k: float(v) for k, v in self.std_errors.items()},
            "vce": self.vce,
            "nobs": int(self.nobs),
            "n_groups": int(self.n_groups),
            "n_instruments": int(self.n_instruments),
            "ar": {str(i + 1): t.to_dict() for i, t in enumerate(self.ar_tests)},
            "sargan": self.sargan.to_dict(),
            "hansen": self.hansen.to_dict(),
            "diff_hansen": diff,
        }

    # -- the shared results face ------------------------------------------------
    @property
    def depvar(self) -> str:
        """Dependent variable as written in the command."""
        return self.command.depvar.name

    @property
    def model_label(self) -> str:
        """Short estimator description, e.g. ``"two-step system GMM"``."""
        step = "two-step" if self.command.twostep else "one-step"
        kind = "system" if self.command.system else "difference"
        return f"{step} {kind} GMM"

    @property
    def interval_kind(self) -> str:
        """Interval kind of :meth:`conf_int`: Wald with normal (or t) quantiles."""
        return ("Wald, normal" if self.df_resid is None else f"Wald, t({self.df_resid})")

    @property
    def g_avg(self) -> float:
        """Average observations per group (xtabond2 ``e(g_avg)``)."""
        return self.nobs / self.n_groups

    def table_stats(self) -> dict[str, float | int | None]:
        """Rows under the coefficients in :func:`bayes_kfdi.tables.etable`."""
        ar2 = self.ar_test(2)
        return {
            "Groups": self.n_groups,
            "Instruments": self.n_instruments,
            "AR(2) p": ar2.pval if isinstance(ar2, TestStatistic) else None,
            "Hansen p": self.hansen.pval if isinstance(self.hansen, TestStatistic) else None,
        }

    def summary(self) -> ResultTable:
        """Return the xtabond2 printout as a table (text, HTML, LaTeX, Markdown)."""
        from bayes_kfdi.gmm.printout import gmm_summary

        return gmm_summary(self)

    def to_latex(self) -> str:
        """Return the printout as a booktabs LaTeX table."""
        return self.summary().to_latex()

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def wald_text(self) -> str:
        """Header line with the Wald (or F) test."""
        w = self.wald
        if isinstance(w, InapplicableTest):
            return "Wald chi2 = --"
        if w.dist == "F":
            return f"F({int(w.df or 0)}, {self.df_resid}) = {w.stat:.2f}  Prob > F = {w.pval:.3f}"
        return f"Wald chi2({int(w.df or 0)}) = {w.stat:.2f}  Prob > chi2 = {w.pval:.3f}"

    def __str__(self) -> str:
        return self.summary().to_text()

    def __repr__(self) -> str:
        return (f"<SystemGMMResults: {self.model_label} of {self.depvar}, "
                f"{len(self.names)} coefficients, {self.nobs} obs, {self.n_groups} groups, "
                f"{self.n_instruments} instruments, vce={self.vce}>")
