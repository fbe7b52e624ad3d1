"""Rebuild ``data/korea_semisynthetic.csv`` and its truth file from the seed.

Run from the repository root after ``build_host_covariates.py``:
``python data/build/build_semisynthetic.py`` (same as
``bayes-kfdi simulate --out data/korea_semisynthetic.csv``).
"""

from __future__ import annotations

from pathlib import Path

from bayes_kfdi.data.simulate import DEFAULT_SEED, simulate_korea, write_simulated
from bayes_kfdi.resources import data_dir

DATA_DIR = data_dir()  # the package's shipped data folder

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    """Write the shipped semi-synthetic panel and its truth file."""
    csv, truth = write_simulated(
        simulate_korea(DEFAULT_SEED), DATA_DIR / "korea_semisynthetic.csv"
    )
    print(f"wrote {csv} and {truth}")


if __name__ == "__main__":
    main()
