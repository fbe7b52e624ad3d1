"""``bayes-kfdi gmm``: read a panel, fit one xtabond2 command, optionally write its JSON."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from bayes_kfdi import writer
from bayes_kfdi.data.readers import read_table
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.gmm.model import xtabond2
from bayes_kfdi.gmm.results import SystemGMMResults
from bayes_kfdi.gmm.spec import load_gmm_spec

__all__ = ["run_gmm_command"]


def run_gmm_command(
    *,
    data: str | Path,
    entity: str | Sequence[str] | None,
    time: str | None,
    cmd: str | None,
    spec: str | Path | None = None,
    json_out: str | Path | None = None,
) -> tuple[SystemGMMResults, list[str]]:
    """Run ``bayes-kfdi gmm``: check the arguments, read, fit, then write the JSON.

    ``cmd`` and ``spec`` are alternatives; the spec file may supply entity and time.
    An engine error propagates (this command fits one equation the user asked for).
    Returns the results and the warning messages raised during the fit (one line each).
    """
    if spec is not None:
        s = load_gmm_spec(spec)
        if cmd:
            raise SpecificationError(
                "both --cmd and --spec given; expected one of them; drop one")
        cmd = s.command
        entity = entity or s.entity
        time = time or s.time
    if not cmd:
        raise SpecificationError(
            "no model given; expected a command or a spec; pass --cmd \"xtabond2 ...\" or "
            "--spec FILE")
    if not entity or not time:
        raise SpecificationError(
            f"entity={entity!r}, time={time!r}; expected both; pass --entity COL and "
            "--time COL")
    if isinstance(entity, str):
        entity = [e.strip() for e in entity.split(",") if e.strip()]
        entity = entity[0] if len(entity) == 1 else entity
    path = Path(data)
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist; check the --data path")
    df = read_table(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = xtabond2(df, cmd, entity=entity, time=time)
    msgs = [f"{w.category.__name__}: {w.message}".replace("\n", " ") for w in caught]
    if json_out is not None:
        writer.write_json(json_out, res.to_json_dict())
    return res, msgs
