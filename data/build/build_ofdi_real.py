"""Rebuild ``data/ofdi_real.csv`` from ABN2018 and UNCTAD bilateral FDI flows in ``data/raw``.

Run from the repository root: ``python data/build/build_ofdi_real.py``.

Rows: every (source, host, year) with a non-missing ABN2018 net flow, 1988-2012 (the
covariate extracts start in 1988; ABN2018 ends in 2012). Columns:

- series = source economy ISO3, country = host ISO3 (ABN2018's ROM and ZAR recoded to
  ROU and COD), year
- flow_musd: ABN2018 net FDI flow (``FDI_AM``), million US$, as in the raw file
- flow_unctad_musd: the host-reported UNCTAD inflow from that source (2001-2012), NaN
  where UNCTAD has no value or the source is not mapped
- fdi = log(max(1000 * flow_musd, 3)): the flow in thousand US$ with zero, negative
  (net disinvestment) and sub-3-thousand flows coded at the paper's floor log(3)
- floor_coded: True where that floor was applied
- gdp, gdppc, wage, rd, edu, dist_kor_km, distw_kor_km: host covariates built exactly
  as for data/host_covariates.csv (distance is from Korea whatever the source)
- trade columns are absent: no bilateral sector trade exists for these sources.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_host_covariates import RAW, build_covariates  # noqa: E402

from bayes_kfdi.resources import data_dir

DATA_DIR = data_dir()  # the package's shipped data folder

FLOOR_KUSD = 3.0
YEAR_MIN, YEAR_MAX = 1988, 2012

#: Pre-2002 codes used by ABN2018, recoded to current ISO3 so the covariates join.
LEGACY_ISO3: dict[str, str] = {"ROM": "ROU", "ZAR": "COD"}

#: UNCTAD origin names of the 39 ABN2018 source economies.
UNCTAD_ORIGIN: dict[str, str] = {
    "ARG": "Argentina",
    "AUS": "Australia",
    "AUT": "Austria",
    "BEL": "Belgium",
    "BRA": "Brazil",
    "CAN": "Canada",
    "CHE": "Switzerland",
    "CHL": "Chile",
    "CHN": "China",
    "COL": "Colombia",
    "DEU": "Germany",
    "DNK": "Denmark",
    "ESP": "Spain",
    "FIN": "Finland",
    "FRA": "France",
    "GBR": "United Kingdom",
    "GRC": "Greece",
    "IND": "India",
    "IRL": "Ireland",
    "ISL": "Iceland",
    "ISR": "Israel",
    "ITA": "Italy",
    "JPN": "Japan",
    "KOR": "Korea, Republic of",
    "LUX": "Luxembourg",
    "MEX": "Mexico",
    "MYS": "Malaysia",
    "NLD": "Netherlands",
    "NOR": "Norway",
    "NZL": "New Zealand",
    "POL": "Poland",
    "RUS": "Russian Federation",
    "SWE": "Sweden",
    "THA": "Thailand",
    "TUR": "Turkey",
    "TWN": "Taiwan Province of China",
    "USA": "United States",
    "VEN": "Venezuela, Bolivarian Rep. of",
    "ZAF": "South Africa",
}


def build() -> pd.DataFrame:
    """Return the ofdi_real panel."""
    abn = pd.read_csv(RAW / "bilateral_fdi_flows_abn2018.csv.gz")
    abn = abn[abn["FDI_AM"].notna() & abn["year"].between(YEAR_MIN, YEAR_MAX)]
    out = abn.rename(columns={"source": "series", "host": "country", "FDI_AM": "flow_musd"})[
        ["series", "country", "year", "flow_musd"]
    ]
    out["country"] = out["country"].replace(LEGACY_ISO3)
    unc = pd.read_csv(RAW / "unctad_bilateral_fdi_inflows_2001_2012.csv.gz")
    to_iso = {v: k for k, v in UNCTAD_ORIGIN.items()}
    unc = unc[unc["origin_name"].isin(to_iso)].assign(series=lambda d: d["origin_name"].map(to_iso))
    unc = unc.rename(columns={"host": "country", "fdi_inflow_musd": "flow_unctad_musd"})
    unc = unc.groupby(["series", "country", "year"], as_index=False)["flow_unctad_musd"].first()
    out = out.merge(unc, on=["series", "country", "year"], how="left")
    kusd = 1000.0 * out["flow_musd"]
    out["floor_coded"] = kusd < FLOOR_KUSD
    out["fdi"] = np.log(np.maximum(kusd, FLOOR_KUSD))
    cov = build_covariates(sorted(out["country"].unique()))
    out = out.merge(cov, on=["country", "year"], how="left")
    cols = [
        "series",
        "country",
        "year",
        "fdi",
        "gdp",
        "gdppc",
        "wage",
        "rd",
        "edu",
        "flow_musd",
        "flow_unctad_musd",
        "floor_coded",
        "dist_kor_km",
        "distw_kor_km",
    ]
    out = out[cols].sort_values(["series", "country", "year"]).reset_index(drop=True)
    assert math.isclose(float(out["fdi"].min()), math.log(3.0))
    return out


def main() -> None:
    """Write data/ofdi_real.csv."""
    out = build()
    out.to_csv(DATA_DIR / "ofdi_real.csv", index=False)
    print(
        f"ofdi_real.csv: {len(out)} rows, {out['series'].nunique()} sources, "
        f"{out['country'].nunique()} hosts, floor share {out['floor_coded'].mean():.3f}"
    )
    print(out.notna().sum().to_string())


if __name__ == "__main__":
    main()
