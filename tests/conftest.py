import pytest

from territorial import load_geography


@pytest.fixture(scope="session")
def geo():
    return load_geography()
