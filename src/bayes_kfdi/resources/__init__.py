"""Files shipped inside the package: data sets and model specs.

They live beside this module (``resources/data`` and ``resources/models``) so that a
wheel installed anywhere carries them. Command-line users may name a bundled spec or data
set by its stem (``--spec multi_source``, ``--data ofdi_real``) instead of a path.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = [
    "data_dir",
    "models_dir",
    "bundled_data",
    "bundled_specs",
    "resolve_data",
    "resolve_spec",
]


def _root() -> Path:
    return Path(str(files("bayes_kfdi.resources")))


def data_dir() -> Path:
    """Folder of the shipped data sets (``resources/data``)."""
    return _root() / "data"


def models_dir() -> Path:
    """Folder of the shipped model specs (``resources/models``)."""
    return _root() / "models"


def bundled_specs() -> dict[str, Path]:
    """Shipped top-level model specs by stem (``hierarchical``, ``multi_source``, ...)."""
    return {p.stem: p for p in sorted(models_dir().glob("*.toml"))}


def bundled_data() -> dict[str, Path]:
    """Shipped panel files by stem (``korea_semisynthetic``, ``ofdi_real``, ...)."""
    return {p.stem: p for p in sorted(data_dir().glob("*.csv"))}


def _resolve(
    arg: str | Path, bundled: dict[str, Path], what: str, option: str, error: type[Exception]
) -> Path:
    p = Path(arg)
    if p.exists():
        return p
    if p.stem in bundled and (p.parent == Path(".") or p.parent.name in {"models", "data"}):
        return bundled[p.stem]
    if not p.is_absolute() and p.parts[:1] in (("models",), ("data",)):
        shipped = _root().joinpath(*p.parts)  # a checkout-relative path, e.g. models/paper/x.toml
        if shipped.is_file():
            return shipped
    shown = str(arg)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    raise error(
        f"{what} {shown} does not exist; expected a file or a bundled name "
        f"({', '.join(bundled)}); pass {option} with an existing path or one of those names"
    )


def resolve_spec(arg: str | Path) -> Path:
    """Return ``arg`` if it exists, else the bundled spec of that stem."""
    from bayes_kfdi.exceptions import SpecificationError

    return _resolve(arg, bundled_specs(), "spec", "--spec", SpecificationError)


def resolve_data(arg: str | Path) -> Path:
    """Return ``arg`` if it exists, else the bundled data set of that stem."""
    from bayes_kfdi.exceptions import DataError

    return _resolve(arg, bundled_data(), "data file", "--data", DataError)
