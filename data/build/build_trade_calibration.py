"""Measure the real-trade calibration targets of the simulator into the shipped JSON.

Run from the repository root: ``python data/build/build_trade_calibration.py``. Reads
``data/raw/kor_trade_hs85_value_qty_1989_1990.csv`` (Comtrade HS85 lines, Korea with 22
partners) and ``data/raw/kor_bilateral_trade_agtpa_1986_2006.csv`` (AGTPA manufacturing
trade), restricts AGTPA to the panel's hosts (``host_covariates.csv``) and writes
``src/bayes_kfdi/resources/data/trade_calibration.json``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bayes_kfdi.data.trade_calibration import (
    TARGETS_FILE,
    UNIT_VALUE_TERMS,
    agtpa_volumes,
    hs85_unit_values,
    trade_statistics,
)
from bayes_kfdi.resources import data_dir
from bayes_kfdi.writer import write_json

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "data" / "raw"
HS85_FILE = "kor_trade_hs85_value_qty_1989_1990.csv"
AGTPA_FILE = "kor_bilateral_trade_agtpa_1986_2006.csv"


def main() -> None:
    """Write the targets file and print it."""
    hs = pd.read_csv(RAW / HS85_FILE, dtype={"hs4": str})
    agtpa = pd.read_csv(RAW / AGTPA_FILE)
    hosts = sorted(pd.read_csv(data_dir() / "host_covariates.csv")["country"].unique())
    uv = hs85_unit_values(hs)
    vol = agtpa_volumes(agtpa, hosts)
    targets = {
        "sources": {
            "hs85": f"data/raw/{HS85_FILE}: Comtrade HS4 lines with hs4 85xx, Korea with "
            f"{hs['exporter'].nunique() - 1} partners, 1989-1990 (value thousand US$, "
            "quantity tonnes)",
            "agtpa": f"data/raw/{AGTPA_FILE}: AGTPA manufacturing trade (current US$), Korea "
            f"with the {sum(v.shape[0] for v in vol.values()) // 2} panel hosts it covers, "
            f"{int(agtpa['year'].min())}-{int(agtpa['year'].max())}",
        },
        "definitions": {
            "hs85": "log(sum value / sum quantity) over a partner's HS85 lines in a year and "
            "direction: log US$/kg",
            "agtpa": "log trade value of Korea with a host in a year and direction",
            "cross_host_sd": "sd across hosts within a year, averaged over years",
            "median_abs_yoy": "median |x[t] - x[t-1]| over hosts and consecutive years",
            "within_yoy_sd": "sd of x[t] - x[t-1] after removing each host's mean change",
            "growth_sd": "sd across hosts of each host's mean change",
        },
        "hs85": {UNIT_VALUE_TERMS[d]: trade_statistics(f.to_numpy(float)) for d, f in uv.items()},
        "agtpa": {d: trade_statistics(f.to_numpy(float)) for d, f in vol.items()},
    }
    path = write_json(data_dir() / TARGETS_FILE, targets)
    print(f"wrote {path}")
    for group in ("hs85", "agtpa"):
        print(group, pd.DataFrame(targets[group]).round(3).to_string(), sep="\n")


if __name__ == "__main__":
    main()
