"""Regenerate the illustrative wide file ``examples/tha_ofdi_by_host_wide.{csv,xlsx}``.

The numbers are a reshaped slice of ``data/ofdi_real.csv`` (source THA, the column
``flow_musd``: ABN2018 bilateral net FDI flows in million US$, see data/PROVENANCE.md),
laid out the way a national statistics office publishes outward FDI: one row per host
economy, one column per year, ".." where no figure is published. It is an illustration
of the input format, not an official Bank of Thailand table.

Run from the repository root: ``.venv/bin/python examples/make_wide_example.py``.
"""

from __future__ import annotations

from pathlib import Path

from bayes_kfdi.data.load import load_ofdi_real

HERE = Path(__file__).resolve().parent
SOURCE, FIRST, LAST = "THA", 1995, 2012


def main() -> None:
    """Write the CSV and Excel versions of the wide example."""
    d = load_ofdi_real()
    d = d.loc[(d["series"] == SOURCE) & d["year"].between(FIRST, LAST)]
    wide = d.pivot(index="country", columns="year", values="flow_musd")
    wide = wide.reindex(columns=range(FIRST, LAST + 1))
    wide.columns = [str(c) for c in wide.columns]
    wide = wide.round(2).astype(object).where(wide.notna(), "..")
    wide.insert(0, "Host economy (ISO3)", wide.index)
    wide = wide.reset_index(drop=True)
    wide.to_csv(HERE / "tha_ofdi_by_host_wide.csv", index=False)
    wide.to_excel(HERE / "tha_ofdi_by_host_wide.xlsx", index=False, sheet_name="Outward FDI")


if __name__ == "__main__":
    main()
