"""Map GeoJSON as written for the browser: région outlines without slivers, real enclaves kept."""

import json

import pytest
import shapely
from shapely.geometry import shape

from territorial import load_geography
from territorial.geo.mapdata import write_geojson


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def _holes(path) -> dict[str, list[shapely.Polygon]]:
    features = json.loads(path.read_text())["features"]
    return {
        f["id"]: [
            shapely.Polygon(ring)
            for part in shapely.get_parts(shape(f["geometry"]))
            for ring in part.interiors
        ]
        for f in features
    }


def test_region_outlines_have_no_holes_but_the_real_enclaves(geo, tmp_path):
    holes = _holes(write_geojson(geo, "region", "france", tmp_path))
    assert {code: len(rings) for code, rings in holes.items() if rings} == {"75": 2, "84": 1}
    communes = geo.table("commune", "france")
    _assert_filled_by_others(holes, communes, "region")
    enclave_des_papes = {
        "84053",
        "84097",
        "84138",
        "84150",
    }  # Grillon, Richerenches, Valréas, Visan
    assert enclave_des_papes <= set(
        communes[communes.representative_point().within(holes["84"][0])]["code"]
    )


def test_departement_holes_are_enclaves_of_other_departements(geo, tmp_path):
    holes = _holes(write_geojson(geo, "departement", "metropole", tmp_path))
    assert sum(map(len, holes.values())) < 12  # 61 rings before the slivers were removed
    _assert_filled_by_others(holes, geo.table("commune", "france"), "departement")


def _assert_filled_by_others(holes, communes, level):
    """Each remaining hole is mostly covered by communes of another unit: an enclave."""
    for code, rings in holes.items():
        for ring in rings:
            near = communes[communes.intersects(ring) & (communes[level] != code)]
            covered = shapely.union_all(near.geometry.to_numpy()).intersection(ring).area
            assert covered > 0.5 * ring.area, (code, ring.area)
