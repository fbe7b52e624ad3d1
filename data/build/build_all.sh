#!/usr/bin/env sh
# Rebuild every shipped data file from data/raw, in dependency order. Run from the repo root.
set -e
python data/build/build_host_covariates.py
python data/build/build_ofdi_real.py
python data/build/build_trade_calibration.py
python data/build/build_semisynthetic.py
python data/build/build_ofdi_bilateral.py
