"""Write the FICTIONAL example list ``data/catalysts/catalyseurs_fictifs.csv``.

No list of the ~350 "catalyseurs territoriaux" is public: this file only shows the
expected format and exercises every placement path. **None of its catalysts exists.**

Method (``python -m territorial.analysis.catalysts_example``; two runs give identical bytes)
---------------------------------------------------------------------------------
* A :class:`numpy.random.Generator` seeded with :data:`SEED` draws everything, in a fixed
  order.
* :data:`N_CATALYSTS` communes are drawn with replacement among the communes of
  metropolitan France that have a population and a detailed contour, with probability
  proportional to ``population ** 0.5`` (:data:`POPULATION_EXPONENT`): big towns get more
  catalysts than small villages, but far fewer than in proportion to their population, so
  rural areas get some too.
* Kinds are drawn with the shares :data:`KIND_SHARES` (the four kinds of the source
  documents).
* The location is written in one of four ways, drawn with the shares
  :data:`LOCATION_SHARES`: commune code only; latitude/longitude only; postcode only; or
  commune code *and* coordinates (which must agree). A postcode is only written when the
  commune has a postcode of its own; otherwise the row falls back to latitude/longitude.
* Coordinates are a uniform random point inside the commune's detailed contour (rejection
  sampling in its bounding box), rounded to 4 decimals (about 10 m) and kept only if the
  rounded point is still inside the contour; written with a decimal comma.
* Names read ``Catalyseur fictif n° 001 (Association)``; column ``fictif`` is ``oui``.

Examples
--------
>>> from territorial import load_geography
>>> frame = example_frame(load_geography(), n=5)
>>> list(frame.columns)
['nom', 'type', 'code_commune', 'code_postal', 'latitude', 'longitude', 'fictif']
>>> frame["nom"].iat[0]
'Catalyseur fictif n° 001 (Collectivité)'
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from territorial.analysis.catalysts import KINDS
from territorial.geo.geography import Geography, load_geography
from territorial.geo.postcodes import load_postcode_table
from territorial.paths import DATA_DIR

__all__ = [
    "EXAMPLE_PATH",
    "KIND_SHARES",
    "LOCATION_SHARES",
    "N_CATALYSTS",
    "POPULATION_EXPONENT",
    "SEED",
    "example_frame",
    "write_example",
]

SEED = 20250350
N_CATALYSTS = 350
POPULATION_EXPONENT = 0.5
KIND_SHARES = {"association": 0.40, "collectivite": 0.25, "entreprise": 0.20, "academique": 0.15}
LOCATION_SHARES = {
    "code": 0.40,
    "coordonnees": 0.30,
    "code_postal": 0.20,
    "code_et_coordonnees": 0.10,
}
EXAMPLE_PATH = DATA_DIR / "catalysts" / "catalyseurs_fictifs.csv"
COLUMNS = ["nom", "type", "code_commune", "code_postal", "latitude", "longitude", "fictif"]
_MAX_TRIES = 10_000


def _random_point(rng: np.random.Generator, polygon) -> tuple[float, float]:
    """Uniform point inside ``polygon``, rounded to 4 decimals, still inside once rounded."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    for _ in range(_MAX_TRIES):
        x = round(float(rng.uniform(minx, maxx)), 4)
        y = round(float(rng.uniform(miny, maxy)), 4)
        if shapely.contains_xy(polygon, x, y):
            return x, y
    raise RuntimeError("aucun point tiré dans le contour")  # pragma: no cover


def _decimal_comma(value: float) -> str:
    return f"{value:.4f}".replace(".", ",")


def example_frame(geo: Geography, n: int = N_CATALYSTS, seed: int = SEED) -> pd.DataFrame:
    """The fictional list as a table of strings (see the module docstring for the method).

    Parameters
    ----------
    geo : Geography
        The geography (communes, populations, detailed contours).
    n : int, default 350
        Number of fictional catalysts.
    seed : int, default :data:`SEED`
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``nom``, ``type``, ``code_commune``, ``code_postal``, ``latitude``,
        ``longitude``, ``fictif`` (all ``str``, empty when not given).
    """
    rng = np.random.default_rng(seed)
    detail = geo.detail_geometry
    communes = geo.communes[~geo.communes["outre_mer"]]
    communes = communes[(communes["population"].fillna(0) > 0)]
    communes = communes[communes["code"].map(detail.notna()).fillna(False).astype(bool)]
    communes = communes.sort_values("code")
    weights = communes["population"].to_numpy(dtype=float) ** POPULATION_EXPONENT
    chosen = rng.choice(len(communes), size=n, replace=True, p=weights / weights.sum())
    kinds = rng.choice(list(KIND_SHARES), size=n, p=list(KIND_SHARES.values()))
    ways = rng.choice(list(LOCATION_SHARES), size=n, p=list(LOCATION_SHARES.values()))

    postcodes = load_postcode_table()
    shared = postcodes.groupby("code_postal")["commune"].transform("size") > 1
    own_postcode = postcodes[~shared].groupby("commune")["code_postal"].min()

    rows = []
    for number, (position, kind, way) in enumerate(zip(chosen, kinds, ways, strict=True), 1):
        code = communes["code"].iat[position]
        if way == "code_postal" and code not in own_postcode.index:
            way = "coordonnees"
        row = dict.fromkeys(COLUMNS, "")
        row["nom"] = f"Catalyseur fictif n° {number:03d} ({KINDS[kind]})"
        row["type"] = KINDS[kind]
        row["fictif"] = "oui"
        if way in {"code", "code_et_coordonnees"}:
            row["code_commune"] = code
        if way == "code_postal":
            row["code_postal"] = own_postcode[code]
        if way in {"coordonnees", "code_et_coordonnees"}:
            lon, lat = _random_point(rng, detail[code])
            row["latitude"], row["longitude"] = _decimal_comma(lat), _decimal_comma(lon)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def write_example(path: Path | str = EXAMPLE_PATH, geo: Geography | None = None) -> Path:
    """Write the fictional list as a ``;``-separated UTF-8 CSV; return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = example_frame(geo or load_geography())
    lines = [";".join(COLUMNS)] + [";".join(row) for row in frame.itertuples(index=False)]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Écrit la liste FICTIVE de catalyseurs d'exemple (data/catalysts/)."
    )
    parser.add_argument("--out", type=Path, default=EXAMPLE_PATH)
    args = parser.parse_args(argv)
    path = write_example(args.out)
    print(f"Liste FICTIVE de {N_CATALYSTS} catalyseurs écrite dans {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
