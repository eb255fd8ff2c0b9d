"""Overseas insets on « France entière »: each DROM inside its frame, the metropole untouched."""

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from territorial import load_geography
from territorial.geo import insets
from territorial.geo.mapdata import bounds, display_shapes, write_geojson

LEVELS = ("region", "departement", "perimetre", "epci", "commune")


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def _frame(code: str):
    return shapely.box(*insets.BOXES[code]).buffer(1e-6)


def _departement(geo, level: str, table) -> list[str]:
    if level == "region":
        return [insets.REGION_DEPARTEMENT.get(c, "") for c in table["code"]]
    return list(table["code" if level == "departement" else "departement"])


@pytest.mark.parametrize("level", LEVELS)
def test_every_overseas_geometry_ends_inside_its_frame(geo, level):
    table = geo.table(level, "france").dropna(subset=["geometry"])
    moved = display_shapes(geo, level, "france")
    departements = _departement(geo, level, table)
    overseas = [i for i, d in enumerate(departements) if d in insets.DROM]
    assert {departements[i] for i in overseas} == set(insets.DROM)  # all five at every level
    for i in overseas:
        assert _frame(departements[i]).contains(moved[i]), (level, table["code"].iloc[i])
    # the metropole is untouched: the same geometries
    metropole = [i for i in range(len(table)) if i not in set(overseas)]
    assert all(moved[i] is table.geometry.iloc[i] for i in metropole)


def test_frames_leave_the_metropole_and_each_other_alone(geo):
    metropole = shapely.union_all(geo.table("region", "metropole").geometry.to_numpy())
    frames = [shapely.box(*box) for box in insets.BOXES.values()]
    for i, frame in enumerate(frames):
        assert not frame.intersects(metropole)
        assert shapely.distance(frame, metropole) > 0.5  # degrees: clearly apart
        for other in frames[i + 1 :]:
            assert not frame.intersects(other)


def test_each_territory_fills_its_frame(geo):
    """The scale is chosen per territory: each fills most of its box's width or height."""
    for code, moved in zip(
        geo.table("departement", "france")["code"],
        display_shapes(geo, "departement", "france"),
        strict=True,
    ):
        if code in insets.DROM:
            west, south, east, north = moved.bounds
            fw, fs, fe, fn = insets.BOXES[code]
            assert (east - west) / (fe - fw) > 0.6 or (north - south) / (fn - fs) > 0.6, code


def test_france_geojson_and_view_frame_metropole_and_insets(geo, tmp_path):
    features = json.loads(write_geojson(geo, "departement", "france", tmp_path).read_text())
    by_code = {f["id"]: shape(f["geometry"]) for f in features["features"]}
    assert _frame("974").contains(by_code["974"])
    loire = geo.table("departement", "france").set_index("code").geometry["42"]
    assert by_code["42"].bounds == pytest.approx(loire.bounds, abs=1e-3)  # the metropole as is
    west, south, east, north = bounds(geo, "departement", "france")
    assert west == pytest.approx(insets.extent()[0]) and east > 9.5
    assert south == pytest.approx(41.31, abs=0.05) and north == pytest.approx(51.1, abs=0.05)
    # an overseas territory is framed in its inset; elsewhere it keeps its true position
    assert _frame("973").contains(shapely.box(*bounds(geo, "commune", "france", "97302")))
    assert bounds(geo, "departement", "region:03")[0] < -50
    other = write_geojson(geo, "departement", "france", tmp_path, insets=False)
    assert other.name != write_geojson(geo, "departement", "france", tmp_path).name
    true = {f["id"]: shape(f["geometry"]) for f in json.loads(other.read_text())["features"]}
    assert true["974"].bounds[0] > 55


def test_move_geometries_keeps_shapes_in_the_map_plane():
    """A square in Mercator stays a square: the transform is affine in the map's plane."""
    extents = {"976": (45.0, -13.0, 45.3, -12.6)}
    moved = insets.move_geometries(np.array([shapely.box(*extents["976"])]), ["976"], extents)[0]
    west, south, east, north = moved.bounds

    def y(lat):
        return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))

    ratio_before = (y(-12.6) - y(-13.0)) / 0.3
    assert (y(north) - y(south)) / (east - west) == pytest.approx(ratio_before, rel=1e-6)
