"""bayes_kfdi: dynamic panel models of foreign direct investment.

System GMM with xtabond2 parity, and PyMC hierarchical dynamic panel models.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayes-kfdi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
