"""Select a multi-source panel (source x host x year) from a long outward-FDI file.

In a multi-source panel the canonical ``series`` column holds the *source* economy
(ISO3, e.g. ``KOR``) and ``country`` the host. :func:`select_panel` keeps the chosen
sources, a year window and the hosts that enough of those sources invest in, so that
every host effect is informed by several sources (host effects are shared across
sources in the model) and the fit stays small enough to sample in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bayes_kfdi.constants import COUNTRY, OUTCOME, SERIES, YEAR
from bayes_kfdi.exceptions import DataError, SpecificationError

__all__ = [
    "DEFAULT_SOURCES",
    "REFERENCE_SOURCE",
    "SelectionConfig",
    "Selection",
    "select_panel",
]

#: The emerging source economies of the multi-source study (ISO3), Korea first.
DEFAULT_SOURCES: tuple[str, ...] = (
    "KOR", "CHN", "MYS", "THA", "TWN", "MEX", "CHL", "TUR", "RUS", "BRA", "ZAF", "IND",
)
#: Contrasts and the paper's H1 are stated relative to Korea.
REFERENCE_SOURCE = "KOR"


@dataclass(frozen=True, slots=True)
class SelectionConfig:
    """Which sources, years and hosts enter the multi-source panel.

    Attributes
    ----------
    sources : tuple of str
        Source economies (values of ``series``). Sources absent from the data are
        reported, not an error, unless none is present.
    first_year, last_year : int
        Inclusive year window.
    min_sources_per_host : int
        Keep a host only if at least this many selected sources report a flow to it in
        the window: host effects are shared across sources, so a host seen by one source
        only adds parameters without pooling anything.
    min_rows_per_source : int
        Drop a source with fewer rows than this after the host and year filters.
    min_years_per_source : int
        Drop a source observed in fewer distinct years: with a lagged outcome, unit
        effects and initial conditions, a unit needs several years beyond its first
        (India's three years, 2010-2012, leave at most two dynamic rows per host).
    max_hosts : int or None
        Keep at most this many hosts (those with the most source-year rows).
    reference : str
        Source the contrasts are taken against.
    """

    sources: tuple[str, ...] = DEFAULT_SOURCES
    first_year: int = 1995
    last_year: int = 2012
    min_sources_per_host: int = 6
    min_rows_per_source: int = 20
    min_years_per_source: int = 1
    max_hosts: int | None = None
    reference: str = REFERENCE_SOURCE

    def __post_init__(self) -> None:
        src = tuple(self.sources)
        if not src or not all(isinstance(s, str) and s for s in src):
            raise SpecificationError(
                f"multisource.sources = {self.sources!r}; expected a non-empty list of "
                "source codes such as ['KOR', 'CHN']"
            )
        object.__setattr__(self, "sources", src)
        if self.reference not in src:
            raise SpecificationError(
                f"multisource.reference = {self.reference!r} is not among the sources "
                f"{list(src)}; add it to sources or pick another reference"
            )
        if int(self.first_year) > int(self.last_year):
            raise SpecificationError(
                f"multisource years {self.first_year}-{self.last_year}: first_year is after "
                "last_year; swap them"
            )
        for name in ("min_sources_per_host", "min_rows_per_source", "min_years_per_source"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SpecificationError(
                    f"multisource.{name} = {v!r}; expected a positive integer"
                )
        if self.max_hosts is not None and (
            isinstance(self.max_hosts, bool) or not isinstance(self.max_hosts, int)
            or self.max_hosts < 2
        ):
            raise SpecificationError(
                f"multisource.max_hosts = {self.max_hosts!r}; expected an integer >= 2 or "
                "omit it"
            )


@dataclass(frozen=True, slots=True)
class Selection:
    """A selected multi-source panel and what the selection did.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical long panel restricted to the selection (``series`` = source).
    sources : tuple of str
        Sources kept, in the order of the config.
    hosts : tuple of str
        Hosts kept, sorted.
    dropped_sources : dict of str to str
        Requested sources left out, with the reason.
    rows_in, rows_out : int
        Rows of the requested sources before and after the filters.
    """

    frame: pd.DataFrame
    sources: tuple[str, ...]
    hosts: tuple[str, ...]
    dropped_sources: dict[str, str] = field(default_factory=dict)
    rows_in: int = 0
    rows_out: int = 0

    def table(self) -> pd.DataFrame:
        """Rows, hosts, years and floor share per kept source (tidy)."""
        f = self.frame
        g = f.groupby(SERIES, sort=False)
        out = pd.DataFrame(
            {
                "rows": g.size(),
                "hosts": g[COUNTRY].nunique(),
                "first_year": g[YEAR].min(),
                "last_year": g[YEAR].max(),
                "years": g[YEAR].nunique(),
            }
        )
        if "floor_coded" in f.columns:
            out["floor_share"] = g["floor_coded"].mean()
        out = out.reindex(list(self.sources))
        out.index.name = "source"
        return out.reset_index()


def select_panel(frame: pd.DataFrame, config: SelectionConfig) -> Selection:
    """Restrict a long multi-source frame to ``config``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical long panel whose ``series`` column names source economies.
    config : SelectionConfig

    Returns
    -------
    Selection

    Raises
    ------
    DataError
        If a required column is missing, or fewer than two sources or hosts survive.
    """
    for col in (SERIES, COUNTRY, YEAR, OUTCOME):
        if col not in frame.columns:
            raise DataError(
                f"the panel has no '{col}' column; columns seen: {list(frame.columns)[:12]}; "
                "expected the canonical layout (series = source economy)"
            )
    present = set(frame[SERIES].astype(str).unique())
    dropped: dict[str, str] = {
        s: "not in the data" for s in config.sources if s not in present
    }
    f = frame.loc[frame[SERIES].isin(config.sources)]
    rows_in = len(f)
    f = f.loc[f[YEAR].between(config.first_year, config.last_year) & f[OUTCOME].notna()]
    n_src = f.groupby(COUNTRY)[SERIES].nunique()
    hosts = n_src.index[n_src >= config.min_sources_per_host]
    if config.max_hosts is not None and len(hosts) > config.max_hosts:
        size = f.loc[f[COUNTRY].isin(hosts)].groupby(COUNTRY).size()
        hosts = size.sort_values(ascending=False, kind="stable").index[: config.max_hosts]
    f = f.loc[f[COUNTRY].isin(hosts)]
    rows = f.groupby(SERIES).size()
    years = f.groupby(SERIES)[YEAR].nunique()
    for s in config.sources:
        if s in dropped:
            continue
        n = int(rows.get(s, 0))
        n_years = int(years.get(s, 0))
        if n >= config.min_rows_per_source and n_years < config.min_years_per_source:
            dropped[s] = (
                f"{n_years} distinct years ({n} rows) at the kept hosts; expected at least "
                f"{config.min_years_per_source} years for a dynamic model with unit effects"
            )
        elif n < config.min_rows_per_source:
            dropped[s] = (
                f"{n} rows in {config.first_year}-{config.last_year} at the kept hosts; "
                f"expected at least {config.min_rows_per_source}"
            )
    if config.reference in dropped:
        raise DataError(
            f"reference source {config.reference!r} is left out: {dropped[config.reference]}; "
            "choose another multisource.reference or widen the selection"
        )
    kept = tuple(s for s in config.sources if s not in dropped)
    f = f.loc[f[SERIES].isin(kept)].sort_values([SERIES, COUNTRY, YEAR]).reset_index(drop=True)
    hosts_kept = tuple(sorted(f[COUNTRY].astype(str).unique()))
    if len(kept) < 2 or len(hosts_kept) < 2:
        raise DataError(
            f"the selection keeps {len(kept)} source(s) and {len(hosts_kept)} host(s); "
            "expected at least two of each; lower min_sources_per_host or widen the years"
        )
    return Selection(
        frame=f,
        sources=kept,
        hosts=hosts_kept,
        dropped_sources=dropped,
        rows_in=rows_in,
        rows_out=len(f),
    )
