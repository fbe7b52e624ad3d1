"""Every exception and warning the package raises, in one flat module.

User errors derive from :class:`BayesKfdiError`. The CLI turns any of them into one
line on stderr and exit code 2. Messages follow one pattern: the value seen, what was
expected, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "BayesKfdiError",
    "DataError",
    "SpecificationError",
    "EstimationError",
    "IdentificationError",
    "ConvergenceError",
    "ProvenanceError",
    "OutputExistsError",
    "BayesKfdiWarning",
    "MissingValueWarning",
    "FloorCodingWarning",
    "NearConstantCovariateWarning",
    "InstrumentProliferationWarning",
    "SingularMatrixWarning",
    "ConvergenceWarning",
]


class BayesKfdiError(Exception):
    """Base class of every user-facing error raised by bayes_kfdi."""


class DataError(BayesKfdiError):
    """The input data are malformed: missing columns, bad values, duplicate keys."""


class SpecificationError(BayesKfdiError):
    """A model specification (command, TOML file, option) is malformed."""


class EstimationError(BayesKfdiError):
    """An estimator cannot produce a result from a valid specification."""


class IdentificationError(EstimationError):
    """The model is not identified on these data (collinearity, too few instruments)."""


class ConvergenceError(EstimationError):
    """A sampler did not converge and the caller asked for that to be fatal."""


class ProvenanceError(BayesKfdiError):
    """A stored artifact does not match the specification or data it is used with."""


class OutputExistsError(BayesKfdiError):
    """An output directory exists and the caller did not ask to overwrite it."""


class BayesKfdiWarning(UserWarning):
    """Base class of every warning raised by bayes_kfdi."""


class MissingValueWarning(BayesKfdiWarning):
    """Rows were dropped or values imputed because of missing data."""


class FloorCodingWarning(BayesKfdiWarning):
    """Outcome values lie below the floor of a censored or hurdle likelihood."""


class NearConstantCovariateWarning(BayesKfdiWarning):
    """A covariate barely varies within units, so its slope is nearly unlearnable."""


class InstrumentProliferationWarning(BayesKfdiWarning):
    """Instruments outnumber groups, or Hansen's p-value is implausibly close to 1."""


class SingularMatrixWarning(BayesKfdiWarning):
    """A matrix was singular and a generalized inverse was used instead."""


class ConvergenceWarning(BayesKfdiWarning):
    """MCMC diagnostics (R-hat, ESS, divergences) failed their thresholds."""
