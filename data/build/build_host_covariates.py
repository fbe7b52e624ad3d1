"""Rebuild ``data/host_covariates.csv`` from the raw PWT, WDI and CEPII files in ``data/raw``.

Run from the repository root: ``python data/build/build_host_covariates.py``.
Definitions (the paper's Table 1, logs; see ``data/PROVENANCE.md``):

- gdp   = log(GDP, PPP, current international $, millions)  WDI NY.GDP.PCAP.PP.CD x SP.POP.TOTL
- gdppc = log(GDP per capita, PPP, current international $)  WDI NY.GDP.PCAP.PP.CD
- wage  = log(labour compensation per person engaged)        PWT 10.01 labsh*cgdpo/emp
- rd    = log(R&D expenditure / GDP) as a fraction           WDI GB.XPD.RSDV.GD.ZS / 100
- edu   = log(labour force with tertiary education) fraction WDI SL.TLF.TERT.ZS / 100
- dist_kor_km, distw_kor_km: CEPII GeoDist distance from Korea (km), not logged.

Missing values stay missing: nothing is interpolated or spliced across vintages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayes_kfdi.resources import data_dir

DATA_DIR = data_dir()  # the package's shipped data folder

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"
YEARS = range(1988, 2015)

#: The 27 hosts of the shared extract ``host_covariates_kor27_1988_2014.csv``.
HOSTS_27: tuple[str, ...] = (
    "USA",
    "CAN",
    "MEX",
    "BRA",
    "CHL",
    "CHN",
    "HKG",
    "JPN",
    "VNM",
    "IDN",
    "IND",
    "MYS",
    "PHL",
    "THA",
    "SGP",
    "KAZ",
    "GBR",
    "DEU",
    "FRA",
    "NLD",
    "POL",
    "CZE",
    "SVK",
    "HUN",
    "RUS",
    "TUR",
    "AUS",
)
#: Six more: the largest cumulative Korean net outflows 1990-2012 in ABN2018
#: (kor_ofdi_flows_abn2018.csv) among hosts not already in HOSTS_27.
HOSTS_EXTRA: tuple[str, ...] = ("IRL", "NOR", "MDG", "PER", "ESP", "BEL")
HOSTS_33: tuple[str, ...] = HOSTS_27 + HOSTS_EXTRA


def _log(x: pd.Series) -> pd.Series:
    x = pd.to_numeric(x, errors="coerce")
    return np.log(x.where(x > 0))


def build_covariates(hosts: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """Host covariates for ``hosts`` (all PWT/WDI economies if None), 1988-2014."""
    pwt = pd.read_csv(RAW / "pwt1001_1988_2014.csv")
    wdi = pd.read_csv(RAW / "wdi_selected_1988_2014.csv")
    geo = pd.read_csv(RAW / "cepii_geodist_from_kor.csv")
    if hosts is None:
        hosts = sorted(set(pwt["iso3"]) | set(wdi["iso3"]))
    grid = pd.MultiIndex.from_product([list(hosts), list(YEARS)], names=["country", "year"])
    out = pd.DataFrame(index=grid).reset_index()
    w = wdi.rename(columns={"iso3": "country"})
    p = pwt.drop(columns=["country"]).rename(columns={"iso3": "country"})
    out = out.merge(
        w[
            [
                "country",
                "year",
                "NY.GDP.PCAP.PP.CD",
                "SP.POP.TOTL",
                "GB.XPD.RSDV.GD.ZS",
                "SL.TLF.TERT.ZS",
            ]
        ],
        on=["country", "year"],
        how="left",
    ).merge(p[["country", "year", "wage_pwt_cur"]], on=["country", "year"], how="left")
    out["gdp"] = _log(out["NY.GDP.PCAP.PP.CD"] * out["SP.POP.TOTL"] / 1e6)
    out["gdppc"] = _log(out["NY.GDP.PCAP.PP.CD"])
    out["wage"] = _log(out["wage_pwt_cur"])
    out["rd"] = _log(out["GB.XPD.RSDV.GD.ZS"] / 100.0)
    out["edu"] = _log(out["SL.TLF.TERT.ZS"] / 100.0)
    g = geo.rename(columns={"iso3": "country"})[["country", "dist_kor_km", "distw_kor_km"]]
    out = out.merge(g, on="country", how="left")
    cols = ["country", "year", "gdp", "gdppc", "wage", "rd", "edu", "dist_kor_km", "distw_kor_km"]
    return out[cols].sort_values(["country", "year"]).reset_index(drop=True)


def main() -> None:
    """Write data/host_covariates.csv for the 33 Korean hosts."""
    cov = build_covariates(HOSTS_33)
    cov.to_csv(DATA_DIR / "host_covariates.csv", index=False, float_format="%.10g")
    n = len(cov)
    print(f"host_covariates.csv: {n} rows; non-missing:")
    print(cov.notna().sum().to_string())


if __name__ == "__main__":
    main()
