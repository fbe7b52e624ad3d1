from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_kfdi.gmm import parse_xtabond2
from bayes_kfdi.paper.robustness import InstrumentConfig, build_command, static_panels, vif


def _panel(seed=1, n=40, t=12):
    rng = np.random.default_rng(seed)
    c = np.repeat([f"C{i:02d}" for i in range(n)], t)
    y = np.tile(np.arange(2000, 2000 + t), n)
    a = np.repeat(rng.normal(size=n), t)
    gdp = a + rng.normal(size=n * t)  # correlated with the unit effect
    wage = rng.normal(size=n * t)
    fdi = 2 * a + 0.8 * gdp - 0.5 * wage + 0.3 * rng.normal(size=n * t)
    return pd.DataFrame(
        {"series": "textile", "country": c, "year": y, "fdi": fdi, "gdp": gdp, "wage": wage}
    )


def test_static_panels_fe_and_fd_recover_slopes_re_is_biased():
    out = static_panels(_panel(), "textile").set_index(["estimator", "variable"])["coef"]
    assert out[("PanelOLS (entity effects)", "gdp")] == pytest.approx(0.8, abs=0.05)
    assert out[("FirstDifferenceOLS", "wage")] == pytest.approx(-0.5, abs=0.05)
    # RE assumes the effect is unrelated to gdp; here it is not, so RE drifts upwards
    assert out[("RandomEffects", "gdp")] > out[("PanelOLS (entity effects)", "gdp")]


def test_vif_by_hand():
    rng = np.random.default_rng(0)
    n = 2000
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    x3 = x1 + 0.5 * rng.normal(size=n)  # R^2 on x1 = 1/1.25 = 0.8 -> VIF 5
    df = pd.DataFrame(
        {
            "series": "s",
            "country": "A",
            "year": np.arange(n),
            "fdi": 0.0,
            "gdp": x1,
            "wage": x2,
            "rd": x3,
        }
    )
    v = vif(df, "s").set_index("variable")["vif"]
    assert v["wage"] == pytest.approx(1.0, abs=0.02)
    assert v["rd"] == pytest.approx(5.0, rel=0.1)
    assert v["gdp"] == pytest.approx(5.0, rel=0.1)


@pytest.mark.parametrize(
    "cfg",
    [
        InstrumentConfig(),
        InstrumentConfig(collapse=False, trade_lag=(2, 2)),
        InstrumentConfig(y_lags=3),
        InstrumentConfig(fdi_lag=(1, None)),
    ],
)
def test_generated_commands_parse(cfg):
    cols = ["country", "year", "fdi", "gdp", "wage", "exports", "imunit"]
    cmd = parse_xtabond2(build_command(cfg, cols), cols)
    assert [t.name for t in cmd.regressors][: cfg.y_lags] == (
        ["L.fdi"]
        if cfg.y_lags == 1
        else [f"L{'' if k == 1 else k}.fdi" for k in range(1, cfg.y_lags + 1)]
    )
    assert all(g.collapse == cfg.collapse for g in cmd.gmm)
    assert cmd.twostep and cmd.robust
