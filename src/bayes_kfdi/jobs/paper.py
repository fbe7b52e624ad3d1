"""``bayes-kfdi paper``: fit the paper's equations once, write every table and check.

Layout written to ``OUT``: ``table2.*``, ``table3.*``, ``table{2,3}_trend.*`` (``.csv``,
``.md``, ``.html``, ``.tex``), ``wage_effect.csv``, ``recovery.csv`` and
``attenuation.csv`` when the panel has a truth, ``gmm/<equation>.json`` (the GMM JSON
contract), ``robustness/`` and ``manifest.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayes_kfdi import writer
from bayes_kfdi.data import PanelData, read_panel
from bayes_kfdi.jobs.common import check_data, check_new_output, png_bytes, truth_path
from bayes_kfdi.paper.equations import PaperEquation, load_equations
from bayes_kfdi.paper.pipeline import PaperOutputs, paper_manifest, paper_outputs
from bayes_kfdi.paper.tables import PaperRun, read_truth, run_equations

__all__ = ["PaperJobResult", "paper_job", "paper_panel", "write_paper"]

#: Resolution of the instrument-sweep figure.
SWEEP_DPI = 110


@dataclass(frozen=True, slots=True)
class PaperJobResult:
    """What :func:`paper_job` computed and wrote.

    Attributes
    ----------
    outputs : the tables ; files : written paths ; seconds : wall time
    """

    outputs: PaperOutputs
    files: tuple[Path, ...]
    seconds: float

    @property
    def run(self) -> PaperRun:
        """The fitted equations."""
        return self.outputs.run


def paper_panel(panel: PanelData) -> pd.DataFrame:
    """Return the flat long frame the equations are fitted on (index levels as columns)."""
    frame = panel.frame.reset_index(drop=False)
    return frame.loc[:, ~frame.columns.duplicated()]


def write_paper(
    out: Path,
    outputs: PaperOutputs,
    panel: pd.DataFrame,
    *,
    seconds: float,
    gmm_json: bool,
    robustness: bool,
) -> list[Path]:
    """Write the paper's files into ``out`` (an unpublished build directory)."""
    files = [writer.write_text(out / name, text) for name, text in outputs.files.items()]
    if gmm_json:
        for name, er in outputs.run.runs.items():
            if er.result is not None:
                files.append(writer.write_json(out / "gmm" / f"{name}.json",
                                               er.result.to_json_dict()))
    if robustness:
        from bayes_kfdi.paper.robustness import robustness_outputs

        texts, fig = robustness_outputs(panel, outputs.run)
        files += [writer.write_text(out / "robustness" / n, t) for n, t in texts.items()]
        files.append(writer.write_bytes(out / "robustness" / "instrument_sweep.png",
                                        png_bytes(fig, SWEEP_DPI)))
    manifest = paper_manifest(outputs.run, panel, seconds=seconds)
    files.append(writer.write_json(out / "manifest.json", manifest))
    return files


def paper_job(
    data: str | Path,
    out: str | Path,
    *,
    equations: tuple[PaperEquation, ...] | None = None,
    robustness: bool = True,
    overwrite: bool = False,
) -> PaperJobResult:
    """Fit the paper's equations on a panel file and publish every output in ``out``.

    Parameters
    ----------
    data : path
        A canonical panel file; ``<stem>.truth.json`` beside it supplies the truth.
    out : path
        Output folder, built beside itself and swapped in at the end.
    equations : tuple of PaperEquation, optional
        Default: every bundled paper equation.
    robustness : bool
        Also run the section 6 robustness checks.
    overwrite : bool
        Replace an existing ``out``.
    """
    t0 = time.perf_counter()
    data, out = Path(data), Path(out)
    check_new_output(out, overwrite, [("data file", data), ("truth file", truth_path(data))])
    check_data(data)
    eqs = load_equations() if equations is None else equations
    panel = paper_panel(read_panel(data))
    truth = read_truth(data)
    run = run_equations(panel, eqs, truth=truth, data_path=data)
    outputs = paper_outputs(run, panel)
    build = writer.make_build_dir(out)
    try:
        written = write_paper(build, outputs, panel, seconds=time.perf_counter() - t0,
                              gmm_json=True, robustness=robustness)
        writer.publish_dir(build, out, overwrite=overwrite)
    except BaseException:
        writer.discard_dir(build)
        raise
    files = tuple(out / p.relative_to(build) for p in written)
    return PaperJobResult(outputs=outputs, files=files, seconds=time.perf_counter() - t0)
