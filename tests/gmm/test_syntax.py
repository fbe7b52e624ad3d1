from __future__ import annotations

import pytest

from bayes_kfdi.exceptions import SpecificationError
from bayes_kfdi.gmm.syntax import Term, parse_xtabond2

COLS = ["id", "year", "n", "w", "k", "ys", "yr1976", "yr1977", "yr1978", "yr1979", "yr1980",
        "yr1981", "yr1982", "yr1983", "yr1984"]


def names(terms) -> list[str]:  # noqa: ANN001
    return [t.name for t in terms]


def test_full_command_with_options() -> None:
    c = parse_xtabond2(
        "xtabond2 n L(1/2).n L(0/1).w k yr*, gmm(L.n, lag(2 4) collapse) "
        "iv(yr*, eq(level)) twostep robust small", COLS)
    assert c.depvar == Term("n")
    assert names(c.regressors) == ["L.n", "L2.n", "w", "L.w", "k"] + [f"yr{y}" for y in
                                                                      range(1976, 1985)]
    (g,) = c.gmm
    assert (g.lag, g.collapse, g.equation, names(g.terms)) == ((2, 4), True, "both", ["L.n"])
    (iv,) = c.iv
    assert iv.equation == "level" and len(iv.terms) == 9
    assert c.twostep and c.robust and c.small and c.system and c.constant


def test_leading_keyword_optional_and_abbreviations() -> None:
    a = parse_xtabond2("n L.n w, gmmstyle(L.n, laglimits(2 .) c e(d)) ivstyle(w, p) nol two r "
                       "nocons orth sm ar(3) h(2) nod", COLS)
    assert a.gmm[0].lag == (2, None) and a.gmm[0].collapse and a.gmm[0].equation == "diff"
    assert a.iv[0].passthru
    assert not a.system and a.twostep and a.robust and not a.constant and a.orthogonal
    assert a.small and a.artests == 3 and a.h == 2 and not a.diffsargan


def test_ranges_wildcards_and_grouping() -> None:
    c = parse_xtabond2("n L(0/1).(w k) yr1980-yr1982 D.ys F.w LD.k L2.n", COLS)
    assert names(c.regressors) == ["w", "L.w", "k", "L.k", "yr1980", "yr1981", "yr1982",
                                   "D.ys", "F.w", "LD.k", "L2.n"]


def test_noleveleq_ignores_level_only_instruments() -> None:
    c = parse_xtabond2("n L.n w, gmm(L.n) iv(w, eq(level)) nolevel", COLS)
    assert c.iv == () and not c.system


def test_labels_match_xtabond2() -> None:
    c = parse_xtabond2("n L.n w, gmm(L.n w, lag(2 .) collapse eq(diff)) iv(w, eq(level) mz)",
                       COLS)
    assert c.gmm[0].label == "gmm(L.n w, collapse eq(diff) lag(2 .))"
    assert c.iv[0].label == "iv(w, mz eq(level))"


@pytest.mark.parametrize(
    ("cmd", "token"),
    [
        ("n L.n zz, gmm(L.n)", "zz"),
        ("n L.n, gmm(L.n, lag(4 2))", "lag(4 2)"),
        ("n L(2/0).n", "(2/0)"),
        ("n yr1984-yr1980", "yr1984-yr1980"),
        ("n L.n, gmm(L.n) bogus", "bogus"),
        ("n L.n, gmm(L.n, wrong)", "wrong"),
        ("n L.n, gmm(L.n", "("),
        ("n L.n), gmm(L.n)", ")"),
        ("n L.n, gmm(L.n, lag(2))", "lag"),
        ("n L.n, gmm(L.n, lag(a 3))", "'a'"),
        ("n L.n, gmm(L.n, eq(sideways))", "sideways"),
        ("n L.n, twostep(2)", "twostep(2)"),
        ("n L.n, cluster(id)", "cluster(id)"),
        ("n L.n zz*, gmm(L.n)", "zz*"),
        ("n L.n L.n", "L.n"),
        ("n n L.n", "'n'"),
        ("n X.w", "X.w"),
        ("n L.n, h(5)", "h(5)"),
        ("n L.n, gmm(L.n) iv(w, passthru)", "passthru"),
        ("xtabond n L.n", "xtabond"),
        ("", "Empty"),
        ("n L.n if k > , gmm(L.n)", "if qualifier"),
        ("n L.n if k >= 1 year, gmm(L.n)", "'year'"),
        ("n L.n if exp(k) > 1, gmm(L.n)", "exp()"),
        ("n L.n in 1/10, gmm(L.n)", "'in'"),
        ("n L.n i.year", "needs the data"),
    ],
)
def test_malformed_commands_name_the_token(cmd: str, token: str) -> None:
    with pytest.raises(SpecificationError) as err:
        parse_xtabond2(cmd, COLS)
    assert token in str(err.value)
