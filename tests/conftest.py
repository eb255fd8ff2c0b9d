import json
import subprocess
import sys

import pytest

from territorial import load_geography


@pytest.fixture(scope="session")
def geo():
    return load_geography()


@pytest.fixture(scope="session")
def geo_par_epci():
    """A geography of its own whose active set is the fallback: one perimeter per EPCI."""
    from territorial.geography import Geography
    from territorial.perimeters import PerimeterSet

    geography = Geography()
    geography.set_perimeters(PerimeterSet.one_per_epci(geography.communes))
    return geography


@pytest.fixture(scope="session")
def cli_json():
    """Run ``python -m territorial ARGS --json`` in a new process; return its parsed output."""

    def run(*args: str):
        command = [sys.executable, "-m", "territorial", *args, "--json"]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    return run
