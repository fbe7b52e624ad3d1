"""``bayes-kfdi gmm``: read a panel, fit one xtabond2 command, optionally write its JSON."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

from bayes_kfdi import writer
from bayes_kfdi.data.panel import check_panel_keys
from bayes_kfdi.data.readers import apply_mapping, parse_mapping, read_table
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm import panel_keys
from bayes_kfdi.gmm.model import xtabond2
from bayes_kfdi.gmm.results import SystemGMMResults
from bayes_kfdi.gmm.spec import load_gmm_spec
from bayes_kfdi.jobs.common import check_data

__all__ = ["MAX_COMMAND_CHARS", "is_gmm_json", "run_gmm_command"]

#: Longest accepted command: far beyond any real xtabond2 line, short enough to echo.
MAX_COMMAND_CHARS = 10_000
#: Keys every GMM JSON document has (``docs/contracts.md``, GMM JSON).
_JSON_KEYS = ("command", "coef", "se")


def is_gmm_json(path: Path) -> bool:
    """Whether ``path`` holds a GMM JSON document (which ``--overwrite`` may replace)."""
    try:
        with path.open("rb") as fh:
            doc = json.loads(fh.read(50_000_000))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and all(k in doc for k in _JSON_KEYS)


def _check_command(cmd: str) -> None:
    if len(cmd) > MAX_COMMAND_CHARS:
        raise SpecificationError(
            f"the command is {len(cmd):,} characters long (starts {cmd[:40]!r}); expected at "
            f"most {MAX_COMMAND_CHARS:,}; pass the xtabond2 command itself"
        )


def run_gmm_command(
    *,
    data: str | Path,
    entity: str | Sequence[str] | None,
    time: str | None,
    cmd: str | None,
    spec: str | Path | None = None,
    json_out: str | Path | None = None,
    mapping: Sequence[str] | None = None,
    overwrite: bool = False,
) -> tuple[SystemGMMResults, list[str]]:
    """Run ``bayes-kfdi gmm``: check the arguments, read, fit, then write the JSON.

    ``cmd`` and ``spec`` are alternatives; the spec file may supply entity and time,
    and on a canonical panel they default to ``country``/``year`` (see
    :func:`bayes_kfdi.gmm.panel_keys`). ``mapping`` renames columns (``OLD=NEW``).
    ``json_out`` follows the output policy (:func:`bayes_kfdi.writer.check_output_file`),
    checked before the data are read. An engine error propagates (this command fits one
    equation the user asked for). Returns the results and the warning messages raised
    during the fit (one line each).
    """
    path = Path(data)
    if json_out is not None:
        inputs = [("data file", path)] + ([("spec", Path(spec))] if spec is not None else [])
        writer.check_output_file(json_out, overwrite=overwrite, inputs=inputs, option="--json",
                                 recognise=is_gmm_json, kind="GMM JSON file")
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
    _check_command(cmd)
    mapping_dict = parse_mapping(mapping or [])
    check_data(path)
    df = apply_mapping(read_table(path), mapping_dict)
    if spec is not None:  # the spec's series rows and trend columns (GmmSpec.frame)
        df = s.frame(df)
    entity, time = panel_keys(df, entity, time)
    check_panel_keys(df, entity, time)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = xtabond2(df, cmd, entity=entity, time=time)
    msgs = [f"{w.category.__name__}: {w.message}".replace("\n", " ") for w in caught]
    if json_out is not None:
        writer.write_json(json_out, res.to_json_dict())
    return res, msgs
