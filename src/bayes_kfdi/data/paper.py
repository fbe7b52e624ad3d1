"""The paper's Tables 2, 3 and 4 as data, and the Table 4 comparison for a panel.

The tables are copied into the shipped data folder's ``paper/`` from the published
article (see its ``PROVENANCE.md``). Term names follow the canonical schema. The
comparison also puts the panel's trade next to real Korean trade (HS85 unit values,
AGTPA volumes; :mod:`bayes_kfdi.data.trade_calibration`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_kfdi.constants import COUNTRY, PAPER_SERIES, SERIES, YEAR
from bayes_kfdi.data.load import data_dir
from bayes_kfdi.data.trade_calibration import calibration_targets, trade_statistics

if TYPE_CHECKING:
    from bayes_kfdi.data.panel import PanelData

#: Paper variable name -> canonical term.
PAPER_TERMS: dict[str, str] = {
    "GDP": "gdp",
    "GDPPC": "gdppc",
    "WAGE": "wage",
    "RD": "rd",
    "EDU": "edu",
    "EXPORT": "exports",
    "EXUNIT": "exunit",
    "IMPORT": "imports",
    "IMUNIT": "imunit",
    "_cons": "_cons",
}
#: Table 4 outcome names -> series.
PAPER_OUTCOMES: dict[str, str] = {
    "TXFDI": "textile",
    "STFDI": "steel",
    "ELFDI": "electronics",
    "MKFDI": "electronics_market",
    "TECHFDI": "electronics_technology",
    "EFFDI": "electronics_efficiency",
}
_TABLE_COLUMNS = {
    "table2": {"textile": "textile", "steel": "steel", "electronics": "electronics"},
    "table3": {
        "market": "electronics_market",
        "technology": "electronics_technology",
        "efficiency": "electronics_efficiency",
    },
}
#: Relative tolerance of the calibration targets: within 15% of Table 4 or the real figure.
CALIBRATION_RTOL = 0.15
#: Real-trade statistics compared per trade variable: (source, statistics). The
#: electronics unit values are calibrated to HS85 instead of Table 4's near-constant columns.
REAL_TRADE_CHECKS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (v, sector): ("agtpa", ("within_yoy_sd", "growth_sd"))
    for v in ("exports", "imports")
    for sector in ("textile", "steel", "electronics")
} | {
    ("exunit", "electronics"): ("hs85", ("cross_host_sd", "median_abs_yoy")),
    ("imunit", "electronics"): ("hs85", ("cross_host_sd", "median_abs_yoy")),
}
_STAT_LABELS = {
    "within_yoy_sd": "dy sd",
    "growth_sd": "growth sd",
    "cross_host_sd": "x-host sd",
    "median_abs_yoy": "med |dy|",
}


def _paper_file(name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir() / "paper" / name, dtype={"textile_stars": str})


def _coef_table(file: str, key: str) -> pd.DataFrame:
    raw = _paper_file(file)
    rows = []
    for _, r in raw.iterrows():
        for prefix, series in _TABLE_COLUMNS[key].items():
            stars = r.get(f"{prefix}_stars")
            rows.append(
                {
                    "series": series,
                    "term": PAPER_TERMS[r["variable"]],
                    "coef": float(r[f"{prefix}_coef"]),
                    "se": float(r[f"{prefix}_se"]),
                    "stars": "" if not isinstance(stars, str) else stars,
                }
            )
    return pd.DataFrame(rows)


def table2() -> pd.DataFrame:
    """Table 2 (sectors), long: ``series, term, coef, se, stars`` (system GMM, two-step)."""
    return _coef_table("table2_sector.csv", "table2")


def table3() -> pd.DataFrame:
    """Table 3 (electronics motives), long: ``series, term, coef, se, stars``."""
    return _coef_table("table3_motive.csv", "table3")


def paper_coefficients() -> pd.DataFrame:
    """Tables 2 and 3 stacked: every series' slopes and constant as the paper reports them."""
    return pd.concat([table2(), table3()], ignore_index=True)


