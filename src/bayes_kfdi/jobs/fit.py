"""``bayes-kfdi fit``: fit one Bayesian spec on a panel and publish the fit directory."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bayes_kfdi.bayes.fit import FitResult
from bayes_kfdi.bayes.fit import fit as bayes_fit
from bayes_kfdi.bayes.spec import HierarchicalSpec, load_spec
from bayes_kfdi.data import parse_mapping, read_panel
from bayes_kfdi.jobs.common import check_data, check_new_output
from bayes_kfdi.jobs.fitdir import write_fit
from bayes_kfdi.jobs.multisource import multisource_spec

__all__ = ["FitJob", "fit_job", "load_fit_job", "SamplingProgress"]

#: Suffix of the directory an unconverged fit goes to when ``out`` holds a converged one.
UNCONVERGED_SUFFIX = "-unconverged"


@dataclass(frozen=True, slots=True)
class FitJob:
    """A validated fit: the spec with the caller's sampler settings and the data to fit.

    Attributes
    ----------
    spec : HierarchicalSpec
    data : PanelData or ModelData
        The panel, or the pooled model's data of a ``[multisource]`` spec.
    data_sha256 : str
    notes : tuple of str
        What the job did to the input (e.g. the multi-source selection).
    inputs : tuple of (role, path)
        The files read, which the output may not replace.
    """

    spec: HierarchicalSpec
    data: Any
    data_sha256: str
    notes: tuple[str, ...] = ()
    inputs: tuple[tuple[str, Path], ...] = ()


def load_fit_job(
    data: str | Path,
    spec: str | Path,
    *,
    mapping: list[str] | None = None,
    sampler: dict[str, Any] | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> FitJob:
    """Validate everything a fit needs (nothing is sampled).

    Parameters
    ----------
    data, spec : path
        Panel file and model spec.
    mapping : list of str, optional
        Column renames ``OLD=NEW``.
    sampler : dict, optional
        Sampler settings to override (None values keep the spec's).
    out : path, optional
        The output directory, checked first against the output policy.
    overwrite : bool
        The user's ``--overwrite``.
    """
    data = Path(data)
    inputs = (("data file", data), ("spec", Path(spec)))
    if out is not None:
        check_new_output(Path(out), overwrite, inputs)
    check_data(data)
    model_spec = load_spec(spec).with_sampler(**(sampler or {}))
    panel = read_panel(data, mapping=parse_mapping(mapping or []))
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    mspec = multisource_spec(spec)
    if mspec is None:
        return FitJob(model_spec, panel, sha, inputs=inputs)
    from bayes_kfdi.multisource.pipeline import fit_input

    sel, md = fit_input(panel.frame, mspec)
    note = (f"[multisource] selection applied: {len(sel.sources)} sources, "
            f"{len(sel.hosts)} hosts, {sel.rows_out} rows"
            + "".join(f"; {s} left out ({why})" for s, why in sel.dropped_sources.items()))
    return FitJob(model_spec, md, sha, (note,), inputs)


def _clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class SamplingProgress:
    """One self-overwriting status line for nutpie's progress callback.

    Shows draws done over all chains (tuning included), divergent transitions after
    tuning, time elapsed and an estimate of the time left (draws left at the rate so
    far), e.g. ``sampling 4 chains: 3,120/7,200 draws (43%), 0 divergences, 1m05s
    elapsed, ~1m25s left``. nutpie calls it from a background thread, hence the lock.

    Parameters
    ----------
    tune : int
        Tuning draws per chain (their divergences are not counted).
    stream : text stream, optional
        Where the line goes (default: stderr).
    """

    def __init__(self, tune: int, stream: TextIO | None = None) -> None:
        self.tune = tune
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.last = ""
        self._lock = threading.Lock()

    def line(self, chains: Sequence[Any], elapsed: float) -> str:
        """Return the status text for nutpie's ``ChainProgress`` list."""
        done = sum(int(c.finished_draws) for c in chains)
        total = sum(int(c.total_draws) for c in chains)
        div = sum(sum(1 for d in c.divergent_draws if int(d) >= self.tune) for c in chains)
        tuning = sum(bool(c.tuning) and bool(c.started) for c in chains)
        pct = 100 * done / total if total else 0.0
        text = (f"sampling {len(chains)} chains: {done:,}/{total:,} draws ({pct:.0f}%)"
                f"{f', {tuning} tuning' if tuning else ''}, {div} divergence"
                f"{'' if div == 1 else 's'}, {_clock(elapsed)} elapsed")
        if 0 < done < total:
            text += f", ~{_clock(elapsed * (total - done) / done)} left"
        return text

    def __call__(self, chains: Sequence[Any]) -> None:
        """Redraw the line (the callback nutpie calls)."""
        with self._lock:
            text = self.line(chains, time.monotonic() - self.start)
            pad = " " * max(len(self.last) - len(text), 0)
            self.stream.write("\r" + text + pad)
            self.stream.flush()
            self.last = text

    def close(self) -> None:
        """End the status line."""
        with self._lock:
            if self.last:
                self.stream.write("\n")
                self.stream.flush()
                self.last = ""


def fit_job(
    job: FitJob,
    out: str | Path,
    *,
    overwrite: bool = False,
    on_keep: Callable[[Path, Path], None] | None = None,
    progress: bool | None = None,
    stream: TextIO | None = None,
) -> tuple[FitResult, Path]:
    """Sample, then publish the fit directory; return the result and where it went.

    ``out`` is checked against the output policy before sampling (an existing one is
    replaced only with ``overwrite``, and only if the package wrote it). An unconverged
    fit does not replace a converged one in ``out``: it goes to ``<out>-unconverged``
    (``on_keep(out, target)`` is told).

    ``progress`` shows sampling progress on ``stream`` (default stderr): draws done,
    divergences so far and the time left (:class:`SamplingProgress` for nutpie; PyMC's
    and numpyro's own bars otherwise). ``None`` shows it only when ``stream`` is a
    terminal.
    """
    out = Path(out)
    check_new_output(out, overwrite, job.inputs)
    if (out / "diagnostics.json").is_file():
        check_new_output(out.with_name(out.name + UNCONVERGED_SUFFIX), True, job.inputs)
    stream = stream if stream is not None else sys.stderr
    if progress is None:
        progress = bool(getattr(stream, "isatty", lambda: False)())
    reporter = None
    if progress and job.spec.sampler.sampler == "nutpie":
        reporter = SamplingProgress(job.spec.sampler.tune, stream)
    try:
        result = bayes_fit(job.spec, job.data, data_sha256=job.data_sha256,
                           progress=reporter if reporter is not None else progress)
    finally:
        if reporter is not None:
            reporter.close()
    target = out
    old = out / "diagnostics.json"
    if not result.diagnostics.converged and old.is_file() \
            and json.loads(old.read_text()).get("converged"):
        target = out.with_name(out.name + UNCONVERGED_SUFFIX)
        if on_keep is not None:
            on_keep(out, target)
    write_fit(result, target, overwrite=overwrite or target != out)
    return result, target
