from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.bayes.model import build_model, prepare_data
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
        ({"centering": {"region": "auto"}}, r"\[centering\]: unknown key 'region'"),
        ({"nesting": {"a": "b", "b": "c"}}, "not itself nested"),
        ({"nesting": {"a": "a"}}, "nesting.a"),
        ({"sampler": {"target_accept": "high"}}, r"sampler.target_accept = 'high'; expected"),
        ({"model": {"likelihod": "normal"}}, "did you mean 'likelihood'"),
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


def test_python_defaults_equal_the_default_toml():
    assert HierarchicalSpec() == load_spec(MODELS_DIR / "hierarchical.toml")
    assert HierarchicalSpec().to_json() == load_spec(MODELS_DIR / "hierarchical.toml").to_json()


def test_a_bad_value_gives_one_line_with_what_was_seen_and_expected():
    with pytest.raises(SpecificationError) as err:
        spec_from_dict({"sampler": {"target_accept": "high"}})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("spec: sampler.target_accept = 'high'; expected a number in [0.5, 1)")


def test_nesting_comes_from_the_spec(tmp_path):
    df = _nest_panel()
    default = prepare_data(HierarchicalSpec(terms=("gdp",), time_varying={}), df)
    assert default.parent[default.series.index("steel_north")] == -1
    spec = HierarchicalSpec(terms=("gdp",), time_varying={}, nesting={"steel_north": "steel"})
    md = prepare_data(spec, df)
    assert md.parent[md.series.index("steel_north")] == md.series.index("steel")
    assert md.parent[md.series.index("steel")] == -1
    unnested = prepare_data(replace(spec, nest_motives=False), df)
    assert (unnested.parent == -1).all()
    toml = tmp_path / "nested.toml"
    toml.write_text('[model]\nterms = ["gdp"]\n[time_varying]\n[nesting]\nsteel_north = "steel"\n')
    assert load_spec(toml).nesting == {"steel_north": "steel"}
    assert spec_from_dict(spec.to_dict()) == spec


def _nest_panel():
    rng = np.random.default_rng(1)
    rows = [
        {"series": s, "country": c, "year": y, "fdi": 3 + abs(rng.normal()), "gdp": rng.normal()}
        for s in ("steel", "steel_north")
        for c in ("KOR", "USA", "JPN")
        for y in range(2000, 2006)
    ]
    return pd.DataFrame(rows)


#: Free variables of the default model on the shipped panel: (name, dims, shape).
DEFAULT_FREE_VARIABLES = [
    ("impute_mu", ("impute_term",), (9,)),
    ("impute_tau", ("impute_term",), (9,)),
    ("impute_trend_mu", ("impute_term",), (9,)),
    ("impute_sigma", ("impute_term",), (9,)),
    ("impute_level", None, (557,)),
    ("impute_trend", None, (557,)),
    ("impute_missing_z", None, (1239,)),
    ("rho_mu", None, ()),
    ("rho_tau", None, ()),
    ("rho_c", None, (1,)),
    ("rho_z", None, (5,)),
    ("alpha", ("series",), (6,)),
    ("alpha_trend", ("series",), (6,)),
    ("sigma", ("series",), (6,)),
    ("lag_floor", ("series",), (6,)),
    ("beta_mu", ("term",), (9,)),
    ("beta_tau", None, ()),
    ("beta_tau_motive", None, ()),
    ("beta_root_c", None, (11,)),
    ("beta_root_z", None, (16,)),
    ("beta_motive_z", None, (3, 9)),
    ("trend_mu", ("lin_term",), (2,)),
    ("trend_tau", None, ()),
    ("trend_tau_motive", None, ()),
    ("trend_z", ("series", "lin_term"), (6, 2)),
    ("tau_country", None, ()),
    ("u_country", ("country",), (32,)),
    ("tau_unit", None, ()),
    ("gamma_y0", ("series",), (6,)),
    ("gamma_y0_floor_orth", ("series",), (6,)),
    ("lambda_xbar_qr", ("series", "term"), (6, 9)),
    ("u_unit_c", None, (54,)),
    ("u_unit_z", None, (144,)),
]


def test_default_model_has_the_committed_free_variables():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_model(HierarchicalSpec(), read_panel(DATA_DIR / "korea_semisynthetic.csv"))
    ip = model.initial_point()
    got = [
        (v.name, model.named_vars_to_dims.get(v.name), ip[model.rvs_to_values[v].name].shape)
        for v in model.free_RVs
    ]
    assert got == DEFAULT_FREE_VARIABLES
    assert sorted(model.coords) == [
        "country", "impute_cell", "impute_term", "lin_term", "obs", "series", "term",
        "tv_term", "unit", "year",
    ]
