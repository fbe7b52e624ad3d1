from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayes_kfdi.bayes.model import build_model
from bayes_kfdi.bayes.spec import HierarchicalSpec, load_spec, spec_from_dict
from bayes_kfdi.data import read_panel
from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.resources import data_dir, models_dir

MODELS_DIR = models_dir()
DATA_DIR = data_dir()

ROOT = Path(__file__).resolve().parents[2]
MY_SPECS = (
    "hierarchical",
    "normal",
    "unpooled",
    "constant",
    "naive",
    "complete_case",
    "hurdle",
    "latent",
    "hsgp",
    "impute_rw",
)


@pytest.mark.parametrize("name", MY_SPECS)
def test_shipped_specs_load_and_differ_from_default_in_one_option(name):
    spec = load_spec(MODELS_DIR / f"{name}.toml")
    default = load_spec(MODELS_DIR / "hierarchical.toml")
    assert spec.name == name
    a, b = spec.to_dict(), default.to_dict()
    # centring is a parameterisation, not part of the model: normal.toml non-centres
    # the country effects, which converge better under that likelihood
    diff = {k for k in a if a[k] != b[k]} - {"name", "centering"}
    assert len(diff) == (0 if name == "hierarchical" else 1), diff
    moved = {k for k in a["centering"] if a["centering"][k] != b["centering"][k]}
    assert moved == ({"country"} if name == "normal" else set())


def test_default_toml_matches_documented_default():
    spec = load_spec(MODELS_DIR / "hierarchical.toml")
    assert spec.likelihood == "censored"
    assert spec.initial_conditions == "wooldridge"
    assert spec.slopes == "partial"
    assert spec.missing == "impute"
    assert spec.terms is None
    assert spec.time_varying == {"wage": "linear", "imunit": "linear"}
    assert spec.sampler.sampler == "nutpie"


def test_round_trip_and_hash():
    spec = HierarchicalSpec(terms=("gdp", "wage"), time_varying={"wage": "rw"})
    again = spec_from_dict(spec.to_dict())
    assert again == spec
    assert again.model_hash() == spec.model_hash()
    # the sampler is not part of the model hash
    assert spec.with_sampler(draws=10, seed=3).model_hash() == spec.model_hash()
    assert HierarchicalSpec(likelihood="normal").model_hash() != spec.model_hash()
    # the standardisation scale is part of the model
    sector = spec_from_dict({**spec.to_dict(), "scale": "sector"})
    assert sector.scale == "sector" and sector.model_hash() != spec.model_hash()
    # so is the imputation model
    walk = spec_from_dict({**spec.to_dict(), "imputation": "random_walk"})
    assert spec.imputation == "trend"
    assert walk.imputation == "random_walk" and walk.model_hash() != spec.model_hash()


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"model": {"likelihood": "tobit"}}, "likelihood"),
        ({"model": {"initial_conditions": "exogenous"}}, "initial_conditions"),
        ({"model": {"slopes": "full"}}, "slopes"),
        ({"model": {"missing": "drop"}}, "missing"),
        ({"model": {"scale": "series"}}, r"model.scale = 'series'"),
        ({"model": {"imputation": "spline"}}, r"model.imputation = 'spline'"),
        ({"model": {"terms": []}}, "terms"),
        ({"model": {"terms": ["gdp", "gdp"]}}, "repeats"),
        ({"model": {"terms": ["gdp"]}, "time_varying": {"wage": "linear"}}, "not in model.terms"),
        ({"time_varying": {"wage": "spline"}}, "time_varying.wage"),
        ({"centering": {"country": "half"}}, "centering.country"),
        ({"centering": {"region": "auto"}}, "centering level"),
        ({"sampler": {"draws": 0}}, "sampler.draws"),
        ({"sampler": {"max_treedepth": 0}}, "sampler.max_treedepth"),
        ({"sampler": {"adaptation": "flow"}}, r"sampler.adaptation = 'flow'"),
        ({"sampler": {"sampler": "stan"}}, "sampler.sampler"),
        ({"sampler": {"target_accept": 1.2}}, "target_accept"),
        ({"sampler": {"seed": -1}}, "seed"),
        ({"priors": {"beta_sd": -1.0}}, "priors.beta_sd"),
        ({"priors": {"nonsense": 1.0}}, "priors"),
        ({"model": {"colour": "red"}}, "unknown key"),
        ({"modle": {}}, "unknown"),
    ],
)
def test_invalid_specs_fail_before_sampling(raw, match):
    with pytest.raises(SpecificationError, match=match):
        spec_from_dict(raw)


def test_load_spec_errors(tmp_path):
    with pytest.raises(SpecificationError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\nlikelihood = 1")
    with pytest.raises(SpecificationError, match="not valid TOML"):
        load_spec(bad)


@pytest.mark.parametrize("name", MY_SPECS)
def test_every_shipped_spec_builds_on_the_default_panel(name):
    spec = load_spec(MODELS_DIR / f"{name}.toml")
    model = build_model(spec, read_panel(DATA_DIR / "korea_semisynthetic.csv"))
    assert np.isfinite(model.compile_logp()(model.initial_point()))
