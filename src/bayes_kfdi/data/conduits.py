"""Conduit and offshore hosts: where recorded FDI is mostly not real investment.

Bilateral FDI into pass-through economies and offshore financial centres largely flows
through special purpose entities (holding, intra-group financing, intangible assets)
with no production behind it, so it does not measure market, efficiency or technology
seeking. The lists below are data: each carries its reason and its published source.
:func:`conduit_hosts` returns their union (or a chosen subset) and
:func:`is_conduit` flags a column of ISO3 codes.

Belgium is not listed: neither source names it. Pass ``extra=("BEL",)`` to treat it as
a conduit too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "ConduitList",
    "PASS_THROUGH",
    "OFFSHORE_FSF",
    "CONDUIT_LISTS",
    "conduit_hosts",
    "is_conduit",
]


@dataclass(frozen=True, slots=True)
class ConduitList:
    """A published list of conduit or offshore economies.

    Attributes
    ----------
    name : str
        Short key (``pass_through``, ``offshore_fsf``).
    hosts : tuple of str
        ISO3 codes of the listed economies (jurisdictions without an ISO3 code, such as
        Labuan, are named in ``reason`` instead).
    reason : str
        Why FDI recorded there is treated as a conduit flow.
    source : str
        The citation the list is taken from.
    """

    name: str
    hosts: tuple[str, ...]
    reason: str
    source: str


PASS_THROUGH = ConduitList(
    name="pass_through",
    hosts=("LUX", "NLD", "HKG", "VGB", "BMU", "SGP", "CYM", "CHE", "IRL", "MUS"),
    reason=(
        "The ten major pass-through economies, which together host more than 85% of the "
        "world's investment in special purpose entities; phantom investment through such "
        "shells is estimated at almost 40% of global FDI."
    ),
    source=(
        "Damgaard, J., Elkjaer, T. and Johannesen, N. (2018), 'Piercing the veil', IMF "
        "Finance & Development 55(2); estimates in Damgaard, Elkjaer and Johannesen "
        "(2019), 'What is real and what is not in the global FDI network?', IMF Working "
        "Paper WP/19/274."
    ),
)

OFFSHORE_FSF = ConduitList(
    name="offshore_fsf",
    hosts=tuple(
        # Group I; Group II (also Labuan, part of Malaysia, not coded); Group III (the
        # Netherlands Antilles under its former code ANT)
        "HKG LUX SGP CHE IRL GGY JEY IMN "
        "AND BHR BRB BMU GIB MAC MLT MCO "
        "AIA ATG ABW BHS BLZ VGB CYM COK CRI CYP LBN LIE MHL MUS NRU ANT NIU PAN KNA LCA "
        "VCT WSM SYC TCA VUT".split()
    ),
    reason=(
        "The 42 offshore financial centres of the Financial Stability Forum, the list the "
        "IMF's offshore-centre assessment programme started from: jurisdictions whose "
        "financial sector mainly serves non-residents, so inward FDI there is mostly "
        "booked by holding and financing entities."
    ),
    source=(
        "Financial Stability Forum (2000), 'Report of the Working Group on Offshore "
        "Centres', 5 April 2000; IMF (2000), 'Offshore Financial Centers', IMF "
        "Background Paper, 23 June 2000."
    ),
)

#: Every list by name, in the order they are applied.
CONDUIT_LISTS: dict[str, ConduitList] = {c.name: c for c in (PASS_THROUGH, OFFSHORE_FSF)}


def conduit_hosts(
    lists: Iterable[str] | None = None, *, extra: Iterable[str] = ()
) -> frozenset[str]:
    """ISO3 codes flagged as conduits.

    Parameters
    ----------
    lists : iterable of str, optional
        Names from :data:`CONDUIT_LISTS`; all of them when None.
    extra : iterable of str
        More ISO3 codes to flag (e.g. ``("BEL",)``).

    Returns
    -------
    frozenset of str
        The union of the chosen lists and ``extra``.

    Raises
    ------
    ValueError
        If a name is not in :data:`CONDUIT_LISTS`.
    """
    names = list(CONDUIT_LISTS) if lists is None else list(lists)
    unknown = [n for n in names if n not in CONDUIT_LISTS]
    if unknown:
        raise ValueError(
            f"unknown conduit list(s) {unknown}; expected names from {sorted(CONDUIT_LISTS)}"
        )
    hosts: set[str] = {h.upper() for h in extra}
    for n in names:
        hosts.update(CONDUIT_LISTS[n].hosts)
    return frozenset(hosts)


def is_conduit(
    codes: pd.Series, lists: Iterable[str] | None = None, *, extra: Iterable[str] = ()
) -> pd.Series:
    """Boolean Series: True where the ISO3 code in ``codes`` is a conduit (see above)."""
    return codes.astype(str).str.upper().isin(conduit_hosts(lists, extra=extra))