def table_footers() -> pd.DataFrame:
    """Return the footers of Tables 2 and 3, one column per series.

    Rows: n_obs, n_groups, AR(1)/AR(2) z and p, ID test, number of instruments.
    """
    t2 = _paper_file("table2_sector_footer.csv").set_index("statistic")
    t3 = _paper_file("table3_motive_footer.csv").set_index("statistic")
    t3 = t3.rename(columns=_TABLE_COLUMNS["table3"])
    return pd.concat([t2, t3], axis=1)


def table4() -> pd.DataFrame:
    """Table 4 (summary statistics) with canonical names.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, sector, obs, mean, sd, min, max`` in the layout of
        :meth:`PanelData.describe`: outcomes as ``variable="fdi"`` with the series as
        ``sector``, host covariates with an empty sector, trade per sector. The paper's
        ``country`` and ``year`` rows are dropped.
    """
    raw = _paper_file("table4_summary.csv")
    raw = raw[~raw["variable"].isin(["country", "year"])].copy()
    is_fdi = raw["variable"].isin(list(PAPER_OUTCOMES))
    raw["sector"] = raw["sector"].fillna("").astype(str)
    raw.loc[is_fdi, "sector"] = raw.loc[is_fdi, "variable"].map(PAPER_OUTCOMES)
    raw.loc[is_fdi, "variable"] = "fdi"
    raw.loc[~is_fdi, "variable"] = raw.loc[~is_fdi, "variable"].map(PAPER_TERMS)
    raw["obs"] = raw["obs"].astype(int)
    return raw[["variable", "sector", "obs", "mean", "sd", "min", "max"]].reset_index(drop=True)


def is_paper_shaped(panel: PanelData) -> bool:
    """Return True if the panel's series are exactly ``constants.PAPER_SERIES``."""
    return set(panel.series) == set(PAPER_SERIES)


def compare_real_trade(panel: PanelData) -> pd.DataFrame:
    """Put the panel's trade next to real Korean trade (:data:`REAL_TRADE_CHECKS`).

    Each statistic is measured on the sector's aggregate series as a host x year array
    (:func:`bayes_kfdi.data.trade_calibration.trade_statistics`).

    Returns
    -------
    pandas.DataFrame
        ``variable, sector, source, statistic, real, ours, within_tol`` (``ours`` within
        :data:`CALIBRATION_RTOL` of ``real``); no rows for variables the panel lacks.
    """
    targets = calibration_targets()
    f = panel.frame
    rows = []
    for (v, sector), (source, stats) in REAL_TRADE_CHECKS.items():
        if v not in f.columns or SERIES not in f.columns or sector not in set(f[SERIES]):
            continue
        g = f[f[SERIES] == sector].pivot(index=COUNTRY, columns=YEAR, values=v)
        got = trade_statistics(g.to_numpy(float))
        real = targets[source]["exunit" if v == "exunit" else "imunit" if v == "imunit" else v]
        for stat in stats:
            r, o = float(real[stat]), float(got[stat])
            rows.append(
                {
                    "variable": v,
                    "sector": sector,
                    "source": source.upper(),
                    "statistic": stat,
                    "real": r,
                    "ours": o,
                    "within_tol": bool(abs(o - r) <= CALIBRATION_RTOL * abs(r)),
                }
            )
    cols = ["variable", "sector", "source", "statistic", "real", "ours", "within_tol"]
    return pd.DataFrame(rows, columns=cols)


