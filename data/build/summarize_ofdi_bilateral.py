"""Print the coverage, flow-sign and collinearity figures of ``ofdi_bilateral.csv``.

Run from the repository root after the build: ``python data/build/summarize_ofdi_bilateral.py``.
Reads only the shipped file (and ABN2018's raw file for the count of unreported cells);
writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayes_kfdi.multisource.panel import SelectionConfig, select_panel
from bayes_kfdi.resources import data_dir

ROOT = Path(__file__).resolve().parents[2]
ABN_RAW = ROOT / "data" / "raw" / "bilateral_fdi_flows_abn2018.csv.gz"
PAIRS = (("wage", "gdppc"), ("gdp", "gdppc"), ("pop", "gdppc"))


def within_corr(frame: pd.DataFrame, a: str, b: str) -> tuple[float, int, int]:
    """Correlation of a and b after removing host means: (r, host-years, hosts)."""
    d = frame.drop_duplicates(["country", "year"]).dropna(subset=[a, b])
    dm = d[[a, b]] - d.groupby("country")[[a, b]].transform("mean")
    return float(dm[a].corr(dm[b])), len(d), int(d["country"].nunique())


def per_source(panel: pd.DataFrame) -> pd.DataFrame:
    """Rows, flow-sign shares, unreported cells and trade coverage by source."""
    shares = pd.crosstab(panel["series"], panel["flow_sign"], normalize="index")
    out = pd.DataFrame({"rows": panel.groupby("series").size()})
    out = out.join(shares[["negative", "zero", "below_floor"]])
    out["floor"] = panel.groupby("series")["floor_coded"].mean()
    abn = pd.read_csv(ABN_RAW)
    abn = abn[abn["year"].between(1988, 2012) & abn["FDI_AM"].isna()]
    out["unreported"] = abn.groupby("source").size()
    out["pair_rows"] = panel.groupby("series")["agtpa_pair"].sum()
    out["trade_rows"] = panel.groupby("series")["trade_obs"].sum()
    out["to_impute"] = out["pair_rows"] - out["trade_rows"]
    return out.fillna(0)


def main() -> None:
    """Print the figures."""
    panel = pd.read_csv(data_dir() / "ofdi_bilateral.csv")
    upto = panel[panel["year"] <= 2006]
    trade = upto[upto["trade_obs"]]
    print(f"rows {len(panel)}; up to 2006 {len(upto)}; with trade {len(trade)} "
          f"({trade['series'].nunique()} sources, {trade['country'].nunique()} hosts)")  # fmt: skip
    pairs = panel[panel["agtpa_pair"]]
    print(f"AGTPA-pair rows {len(pairs)}; 2007-2012 {int((pairs['year'] > 2006).sum())}")
    print("flow_sign:", panel["flow_sign"].value_counts().to_dict())
    selection = select_panel(panel, SelectionConfig(min_sources_per_host=7))
    for label, frame in (("all host-years", panel), ("multi-source default", selection.frame)):
        for a, b in PAIRS:
            r, n, hosts = within_corr(frame, a, b)
            print(f"{label}: within-host corr({a}, {b}) = {r:.3f} ({n} host-years, {hosts} hosts)")
    print(per_source(panel).round(3).to_string())


if __name__ == "__main__":
    main()
