"""TOML equivalents of xtabond2 commands, so model equations can live in ``models/``.

A spec file has a ``[gmm]`` table; it is turned into the xtabond2 command string and
then parsed by :func:`bayes_kfdi.gmm.syntax.parse_xtabond2`, so both routes share one
set of semantics::

    [gmm]
    depvar = "n"
    regressors = ["L(1/2).n", "w", "k"]   # Stata varlist tokens
    twostep = true                        # default false
    robust = true                         # default false
    small = false
    orthogonal = false                    # forward orthogonal deviations
    system = true                         # false = difference GMM (noleveleq)
    constant = true                       # false = noconstant
    h = 3                                 # one-step weighting matrix, xtabond2 h()
    artests = 2

    [[gmm.instruments.gmm]]
    vars = ["n"]
    lag = [2, 4]                          # [a, "."] for no upper limit
    collapse = false
    equation = "both"                     # diff | level | both

    [[gmm.instruments.iv]]
    vars = ["k"]
    equation = "both"
    passthru = false
    mz = false

Optional top-level keys ``data``, ``entity`` and ``time`` document where the model runs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bayes_kfdi.exceptions import SpecificationError

__all__ = ["GmmSpec", "load_gmm_spec", "spec_to_command"]

_GMM_KEYS = {"depvar", "regressors", "twostep", "robust", "small", "orthogonal", "system",
             "constant", "h", "artests", "instruments", "description"}
_GMMGROUP_KEYS = {"vars", "lag", "collapse", "equation", "passthru"}
_IVGROUP_KEYS = {"vars", "equation", "passthru", "mz"}
_TOP_KEYS = {"gmm", "data", "entity", "time", "name", "description", "source"}


@dataclass(frozen=True, slots=True)
class GmmSpec:
    """A declarative GMM model: the command plus where it runs.

    Attributes
    ----------
    command : the equivalent xtabond2 command string
    entity, time, data : optional panel keys and data path from the file
    name, description : free text
    """

    command: str
    entity: str | list[str] | None = None
    time: str | None = None
    data: str | None = None
    name: str = ""
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def _bool(tbl: dict[str, Any], key: str, where: str, default: bool = False) -> bool:
    val = tbl.get(key, default)
    if not isinstance(val, bool):
        raise SpecificationError(f"{where}.{key} = {val!r}; expected true or false.")
    return val


def _vars(tbl: dict[str, Any], where: str) -> str:
    v = tbl.get("vars")
    if isinstance(v, str):
        v = v.split()
    if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
        raise SpecificationError(f"{where}.vars = {v!r}; expected a non-empty list of names.")
    return " ".join(v)


def _check_keys(tbl: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(tbl) - allowed)
    if extra:
        raise SpecificationError(
            f"Unknown key(s) {extra} in {where}. Expected some of {sorted(allowed)}. "
            "Fix the spelling."
        )


def spec_to_command(gmm: dict[str, Any]) -> str:
    """Build the xtabond2 command string from a ``[gmm]`` table."""
    _check_keys(gmm, _GMM_KEYS, "[gmm]")
    dep = gmm.get("depvar")
    if not isinstance(dep, str) or not dep.strip():
        raise SpecificationError(f"[gmm].depvar = {dep!r}; expected a variable name.")
    regs = gmm.get("regressors", [])
    if isinstance(regs, str):
        regs = [regs]
    if not isinstance(regs, list) or not all(isinstance(r, str) for r in regs):
        raise SpecificationError(f"[gmm].regressors = {regs!r}; expected a list of strings.")
    opts: list[str] = []
    inst = gmm.get("instruments", {})
    if not isinstance(inst, dict):
        raise SpecificationError("[gmm.instruments] must be a table with gmm/iv arrays.")
    _check_keys(inst, {"gmm", "iv"}, "[gmm.instruments]")
    for i, g in enumerate(inst.get("gmm", [])):
        where = f"[[gmm.instruments.gmm]] #{i + 1}"
        _check_keys(g, _GMMGROUP_KEYS, where)
        sub = []
        if "lag" in g:
            lag = g["lag"]
            if not (isinstance(lag, list) and len(lag) == 2):
                raise SpecificationError(f"{where}.lag = {lag!r}; expected [a, b] or [a, \".\"].")
            sub.append(f"lag({lag[0]} {lag[1]})")
        if _bool(g, "collapse", where):
            sub.append("collapse")
        if _bool(g, "passthru", where):
            sub.append("passthru")
        if "equation" in g:
            sub.append(f"eq({g['equation']})")
        opts.append(f"gmm({_vars(g, where)}" + (", " + " ".join(sub) if sub else "") + ")")
    for i, g in enumerate(inst.get("iv", [])):
        where = f"[[gmm.instruments.iv]] #{i + 1}"
        _check_keys(g, _IVGROUP_KEYS, where)
        sub = []
        if "equation" in g:
            sub.append(f"eq({g['equation']})")
        if _bool(g, "passthru", where):
            sub.append("passthru")
        if _bool(g, "mz", where):
            sub.append("mz")
        opts.append(f"iv({_vars(g, where)}" + (", " + " ".join(sub) if sub else "") + ")")
    flags = {"twostep": "twostep", "robust": "robust", "small": "small",
             "orthogonal": "orthogonal"}
    for key, word in flags.items():
        if _bool(gmm, key, "[gmm]"):
            opts.append(word)
    if not _bool(gmm, "system", "[gmm]", True):
        opts.append("noleveleq")
    if not _bool(gmm, "constant", "[gmm]", True):
        opts.append("noconstant")
    for key in ("h", "artests"):
        if key in gmm:
            if not isinstance(gmm[key], int) or isinstance(gmm[key], bool):
                raise SpecificationError(f"[gmm].{key} = {gmm[key]!r}; expected an integer.")
            opts.append(f"{key}({gmm[key]})")
    return f"xtabond2 {dep} {' '.join(regs)}".rstrip() + (", " + " ".join(opts) if opts else "")


def load_gmm_spec(path: str | Path) -> GmmSpec:
    """Read a GMM TOML spec; ``.command`` is the equivalent xtabond2 command.

    Raises
    ------
    SpecificationError
        Unreadable TOML, unknown keys, or wrong value types.
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecificationError(f"Spec file {str(p)!r} not found. Check the path.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecificationError(f"Spec file {str(p)!r} is not valid TOML: {exc}.") from None
    _check_keys(raw, _TOP_KEYS, str(p))
    if "gmm" not in raw or not isinstance(raw["gmm"], dict):
        raise SpecificationError(f"Spec file {str(p)!r} has no [gmm] table. Add one.")
    return GmmSpec(
        command=spec_to_command(raw["gmm"]),
        entity=raw.get("entity"),
        time=raw.get("time"),
        data=raw.get("data"),
        name=str(raw.get("name", "")),
        description=str(raw.get("description", raw["gmm"].get("description", ""))),
        raw=raw,
    )
