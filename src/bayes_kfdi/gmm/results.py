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

__all__ = ["SystemGMMResults"]

Test = TestStatistic | InapplicableTest


@dataclass(frozen=True, slots=True)
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
        """Confidence intervals (normal, or t under ``small``)."""
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

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table: estimate, std_error, stat, pvalue, lower, upper."""
        ci = self.conf_int(self.command.level / 100)
        return pd.DataFrame({
            "estimate": self.params, "std_error": self.std_errors, "stat": self.tstats,
            "pvalue": self.pvalues, "lower": ci["lower"], "upper": ci["upper"],
        })

    # -- output -------------------------------------------------------------------
    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON contract of ``shared/SCHEMA.md`` section 2 (null if inapplicable)."""
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

    def summary(self) -> str:
        """xtabond2-like text table."""
        c = self.command
        kind = "system" if c.system else "difference"
        step = "Two-step" if c.twostep else "One-step"
        transform = "orthogonal deviations" if c.orthogonal else "first differences"
        lines = [
            f"Dynamic panel-data estimation, {step.lower()} {kind} GMM",
            "-" * 78,
            f"Group variable: {self._ent():<28} Number of obs      = {self.nobs:>8}",
            f"Transformation: {transform:<28} Number of groups   = {self.n_groups:>8}",
            f"Number of instruments = {self.n_instruments:<20} "
            f"Obs per group: min = {self.g_min:>6}",
            f"{self.wald_text():<44} max = {self.g_max:>6}",
            "-" * 78,
        ]
        hdr_se = {"windmeijer": "Corrected", "robust": "Robust", "nonrobust": ""}[self.vce]
        stat = "t" if self.df_resid is not None else "z"
        pcol = "P>|" + stat + "|"
        lines.append(f"{'':>14} | {'Coef.':>10} {hdr_se + ' Std. Err.':>18} {stat:>7} "
                     f"{pcol:>7}  [{c.level:g}% Conf. Interval]")
        lines.append("-" * 78)
        tab = self.to_frame()
        for name, row in tab.iterrows():
            lines.append(f"{name:>14} | {row.estimate:>10.7f} {row.std_error:>18.7f} "
                         f"{row.stat:>7.2f} {row.pvalue:>7.3f}  {row.lower:>10.7f} "
                         f"{row.upper:>10.7f}")
        lines.append("-" * 78)
        for i, t in enumerate(self.ar_tests, start=1):
            lines.append(f"Arellano-Bond test for AR({i}) in first differences: " + _fmt_z(t))
        lines.append("-" * 78)
        lines.append("Sargan test of overid. restrictions: " + _fmt_chi(self.sargan))
        lines.append("  (Not robust, but not weakened by many instruments.)")
        lines.append("Hansen test of overid. restrictions: " + _fmt_chi(self.hansen))
        lines.append("  (Robust, but weakened by many instruments.)")
        if self.hansen_implausible:
            lines.append("  WARNING: Hansen p-value implausibly close to 1 (too many instruments?)")
        if self.diff_hansen:
            lines.append("")
            lines.append("Difference-in-Hansen tests of exogeneity of instrument subsets:")
            for label, val in self.diff_hansen.items():
                lines.append(f"  {label}")
                if isinstance(val, InapplicableTest):
                    lines.append("    --")
                else:
                    lines.append("    Hansen test excluding group:     " + _fmt_chi(val[0]))
                    lines.append("    Difference (null H = exogenous): " + _fmt_chi(val[1]))
        return "\n".join(lines)

    def wald_text(self) -> str:
        """Header line with the Wald (or F) test."""
        w = self.wald
        if isinstance(w, InapplicableTest):
            return "Wald chi2 = --"
        if w.dist == "F":
            return f"F({int(w.df or 0)}, {self.df_resid}) = {w.stat:.2f}  Prob > F = {w.pval:.3f}"
        return f"Wald chi2({int(w.df or 0)}) = {w.stat:.2f}  Prob > chi2 = {w.pval:.3f}"

    def _ent(self) -> str:
        return self.group_var

    def __str__(self) -> str:
        return self.summary()


def _fmt_z(t: Test) -> str:
    if isinstance(t, InapplicableTest):
        return "z = --  Pr > z = --"
    return f"z = {t.stat:6.2f}  Pr > z = {t.pval:6.3f}"


def _fmt_chi(t: Test) -> str:
    if isinstance(t, InapplicableTest):
        return "chi2 = --"
    return f"chi2({int(t.df or 0)}) = {t.stat:8.2f}  Prob > chi2 = {t.pval:6.3f}"
