"""``bayes-kfdi paper``: every equation, every table, every output file."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_kfdi.constants import FDI_FLOOR, SERIES, YEAR
from bayes_kfdi.paper import render
from bayes_kfdi.paper.equations import PaperEquation, load_equations
from bayes_kfdi.paper.tables import (
    COLUMNS,
    PaperRun,
    attenuation,
    build_table,
    read_truth,
    recovery,
    run_equations,
)
from bayes_kfdi.paper.trend import PAPER_WAGE_EFFECT, two_sd_effect

__all__ = ["PaperOutputs", "reproduce", "wage_effect"]

#: The equation and series of the paper's two-sd wage effect.
_WAGE_EQUATION = "efficiency_trend"
_WAGE_SERIES = "electronics_efficiency"


@dataclass(frozen=True, slots=True)
class PaperOutputs:
    """What :func:`reproduce` computed and wrote.

    Attributes
    ----------
    run : the fits ; tables : name -> tidy table ; files : written paths
    wage : the two-sd wage effect table (None if the trend equation failed)
    attenuation : per-series attenuation vs the truth (None without truth)
    seconds : wall time of the whole call
    """

    run: PaperRun
    tables: dict[str, pd.DataFrame]
    files: tuple[Path, ...]
    wage: pd.DataFrame | None
    attenuation: pd.DataFrame | None
    seconds: float


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


def reproduce(
    data: str | Path,
    out: str | Path,
    *,
    equations: tuple[PaperEquation, ...] | None = None,
    robustness: bool = True,
) -> PaperOutputs:
    """Run the paper's equations on a panel file and write every output into ``out``.

    Parameters
    ----------
    data : path
        A canonical panel file; ``<stem>.truth.json`` beside it supplies the truth.
    out : path
        Output folder (created). Files: ``table2.csv``, ``table3.csv``,
        ``table{2,3}_trend.csv``, each also as ``.md``, ``.html``, ``.tex``;
        ``wage_effect.csv``; ``gmm/<equation>.json`` (SCHEMA section 2);
        ``recovery.csv`` and ``attenuation.csv`` when a truth is present;
        ``robustness/`` (see :mod:`bayes_kfdi.paper.robustness`); ``manifest.json``.
    equations : tuple of PaperEquation, optional
        Default: every file in ``models/paper``.
    robustness : bool
        Also run the section 6 robustness checks.
    """
    from bayes_kfdi.data import read_panel

    t0 = time.perf_counter()
    data, out = Path(data), Path(out)
    panel = read_panel(data).frame.reset_index(drop=False)
    panel = panel.loc[:, ~panel.columns.duplicated()]
    eqs = load_equations() if equations is None else equations
    truth = read_truth(data)
    run = run_equations(panel, eqs, truth=truth, data_path=data)
    files: list[Path] = []
    tables: dict[str, pd.DataFrame] = {}
    for table in ("table2", "table3"):
        for variant in ("baseline", "trend"):
            t = build_table(run, table, variant)
            if t.empty:
                continue
            stem = table if variant == "baseline" else f"{table}_trend"
            tables[stem] = t
            files.append(render.write_text_atomic(out / f"{stem}.csv", t.to_csv(index=False)))
            files.append(
                render.write_text_atomic(
                    out / f"{stem}.md", render.to_markdown(t, table, variant=variant)
                )
            )
            files.append(
                render.write_text_atomic(
                    out / f"{stem}.html", render.to_html(t, table, variant=variant)
                )
            )
            files.append(
                render.write_text_atomic(
                    out / f"{stem}.tex", render.to_latex(t, table, variant=variant)
                )
            )
    for name, er in run.runs.items():
        if er.result is not None:
            files.append(
                render.write_json_atomic(out / "gmm" / f"{name}.json", er.result.to_json_dict())
            )
    wage = wage_effect(run, panel)
    if wage is not None:
        files.append(render.write_text_atomic(out / "wage_effect.csv", wage.to_csv(index=False)))
    att = None
    if truth is not None:
        base = pd.concat(
            [tables[k] for k in ("table2", "table3") if k in tables], ignore_index=True
        )
        rec = recovery(base)
        att = attenuation(base)
        files.append(render.write_text_atomic(out / "recovery.csv", rec.to_csv(index=False)))
        files.append(render.write_text_atomic(out / "attenuation.csv", att.to_csv(index=False)))
    if robustness:
        from bayes_kfdi.paper.robustness import run_robustness

        files.extend(run_robustness(panel, run, out / "robustness"))
    manifest: dict[str, Any] = {
        "data": str(data),
        "truth": truth is not None,
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
        "seconds": round(time.perf_counter() - t0, 3),
    }
    files.append(render.write_json_atomic(out / "manifest.json", manifest))
    return PaperOutputs(
        run=run,
        tables=tables,
        files=tuple(files),
        wage=wage,
        attenuation=att,
        seconds=time.perf_counter() - t0,
    )
