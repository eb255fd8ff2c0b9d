"""The canvas map's data: binary geometry files (territorial.geo.binmap) and the per-rerun
payload (ui.fastmap)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import shapely

from territorial import load_geography
from territorial.geo.binmap import NATIONAL_TOLERANCE, decode_units, encode_units, write_units
from territorial.geo.mapdata import display_geometry


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def _rings(blob: dict, unit: int) -> list[np.ndarray]:
    xy = blob["xy"].reshape(-1, 2)
    first, last = blob["unit_rings"][unit], blob["unit_rings"][unit + 1]
    return [xy[blob["ring_points"][r] : blob["ring_points"][r + 1]] for r in range(first, last)]


def test_a_level_round_trips_exactly(geo):
    codes, names, geometry = display_geometry(geo, "departement", "france")
    blob = decode_units(encode_units(codes, names, geometry))
    assert blob["codes"] == codes and len(blob["noms"]) == len(names)
    for unit in (0, codes.index("2A"), codes.index("974"), len(codes) - 1):
        rings = shapely.get_rings(shapely.get_parts(geometry[unit]))
        expected = [np.asarray(ring.coords)[:-1] for ring in rings]
        assert len(_rings(blob, unit)) == len(expected)
        for got, want in zip(_rings(blob, unit), expected, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-9)


def test_holes_and_multipolygons_keep_their_rings():
    ring_with_hole = shapely.box(0, 0, 10, 10).difference(shapely.box(4, 4, 6, 6))
    islands = shapely.MultiPolygon([shapely.box(20, 0, 21, 1), shapely.box(22, 0, 23, 1)])
    blob = decode_units(encode_units(["a", "b"], ["A", "B"], [ring_with_hole, islands]))
    assert blob["unit_rings"].tolist() == [0, 2, 4]
    assert [len(r) for r in _rings(blob, 0)] == [4, 4]


def test_names_are_inert_in_the_file():
    blob = decode_units(encode_units(["x"], ["<b>Nom</b>"], [shapely.box(0, 0, 1, 1)]))
    assert "<" not in blob["noms"][0] and "&#60;" in blob["noms"][0]


def test_the_national_commune_file_is_written_once_simplified_and_light(geo, tmp_path):
    path, codes = write_units(geo, "commune", "metropole", NATIONAL_TOLERANCE, tmp_path)
    assert len(codes) == 34746
    again, same_codes = write_units(geo, "commune", "metropole", NATIONAL_TOLERANCE, tmp_path)
    assert again == path and same_codes == codes
    blob = decode_units(path.read_bytes())
    assert blob["codes"] == codes
    full = shapely.get_num_coordinates(display_geometry(geo, "commune", "metropole")[2]).sum()
    assert len(blob["xy"]) // 2 < 0.6 * full  # simplified for the national view
    # What the scope picker announces (ui.maps.HEAVY_DOWNLOAD, « environ 2 Mo »).
    assert 1.5e6 < len(gzip.compress(path.read_bytes())) < 2.5e6


def test_a_payload_follows_the_order_of_the_map_file():
    from ui.fastmap import MISSING_CLASS, payload, read_payload

    codes = pd.Series(["b", "a", "z"])  # "z" is not in the map file; "c" has no value
    blob = payload(
        {"colours": ["#000", "#fff"]},
        ("a", "b", "c"),
        codes,
        pd.Series([2.5, 1.0, 9.0]),
        pd.Series([1, 0, 1]),
        pd.Series([1.0, 2.0, 3.0]),
    )
    meta, values, ranks, classes = read_payload(blob)
    assert meta["n"] == 3 and meta["colours"] == ["#000", "#fff"] and len(meta["sig"]) == 12
    assert values[:2].tolist() == [1.0, 2.5] and np.isnan(values[2])
    assert ranks.tolist() == [2, 1, 0]
    assert classes.tolist() == [0, 1, MISSING_CLASS]


def test_the_payload_signature_changes_with_the_values():
    from ui.fastmap import payload, read_payload

    def signature(values):
        blob = payload({}, ("a",), pd.Series(["a"]), pd.Series(values), pd.Series([0]), None)
        return read_payload(blob)[0]["sig"]

    assert signature([1.0]) != signature([2.0])
