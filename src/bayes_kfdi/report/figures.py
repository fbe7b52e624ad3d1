"""Figures for the report. Functions take tidy tables or a fit's tree and return a Figure.

arviz-plots (matplotlib backend) draws what it has a plot for, straight from the fit's
DataTree: the Pareto-k diagnostic (:func:`pareto_k_plot`, ``plot_khat``) and the
predictive check of the outcome's distribution (:func:`ppc_dist_plot`,
``plot_ppc_dist``). The rest are drawn with matplotlib by hand, each for a reason:

- :func:`forest_plot`, :func:`source_forest_plot`: ``plot_forest`` draws posterior
  draws only; these overlay GMM point estimates and Wald intervals (and ROPE bands) on
  the posterior intervals, row by row, from the report's claim table.
- :func:`ppc_plot`: per-series statistics (share at the floor, mean, sd) of a
  long-format outcome whose series is a coordinate of the observation dim, not a dim
  arviz-plots can facet on; the table is the report's one predictive-check table.
- :func:`slope_path_plot`, :func:`wage_effect_plot`, :func:`contrast_plot`: bands over
  years with a GMM line, bars by method and period, and derived contrasts have no
  arviz-plots counterpart.

Nothing here writes files; :mod:`bayes_kfdi.report.render` saves and embeds figures.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = [
    "forest_plot",
    "slope_path_plot",
    "ppc_plot",
    "wage_effect_plot",
    "source_forest_plot",
    "contrast_plot",
    "pareto_k_plot",
    "ppc_dist_plot",
]

BAYES_COLOR = "#1f5f9e"
GMM_COLOR = "#c2571a"
PAPER_COLOR = "#444444"
ROPE_COLOR = "#d9d9d9"


def _forest_axis(ax: plt.Axes, table: pd.DataFrame, xlabel: str) -> None:
    n = len(table)
    ypos = np.arange(n)[::-1].astype(float)
    for y, row in zip(ypos, table.itertuples(index=False), strict=True):
        if np.isfinite(row.rope_low) and np.isfinite(row.rope_high):
            ax.fill_betweenx([y - 0.4, y + 0.4], row.rope_low, row.rope_high,
                             color=ROPE_COLOR, zorder=0)
        if pd.notna(row.bayes_mean):
            ax.plot([row.hdi_low, row.hdi_high], [y + 0.12] * 2, color=BAYES_COLOR, lw=2.5)
            ax.plot(row.bayes_mean, y + 0.12, "o", color=BAYES_COLOR)
        if pd.notna(row.gmm_coef):
            if pd.notna(row.gmm_ci_low):
                ax.plot([row.gmm_ci_low, row.gmm_ci_high], [y - 0.12] * 2, color=GMM_COLOR,
                        lw=2.5)
            ax.plot(row.gmm_coef, y - 0.12, "s", color=GMM_COLOR)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(ypos, [str(c) for c in table["claim"]])
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)


def forest_plot(table: pd.DataFrame, *, title: str, ci_prob: float) -> Figure:
    """Bayesian mean and HDI beside the GMM estimate and interval, one row per claim.

    Level slopes and per-year trends get separate panels, since their scales differ by
    an order of magnitude.

    Parameters
    ----------
    table : pandas.DataFrame
        A ``HypothesisResult.table``.
    title : str
        Figure title.
    ci_prob : float
        Interval probability, for the legend.
    """
    parts = [
        (table[table["component"] == "level"], "slope (per unit of log covariate)"),
        (table[table["component"] == "trend"], "trend of slope (per year)"),
    ]
    parts = [(t, x) for t, x in parts if len(t)]
    heights = [len(t) + 0.6 for t, _ in parts]
    fig, axes = plt.subplots(len(parts), 1, figsize=(7.5, 0.6 * sum(heights) + 1.6), dpi=100,
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    for ax, (sub, xlabel) in zip(axes[:, 0], parts, strict=True):
        _forest_axis(ax, sub, xlabel)
    ax = axes[0, 0]
    fig.suptitle(title, fontsize=11)
    pct = f"{ci_prob:.0%}"
    ax.plot([], [], "o-", color=BAYES_COLOR, label=f"Bayes: mean, {pct} HDI")
    ax.plot([], [], "s-", color=GMM_COLOR, label=f"GMM: estimate, {pct} Windmeijer CI")
    ax.fill_between([], [], color=ROPE_COLOR, label="ROPE (practically zero)")
    ax.legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def slope_path_plot(frame: pd.DataFrame, *, title: str) -> Figure:
    """Posterior bands of a slope over years, with the GMM trend-interaction line.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`bayes_kfdi.report.tables.slope_path_frame`.
    title : str
        Figure title.
    """
    fig, ax = plt.subplots(figsize=(7.0, 3.8), dpi=100)
    if len(frame):
        x = frame["year"].to_numpy(dtype=float)
        ax.fill_between(x, frame["hdi90_low"], frame["hdi90_high"], color=BAYES_COLOR, alpha=0.2,
                        label="Bayes 90% band")
        ax.fill_between(x, frame["hdi50_low"], frame["hdi50_high"], color=BAYES_COLOR, alpha=0.35,
                        label="Bayes 50% band")
        ax.plot(x, frame["median"], color=BAYES_COLOR, lw=2, label="Bayes median")
        if frame["gmm"].notna().any():
            ax.plot(x, frame["gmm"], color=GMM_COLOR, lw=2, ls="--",
                    label="GMM: coefficient + trend interaction")
    else:
        ax.text(0.5, 0.5, "no time-varying slope in the posterior", ha="center",
                transform=ax.transAxes)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("slope")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def ppc_plot(frame: pd.DataFrame, *, title: str) -> Figure:
    """Observed statistics against their posterior predictive 90% intervals, by series.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`bayes_kfdi.report.tables.ppc_frame`.
    title : str
        Figure title.
    """
    stats_ = list(dict.fromkeys(frame["statistic"])) if len(frame) else []
    fig, axes = plt.subplots(1, max(len(stats_), 1), figsize=(3.4 * max(len(stats_), 1), 3.6),
                             dpi=100, squeeze=False)
    if not stats_:
        axes[0, 0].text(0.5, 0.5, "no posterior predictive draws", ha="center",
                        transform=axes[0, 0].transAxes)
    for ax, name in zip(axes[0], stats_, strict=False):
        sub = frame[frame["statistic"] == name]
        y = np.arange(len(sub))[::-1]
        ax.hlines(y, sub["rep_q05"], sub["rep_q95"], color=BAYES_COLOR, lw=3,
                  label="replicated 90%")
        ax.plot(sub["rep_median"], y, "|", color=BAYES_COLOR, ms=10)
        ax.plot(sub["observed"], y, "x", color="black", label="observed")
        ax.set_yticks(y, list(sub["series"]))
        ax.set_title(name)
    axes[0, 0].legend(loc="best", fontsize=7, frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def wage_effect_plot(table: pd.DataFrame, *, title: str) -> Figure:
    """Percent change in FDI after the wage rise, start vs end of period, by method.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`bayes_kfdi.report.tables.wage_effect_table`.
    title : str
        Figure title.
    """
    fig, ax = plt.subplots(figsize=(6.0, 3.6), dpi=100)
    colors = {"paper": PAPER_COLOR, "Bayes": BAYES_COLOR, "GMM": GMM_COLOR}
    methods = list(dict.fromkeys(table["method"])) if len(table) else []
    width = 0.8 / max(len(methods), 1)
    for i, m in enumerate(methods):
        sub = table[table["method"] == m]
        offset = (i - (len(methods) - 1) / 2) * width
        x = np.array([0 if p == "start" else 1 for p in sub["period"]]) + offset
        eff = sub["effect_pct"].to_numpy(dtype=float)
        lo = sub["low_pct"].to_numpy(dtype=float)
        hi = sub["high_pct"].to_numpy(dtype=float)
        ax.bar(x, eff, width=width * 0.9, color=colors.get(m, "grey"), alpha=0.8, label=m)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.errorbar(x[ok], eff[ok], yerr=[eff[ok] - lo[ok], hi[ok] - eff[ok]], fmt="none",
                        ecolor="black", capsize=3)
    ax.axhline(0, color="black", lw=0.8)
    finite = table[["effect_pct"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        # the axis follows the point estimates; an interval that runs beyond is cut
        # (the table gives its ends)
        span = max(float(np.abs(finite).max()) * 1.5, 20.0)
        ax.set_ylim(-span, span)
    ax.set_xticks([0, 1], ["start of period", "end of period"])
    ax.set_ylabel("change in FDI (%)")
    ax.set_title(title)
    if methods:
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _plain(label: object) -> str:
    """Tick label from user data: escape ``$`` so matplotlib does not parse mathtext."""
    return str(label).replace("$", r"\$")


def _interval_rows(ax: plt.Axes, ypos: np.ndarray, mid: pd.Series, lo: pd.Series,
                   hi: pd.Series, *, color: str, marker: str) -> None:
    for y, m, a, b in zip(ypos, mid, lo, hi, strict=True):
        if pd.notna(a) and pd.notna(b):
            ax.plot([a, b], [y, y], color=color, lw=2.5)
        if pd.notna(m):
            ax.plot(m, y, marker, color=color)


def _by_term_axes(terms: list[str], n_rows: int, title: str) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, max(len(terms), 1), figsize=(3.8 * max(len(terms), 1) + 1,
                             0.42 * n_rows + 1.8), dpi=100, squeeze=False, sharey=True)
    fig.suptitle(title, fontsize=11)
    return fig, axes[0]


def source_forest_plot(table: pd.DataFrame, *, title: str, ci_prob: float) -> Figure:
    """Per-source slopes: Bayesian mean and interval, GMM estimate and CI overlaid.

    One panel per term, one row per source (in table order).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``source, term, mean, hdi_low, hdi_high`` (Bayes) and ``gmm_coef, gmm_ci_low,
        gmm_ci_high`` (NaN where the source has no GMM estimate).
    title : str
        Figure title.
    ci_prob : float
        Interval probability, for the legend.
    """
    terms = list(dict.fromkeys(table["term"]))
    sources = list(dict.fromkeys(table["source"]))
    fig, axes = _by_term_axes(terms, len(sources), title)
    ypos = np.arange(len(sources))[::-1].astype(float)
    pct = f"{ci_prob:.0%}"
    for ax, term in zip(axes, terms, strict=False):
        sub = table[table["term"] == term].set_index("source").reindex(sources)
        _interval_rows(ax, ypos + 0.12, sub["mean"], sub["hdi_low"], sub["hdi_high"],
                       color=BAYES_COLOR, marker="o")
        _interval_rows(ax, ypos - 0.12, sub["gmm_coef"], sub["gmm_ci_low"],
                       sub["gmm_ci_high"], color=GMM_COLOR, marker="s")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(term, fontsize=10)
        ax.set_xlabel("slope (per unit of log covariate)")
    axes[0].set_yticks(ypos, [_plain(s) for s in sources])
    axes[0].set_ylim(-0.7, len(sources) - 0.3)
    axes[0].plot([], [], "o-", color=BAYES_COLOR, label=f"Bayes: mean, {pct} interval")
    axes[0].plot([], [], "s-", color=GMM_COLOR, label=f"GMM: estimate, {pct} CI")
    axes[0].legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def contrast_plot(table: pd.DataFrame, *, title: str, reference: str, ci_prob: float) -> Figure:
    """Posterior of each source's slope minus the reference source's, per term.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``source, term, mean, hdi_low, hdi_high`` (from
        :func:`bayes_kfdi.multisource.analysis.contrasts`).
    title : str
        Figure title.
    reference : str
        The reference source, for the axis label.
    ci_prob : float
        Interval probability, for the legend.
    """
    terms = list(dict.fromkeys(table["term"])) if len(table) else []
    sources = list(dict.fromkeys(table["source"])) if len(table) else []
    fig, axes = _by_term_axes(terms, len(sources), title)
    if not terms:
        axes[0].text(0.5, 0.5, "no other source to compare", ha="center",
                     transform=axes[0].transAxes)
        return fig
    ypos = np.arange(len(sources))[::-1].astype(float)
    for ax, term in zip(axes, terms, strict=False):
        sub = table[table["term"] == term].set_index("source").reindex(sources)
        _interval_rows(ax, ypos, sub["mean"], sub["hdi_low"], sub["hdi_high"], color=BAYES_COLOR,
                       marker="o")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(term, fontsize=10)
        ax.set_xlabel(f"slope minus {reference}'s")
    axes[0].set_yticks(ypos, [_plain(s) for s in sources])
    axes[0].set_ylim(-0.7, len(sources) - 0.3)
    axes[0].plot([], [], "o-", color=BAYES_COLOR, label=f"mean, {ci_prob:.0%} interval")
    axes[0].legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _arviz_figure(plot_collection: object, title: str) -> Figure:
    fig = plot_collection.viz["figure"].item()  # type: ignore[attr-defined]
    fig.suptitle(title, fontsize=11)
    return fig


def pareto_k_plot(tree: object, *, title: str) -> Figure:
    """Pareto k of each observation's PSIS-LOO weights, with the fit's threshold.

    The threshold is sample-size aware (``min(1 - 1/log10(S), 0.7)``, the ``good_k`` of
    :func:`arviz_stats.loo`); LOO is the fit's cached one
    (:func:`bayes_kfdi.bayes.compare.fit_loo`).

    Parameters
    ----------
    tree : xarray.DataTree
        A fit with a ``log_likelihood`` group.
    title : str
        Figure title.
    """
    import arviz_plots as azp

    from bayes_kfdi.bayes.compare import bad_k_count, fit_loo

    elpd = fit_loo(tree)  # type: ignore[arg-type]
    n_bad, good, _ = bad_k_count(elpd)
    pc = azp.plot_khat(elpd, threshold=good, backend="matplotlib")
    return _arviz_figure(pc, f"{title} ({n_bad} of {elpd.n_data_points} above {good:.2f})")


def ppc_dist_plot(tree: object, *, title: str, num_samples: int = 50) -> Figure:
    """Empirical CDF of the observed outcome over replicated ones (``plot_ppc_dist``).

    An ECDF rather than a density, since floor-coded outcomes put a point mass at the
    floor that a kernel density smears.

    Parameters
    ----------
    tree : xarray.DataTree
        A fit with ``posterior_predictive`` and ``observed_data`` groups.
    title : str
        Figure title.
    num_samples : int
        Replicated data sets drawn.
    """
    import arviz_plots as azp

    pc = azp.plot_ppc_dist(tree, var_names=["fdi"], kind="ecdf", num_samples=num_samples,
                           backend="matplotlib")
    return _arviz_figure(pc, title)
