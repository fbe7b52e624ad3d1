"""The malformed-input corpus, run through the command line as a careless user would.

Every case must exit with code 2 and one line under 300 characters on stderr, raise no
uncaught exception (no traceback), start no fit, and leave every file that existed before
byte-identical (the whole temporary tree is hashed before and after, and no new file may
appear). Small inputs live in ``tests/data/bad``; big ones are generated here.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import bayes_kfdi.jobs.fit
import bayes_kfdi.jobs.multisource
import bayes_kfdi.jobs.paper
import bayes_kfdi.jobs.reproduce
import bayes_kfdi.jobs.simulate
from bayes_kfdi import cli
from bayes_kfdi.resources import data_dir, models_dir

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
PANEL = data_dir() / "korea_semisynthetic.csv"
MULTI = data_dir() / "ofdi_bilateral.csv"
SPEC = models_dir() / "hierarchical.toml"
MULTI_SPEC = models_dir() / "multi_source.toml"
CMD = "xtabond2 n L.n w, gmm(L.n) iv(w)"
MAX_LINE = 300


@dataclass(frozen=True)
class Case:
    """One bad invocation: arguments (``{t}`` is the temporary folder) and a message part."""

    id: str
    args: tuple[str, ...]
    needle: str


def _c(id_: str, args: str, needle: str) -> Case:
    return Case(id_, tuple(args.split("|")), needle)


GMM = f"gmm|--cmd|{CMD}|--data|"
FIT = f"fit|--spec|{SPEC}|--data|{PANEL}|"
CASES = [
    # outputs: never lose a user's file
    _c("fit-out-user-dir", FIT + "--out|{t}/mine", "already exists"),
    _c("fit-out-user-dir-overwrite", FIT + "--out|{t}/mine|--overwrite", "did not write"),
    _c("fit-out-changed-file", FIT + "--out|{t}/marked|--overwrite", "(changed)"),
    _c("fit-out-is-file", FIT + "--out|{t}/notes.txt", "is a file"),
    _c("fit-out-below-file", FIT + "--out|{t}/notes.txt/fit", "which is a file"),
    _c("fit-out-holds-data", f"fit|--spec|{SPEC}|--data|{{t}}/mine/panel.csv|--out|{{t}}/mine"
       "|--overwrite", "contains the data file"),
    _c("fit-out-is-data", f"fit|--spec|{SPEC}|--data|{{t}}/mine/panel.csv|--out|"
       "{t}/mine/panel.csv", "is the data file"),
    _c("gmm-json-is-data", GMM + "{t}/gmm_good.csv|--json|{t}/gmm_good.csv", "is the data file"),
    _c("gmm-json-is-data-overwrite", GMM + "{t}/gmm_good.csv|--json|{t}/gmm_good.csv|"
       "--overwrite", "is the data file"),
    _c("gmm-json-is-dir", GMM + "{t}/gmm_good.csv|--json|{t}/mine", "is a directory"),
    _c("gmm-json-user-file", GMM + "{t}/gmm_good.csv|--json|{t}/notes.txt", "already exists"),
    _c("gmm-json-user-file-overwrite", GMM + "{t}/gmm_good.csv|--json|{t}/notes.txt|"
       "--overwrite", "not a GMM JSON file"),
    _c("gmm-json-below-file", GMM + "{t}/gmm_good.csv|--json|{t}/notes.txt/r.json",
       "which is a file"),
    _c("simulate-user-csv", "simulate|--out|{t}/gmm_good.csv", "already exists"),
    _c("simulate-user-csv-overwrite", "simulate|--out|{t}/gmm_good.csv|--overwrite",
       "not a simulated panel"),
    _c("simulate-out-dir", "simulate|--out|{t}/mine", "is a directory"),
    _c("paper-out-user-dir", f"paper|--data|{PANEL}|--out|{{t}}/mine|--overwrite",
       "did not write"),
    _c("paper-out-is-data", "paper|--data|{t}/mine/panel.csv|--out|{t}/mine/panel.csv",
       "is the data file"),
    _c("reproduce-out-user-dir", "reproduce|--quick|--out|{t}/mine|--overwrite", "did not write"),
    _c("reproduce-out-holds-spec", "reproduce|--quick|--spec|{t}/mine/spec.toml|--out|{t}/mine"
       "|--overwrite", "contains the spec"),
    _c("reproduce-out-below-file", "reproduce|--quick|--out|{t}/notes.txt/rep", "which is a file"),
    _c("multisource-out-user-dir", f"reproduce|--quick|--data|{MULTI}|--spec|{MULTI_SPEC}|"
       "--out|{t}/mine|--overwrite", "did not write"),
    _c("multisource-out-is-file", f"reproduce|--quick|--data|{MULTI}|--spec|{MULTI_SPEC}|"
       "--out|{t}/notes.txt", "is a file"),
    # bounded inputs: no allocation proportional to a typo
    _c("gmm-year-typo", GMM + "{t}/gmm_year_typo.csv", "implausible year 19800"),
    _c("gmm-period-typo", GMM + "{t}/gmm_period_typo.csv|--entity|country|--time|period",
       "spans 17,821 periods"),
    _c("validate-year-typo", "data|validate|--data|{t}/year_typo_19800.csv",
       "implausible year 19800 in data row 3"),
    _c("gmm-datetime-year", GMM + "{t}/gmm_datetime_year.parquet", "holds dates (e.g. 1980-01-01)"),
    _c("validate-datetime-year", "data|validate|--data|{t}/year_datetime.parquet",
       "holds dates (e.g. 1990-01-01)"),
    _c("gmm-entity-is-time", GMM + "{t}/gmm_good.csv|--entity|year|--time|year",
       "also a unit column"),
    _c("gmm-grid-cells", GMM + "{t}/grid.csv|--entity|unit|--time|t", "grid cells"),
    # readers: one line naming the file and the problem
    _c("validate-cp949", "data|validate|--data|{t}/cp949.csv", "save it as UTF-8"),
    _c("gmm-cp949", GMM + "{t}/cp949.csv", "save it as UTF-8"),
    _c("fit-cp949-data", f"fit|--spec|{SPEC}|--data|{{t}}/cp949.csv|--out|{{t}}/new",
       "save it as UTF-8"),
    _c("fit-cp949-spec", f"fit|--spec|{{t}}/spec_cp949.toml|--data|{PANEL}|--out|{{t}}/new",
       "save it as UTF-8"),
    _c("fit-target-accept-text", f"fit|--spec|{{t}}/spec_target_accept_text.toml|--data|"
       f"{PANEL}|--out|{{t}}/new", "target_accept = 'high'"),
    _c("gmm-spec-cp949", "gmm|--data|{t}/gmm_good.csv|--spec|{t}/gmm_spec_cp949.toml",
       "save it as UTF-8"),
    _c("reproduce-hypotheses-cp949", "reproduce|--quick|--hypotheses|{t}/hypotheses_cp949.toml|"
       "--out|{t}/new", "save it as UTF-8"),
    _c("compare-truncated", "compare|{t}/truncated_fit|{t}/truncated_fit", "truncated file"),
    _c("gmm-data-is-dir", GMM + "{t}/mine", "is a directory"),
    _c("fit-data-is-dir", f"fit|--spec|{SPEC}|--data|{{t}}/mine|--out|{{t}}/new",
       "is a directory"),
    _c("gmm-corrupt-parquet", GMM + "{t}/corrupt.parquet", "cannot parse 'corrupt.parquet'"),
    _c("gmm-corrupt-dta", GMM + "{t}/corrupt.dta", "cannot parse 'corrupt.dta'"),
    _c("gmm-corrupt-xlsx", GMM + "{t}/corrupt.xlsx", "cannot parse 'corrupt.xlsx'"),
    # messages that help, and never flood a terminal
    _c("gmm-infinite-regressor", GMM + "{t}/gmm_infinite_regressor.csv",
       "infinite value inf in data row 34"),
    _c("validate-5mb-cell", "data|validate|--data|{t}/big_cell.csv", "non-numeric value 'xxx"),
    _c("gmm-5mb-cell", "gmm|--cmd|xtabond2 n L.n w, gmm(L.n) iv(w)|--data|{t}/big_cell_gmm.csv",
       "non-numeric values (e.g. 'xxx"),
    _c("validate-5mb-header", "data|validate|--data|{t}/big_header.csv", "missing required"),
    _c("gmm-97kb-command", "gmm|--data|{t}/gmm_good.csv|--cmd|{t}:bigcmd", "characters long"),
]


def _tree(root: Path) -> dict[str, tuple[int, str]]:
    """Every entry below ``root`` (hidden ones too): mode and sha256 of the bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[rel] = (st.st_mode, digest)
    return out


