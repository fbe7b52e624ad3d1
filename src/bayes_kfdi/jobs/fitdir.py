"""The fit directory: ``posterior.nc``, ``summary.csv``, ``ppc.csv``, ``diagnostics.json``.

:func:`write_fit` publishes a fit (``bayes-kfdi fit --out DIR``); :func:`load_fit` reads
the posterior back with its provenance checked (``bayes-kfdi compare``).
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from bayes_kfdi import writer
from bayes_kfdi.bayes.fit import _DROP_SUFFIXES, MODEL_TYPE, FitResult
from bayes_kfdi.bayes.spec import HierarchicalSpec, spec_from_dict
from bayes_kfdi.exceptions import DataError, ProvenanceError

__all__ = ["stored_tree", "write_fit", "write_fit_files", "load_fit"]


def _encoding(idata: xr.DataTree) -> dict[str, dict[str, dict[str, object]]]:
    enc: dict[str, dict[str, dict[str, object]]] = {}
    for node in idata.subtree:
        if not node.has_data:
            continue
        enc[node.path] = {
            str(v): {"compression": "gzip", "compression_opts": 4}
            for v, da in node.dataset.data_vars.items()
            if da.dtype.kind in "fiub"
        }
    return enc


def stored_tree(result: FitResult) -> xr.DataTree:
    """Return the posterior as ``posterior.nc`` stores it: without ``*_z`` innovations."""
    tree = result.idata.copy()
    post = tree["posterior"].to_dataset()
    drop = [v for v in post.data_vars if str(v).endswith(_DROP_SUFFIXES)]
    if drop:
        tree["posterior"] = xr.DataTree(post.drop_vars(drop))
        tree.attrs["posterior_vars_not_stored"] = json.dumps(drop)
    return tree


def write_fit_files(result: FitResult, out_dir: str | Path) -> Path:
    """Write the fit's files into ``out_dir`` (created; existing files replaced)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tree = stored_tree(result)
    writer.write_via(out / "posterior.nc", lambda tmp: tree.to_netcdf(
        tmp, engine="h5netcdf", encoding=_encoding(tree)))
    writer.write_csv(out / "summary.csv", result.posterior_summary)
    if not result.ppc.empty:
        writer.write_csv(out / "ppc.csv", result.ppc)
    writer.write_json(out / "diagnostics.json", result.diagnostics.to_attrs())
    return out


def write_fit(result: FitResult, out_dir: str | Path, *, overwrite: bool = True) -> Path:
    """Publish a fit directory: built beside ``out_dir``, then swapped in whole.

    A crash never leaves a half-written result where a good one was. An existing
    ``out_dir`` is replaced only if ``overwrite`` and the package wrote it.
    """
    out = Path(out_dir)
    build = writer.make_build_dir(out)
    try:
        write_fit_files(result, build)
        return writer.publish_dir(build, out, overwrite=overwrite)
    except BaseException:
        writer.discard_dir(build)
        raise


def load_fit(out_dir: str | Path, *, spec: HierarchicalSpec | None = None) -> xr.DataTree:
    """Open ``out_dir/posterior.nc``, checking provenance.

    Raises
    ------
    DataError
        If the file cannot be read as NetCDF (truncated, corrupt).
    ProvenanceError
        If the file was not written by this package, or ``spec`` is given and its
        model hash differs from the stored one.
    """
    path = Path(out_dir) / "posterior.nc"
    if not path.is_file():
        raise ProvenanceError(
            f"no posterior.nc in '{out_dir}'; expected a directory written by "
            "`bayes-kfdi fit --out DIR`"
        )
    try:
        idata = xr.open_datatree(path, engine="h5netcdf")
    except Exception as exc:  # h5py and xarray raise OSError, ValueError, KeyError...
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(
            f"cannot read '{path}' as NetCDF ({text[:80]}); expected a complete file "
            "written by `bayes-kfdi fit`; copy it again or refit"
        ) from None
    if idata.attrs.get("model_type") != MODEL_TYPE:
        raise ProvenanceError(
            f"'{path}' has model_type {idata.attrs.get('model_type')!r}; expected "
            f"{MODEL_TYPE!r}; it was not written by bayes-kfdi fit"
        )
    if spec is not None:
        stored = spec_from_dict(json.loads(idata.attrs["spec_json"])).model_hash()
        if stored != spec.model_hash():
            raise ProvenanceError(
                f"'{path}' was fitted with spec hash {stored[:12]}, not {spec.model_hash()[:12]}"
                "; refit with this spec"
            )
    return idata
