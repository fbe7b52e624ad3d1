"""The one GMM equation runner and its failure policy, shared by every loop over equations.

An equation the engine cannot estimate becomes an :class:`EquationFit` with no result and
the engine's message; callers show the message and never a number for it. A
factorisation failure inside the difference-in-Hansen tests alone does not cost the
coefficients: the equation is refitted without them (xtabond2's ``nodiffsargan``) and a
warning says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_kfdi.constants import COUNTRY, YEAR
from bayes_kfdi.exceptions import BayesKfdiError
from bayes_kfdi.gmm.model import xtabond2
from bayes_kfdi.gmm.results import SystemGMMResults

__all__ = ["EquationFit", "fit_equation"]

#: What the engine raises for an equation it cannot estimate.
_FAILURES = (BayesKfdiError, np.linalg.LinAlgError, ValueError)


@dataclass(frozen=True, slots=True)
class EquationFit:
    """One equation's fit, or the reason it has none.

    Attributes
    ----------
    result : SystemGMMResults or None
        None when the engine could not estimate the equation.
    error : str or None
        ``"<ExceptionType>: <message>"`` when it failed.
    warnings : tuple of (str, str)
        ``(category, message)`` of each distinct warning the fit raised, in order.
    """

    result: SystemGMMResults | None
    error: str | None = None
    warnings: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True if the equation was estimated."""
        return self.result is not None

    @property
    def messages(self) -> tuple[str, ...]:
        """The distinct warning messages, without their categories."""
        return tuple(dict.fromkeys(m for _, m in self.warnings))


def _caught(records: list[warnings.WarningMessage]) -> list[tuple[str, str]]:
    return [(w.category.__name__, str(w.message)) for w in records]


def fit_equation(
    frame: pd.DataFrame,
    command: str,
    *,
    entity: str | Sequence[str] = COUNTRY,
    time: str = YEAR,
) -> EquationFit:
    """Fit one xtabond2 command under the package's failure policy.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long panel of one equation.
    command : str
        The xtabond2 command.
    entity, time : str
        Group and period columns.

    Returns
    -------
    EquationFit
        Never raises for an equation the engine cannot estimate.
    """
    extra: list[tuple[str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = xtabond2(frame, command, entity=entity, time=time)
        except np.linalg.LinAlgError as exc:
            extra.append(("RuntimeWarning", (
                f"fit failed ({exc}); refitted with nodiffsargan, so the "
                "difference-in-Hansen tests are missing"
            )))
            try:
                res = xtabond2(frame, command + " nodiffsargan", entity=entity, time=time)
            except _FAILURES as exc2:
                seen = tuple(dict.fromkeys([*_caught(caught), *extra]))
                return EquationFit(None, f"{type(exc2).__name__}: {exc2}", seen)
        except _FAILURES as exc:
            return EquationFit(None, f"{type(exc).__name__}: {exc}",
                               tuple(dict.fromkeys(_caught(caught))))
    return EquationFit(res, None, tuple(dict.fromkeys([*_caught(caught), *extra])))
