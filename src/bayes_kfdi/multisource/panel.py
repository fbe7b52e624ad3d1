"""Select a multi-source panel (source x host x year) from a long outward-FDI file.

In a multi-source panel the canonical ``series`` column holds the *source* economy
(ISO3, e.g. ``KOR``) and ``country`` the host. :func:`select_panel` keeps the chosen
sources, a year window and the hosts that enough of those sources invest in, so that
every host effect is informed by several sources (host effects are shared across
sources in the model) and the fit stays small enough to sample in minutes.

It also says what the flows mean: conduit hosts (pass-through economies and offshore
centres, :mod:`bayes_kfdi.data.conduits`) are left out unless asked for, rows whose
time-invariant pair covariates (gravity) are unknown are left out when the model uses
them, and rows without the pair's own trade are either left out (``restrict``) or kept
for the model to impute (``impute``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bayes_kfdi.constants import COUNTRY, OUTCOME, SERIES, YEAR
from bayes_kfdi.data.conduits import CONDUIT_LISTS, is_conduit
from bayes_kfdi.exceptions import DataError, SpecificationError

__all__ = [
    "DEFAULT_SOURCES",
    "REFERENCE_SOURCE",
    "SelectionConfig",
    "Selection",
    "select_panel",
    "GRAVITY_COVARIATES",
    "PAIR_TRADE_COVARIATES",
    "MISSING_TRADE",
    "conduit_reason",
]

#: The emerging source economies of the multi-source study (ISO3), Korea first.
DEFAULT_SOURCES: tuple[str, ...] = (
    "KOR", "CHN", "MYS", "THA", "TWN", "MEX", "CHL", "TUR", "RUS", "BRA", "ZAF", "IND",
)
#: Contrasts and the paper's H1 are stated relative to Korea.
REFERENCE_SOURCE = "KOR"
#: Time-invariant covariates of a source-host pair: known for every year of a pair or
#: for none, so a row without them cannot be imputed and is left out.
GRAVITY_COVARIATES: tuple[str, ...] = ("dist", "contig", "comlang", "colony")
#: Time-varying covariates of a source-host pair (the source's own trade with the host).
PAIR_TRADE_COVARIATES: tuple[str, ...] = ("exports", "imports", "rta")
#: Rows without the pair's trade: left out, or kept and imputed inside the model.
MISSING_TRADE: tuple[str, ...] = ("restrict", "impute")


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
    include_conduits : bool
        Keep conduit hosts (:func:`bayes_kfdi.data.conduits.conduit_hosts`); by default
        they are left out, since FDI booked there is mostly not real investment.
    missing_trade : {"restrict", "impute"}
        Rows whose pair trade (a term of :data:`PAIR_TRADE_COVARIATES`) is missing are
        left out, or kept so that the model imputes it; under "impute" a missing ``rta``
        carries the pair's last observed value forward (agreements rarely lapse).
    """

    sources: tuple[str, ...] = DEFAULT_SOURCES
    first_year: int = 1995
    last_year: int = 2012
    min_sources_per_host: int = 6
    min_rows_per_source: int = 20
    min_years_per_source: int = 1
    max_hosts: int | None = None
    reference: str = REFERENCE_SOURCE
    include_conduits: bool = False
    missing_trade: str = "impute"

    def __post_init__(self) -> None:
        if not isinstance(self.include_conduits, bool):
            raise SpecificationError(
                f"multisource.include_conduits = {self.include_conduits!r}; expected true "
                "or false"
            )
        if self.missing_trade not in MISSING_TRADE:
            raise SpecificationError(
                f"multisource.missing_trade = {self.missing_trade!r}; expected one of "
                f"{list(MISSING_TRADE)}"
            )
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
    excluded_conduits : tuple of str
        Conduit hosts present in the requested rows and left out (empty when
        ``include_conduits``).
    filters : tuple of (str, int)
        Each filter step and the rows it removed, in order.
    rta_filled : int
        ``rta`` cells carried forward from the pair's last observed year ("impute").
    """

    frame: pd.DataFrame
    sources: tuple[str, ...]
    hosts: tuple[str, ...]
    dropped_sources: dict[str, str] = field(default_factory=dict)
    rows_in: int = 0
    rows_out: int = 0
    excluded_conduits: tuple[str, ...] = ()
    filters: tuple[tuple[str, int], ...] = ()
    rta_filled: int = 0

    def table(self) -> pd.DataFrame:
        """Rows, hosts, years, flow signs and missing trade per kept source (tidy).

        ``floor_share`` is the share of rows at the floor code (negative, zero or tiny
        flows); ``negative_share`` and ``zero_share`` split it by sign when the data
        carry ``flow_sign``; ``trade_missing_share`` is the share of rows whose exports
        the model imputes.
        """
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
        if "flow_sign" in f.columns:
            sign = f["flow_sign"].astype(str)
            out["negative_share"] = (sign == "negative").groupby(f[SERIES]).mean()
            out["zero_share"] = (sign == "zero").groupby(f[SERIES]).mean()
        if "exports" in f.columns:
            out["trade_missing_share"] = f["exports"].isna().groupby(f[SERIES]).mean()
        out = out.reindex(list(self.sources))
        out.index.name = "source"
        return out.reset_index()

    def filter_table(self) -> pd.DataFrame:
        """Return the filter steps as a table: ``step, rows_removed``."""
        return pd.DataFrame(list(self.filters), columns=["step", "rows_removed"])


def conduit_reason() -> str:
    """One paragraph: which lists define a conduit host, why, and their sources."""
    return " ".join(
        f"{c.name} ({len(c.hosts)} economies): {c.reason} Source: {c.source}"
        for c in CONDUIT_LISTS.values()
    )


def _conduit_mask(f: pd.DataFrame) -> pd.Series:
    if "conduit" in f.columns:
        return f["conduit"].astype(bool)
    return is_conduit(f[COUNTRY])


def _fill_rta(f: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Carry each pair's last observed ``rta`` forward into later years."""
    f = f.sort_values([SERIES, COUNTRY, YEAR])
    before = f["rta"].isna()
    filled = f.groupby([SERIES, COUNTRY], sort=False)["rta"].ffill()
    f = f.assign(rta=filled)
    return f, int((before & f["rta"].notna()).sum())


