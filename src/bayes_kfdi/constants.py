"""Package-wide constants: canonical schema names, defaults and thresholds."""

from __future__ import annotations

import math

#: Entity and time columns of the canonical FDI panel (the canonical panel, ``docs/contracts.md``).
SERIES = "series"
COUNTRY = "country"
YEAR = "year"
KEY_COLUMNS: tuple[str, ...] = (SERIES, COUNTRY, YEAR)

#: Outcome column: log FDI flow.
OUTCOME = "fdi"
#: Host-country covariates (one value per country-year, shared by every series).
HOST_COVARIATES: tuple[str, ...] = ("gdp", "gdppc", "wage", "rd", "edu")
#: Korea-host trade covariates of the series' sector.
TRADE_COVARIATES: tuple[str, ...] = ("exports", "exunit", "imports", "imunit")
COVARIATES: tuple[str, ...] = HOST_COVARIATES + TRADE_COVARIATES
NUMERIC_COLUMNS: tuple[str, ...] = (OUTCOME, *COVARIATES)
#: Columns a canonical FDI panel must have; covariates may be absent (see PanelData).
REQUIRED_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, OUTCOME)

#: The paper's six series: three sectors and three electronics motives.
SECTORS: tuple[str, ...] = ("textile", "steel", "electronics")
MOTIVES: tuple[str, ...] = (
    "electronics_market",
    "electronics_technology",
    "electronics_efficiency",
)
PAPER_SERIES: tuple[str, ...] = SECTORS + MOTIVES
#: Which sector's trade columns a series carries (motives carry electronics trade).
SECTOR_OF_SERIES: dict[str, str] = {
    **{s: s for s in SECTORS},
    **{m: "electronics" for m in MOTIVES},
}

#: The paper codes zero flows at log(3).
FDI_FLOOR = math.log(3.0)

#: Plausible calendar years for an FDI panel.
YEAR_MIN, YEAR_MAX = 1900, 2100

#: Credible-interval probability used in summaries (summary.csv: q05, q95).
CI_PROB = 0.90

#: Convergence thresholds used to flag a Bayesian fit.
RHAT_MAX = 1.01
ESS_MIN = 400