def _prepare(t: Path) -> None:
    """The user's files: bad inputs, a folder of their own, a marked run with a changed file."""
    for p in BAD.iterdir():
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, t / p.name)
    mine = t / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's notes\n")
    shutil.copy2(BAD / "gmm_good.csv", mine / "panel.csv")
    (mine / "spec.toml").write_bytes(SPEC.read_bytes())
    (t / "notes.txt").write_text("a user's file\n")
    from bayes_kfdi import writer

    marked = t / "marked"
    marked.mkdir()
    (marked / "summary.csv").write_text("parameter,mean\n")
    writer.mark_output_dir(marked, adopt=True)
    (marked / "summary.csv").write_text("parameter,mean\nedited by hand,1\n")


def _generated(t: Path, name: str) -> None:
    """Big inputs, written only for the cases that need them."""
    big = "x" * 5_000_000
    if name == "big_cell.csv":
        (t / name).write_text(f"series,country,year,fdi\ntextile,USA,1990,{big}\n")
    elif name == "big_cell_gmm.csv":
        good = (BAD / "gmm_good.csv").read_text().splitlines()
        rows = [good[0], *good[1:5], good[5].rsplit(",", 1)[0] + "," + big, *good[6:]]
        (t / name).write_text("\n".join(rows) + "\n")
    elif name == "big_header.csv":
        (t / name).write_text(f"series,{big},year,fdi\ntextile,USA,1990,1\n")
    elif name == "grid.csv":
        # 50,000 units over 450 periods: 22.5 million cells, each unit observed once
        lines = ["unit,t,n,w"] + [f"u{i},{(i * 7) % 450},0.1,0.2" for i in range(50_000)]
        (t / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def no_fit(monkeypatch):
    """Every expensive step fails the test if it starts."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a fit started although the input was refused")

    monkeypatch.setattr(bayes_kfdi.jobs.fit, "bayes_fit", forbidden)
    monkeypatch.setattr(bayes_kfdi.jobs.reproduce, "bayes_fit", forbidden)
    monkeypatch.setattr(bayes_kfdi.jobs.multisource, "run_multisource", forbidden)
    monkeypatch.setattr(bayes_kfdi.jobs.paper, "run_equations", forbidden)
    monkeypatch.setattr(bayes_kfdi.jobs.simulate, "simulate_korea", forbidden)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, tmp_path, monkeypatch, capsys,
                                                   no_fit) -> None:
    _prepare(tmp_path)
    args = [a.replace("{t}", str(tmp_path)) for a in case.args]
    for a in args:
        _generated(tmp_path, Path(a).name)
    args = [("xtabond2 n L.n " + "w " * 48_500) if a.endswith(":bigcmd") else a for a in args]
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    shipped = hashlib.sha256(PANEL.read_bytes()).hexdigest()
    monkeypatch.setattr(sys, "argv", ["bayes-kfdi", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert exit_info.value.code == 2, err[:2000]
    assert len(lines) == 1, err[:2000]
    assert lines[0].startswith("error: ") and len(lines[0]) < MAX_LINE, lines[0]
    assert case.needle in lines[0], lines[0]
    assert _tree(tmp_path) == before
    assert hashlib.sha256(PANEL.read_bytes()).hexdigest() == shipped


def test_corpus_covers_every_class() -> None:
    assert len(CASES) >= 45
    commands = {c.args[0] if c.args[0] != "data" else "data " + c.args[1] for c in CASES}
    assert commands >= {"fit", "gmm", "simulate", "paper", "reproduce", "compare",
                        "data validate"}
