"""Array aliases and option literals shared across the package."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Float64Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Transform = Literal["fd", "fod"]
Equation = Literal["diff", "level", "both"]
Likelihood = Literal["normal", "censored", "hurdle"]
Sampler = Literal["nutpie", "pymc", "numpyro"]
