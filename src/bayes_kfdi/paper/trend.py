r"""The trend interactions in the paper's own terms.

The paper (section 6) reads the wage x trend interaction for efficiency-seeking FDI as:
"an increase of two standard deviations in host country wages would lead to a 14%
decline in efficiency-seeking FDI" at the start of the period, "only a 4% reduction" by
its end. With the slope ``b(t) = b + g (t - t*)`` of log FDI on log wages, that effect is

.. math::

    \Delta(t) = \exp\{2\,\mathrm{sd}(w)\,[b + g\,(t - t^*)]\} - 1,

a short-run (impact) effect; the lagged outcome is held fixed. Its delta-method standard
error uses the GMM covariance of ``(b, g)``:
``se = exp(.) * 2 sd(w) * sqrt(a' V a)`` with ``a = (1, t - t*)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bayes_kfdi.exceptions import EstimationError
from bayes_kfdi.paper.equations import TREND_SUFFIX

__all__ = ["PAPER_WAGE_EFFECT", "TrendEffect", "two_sd_effect"]

#: The paper's two-sd wage effect on efficiency-seeking FDI (section 6 text): start, end.
PAPER_WAGE_EFFECT: tuple[float, float] = (-0.14, -0.04)


@dataclass(frozen=True, slots=True)
class TrendEffect:
    """Two-sd effects of one covariate at chosen years.

    Attributes
    ----------
    table : one row per year: ``year, slope, slope_se, effect, effect_se, lower, upper,
        lower_log, upper_log, paper, truth`` (effects as proportions: -0.14 is a 14%
        decline). ``lower, upper``: delta method on the proportion scale (can pass
        -100% when the slope is imprecise); ``lower_log, upper_log``: the normal interval
        of ``2 sd b(t)`` transformed by ``exp(.) - 1``.
    term : the covariate ; series : the outcome ; sd : the covariate's sd used
    level : confidence level of ``lower, upper``
    """

    table: pd.DataFrame
    term: str
    series: str
    sd: float
    level: float


def two_sd_effect(
    result: Any,
    *,
    term: str,
    series: str,
    sd: float,
    years: tuple[int, ...],
    reference_year: int,
    truth: dict[str, Any] | None = None,
    paper: tuple[float, ...] | None = None,
    level: float = 0.95,
) -> TrendEffect:
    """Effect of a two-sd rise in ``term`` on FDI in each of ``years``.

    Parameters
    ----------
    result : SystemGMMResults
        A fit whose params include ``term`` and ``<term>_trend``.
    term, series : str
        The covariate (e.g. ``"wage"``) and the outcome series (for the truth).
    sd : float
        Standard deviation of the covariate (the panel's, as in the paper's Table 4).
    years : tuple of int
        Years at which to evaluate, e.g. the first and last year of the sample.
    reference_year : int
        The year the trend is centred at in the fit.
    truth : dict, optional
        Semi-synthetic truth (``beta``, ``beta_trend``, ``reference_year``).
    paper : tuple of float, optional
        The paper's effects for the same years.
    level : float
        Confidence level of the delta-method interval.

    Returns
    -------
    TrendEffect
    """
    inter = f"{term}{TREND_SUFFIX}"
    names = list(result.params.index)
    if term not in names or inter not in names:
        raise EstimationError(
            f"two_sd_effect needs coefficients {term!r} and {inter!r}; the fit has {names}. "
            "Use a trend equation (models/paper/*_trend.toml)."
        )
    if not (sd > 0 and math.isfinite(sd)):
        raise EstimationError(f"sd={sd}; expected a positive finite standard deviation.")
    b = result.params[[term, inter]].to_numpy(float)
    v = result.cov.loc[[term, inter], [term, inter]].to_numpy(float)
    q = float(stats.norm.ppf(0.5 + level / 2))
    rows = []
    for i, year in enumerate(years):
        a = np.array([1.0, float(year - reference_year)])
        slope = float(a @ b)
        slope_se = float(math.sqrt(max(a @ v @ a, 0.0)))
        eff = math.expm1(2 * sd * slope)
        eff_se = math.exp(2 * sd * slope) * 2 * sd * slope_se
        tr = math.nan
        if truth is not None and term in truth.get("beta", {}).get(series, {}):
            t_ref = truth.get("reference_year", reference_year)
            g = truth.get("beta_trend", {}).get(series, {}).get(term, 0.0)
            tr = math.expm1(2 * sd * (truth["beta"][series][term] + g * (year - t_ref)))
        rows.append(
            {
                "year": int(year),
                "slope": slope,
                "slope_se": slope_se,
                "effect": eff,
                "effect_se": eff_se,
                "lower": eff - q * eff_se,
                "upper": eff + q * eff_se,
                # the same interval built on the log scale and transformed: stays above -100%
                "lower_log": math.expm1(2 * sd * (slope - q * slope_se)),
                "upper_log": math.expm1(2 * sd * (slope + q * slope_se)),
                "paper": paper[i] if paper is not None and i < len(paper) else math.nan,
                "truth": tr,
            }
        )
    return TrendEffect(pd.DataFrame(rows), term, series, float(sd), level)
