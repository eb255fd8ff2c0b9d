import json
import subprocess
import sys

import pytest

from territorial import load_geography


@pytest.fixture(scope="session", autouse=True)
def isolated_database(tmp_path_factory):
    """No test (nor the processes it starts) writes the repository's database file."""
    with pytest.MonkeyPatch.context() as patch:
        url = f"sqlite:///{tmp_path_factory.mktemp('base') / 'territorial.sqlite3'}"
        patch.setenv("TERRITORIAL_DATABASE_URL", url)
        yield url


@pytest.fixture(scope="session")
def geo():
    return load_geography()


@pytest.fixture(scope="session")
def geo_par_epci():
    """A geography of its own whose active set is the fallback: one perimeter per EPCI."""
    from territorial.geo.geography import Geography
    from territorial.perimeters.model import PerimeterSet

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


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server for the whole session (see tests/pg_cluster.py)."""
    from pg_cluster import Cluster

    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database: a SQLite file, then a database on the throwaway PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'territorial.sqlite3'}"
    return request.getfixturevalue("postgres_cluster").new_database()
