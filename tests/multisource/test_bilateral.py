"""The multi-source default on the bilateral panel: selection, covariates and flow signs.

Fast tests (no sampling) of what the default job fits, and one slow test that samples
the default pooled model and fails when it stops converging.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.bayes.fit import fit
from bayes_kfdi.constants import ESS_MIN, RHAT_MAX
from bayes_kfdi.data.conduits import conduit_hosts
from bayes_kfdi.data.load import data_path
from bayes_kfdi.data.readers import read_panel
from bayes_kfdi.exceptions import DataError, SpecificationError
from bayes_kfdi.multisource import SelectionConfig, load_multisource_spec, select_panel
from bayes_kfdi.multisource.panel import GRAVITY_COVARIATES
from bayes_kfdi.multisource.pipeline import fit_input, select
from bayes_kfdi.multisource.spec import spec_from_mapping
from bayes_kfdi.resources import models_dir, resolve_data

SPEC = models_dir() / "multi_source.toml"
HOST_TERMS = ("pop", "gdppc", "wage", "rd", "edu")
PAIR_TERMS = ("exports", "imports", "dist", "contig", "comlang", "colony", "rta")


@pytest.fixture(scope="module")
def mspec():
    return load_multisource_spec(SPEC)


@pytest.fixture(scope="module")
def bilateral() -> pd.DataFrame:
    return read_panel(data_path("ofdi_bilateral")).frame


def _with(mspec, **changes):
    return dataclasses.replace(mspec, selection=dataclasses.replace(mspec.selection, **changes))


def test_default_spec_reads_the_bilateral_panel_with_every_covariate(mspec):
    assert mspec.data == "ofdi_bilateral"
    assert resolve_data(mspec.data) == data_path("ofdi_bilateral")
    assert set(HOST_TERMS + PAIR_TERMS) == set(mspec.model.terms)
    assert "gdp" not in mspec.model.terms  # population and GDP per head instead
    assert mspec.model.likelihood == "hurdle"
    assert mspec.model.missing == "impute"
    assert mspec.selection.include_conduits is False


def test_default_selection_excludes_conduits_and_keeps_known_gravity(mspec, bilateral):
    sel = select(bilateral, mspec)
    f = sel.frame
    conduits = conduit_hosts()
    assert not f["country"].isin(conduits).any()
    assert set(sel.excluded_conduits) == {"CHE", "CRI", "IRL", "LUX", "MUS", "NLD", "SYC"}
    assert set(sel.excluded_conduits) <= conduits
    assert f[list(GRAVITY_COVARIATES)].notna().all().all()
    assert f[["pop", "gdppc"]].notna().all().all()
    # the sources outside the trade data have no pair gravity and say so
    for s in ("TWN", "RUS"):
        assert "no pair gravity" in sel.dropped_sources[s]
    assert {"KOR", "CHN", "MYS", "THA", "MEX", "TUR", "BRA"} <= set(sel.sources)
    assert f["year"].max() == 2012
    steps = dict(sel.filters)
    assert steps["conduit hosts left out"] > 0
    assert sum(steps.values()) == sel.rows_in - sel.rows_out


def test_conduits_are_kept_on_request(mspec, bilateral):
    sel = select(bilateral, _with(mspec, include_conduits=True))
    assert sel.excluded_conduits == ()
    assert {"CHE", "NLD"} <= set(sel.frame["country"])
    raw = {"multisource": {"include_conduits": "yes"}}
    with pytest.raises(SpecificationError, match="true or false"):
        spec_from_mapping(raw)


def test_missing_trade_restrict_drops_rows_without_pair_trade(mspec, bilateral):
    imp = select(bilateral, mspec)
    res = select(bilateral, _with(mspec, missing_trade="restrict"))
    assert res.frame[["exports", "imports", "rta"]].notna().all().all()
    assert res.frame["year"].max() <= 2006
    assert imp.frame["exports"].isna().any()  # left for the model to impute
    assert res.rows_out < imp.rows_out
    # China reports from 2003: four years up to 2006 are too few for the dynamic model
    assert "CHN" in imp.sources and "CHN" in res.dropped_sources
    assert imp.rta_filled > 0 and res.rta_filled == 0
    with pytest.raises(SpecificationError, match="missing_trade"):
        spec_from_mapping({"multisource": {"missing_trade": "drop"}})


def test_flow_sign_shares_split_the_floor_share(mspec, bilateral):
    sel = select(bilateral, mspec)
    tab = sel.table().set_index("source")
    f = sel.frame
    below = (f["flow_sign"] == "below_floor").groupby(f["series"]).mean().reindex(tab.index)
    split = tab["negative_share"] + tab["zero_share"] + below
    assert np.allclose(split, tab["floor_share"])
    assert (f.loc[f["flow_sign"] == "negative", "floor_coded"]).all()
    assert tab.loc["TUR", "negative_share"] == 0.0
    assert tab.loc["THA", "negative_share"] > 0.2


def test_population_parameterisation_breaks_the_gdp_collinearity(mspec, bilateral):
    f = select(bilateral, mspec).frame
    hosts = f.drop_duplicates(["country", "year"])
    within = hosts[["gdp", "gdppc", "pop"]] - hosts.groupby("country")[
        ["gdp", "gdppc", "pop"]].transform("mean")
    corr = within.corr()
    assert corr.loc["gdp", "gdppc"] > 0.95
    assert abs(corr.loc["pop", "gdppc"]) < 0.7
    assert np.allclose(hosts["pop"], hosts["gdp"] - hosts["gdppc"], atol=1e-6)


def test_model_data_has_pair_covariates_and_imputes_host_and_trade_cells(mspec, bilateral):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel, md = fit_input(bilateral, mspec)
    assert md.terms == mspec.model.terms
    imputed = {b.term for b in md.impute}
    assert {"rd", "edu", "exports", "imports"} <= imputed
    assert not imputed & set(GRAVITY_COVARIATES)
    assert not np.any(md.xbar)  # the shared host effect carries the covariate history
    assert md.series == tuple(sorted(sel.sources))


def test_terms_absent_from_the_data_are_named(mspec):
    toy = pd.DataFrame({"series": ["KOR", "CHN"] * 4, "country": ["A"] * 4 + ["B"] * 4,
                        "year": [2000, 2000, 2001, 2001] * 2, "fdi": 2.0})
    with pytest.raises(DataError, match="dist"):
        select_panel(toy, SelectionConfig(sources=("KOR", "CHN")), terms=("dist",))


@pytest.mark.slow
def test_default_multisource_fit_converges(mspec, bilateral):
    """The shipped default must keep converging: a change to the shared model that breaks
    it fails here (max R-hat, min bulk ESS, divergences; the thresholds of the issue)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, md = fit_input(bilateral, mspec)
        res = fit(mspec.model, md, progress=False)
    d = res.diagnostics
    assert d.max_rhat <= RHAT_MAX, d.describe()
    assert d.min_ess_bulk >= ESS_MIN, d.describe()
    assert d.n_divergent == 0, d.describe()