def _row_filters(
    f: pd.DataFrame, config: SelectionConfig, terms: tuple[str, ...], lost: dict[str, str]
) -> tuple[pd.DataFrame, list[tuple[str, int]], tuple[str, ...], int]:
    """Conduit, gravity and trade filters; sources emptied by one are named in ``lost``."""
    steps: list[tuple[str, int]] = []
    excluded: tuple[str, ...] = ()

    def apply(frame: pd.DataFrame, keep: pd.Series, step: str, why: str) -> pd.DataFrame:
        before = set(frame[SERIES].astype(str))
        out = frame.loc[keep.to_numpy()]
        for s in sorted(before - set(out[SERIES].astype(str))):
            lost.setdefault(s, why)
        steps.append((step, int((~keep).sum())))
        return out

    if not config.include_conduits:
        mask = _conduit_mask(f)
        excluded = tuple(sorted(f.loc[mask.to_numpy(), COUNTRY].astype(str).unique()))
        f = apply(f, ~mask, "conduit hosts left out",
                  "invests only in conduit hosts in the window")
    gravity = [t for t in terms if t in GRAVITY_COVARIATES]
    if gravity:
        f = apply(f, f[gravity].notna().all(axis=1), "no pair gravity (" + ", ".join(gravity)
                  + ")", "no pair gravity: not among the trade data's economies")
    trade = [t for t in terms if t in PAIR_TRADE_COVARIATES]
    filled = 0
    if trade and config.missing_trade == "restrict":
        f = apply(f, f[trade].notna().all(axis=1), "no pair trade (" + ", ".join(trade) + ")",
                  "no pair trade in the window")
    elif "rta" in trade:
        f, filled = _fill_rta(f)
    return f, steps, excluded, filled


