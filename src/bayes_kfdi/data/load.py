"""Loaders for the data sets shipped inside the package (``bayes_kfdi/resources/data``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from bayes_kfdi.exceptions import DataError
from bayes_kfdi.resources import data_dir as _shipped_data_dir

DatasetName = Literal["korea_semisynthetic", "ofdi_real", "ofdi_bilateral", "host_covariates"]

#: File name of every shipped data set, relative to :func:`data_dir`.
DATASETS: dict[str, str] = {
    "korea_semisynthetic": "korea_semisynthetic.csv",
    "ofdi_real": "ofdi_real.csv",
    "ofdi_bilateral": "ofdi_bilateral.csv",
    "host_covariates": "host_covariates.csv",
}

_REPO_DATA = _shipped_data_dir()


def data_dir() -> Path:
    """Return the repository's ``data/`` folder.

    Raises
    ------
    DataError
        If the folder is not next to the package (a non-editable install).
    """
    if not (_REPO_DATA / "PROVENANCE.md").is_file():
        raise DataError(
            f"shipped data folder not found: expected {_REPO_DATA}/PROVENANCE.md. "
            "The data files ship inside the package; reinstall it (pip install bayes-kfdi)."
        )
    return _REPO_DATA


def data_path(name: str) -> Path:
    """Path of a shipped data set (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise DataError(
            f"unknown data set {name!r}; expected one of {sorted(DATASETS)}. "
            "Use bayes_kfdi.data.read_panel(path) for your own files."
        )
    return data_dir() / DATASETS[name]


def _read(name: str) -> pd.DataFrame:
    path = data_path(name)
    if not path.is_file():
        raise DataError(
            f"data file {path} is missing; rebuild it with data/build/ (see PROVENANCE.md)"
        )
    return pd.read_csv(path)


def load_korea_semisynthetic() -> pd.DataFrame:
    """Load the semi-synthetic Korean FDI panel: 6 series x 33 hosts x 1988-2014 (5,346 rows).

    Provenance: host covariates (gdp, gdppc, wage, rd, edu) are real (PWT 10.01, WDI;
    see ``host_covariates``) with their real missingness; sector trade and FDI are
    simulated by :func:`bayes_kfdi.data.simulate.simulate_korea` at
    :data:`~bayes_kfdi.data.simulate.DEFAULT_SEED`, calibrated to the paper's Table 4,
    with true slopes from its Tables 2 and 3. The true parameters are in
    ``data/korea_semisynthetic.truth.json``. Extra column ``fdi_latent`` is the
    uncensored outcome.

    Licence: the simulated values are the project's own (same licence as the code);
    the covariates are derived from PWT 10.01 (CC BY 4.0) and WDI (CC BY 4.0).
    """
    return _read("korea_semisynthetic")


def load_ofdi_real() -> pd.DataFrame:
    """Load the real outward-FDI panel: 39 sources (``series``) x 122 hosts, 1988-2012.

    Provenance: ABN2018 bilateral net FDI flows (Aisbett, Busse & Nunnenkamp 2018, Rev.
    World Econ. 154(1), doi:10.1007/s10290-017-0285-1; OECD/UNCTAD data) in
    ``flow_musd`` (million US$), plus UNCTAD Bilateral FDI Statistics 2014 host-reported
    inflows (2001-2012) in ``flow_unctad_musd``. ``fdi = log(max(1000*flow_musd, 3))``:
    flows in thousand US$, with zero, negative and sub-3-thousand flows at the paper's
    floor log(3) (flagged by ``floor_coded``). Host covariates as in ``host_covariates``
    for every host. The trade columns are absent.

    Licence: neither flow source states a licence; they are redistributed here as
    reference data for research, citing the sources. Covariates: PWT 10.01 and WDI
    (CC BY 4.0), CEPII GeoDist (CC0).
    """
    return _read("ofdi_real")


def load_ofdi_bilateral() -> pd.DataFrame:
    """Load the bilateral outward-FDI panel with each source-host pair's own trade and gravity.

    The 26,933 rows of ``ofdi_real`` (39 sources x 122 hosts, 1988-2012) plus, per pair,
    log manufacturing ``exports`` (source to host) and ``imports`` (host to source), log
    distance ``dist``, ``contig``, ``comlang``, ``colony`` and ``rta`` from AGTPA
    (1986-2006: later years have no trade), ``pop`` = gdp - gdppc, the ``conduit`` and
    ``source_conduit`` flags (Damgaard, Elkjaer & Johannesen pass-through economies and
    the FSF 2000 offshore centres, ``bayes_kfdi.data.conduits``) and ``flow_sign`` (net
    disinvestment told apart from small positive flows).

    Provenance: as ``ofdi_real``, plus AGTPA (Yotov, Piermartini, Monteiro & Larch 2016,
    *An Advanced Guide to Trade Policy Analysis*, WTO/UNCTAD), built by
    ``data/build/build_ofdi_bilateral.py``.

    Licence: AGTPA CC BY 4.0; the rest as ``ofdi_real``.
    """
    return _read("ofdi_bilateral")


def load_host_covariates() -> pd.DataFrame:
    """Load the real host covariates for Korea's 33 main FDI hosts, 1988-2014 (891 rows).

    Columns ``country, year, gdp, gdppc, wage, rd, edu, dist_kor_km, distw_kor_km``:
    log GDP PPP (million current intl $, WDI), log GDP per capita PPP (WDI), log labour
    compensation per person engaged (PWT 10.01 ``labsh*cgdpo/emp``, standing in for the
    average wage), log R&D share of GDP (WDI, fraction), log share of the labour force
    with tertiary education (WDI, fraction), CEPII distance from Korea (km). Missing
    values are the sources' own; nothing is interpolated.

    Licence: PWT 10.01 CC BY 4.0 (Feenstra, Inklaar & Timmer 2015), WDI CC BY 4.0
    (World Bank), CEPII GeoDist CC0 (Mayer & Zignago 2011).
    """
    return _read("host_covariates")


_LOADERS = {
    "korea_semisynthetic": load_korea_semisynthetic,
    "ofdi_real": load_ofdi_real,
    "ofdi_bilateral": load_ofdi_bilateral,
    "host_covariates": load_host_covariates,
}


def load(name: DatasetName) -> pd.DataFrame:
    """Load a shipped data set as a long DataFrame.

    Parameters
    ----------
    name : {"korea_semisynthetic", "ofdi_real", "host_covariates"}
        See :func:`load_korea_semisynthetic`, :func:`load_ofdi_real` and
        :func:`load_host_covariates` for provenance and licence of each.

    Returns
    -------
    pandas.DataFrame
        The file's rows. Wrap panels in :class:`~bayes_kfdi.data.PanelData` to validate
        them and use the panel operators.
    """
    if name not in _LOADERS:
        raise DataError(f"unknown data set {name!r}; expected one of {sorted(_LOADERS)}.")
    return _LOADERS[name]()
