"""The runnable examples in the core's docstrings (numpydoc ``Examples`` sections)."""

import doctest
import importlib
import pkgutil

import pytest

import territorial

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(territorial.__path__, "territorial.")
    if name != "territorial.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} exemple(s) en échec dans {name}"
