"""The paper's outputs from fitted equations: every table, as tidy frames and as text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.constants import FDI_FLOOR, SERIES, YEAR
from bayes_kfdi.paper import render
from bayes_kfdi.paper.tables import (
    COLUMNS,
    PaperRun,
    attenuation,
    build_table,
    recovery,
)
from bayes_kfdi.paper.trend import PAPER_WAGE_EFFECT, two_sd_effect

__all__ = ["PaperOutputs", "paper_manifest", "paper_outputs", "wage_effect"]

#: The equation and series of the paper's two-sd wage effect.
_WAGE_EQUATION = "efficiency_trend"
_WAGE_SERIES = "electronics_efficiency"


@dataclass(frozen=True, slots=True)
class PaperOutputs:
    """What :func:`paper_outputs` computed.

    Attributes
    ----------
    run : the fits ; tables : name -> tidy table ; files : file name -> text
    wage : the two-sd wage effect table (None if the trend equation failed)
    attenuation : per-series attenuation vs the truth (None without truth)
    """

    run: PaperRun
    tables: dict[str, pd.DataFrame]
    files: dict[str, str]
    wage: pd.DataFrame | None
    attenuation: pd.DataFrame | None


def wage_effect(run: PaperRun, panel: pd.DataFrame) -> pd.DataFrame | None:
    """Compute the paper's two-sd wage effect on efficiency-seeking FDI, first and last year.

    Evaluated at two standard deviations of the wage: the paper's (Table 4, 0.380;
    ``sd_source = "paper_table4"``) and this panel's over the series' non-missing rows
    (``"panel"``). Real host wages spread more than Table 4's, so the two differ.
    None if the trend equation is absent or failed.
    """
    from bayes_kfdi.data import paper

    er = run.runs.get(_WAGE_EQUATION)
    if er is None or er.result is None:
        return None
    rows = panel[panel[SERIES] == _WAGE_SERIES]
    years = (int(rows[YEAR].min()), int(rows[YEAR].max()))
    t4 = paper.table4()
    sds = {
        "paper_table4": float(t4.loc[t4["variable"] == "wage", "sd"].iloc[0]),
        "panel": float(rows["wage"].std(ddof=1)),
    }
    parts = []
    for source, sd in sds.items():
        eff = two_sd_effect(
            er.result,
            term="wage",
            series=_WAGE_SERIES,
            sd=sd,
            years=years,
            reference_year=er.equation.reference_year,
            truth=run.truth,
            paper=PAPER_WAGE_EFFECT,
        )
        t = eff.table.copy()
        t.insert(0, "sd", eff.sd)
        t.insert(0, "sd_source", source)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def paper_outputs(run: PaperRun, panel: pd.DataFrame) -> PaperOutputs:
    """Tables 2 and 3 (baseline and trend), the wage effect and the recovery checks.

    Parameters
    ----------
    run : PaperRun
        The fitted equations (:func:`~bayes_kfdi.paper.tables.run_equations`).
    panel : pandas.DataFrame
        The long panel they were fitted on.

    Returns
    -------
    PaperOutputs
        ``files`` maps each output file name to its text: ``table2.csv``,
        ``table3.csv``, ``table{2,3}_trend.csv``, each also as ``.md``, ``.html``,
        ``.tex``; ``wage_effect.csv``; ``recovery.csv`` and ``attenuation.csv`` when the
        run has a truth. Nothing is written.
    """
    files: dict[str, str] = {}
    tables: dict[str, pd.DataFrame] = {}
    for table in ("table2", "table3"):
        for variant in ("baseline", "trend"):
            t = build_table(run, table, variant)
            if t.empty:
                continue
            stem = table if variant == "baseline" else f"{table}_trend"
            tables[stem] = t
            files[f"{stem}.csv"] = t.to_csv(index=False)
            files[f"{stem}.md"] = render.to_markdown(t, table, variant=variant)
            files[f"{stem}.html"] = render.to_html(t, table, variant=variant)
            files[f"{stem}.tex"] = render.to_latex(t, table, variant=variant)
    wage = wage_effect(run, panel)
    if wage is not None:
        files["wage_effect.csv"] = wage.to_csv(index=False)
    att = None
    if run.truth is not None:
        base = pd.concat(
            [tables[k] for k in ("table2", "table3") if k in tables], ignore_index=True
        )
        att = attenuation(base)
        files["recovery.csv"] = recovery(base).to_csv(index=False)
        files["attenuation.csv"] = att.to_csv(index=False)
    return PaperOutputs(run=run, tables=tables, files=files, wage=wage, attenuation=att)


def paper_manifest(run: PaperRun, panel: pd.DataFrame, *, seconds: float) -> dict[str, Any]:
    """Provenance of a paper run: data, equations with their status, notes and timing."""
    return {
        "data": str(run.data_path),
        "truth": run.truth is not None,
        "floor_share": float(np.mean(np.isclose(panel["fdi"].to_numpy(float), FDI_FLOOR))),
        "equations": {
            n: {
                "file": str(er.equation.path) if er.equation.path else None,
                "command": er.equation.command,
                "ok": er.ok,
                "error": er.error,
                "warnings": list(er.warnings),
                "n_instruments": None if er.result is None else int(er.result.n_instruments),
                "target_instruments": er.equation.target_instruments,
            }
            for n, er in run.runs.items()
        },
        "notes": list(run.notes),
        "columns": list(COLUMNS),
        "seconds": round(seconds, 3),
    }