def _check_terms(frame: pd.DataFrame, terms: tuple[str, ...]) -> None:
    absent = [t for t in terms if t not in frame.columns]
    if absent:
        raise DataError(
            f"the model's terms {absent} are not columns of the panel; columns seen: "
            f"{list(frame.columns)[:16]}; use the bilateral panel (--data ofdi_bilateral) "
            "or remove them from model.terms"
        )


def _source_checks(
    f: pd.DataFrame, config: SelectionConfig, dropped: dict[str, str], lost: dict[str, str]
) -> None:
    rows = f.groupby(SERIES).size()
    years = f.groupby(SERIES)[YEAR].nunique()
    for s in config.sources:
        if s in dropped:
            continue
        n = int(rows.get(s, 0))
        n_years = int(years.get(s, 0))
        if n == 0 and s in lost:
            dropped[s] = lost[s]
        elif n >= config.min_rows_per_source and n_years < config.min_years_per_source:
            dropped[s] = (
                f"{n_years} distinct years ({n} rows) at the kept hosts; expected at least "
                f"{config.min_years_per_source} years for a dynamic model with unit effects"
            )
        elif n < config.min_rows_per_source:
            dropped[s] = (
                f"{n} rows in {config.first_year}-{config.last_year} at the kept hosts; "
                f"expected at least {config.min_rows_per_source}"
            )


def select_panel(
    frame: pd.DataFrame, config: SelectionConfig, *, terms: tuple[str, ...] = ()
) -> Selection:
    """Restrict a long multi-source frame to ``config``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical long panel whose ``series`` column names source economies.
    config : SelectionConfig
    terms : tuple of str
        The model's covariates: gravity terms (:data:`GRAVITY_COVARIATES`) must be known
        for a row to be kept, and pair trade terms (:data:`PAIR_TRADE_COVARIATES`) too
        under ``missing_trade = "restrict"``.

    Returns
    -------
    Selection

    Raises
    ------
    DataError
        If a required column or term is missing, or fewer than two sources or hosts
        survive.
    """
    for col in (SERIES, COUNTRY, YEAR, OUTCOME):
        if col not in frame.columns:
            raise DataError(
                f"the panel has no '{col}' column; columns seen: {list(frame.columns)[:12]}; "
                "expected the canonical layout (series = source economy)"
            )
    terms = tuple(terms or ())
    _check_terms(frame, terms)
    present = set(frame[SERIES].astype(str).unique())
    dropped: dict[str, str] = {
        s: "not in the data" for s in config.sources if s not in present
    }
    f = frame.loc[frame[SERIES].isin(config.sources)]
    rows_in = len(f)
    window = f[YEAR].between(config.first_year, config.last_year) & f[OUTCOME].notna()
    steps = [(f"outside {config.first_year}-{config.last_year} or no outcome",
              int((~window).sum()))]
    lost: dict[str, str] = {}
    f, more, excluded, filled = _row_filters(f.loc[window], config, terms, lost)
    steps += more
    n_src = f.groupby(COUNTRY)[SERIES].nunique()
    hosts = n_src.index[n_src >= config.min_sources_per_host]
    if config.max_hosts is not None and len(hosts) > config.max_hosts:
        size = f.loc[f[COUNTRY].isin(hosts)].groupby(COUNTRY).size()
        hosts = size.sort_values(ascending=False, kind="stable").index[: config.max_hosts]
    keep_host = f[COUNTRY].isin(hosts)
    steps.append((f"hosts with fewer than {config.min_sources_per_host} sources",
                  int((~keep_host).sum())))
    f = f.loc[keep_host]
    _source_checks(f, config, dropped, lost)
    if config.reference in dropped:
        raise DataError(
            f"reference source {config.reference!r} is left out: {dropped[config.reference]}; "
            "choose another multisource.reference or widen the selection"
        )
    kept = tuple(s for s in config.sources if s not in dropped)
    n_before = len(f)
    f = f.loc[f[SERIES].isin(kept)].sort_values([SERIES, COUNTRY, YEAR]).reset_index(drop=True)
    steps.append(("sources left out (too few rows or years)", n_before - len(f)))
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
        excluded_conduits=excluded,
        filters=tuple(steps),
        rta_filled=filled,
    )
