"""The compare job: rank fit directories by ELPD-LOO, optionally draw arviz-plots' comparison."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bayes_kfdi import writer
from bayes_kfdi.bayes.compare import compare_fits
from bayes_kfdi.jobs.fitdir import load_fit

__all__ = ["compare_job", "PLOT_TAG"]

#: Text chunk written into the comparison PNG, so --overwrite recognises its own plot.
PLOT_TAG = "bayes-kfdi compare"


def _is_our_plot(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return head.startswith(b"\x89PNG") and PLOT_TAG.encode() in head


def compare_job(dirs: Sequence[Path], *, plot: Path | None = None,
                overwrite: bool = False) -> pd.DataFrame:
    """Compare fits by ELPD-LOO; with ``plot``, write arviz-plots' ``plot_compare`` as PNG.

    The plot path is checked (output policy of :mod:`bayes_kfdi.writer`) before any fit is
    read; it may not be one of the fits' files.
    """
    if plot is not None:
        inputs = [("fit directory's posterior", Path(d) / "posterior.nc") for d in dirs]
        writer.check_output_file(plot, overwrite=overwrite, inputs=inputs, option="--plot",
                                 recognise=_is_our_plot, kind="PNG file")
    fits = {}
    for d in dirs:
        name = Path(d).name
        while name in fits:
            name += "'"
        fits[name] = load_fit(Path(d))
    table = compare_fits(fits)
    if plot is not None:
        writer.write_bytes(plot, _compare_png(table))
    return table.reset_index().rename(columns={"index": "model"})


def _compare_png(table: pd.DataFrame) -> bytes:
    import arviz_plots as azp
    import matplotlib.pyplot as plt  # arviz-plots draws on matplotlib; we only save it

    pc = azp.plot_compare(table, backend="matplotlib")
    fig = pc.viz["figure"].item()
    fig.suptitle("ELPD-LOO difference from the best model (higher is better)", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": PLOT_TAG})
    plt.close(fig)
    return buf.getvalue()
