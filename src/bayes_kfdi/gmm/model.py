"""SystemGMM: builds the stacked system from a panel and a command, calls the core.

The sample, instrument and counting rules are xtabond2's (Roodman 2009, sec. 4):

* a row enters the levels equation when the outcome, every regressor and every IV-style
  instrument (unless ``mz``) are non-missing; it enters the transformed equation when, in
  addition, the transformed values exist (for first differences: the previous period too;
  for orthogonal deviations the transformed row is stored one period late);
* missing GMM-style instruments are zero-filled and never drop a row;
* ``nobs`` is the levels-equation count in system GMM, the transformed count otherwise;
  ``n_groups`` counts groups with at least one such row; the instrument count is the
  number of columns minus those dropped by the generalized inverse of Z'HZ.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_kfdi._typing import BoolArray, Float64Array
from bayes_kfdi.exceptions import (
    DataError,
    IdentificationError,
    InstrumentProliferationWarning,
    SingularMatrixWarning,
)
from bayes_kfdi.gmm.diagnostics import (
    InapplicableTest,
    TestStatistic,
    ar_statistic,
    chi2_sf,
    diff_hansen_stat,
    wald_stat,
)
from bayes_kfdi.gmm.factors import add_dummies
from bayes_kfdi.gmm.fit import GmmProblem, fit_gmm
from bayes_kfdi.gmm.instruments import (
    Frame,
    build_frame,
    first_difference,
    forward_orthogonal,
    gmm_instruments,
    instrument_matrix,
    iv_instruments,
    term_values,
)
from bayes_kfdi.gmm.results import SystemGMMResults
from bayes_kfdi.gmm.syntax import GmmCommand, parse_xtabond2
from bayes_kfdi.gmm.weights import h_matrix, invsym, stacked_h

__all__ = [
    "SystemGMM",
    "xtabond2",
    "HANSEN_P_IMPLAUSIBLE",
    "MIN_PERIODS",
    "MIN_GROUPS",
]

#: Roodman (2009, "A note on the theme of too many instruments", sec. 3): a Hansen
#: p-value this close to 1 signals a test weakened by instrument proliferation.
HANSEN_P_IMPLAUSIBLE = 0.99
#: A dynamic panel needs at least 3 periods to have one transformed, instrumented row.
MIN_PERIODS = 3
#: Cluster-robust (and two-step) moment covariances need at least two groups.
MIN_GROUPS = 2


#: Column carrying the ``if`` qualifier's row mask onto the panel grid.
_IF_COLUMN = "__if__"


def _all_missing(col: pd.Series) -> bool:
    """Tell whether ``col`` has no non-missing value (NumPy dtypes without pandas' isna)."""
    dt = getattr(col, "dtype", None)
    if isinstance(dt, np.dtype) and dt.kind == "f":
        return bool(np.isnan(col.to_numpy()).all())
    if isinstance(dt, np.dtype) and dt.kind in "iub":
        return len(col) == 0
    return bool(col.isna().all())


def _check_all_missing(data: pd.DataFrame, variables: Sequence[str]) -> None:
    """Refuse a variable named in the command that has no non-missing value."""
    for v in variables:
        if v in data.columns and _all_missing(data[v]):
            raise DataError(
                f"Variable {v!r} named in the command has no non-missing value "
                f"(all {len(data)} rows are missing). Expected data in it. Fill the column "
                "or remove it from the command."
            )


def _mark_sample(frame: Frame, cmd: GmmCommand) -> tuple[Float64Array, Float64Array, BoolArray]:
    """Outcome (N, T), regressors (N, T, k) and xtabond2's ``touse`` on the frame."""
    y0 = term_values(frame, cmd.depvar)
    xs = [term_values(frame, t) for t in cmd.regressors]
    x0 = np.stack(xs, axis=2) if xs else np.zeros(y0.shape + (0,))
    touse0 = frame.present & ~np.isnan(y0) & ~np.isnan(x0).any(axis=2)
    if _IF_COLUMN in frame.data:
        # xtabond2: the qualifier marks the sample; lags still read the other rows
        touse0 &= frame.data[_IF_COLUMN] == 1.0
    return y0, x0, touse0


def _shift_bool(a: BoolArray, k: int) -> BoolArray:
    out = np.zeros_like(a)
    out[:, k:] = a[:, :-k]
    return out


@dataclass(frozen=True, slots=True)
class _Design:
    """Stacked design over the used rows (see :mod:`bayes_kfdi.gmm.instruments`)."""

    problem: GmmProblem
    names: list[str]
    used: np.ndarray
    rows_per_group: int
    frame: Frame
    touse_d: BoolArray
    touse_l: BoolArray
    x0: Float64Array
    y0: Float64Array
    keep: np.ndarray
    iv_group: np.ndarray
    gmm_group: np.ndarray
    gmm_level: BoolArray
    n_iv: int
    nobs: int
    n_groups: int
    g_min: int
    g_max: int
    z_names: list[str]


class SystemGMM:
    """Difference or system GMM as specified by an xtabond2 command.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per entity and period.
    command : str or GmmCommand
        xtabond2 command (see :func:`bayes_kfdi.gmm.syntax.parse_xtabond2`).
    entity : str or sequence of str
        Column(s) identifying the group (several columns are combined).
    time : str
        Integer period column.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        command: str | GmmCommand,
        *,
        entity: str | Sequence[str],
        time: str,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DataError(f"data is a {type(data).__name__}; expected a pandas DataFrame.")
        self.data = data
        self.entity = entity
        self.time = time
        self.command = command if isinstance(command, GmmCommand) else _parse(command, data)

    def _panel_data(self) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """Select the columns the command needs; add indicator columns and the ``if`` mask."""
        cmd = self.command
        ent = [self.entity] if isinstance(self.entity, str) else list(self.entity)
        dummy_cols = {d.column for d in cmd.factors}
        real = [v for v in cmd.variables if v not in dummy_cols]
        sources = [d.var for d in cmd.factors]
        subset = cmd.factors or cmd.condition is not None
        if subset or not all(c in self.data.columns for c in (*ent, self.time)):
            keep = list(dict.fromkeys(c for c in [*ent, self.time, *real, *sources]
                                      if c in self.data.columns))
            data = add_dummies(self.data[keep], cmd.factors)
        else:
            data = self.data  # build_frame reads only the columns it is given
        _check_all_missing(data, real)
        variables = cmd.variables
        if cmd.condition is not None:
            mask = cmd.condition.mask(self.data)
            if not mask.any():
                raise DataError(
                    f"No row satisfies the qualifier 'if {cmd.condition.text}' "
                    f"({len(mask)} rows). Expected at least one. Check the condition."
                )
            data = data.assign(**{_IF_COLUMN: mask.astype(float)})
            variables = (*variables, _IF_COLUMN)
        return data, variables

    # -- design --------------------------------------------------------------
    def _sample(self) -> tuple[Frame, Float64Array, Float64Array, BoolArray]:
        """Frame of the groups with a usable row; outcome, regressors and the sample mark."""
        cmd = self.command
        data, variables = self._panel_data()
        frame = build_frame(data, self.entity, self.time, variables)
        y0, x0, touse0 = _mark_sample(frame, cmd)
        keep_g = touse0.any(axis=1)
        if not keep_g.any():
            raise DataError(
                f"No observations: no row has {cmd.depvar.name} and all regressors non-missing. "
                "Expected at least one complete row. Check the variables and lags."
            )
        frame = frame.subset(keep_g)
        if frame.t < MIN_PERIODS:
            raise DataError(
                f"The panel spans {frame.t} period(s); expected at least {MIN_PERIODS} for a "
                "dynamic panel GMM estimator. Use data with more periods."
            )
        return (frame, *_mark_sample(frame, cmd))

    def _design(self) -> _Design:
        cmd = self.command
        frame, y0, x0, touse0 = self._sample()
        complete = touse0.copy()
        for g in cmd.iv:
            if not g.mz:
                for t in g.terms:
                    complete &= ~np.isnan(term_values(frame, t))
        n, tt = frame.n, frame.t
        fod = cmd.orthogonal
        transform = "fod" if fod else "fd"
        xform = (lambda a: forward_orthogonal(a, complete)) if fod else first_difference
        yd = xform(y0)
        xd = xform(x0) if x0.shape[2] else x0.copy()
        zd_iv, zl_iv, iv_names, iv_group = iv_instruments(
            frame, cmd.iv, transform=transform, complete=complete, system=cmd.system,
            constant=cmd.has_constant,
        )
        touse_d = (_shift_bool(touse0, 1) if fod else touse0.copy())
        touse_d &= ~np.isnan(yd) & ~np.isnan(xd).any(axis=2) & ~np.isnan(zd_iv).any(axis=2)
        if cmd.system:
            touse_l = touse0 & ~np.isnan(zl_iv).any(axis=2)
        else:
            touse_l = np.zeros_like(touse0)
        r = 2 * tt if cmd.system else tt
        sample = np.zeros((n, r), dtype=bool)
        sample[:, :tt] = touse_d
        if cmd.system:
            sample[:, tt:] = touse_l
        sample = sample.ravel()
        used = np.flatnonzero(sample)
        eq_main = touse_l if cmd.system else touse_d
        nobs = int(eq_main.sum())
        if nobs == 0 or used.size == 0:
            raise DataError(
                "No observations survive differencing/lagging: every row lacks a previous "
                "period or an instrument. Expected at least one usable row. Check T and gaps."
            )
        per_group = eq_main.sum(axis=1)
        n_groups = int((per_group > 0).sum())
        if n_groups < MIN_GROUPS:
            raise DataError(
                f"Only {n_groups} group has usable observations; expected at least "
                f"{MIN_GROUPS}. GMM moment covariances are clustered by group, so a single "
                "time series cannot be estimated. Use a panel with more groups."
            )
        gid = used // r
        pos = used % r
        is_lvl = pos >= tt
        tix = pos % tt
        # regressors and outcome on the used rows
        k0 = x0.shape[2]
        xcols = np.where(is_lvl[:, None], x0[gid, tix], xd[gid, tix]) if k0 else np.zeros(
            (used.size, 0))
        y = np.where(is_lvl, y0[gid, tix], yd[gid, tix])
        names = [t.name for t in cmd.regressors]
        if cmd.has_constant:
            xcols = np.hstack([xcols, is_lvl.astype(float)[:, None]])
            names.append("_cons")
        keep = self._drop_collinear(xcols, names, cmd.has_constant)
        xcols = xcols[:, keep]
        names = [names[i] for i in keep]
        # instruments
        ziv_vals = np.where(is_lvl[:, None], zl_iv[gid, tix], zd_iv[gid, tix])
        ziv_vals = np.nan_to_num(ziv_vals)
        block = gmm_instruments(frame, cmd.gmm, system=cmd.system, r=r, sample=sample)
        z, nz_cols = instrument_matrix(ziv_vals, block, used, n * r)
        n_iv_all = ziv_vals.shape[1]
        all_group = np.concatenate([iv_group, block.group])
        all_level = np.concatenate([np.zeros(n_iv_all, dtype=bool), block.level_gmm])
        is_iv = np.arange(n_iv_all + block.n_cols) < n_iv_all
        z_names = iv_names + block.names
        if z.shape[1] < len(names):
            raise IdentificationError(
                f"Equation not identified: {len(names)} regressors but only {z.shape[1]} "
                "non-zero instrument columns. Expected at least as many instruments as "
                "regressors. Add instruments (gmm()/iv()) or drop regressors."
            )
        h_group = h_matrix(cmd.h, transform, cmd.system, tt)
        hbig = stacked_h(h_group, used, r)
        if cmd.system and cmd.h != 1:
            error_rows = ~is_lvl
            wttot = int((~is_lvl).sum())
        elif cmd.system:
            error_rows = is_lvl
            wttot = nobs
        else:
            error_rows = np.ones(used.size, dtype=bool)
            wttot = nobs
        problem = GmmProblem(
            z=z, x=xcols, y=y, h=hbig, gid=gid, n_groups=n, error_rows=error_rows,
            sig2_divisor=1.0 if (fod or cmd.h == 1) else 2.0, wttot=wttot,
        )
        x0full = x0
        if cmd.has_constant:
            x0full = np.concatenate([x0, np.ones(x0.shape[:2] + (1,))], axis=2)
        x0full = x0full[:, :, keep]
        return _Design(
            problem=problem, names=names, used=used, rows_per_group=r, frame=frame,
            touse_d=touse_d, touse_l=touse_l, x0=x0full, y0=y0, keep=keep,
            iv_group=np.where(is_iv, all_group, -2)[nz_cols],
            gmm_group=np.where(~is_iv, all_group, -2)[nz_cols],
            gmm_level=all_level[nz_cols], n_iv=int(is_iv[nz_cols].sum()), nobs=nobs,
            n_groups=n_groups,
            g_min=int(per_group[per_group > 0].min()), g_max=int(per_group.max()),
            z_names=[z_names[i] for i in nz_cols],
        )

    @staticmethod
    def _drop_collinear(x: Float64Array, names: list[str], has_cons: bool) -> np.ndarray:
        """xtabond2's ``_rmcoll``: drop regressors collinear with earlier ones, with a warning."""
        k = x.shape[1]
        if k <= 1:
            if k == 1 and not np.any(x):
                raise IdentificationError(
                    f"Regressor {names[0]} is zero in the estimation sample. Expected variation."
                )
            return np.arange(k)
        if has_cons:
            t = x[:, -1]
            px = x - np.outer(t, x.T @ t / t.sum())
            u = (px.T @ px)[:-1, :-1]
        else:
            u = x.T @ x
        _, dropped = invsym(u)
        kept = [i for i in range(u.shape[0]) if not dropped[i]]
        gone = [names[i] for i in range(u.shape[0]) if dropped[i]]
        if has_cons:
            kept.append(k - 1)
        if gone:
            warnings.warn(
                f"{', '.join(gone)} dropped due to collinearity (as xtabond2 does).",
                SingularMatrixWarning,
                stacklevel=4,
            )
        if len(kept) == 0:
            raise IdentificationError("No regressors left after dropping collinear ones.")
        return np.asarray(kept, dtype=np.int64)

    # -- fit -------------------------------------------------------------------
    def fit(self) -> SystemGMMResults:
        """Estimate the model; returns :class:`SystemGMMResults`.

        BLAS runs single-threaded during the fit: the matrices are a few hundred columns
        wide, and multithreaded OpenBLAS Cholesky factorizations slow down by ~70x when
        the cores are shared (measured: 2.5 s vs 0.035 s for a 900 x 900 matrix).
        """
        with _single_thread_blas():
            return self._fit()

    def _fit(self) -> SystemGMMResults:
        cmd = self.command
        d = self._design()
        p = d.problem
        k = p.x.shape[1]
        res = fit_gmm(p, twostep=cmd.twostep, robust=cmd.robust)
        onestep_nonrobust = not cmd.twostep and not cmd.robust
        if res.j0 > d.n_groups:
            warnings.warn(
                f"{res.j0} instruments exceed {d.n_groups} groups (Roodman 2009): the Hansen "
                "test is weak and two-step standard errors unreliable. Consider collapse or "
                "lag limits.",
                InstrumentProliferationWarning,
                stacklevel=2,
            )
        sig2 = res.sigma2
        cov = res.cov.copy()
        df_r: int | None = None
        if cmd.small:
            tmp = p.wttot / (p.wttot - k)
            if onestep_nonrobust:
                cov = cov * tmp
            else:
                cov = cov * (d.nobs - 1) / (d.nobs - k) * d.n_groups / (d.n_groups - 1)
            sig2 = sig2 * tmp
        # Wald test of all coefficients
        is_lvl = (d.used % d.rows_per_group) >= d.frame.t
        px = p.x[is_lvl] if cmd.system else p.x
        df_m = int(np.linalg.matrix_rank(px)) - int(cmd.has_constant) if px.size else 0
        if not cmd.has_constant and px.shape[0]:
            xiota = px.sum(axis=0)
            xxinv, _ = invsym(p.x.T @ p.x)
            val = float(xiota @ xxinv @ xiota)
            if abs(val - px.shape[0]) / (abs(px.shape[0]) + 1) < np.finfo(float).eps * px.shape[0]:
                df_m -= 1
        if cmd.small:
            base = (d.nobs - df_m) if onestep_nonrobust else d.n_groups
            df_r = base - int(cmd.has_constant)
        slopes = [i for i, nm in enumerate(d.names) if nm != "_cons"]
        wald = wald_stat(res.beta[slopes], cov[np.ix_(slopes, slopes)], df_m, small=cmd.small,
                         df_r=df_r)
        # Sargan / Hansen
        df_j = res.j0 - k
        sargan = _j_test(res.sargan, df_j, "Sargan", "not robust, but not weakened by many "
                         "instruments")
        if onestep_nonrobust:
            hansen: TestStatistic | InapplicableTest = InapplicableTest(
                "Hansen J needs a robust weighting matrix; add robust or twostep", "Hansen")
        else:
            hansen = _j_test(res.hansen, df_j, "Hansen", "robust, but weakened by many "
                             "instruments")
        hansen_flag = isinstance(hansen, TestStatistic) and hansen.pval > HANSEN_P_IMPLAUSIBLE
        if hansen_flag:
            warnings.warn(
                f"Hansen p-value {hansen.pval:.4f} > {HANSEN_P_IMPLAUSIBLE}: implausibly good, "
                "a classic sign of too many instruments (Roodman 2009).",
                InstrumentProliferationWarning,
                stacklevel=2,
            )
        diff = self._diff_hansen(d, res, k, hansen, sargan) if cmd.diffsargan else {}
        ar = self._ar_tests(d, res, sig2, onestep_nonrobust)
        return SystemGMMResults(
            command=cmd,
            names=tuple(d.names),
            beta=res.beta,
            cov_matrix=cov,
            vce=("windmeijer" if cmd.twostep and cmd.robust else
                 "robust" if cmd.robust else "nonrobust"),
            nobs=d.nobs,
            n_groups=d.n_groups,
            n_instruments=res.j0,
            g_min=d.g_min,
            g_max=d.g_max,
            sigma2=sig2,
            df_resid=df_r,
            ar_tests=tuple(ar),
            sargan=sargan,
            hansen=hansen,
            diff_hansen=diff,
            wald=wald,
            hansen_implausible=hansen_flag,
            instrument_names=tuple(d.z_names),
            group_var=self.entity if isinstance(self.entity, str) else " ".join(self.entity),
            time_var=self.time,
        )

    def _diff_hansen(self, d: _Design, res, k: int, hansen, sargan) -> dict:  # noqa: ANN001
        cmd = self.command
        p = d.problem
        full = hansen if isinstance(hansen, TestStatistic) else sargan
        if not isinstance(full, TestStatistic):
            return {}
        is_iv = d.iv_group != -2
        groups: list[tuple[str, BoolArray]] = []
        if cmd.gmm:
            if cmd.system:
                other = is_iv | (~is_iv & ~d.gmm_level)
                groups.append(("GMM instruments for levels", other))
            for gi, g in enumerate(cmd.gmm):
                groups.append((g.label, ~(~is_iv & (d.gmm_group == gi))))
        for gi, g in enumerate(cmd.iv):
            groups.append((g.label, ~(is_iv & (d.iv_group == gi))))
        out: dict[str, tuple[TestStatistic, TestStatistic] | InapplicableTest] = {}
        v_dropped = int((np.diag(res.cov) == 0).sum())
        zt = p.z.T.tocsr()
        for label, other in groups:
            out[label] = diff_hansen_stat(
                other=other, j0=res.j0, k=k, a1_dropped=res.a1_dropped, s=res.s, zx=res.zx,
                zy=res.zy, zt=zt, x=p.x, y=p.y, full_stat=full.stat, full_df=res.j0 - k,
                v_dropped=v_dropped, v2_dropped=res.v2_dropped,
            )
        return out

    def _ar_tests(self, d: _Design, res, sig2: float, onestep_nonrobust: bool) -> list:  # noqa: ANN001
        cmd = self.command
        p = d.problem
        n, tt = d.frame.n, d.frame.t
        k = p.x.shape[1]
        r = d.rows_per_group
        gid = d.used // r
        pos = d.used % r
        is_d = pos < tt
        if cmd.orthogonal:
            res0 = d.y0 - np.einsum("itk,k->it", d.x0, res.beta)
            w = first_difference(res0)
            xt = first_difference(d.x0)
            bad = np.isnan(w) | np.isnan(xt).any(axis=2)
            w = np.where(bad, 0.0, w)
            xt = np.where(bad[:, :, None], 0.0, xt)
        else:
            w = np.zeros((n, tt))
            w[gid[is_d], pos[is_d]] = res.e[is_d]
            xt = np.zeros((n, tt, k))
            xt[gid[is_d], pos[is_d]] = p.x[is_d]
        m2vzxa = -2.0 * res.cov_nonrobust @ res.zx.T @ res.weight
        v = res.cov if cmd.robust else res.cov_nonrobust
        psi = h_ar = None
        if onestep_nonrobust:
            transform = "fod" if cmd.orthogonal else "fd"
            h_ar = h_matrix(cmd.h, "fd", False, tt) * sig2
            psi = h_matrix(cmd.h, transform, False, tt, left="fd") * sig2
            if cmd.system:
                psi = np.hstack([psi, np.zeros((tt, tt))])
        out = []
        for order in range(1, cmd.artests + 1):
            out.append(ar_statistic(
                w=w, order=order, x_tested=xt, g=None if onestep_nonrobust else res.g,
                z=p.z, psi_w=psi, h_ar=h_ar, touse_tested=d.touse_d, m2vzxa=m2vzxa, v=v,
                rows_of_frame=d.used, n_rows=n * r,
            ))
        return out


_CONTROLLER: list = []


def _single_thread_blas():  # noqa: ANN202
    """Limit BLAS to one thread (the controller scans the loaded libraries once per process)."""
    from threadpoolctl import ThreadpoolController

    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


#: Parsed commands by (command, string columns of the data), for parses that read no data
#: values (factor terms read their levels, so those commands are parsed every time).
_PARSED: dict[tuple[str, tuple[str, ...]], GmmCommand] = {}
_PARSED_MAX = 256


class _Watched:
    """The data frame as the parser sees it, recording whether the parser read it."""

    __slots__ = ("_frame", "read")

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self.read = False

    def __getattr__(self, name: str) -> object:
        self.read = True
        return getattr(self._frame, name)

    def __getitem__(self, key: object) -> object:
        self.read = True
        return self._frame[key]


def _parse(command: str, data: pd.DataFrame) -> GmmCommand:
    """``parse_xtabond2`` against ``data``, reusing an earlier parse that read no values."""
    cols = tuple(c for c in data.columns.tolist() if isinstance(c, str))
    key = (command, cols)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    watched = _Watched(data)
    parsed = parse_xtabond2(command, list(cols), data=watched)
    if not watched.read:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = parsed
    return parsed


def _j_test(stat: float, df: int, name: str, note: str) -> TestStatistic | InapplicableTest:
    if df <= 0:
        return InapplicableTest(f"model is exactly identified ({df} overidentifying "
                                "restrictions)", name)
    return TestStatistic(stat, chi2_sf(stat, df), float(df), name, note)


def xtabond2(
    df: pd.DataFrame, cmd: str, *, entity: str | Sequence[str], time: str
) -> SystemGMMResults:
    """Run an xtabond2 command on a long panel.

    Examples
    --------
    >>> res = xtabond2(df, "n L.n w k, gmm(L.n) iv(w k) twostep robust",  # doctest: +SKIP
    ...                entity="id", time="year")
    """
    return SystemGMM(df, cmd, entity=entity, time=time).fit()
