"""bayes_kfdi: dynamic panel models of foreign direct investment.

System GMM with xtabond2 parity, and PyMC hierarchical dynamic panel models.

>>> import bayes_kfdi as bk
>>> panel = bk.read_panel("my_panel.csv")                      # doctest: +SKIP
>>> gmm = bk.xtabond2(panel.frame, "fdi L.fdi gdp, gmm(L.fdi) iv(gdp) twostep robust",
...                   entity="country", time="year")            # doctest: +SKIP
>>> post = bk.fit(bk.default_spec(), panel)                     # doctest: +SKIP
>>> bk.reproduce(out="reports/mine")                            # doctest: +SKIP

Names are imported on first use, so ``import bayes_kfdi`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("bayes-kfdi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from bayes_kfdi.bayes.fit import fit
    from bayes_kfdi.bayes.spec import HierarchicalSpec, load_spec
    from bayes_kfdi.data import PanelData, load, read_panel
    from bayes_kfdi.gmm import xtabond2
    from bayes_kfdi.jobs.reproduce import reproduce
    from bayes_kfdi.tables import etable

__all__ = [
    "__version__",
    "PanelData",
    "default_spec",
    "etable",
    "fit",
    "load",
    "load_spec",
    "read_panel",
    "reproduce",
    "xtabond2",
]

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "PanelData": "bayes_kfdi.data",
    "load": "bayes_kfdi.data",
    "read_panel": "bayes_kfdi.data",
    "xtabond2": "bayes_kfdi.gmm",
    "fit": "bayes_kfdi.bayes.fit",
    "load_spec": "bayes_kfdi.bayes.spec",
    "reproduce": "bayes_kfdi.jobs.reproduce",
    "etable": "bayes_kfdi.tables",
}


def default_spec() -> HierarchicalSpec:
    """Return the default Bayesian model: the bundled ``hierarchical.toml``."""
    from bayes_kfdi.bayes.spec import load_spec
    from bayes_kfdi.resources import models_dir

    return load_spec(models_dir() / "hierarchical.toml")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bayes_kfdi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
