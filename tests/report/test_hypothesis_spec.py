"""Hypothesis specs: the shipped file, and every malformed entry caught before fitting."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.report.hypothesis import (
    load_hypotheses,
    parse_hypotheses,
    validate_hypotheses,
)
from bayes_kfdi.resources import models_dir

MODELS_DIR = models_dir()
PAPER_SERIES = [
    "textile", "steel", "electronics", "electronics_market", "electronics_technology",
    "electronics_efficiency",
]
TERMS = ["gdp", "gdppc", "wage", "rd", "edu", "exports", "exunit", "imports", "imunit"]

GOOD = {
    "settings": {"rope_sd": 0.1},
    "hypothesis": [
        {"id": "X1", "title": "t", "statement": "s",
         "claims": [{"series": ["textile"], "term": "gdp", "direction": ">"}]},
    ],
}


def test_shipped_hypotheses_restate_the_paper() -> None:
    hs = load_hypotheses(MODELS_DIR / "hypotheses.toml")
    assert [h.id for h in hs.hypotheses] == ["H1", "H2", "H3"]
    claims = {h.id: {(c.series, c.term, c.direction, c.component) for c in h.claims}
              for h in hs.hypotheses}
    # H1: market seeking (Table 2, section 6), including the "no effect" claims
    assert (("electronics",), "gdp", "none", "level") in claims["H1"]
    assert (("textile", "steel"), "gdp", "none", "trend") in claims["H1"]
    # H2: relocation of low-value work, the paper's evidence (Tables 2-3)
    assert (("electronics",), "imunit", "<", "level") in claims["H2"]
    assert (("electronics",), "imports", ">", "level") in claims["H2"]
    assert (("electronics_efficiency",), "exunit", "<", "level") in claims["H2"]
    # H3: technology sourcing, with the import-unit-value reversal over time
    assert (("electronics_technology",), "exunit", "<", "level") in claims["H3"]
    assert (("steel",), "imunit", ">", "level") in claims["H3"]
    assert (("electronics_efficiency",), "imunit", "<", "trend") in claims["H3"]
    assert all(c.cite for h in hs.hypotheses for c in h.claims)  # every claim cites the paper
    assert hs.settings.rope_sd == pytest.approx(0.1)
    assert hs.wage_effect is not None and hs.wage_effect.paper_sd == pytest.approx(0.380248)
    validate_hypotheses(hs, series=PAPER_SERIES, terms=TERMS)


def test_no_effect_claim_parses() -> None:
    doc = copy.deepcopy(GOOD)
    doc["hypothesis"][0]["claims"] = [
        {"series": "electronics", "term": "gdp", "direction": "none", "cite": "Table 2"}]
    (h,) = parse_hypotheses(doc).hypotheses
    assert h.claims[0].direction == "none"
    assert h.claims[0].label("electronics") == "gdp = 0 (no effect) (electronics)"


def _mutate(path: tuple, value: object) -> dict:
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()
CLAIM = ("hypothesis", 0, "claims", 0)


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (("hypothesis",), [], "non-empty array"),
        (("hypothesis", 0, "id"), "", "expected a non-empty string"),
        (("hypothesis", 0, "id"), "H 1", "letters, digits"),
        (("hypothesis", 0, "claims"), [], "non-empty array of claims"),
        (("hypothesis", 0, "colour"), "red", "unknown key 'colour'"),
        ((*CLAIM, "direction"), "positive", "expected one of '>', '<', 'none'"),
        ((*CLAIM, "component"), "slope", "expected one of 'level', 'trend'"),
        ((*CLAIM, "series"), [], "expected a series name"),
        ((*CLAIM, "series"), ["textile", "textile"], "each series once"),
        ((*CLAIM, "term"), _DELETE, "missing key(s) term"),
        ((*CLAIM, "rope"), [0.1, -0.1], "low < high"),
        (("settings", "ci_prob"), 1.5, "strictly between 0 and 1"),
        (("settings", "prob_threshold"), 0.4, "more than 0.5"),
        (("settings", "rope_sd"), -1.0, "expected a positive number"),
        (("settings", "alpah"), 0.05, "did you mean 'alpha'?"),
    ],
)
def test_malformed_specs_raise_with_location_and_fix(path, value, fragment) -> None:
    with pytest.raises(SpecificationError) as err:
        parse_hypotheses(_mutate(path, value), source="spec.toml")
    msg = str(err.value)
    assert fragment in msg
    assert msg.startswith("spec.toml")


def test_duplicate_ids_rejected() -> None:
    doc = copy.deepcopy(GOOD)
    doc["hypothesis"].append(copy.deepcopy(doc["hypothesis"][0]))
    with pytest.raises(SpecificationError, match="give each hypothesis its own id"):
        parse_hypotheses(doc)


def test_validation_against_data_lists_every_problem() -> None:
    doc = copy.deepcopy(GOOD)
    doc["hypothesis"][0]["claims"].append(
        {"series": ["cars"], "term": "tariff", "direction": "<"}
    )
    hs = parse_hypotheses(doc, source="mine.toml")
    with pytest.raises(SpecificationError) as err:
        validate_hypotheses(hs, series=PAPER_SERIES, terms=TERMS)
    msg = str(err.value)
    assert "'cars' not in the data" in msg and "'tariff' not in the data" in msg
    assert "textile" in msg  # says what the data do have


def test_user_file_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text(
        '[[hypothesis]]\nid = "MY1"\nclaims = [{ series = "steel", term = "rd", '
        'direction = "<", rope = [-0.2, 0.2] }]\n'
    )
    hs = load_hypotheses(p)
    (h,) = hs.hypotheses
    assert h.title == "MY1" and h.claims[0].rope == (-0.2, 0.2)
    p.write_text("[[hypothesis]\n")
    with pytest.raises(SpecificationError, match="not valid TOML"):
        load_hypotheses(p)
    with pytest.raises(SpecificationError, match="does not exist"):
        load_hypotheses(tmp_path / "absent.toml")


def test_shipped_file_is_plain_toml() -> None:
    raw = tomllib.loads((MODELS_DIR / "hypotheses.toml").read_text())
    assert set(raw) == {"settings", "hypothesis", "wage_effect"}
