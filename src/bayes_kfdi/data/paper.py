"""The paper's Tables 2, 3 and 4 as data, and the Table 4 comparison for a panel.

The tables are copied into ``<repo>/data/paper/`` from the published article
(see ``data/PROVENANCE.md``). Term names follow the canonical schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayes_kfdi.constants import PAPER_SERIES
from bayes_kfdi.data.load import data_dir

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
#: Relative tolerance of the calibration targets (issue 3: within 15% of Table 4).
CALIBRATION_RTOL = 0.15


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
        True for the statistics the semi-synthetic panel is calibrated to (the outcome
        and trade rows), ``within_tol``: whether mean, sd and min of a calibrated row
        are all within :data:`CALIBRATION_RTOL` of the paper's (NaN otherwise).
    """
    paper = table4()
    ours = panel.describe()
    merged = paper.merge(ours, on=["variable", "sector"], how="left", suffixes=("_paper", "_ours"))
    out = pd.DataFrame({"variable": merged["variable"], "sector": merged["sector"]})
    for stat in ("obs", "mean", "sd", "min", "max"):
        out[f"paper_{stat}"] = merged[f"{stat}_paper"]
        out[f"ours_{stat}"] = merged[f"{stat}_ours"]
    calibrated = out["variable"].isin(["fdi", "exports", "exunit", "imports", "imunit"])
    out["calibrated"] = calibrated
    ok = np.ones(len(out), dtype=bool)
    for stat in ("mean", "sd", "min"):
        p, o = out[f"paper_{stat}"].to_numpy(float), out[f"ours_{stat}"].to_numpy(float)
        denom = np.maximum(np.abs(p), 1e-12)
        ok &= np.abs(o - p) <= CALIBRATION_RTOL * denom
    out["within_tol"] = pd.array(np.where(calibrated, ok, pd.NA), dtype="boolean")
    return out


def format_table4_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Compact text view of :func:`compare_table4` for a terminal: "paper / ours" cells.

    Columns ``variable, sector, obs, mean, sd, min, max, ok`` where ``ok`` is "yes"/"NO"
    for calibrated rows and empty otherwise.
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
    return out


__all__ = [
    "CALIBRATION_RTOL",
    "format_table4_comparison",
    "PAPER_OUTCOMES",
    "PAPER_TERMS",
    "compare_table4",
    "is_paper_shaped",
    "paper_coefficients",
    "table2",
    "table3",
    "table4",
    "table_footers",
]
