"""Quickstart: one panel, one xtabond2 fit, one Bayesian fit, both side by side, a figure.

Run with ``.venv/bin/python examples/quickstart.py [OUTDIR]``; the shipped panel is
SIMULATED (semi-synthetic Korean panel with known true slopes). Short sampler settings
keep it under a minute; they are for a look, not for inference.
"""

import sys
from pathlib import Path

import arviz_plots as azp
import bayes_kfdi as bk

out = Path(sys.argv[1] if len(sys.argv) > 1 else "quickstart_out")
out.mkdir(parents=True, exist_ok=True)

panel = bk.load("korea_semisynthetic")  # SIMULATED data with a truth file
textile = panel[panel["series"] == "textile"]

gmm = bk.xtabond2(
    textile,
    "xtabond2 fdi L.fdi gdp wage i.year, gmm(L.fdi, lag(1 3) collapse) iv(gdp wage i.year)"
    " twostep robust",
    entity="country", time="year",
)
print(gmm.summary())

spec = bk.default_spec().with_sampler(draws=200, tune=200, chains=2, seed=1)
res = bk.fit(spec, textile)  # short settings: check res.diagnostics before using numbers
print(res.summary())

table = bk.etable([gmm, res.for_series("textile")], ["GMM (xtabond2)", "Bayes"], show="ci")
(out / "etable.md").write_text(table.to_markdown())
print(table)

pc = azp.plot_forest(res.idata, var_names=["beta"])  # arviz-plots forest of the slopes
pc.savefig(out / "forest.png")