def compare_table4(panel: PanelData) -> pd.DataFrame:
    """Put the paper's Table 4 next to the same statistics of ``panel``.

    Parameters
    ----------
    panel : PanelData
        A paper-shaped panel (series = ``constants.PAPER_SERIES``).

    Returns
    -------
    pandas.DataFrame
        One row per Table 4 variable: ``variable, sector``, then ``obs, mean, sd, min``
        for the paper (``paper_*``) and for the panel (``ours_*``), and ``calibrated``:
        True for the statistics the semi-synthetic panel is calibrated to Table 4 (the
        outcome and trade rows except the electronics unit values), ``within_tol``:
        whether mean, sd and min of a calibrated row are all within
        :data:`CALIBRATION_RTOL` of the paper's (NaN otherwise). ``real`` ("real / ours"
        text) and ``real_ok`` summarise :func:`compare_real_trade` for the trade rows.
    """
    paper = table4()
    ours = panel.describe()
    merged = paper.merge(ours, on=["variable", "sector"], how="left", suffixes=("_paper", "_ours"))
    out = pd.DataFrame({"variable": merged["variable"], "sector": merged["sector"]})
    for stat in ("obs", "mean", "sd", "min", "max"):
        out[f"paper_{stat}"] = merged[f"{stat}_paper"]
        out[f"ours_{stat}"] = merged[f"{stat}_ours"]
    calibrated = out["variable"].isin(["fdi", "exports", "exunit", "imports", "imunit"])
    calibrated &= ~(out["variable"].isin(["exunit", "imunit"]) & (out["sector"] == "electronics"))
    out["calibrated"] = calibrated
    ok = np.ones(len(out), dtype=bool)
    for stat in ("mean", "sd", "min"):
        p, o = out[f"paper_{stat}"].to_numpy(float), out[f"ours_{stat}"].to_numpy(float)
        denom = np.maximum(np.abs(p), 1e-12)
        ok &= np.abs(o - p) <= CALIBRATION_RTOL * denom
    out["within_tol"] = pd.array(np.where(calibrated, ok, pd.NA), dtype="boolean")
    real = compare_real_trade(panel)
    text, real_ok = {}, {}
    for (v, sector), g in real.groupby(["variable", "sector"], sort=False):
        text[(v, sector)] = f"{g['source'].iloc[0]}: " + "; ".join(
            f"{_STAT_LABELS[st]} {r:.3g} / {o:.3g}"
            for st, r, o in zip(g["statistic"], g["real"], g["ours"], strict=True)
        )
        real_ok[(v, sector)] = bool(g["within_tol"].all())
    keys = list(zip(out["variable"], out["sector"], strict=True))
    out["real"] = [text.get(k, "") for k in keys]
    out["real_ok"] = pd.array([real_ok.get(k, pd.NA) for k in keys], dtype="boolean")
    return out


def format_table4_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Compact text view of :func:`compare_table4` for a terminal: "paper / ours" cells.

    Columns ``variable, sector, obs, mean, sd, min, max, ok`` where ``ok`` is "yes"/"NO"
    for calibrated rows and empty otherwise, then ``real / ours`` (real Korean trade
    against the panel, where compared) and ``real ok``.
    """
    short = {
        "electronics_market": "el_market",
        "electronics_technology": "el_technology",
        "electronics_efficiency": "el_efficiency",
    }
    out = pd.DataFrame(
        {
            "variable": table["variable"],
            "sector": table["sector"].map(lambda v: short.get(v, v)),
        }
    )
    for stat in ("obs", "mean", "sd", "min", "max"):
        fmt = "{:.0f}" if stat == "obs" else "{:.3g}"
        out[stat] = [
            f"{fmt.format(p)} / {fmt.format(o)}"
            for p, o in zip(table[f"paper_{stat}"], table[f"ours_{stat}"], strict=True)
        ]
    out["ok"] = ["" if pd.isna(v) else ("yes" if bool(v) else "NO") for v in table["within_tol"]]
    if "real" in table.columns:
        out["real / ours"] = table["real"].to_numpy()
        out["real ok"] = [
            "" if pd.isna(v) else ("yes" if bool(v) else "NO") for v in table["real_ok"]
        ]
    return out


__all__ = [
    "CALIBRATION_RTOL",
    "format_table4_comparison",
    "PAPER_OUTCOMES",
    "PAPER_TERMS",
    "REAL_TRADE_CHECKS",
    "compare_real_trade",
    "compare_table4",
    "is_paper_shaped",
    "paper_coefficients",
    "table2",
    "table3",
    "table4",
    "table_footers",
]
