"""Public report and job functions have explicit, annotated signatures (no **kwargs)."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "bayes_kfdi.report.hypothesis",
    "bayes_kfdi.report.inputs",
    "bayes_kfdi.report.tables",
    "bayes_kfdi.report.figures",
    "bayes_kfdi.report.render",
    "bayes_kfdi.report.multisource",
    "bayes_kfdi.jobs.reproduce",
    "bayes_kfdi.jobs.report",
    "bayes_kfdi.jobs.paper",
    "bayes_kfdi.jobs.multisource",
    "bayes_kfdi.jobs.fit",
    "bayes_kfdi.jobs.fitdir",
    "bayes_kfdi.jobs.gmm",
]


def _public_callables():
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr in mod.__all__:
            obj = getattr(mod, attr)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


@pytest.mark.parametrize(("qualname", "func"), list(_public_callables()))
def test_explicit_signature(qualname, func) -> None:
    sig = inspect.signature(func)
    kinds = {p.kind for p in sig.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{qualname} takes **kwargs"
    assert inspect.Parameter.VAR_POSITIONAL not in kinds, f"{qualname} takes *args"
    missing = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{qualname}: unannotated parameter(s) {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{qualname}: no return type"
    assert func.__doc__, f"{qualname} has no docstring"


def test_every_module_is_covered() -> None:
    names = [q for q, _ in _public_callables()]
    assert len(names) >= 25
