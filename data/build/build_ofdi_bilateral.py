"""Rebuild ``ofdi_bilateral.csv``: the real OFDI panel with each source's own trade and gravity.

Run from the repository root: ``python data/build/build_ofdi_bilateral.py``.

Rows: exactly those of ``ofdi_real.csv`` (every source, host, year with an ABN2018 net
flow, 1988-2012), rebuilt by ``build_ofdi_real.build``. Columns:

- series, country, year, fdi, flow_musd, flow_unctad_musd, floor_coded: as ofdi_real
- gdp, gdppc, wage, rd, edu: host covariates as ofdi_real; pop = gdp - gdppc, log host
  population in millions (so population and GDP per head can replace GDP and GDP per head)
- src_gdppc: the source economy's own log GDP per head (WDI, as gdppc), by year
- exports = log(1000 * AGTPA trade source -> host), imports = log(1000 * AGTPA trade host
  -> source): manufacturing trade in thousand US$ (AGTPA is in million US$), 1986-2006
- dist = log AGTPA population-weighted distance (km) of the pair; contig, comlang, colony
  (AGTPA cntg, lang, clny) for every year of a pair AGTPA covers; rta for 1986-2006 only
- agtpa_pair: both economies are among AGTPA's 69; trade_obs: AGTPA has the pair's trade
  that year (False for 2007-2012 and for pairs outside AGTPA)
- conduit, source_conduit: host / source on a conduit list (``bayes_kfdi.data.conduits``)
- flow_sign: negative (net disinvestment), zero, below_floor (0 < flow < 3 thousand US$)
  or positive; unreported flows have no row. fdi_positive = log(1000 * flow_musd) for
  positive flows, without the floor (the continuous part of a hurdle)

AGTPA's ROM is recoded to ROU, as ABN2018's is. Output is deterministic: sorted rows,
fixed column order, ``%.10g`` floats.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_host_covariates import RAW, build_covariates  # noqa: E402
from build_ofdi_real import FLOOR_KUSD, LEGACY_ISO3  # noqa: E402
from build_ofdi_real import build as build_real  # noqa: E402

from bayes_kfdi.data.conduits import is_conduit
from bayes_kfdi.resources import data_dir
from bayes_kfdi.writer import write_csv

AGTPA_FILE = "agtpa_trade_1986_2006.csv.gz"
OUT_NAME = "ofdi_bilateral.csv"
FLOAT_FORMAT = "%.10g"

#: AGTPA's time-invariant pair columns and their names here.
PAIR_COLUMNS: dict[str, str] = {"cntg": "contig", "lang": "comlang", "clny": "colony"}

COLUMNS: list[str] = [
    "series",
    "country",
    "year",
    "fdi",
    "gdp",
    "gdppc",
    "pop",
    "wage",
    "rd",
    "edu",
    "src_gdppc",
    "exports",
    "imports",
    "dist",
    "contig",
    "comlang",
    "colony",
    "rta",
    "agtpa_pair",
    "trade_obs",
    "conduit",
    "source_conduit",
    "flow_sign",
    "fdi_positive",
    "floor_coded",
    "flow_musd",
    "flow_unctad_musd",
]


def read_agtpa() -> pd.DataFrame:
    """AGTPA with ISO3 codes as ABN2018 recodes them and integer years."""
    agtpa = pd.read_csv(RAW / AGTPA_FILE)
    for col in ("exporter", "importer"):
        agtpa[col] = agtpa[col].replace(LEGACY_ISO3)
    agtpa["year"] = agtpa["year"].astype(int)
    return agtpa


def pair_covariates(agtpa: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pair-year trade and rta, time-invariant pair gravity), keyed by series/country."""
    keys = {"exporter": "series", "importer": "country"}
    yearly = agtpa.rename(columns=keys)[["series", "country", "year", "trade", "rta"]]
    back = agtpa.rename(columns={"exporter": "country", "importer": "series", "trade": "back"})
    yearly = yearly.merge(back[["series", "country", "year", "back"]], how="left")
    yearly = yearly.assign(
        exports=np.log(1000.0 * yearly["trade"].where(yearly["trade"] > 0)),
        imports=np.log(1000.0 * yearly["back"].where(yearly["back"] > 0)),
        trade_obs=True,
    )[["series", "country", "year", "exports", "imports", "rta", "trade_obs"]]
    pairs = agtpa.rename(columns={**keys, **PAIR_COLUMNS})
    pairs = pairs.groupby(["series", "country"], as_index=False).agg(
        dist=("dist", "first"), contig=("contig", "first"), comlang=("comlang", "first"),
        colony=("colony", "first"),
    )  # fmt: skip
    pairs["dist"] = np.log(pairs["dist"])
    pairs["agtpa_pair"] = True
    return yearly, pairs


def flow_sign(flow_musd: pd.Series) -> pd.Series:
    """negative / zero / below_floor / positive, from the net flow in million US$."""
    kusd = 1000.0 * flow_musd
    out = np.select(
        [kusd < 0, kusd == 0, kusd < FLOOR_KUSD],
        ["negative", "zero", "below_floor"],
        default="positive",
    )
    return pd.Series(out, index=flow_musd.index)


def build() -> pd.DataFrame:
    """Return the bilateral panel (rows of ofdi_real, pair covariates added)."""
    out = build_real().drop(columns=["dist_kor_km", "distw_kor_km"])
    out["pop"] = out["gdp"] - out["gdppc"]
    src = build_covariates(sorted(out["series"].unique()))[["country", "year", "gdppc"]]
    src = src.rename(columns={"country": "series", "gdppc": "src_gdppc"})
    out = out.merge(src, on=["series", "year"], how="left")
    yearly, pairs = pair_covariates(read_agtpa())
    out = out.merge(yearly, on=["series", "country", "year"], how="left")
    out = out.merge(pairs, on=["series", "country"], how="left")
    for col in ("agtpa_pair", "trade_obs"):
        out[col] = out[col].fillna(False).astype(bool)
    for col in ("contig", "comlang", "colony", "rta"):
        out[col] = out[col].astype("Int64")
    out["conduit"] = is_conduit(out["country"])
    out["source_conduit"] = is_conduit(out["series"])
    out["flow_sign"] = flow_sign(out["flow_musd"])
    kusd = 1000.0 * out["flow_musd"]
    out["fdi_positive"] = np.log(kusd.where(kusd > 0))
    out = out[COLUMNS].sort_values(["series", "country", "year"]).reset_index(drop=True)
    assert not out.duplicated(["series", "country", "year"]).any()
    return out


def main() -> None:
    """Write ofdi_bilateral.csv into the package's data folder and print its counts."""
    out = build()
    write_csv(data_dir() / OUT_NAME, out, float_format=FLOAT_FORMAT)
    upto = out[out["year"] <= 2006]
    print(
        f"{OUT_NAME}: {len(out)} rows, {out['series'].nunique()} sources, "
        f"{out['country'].nunique()} hosts; up to 2006 {len(upto)} rows, "
        f"{int(upto['trade_obs'].sum())} with AGTPA trade"
    )
    print(out.notna().sum().to_string())


if __name__ == "__main__":
    main()
