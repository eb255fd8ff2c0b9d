"""Escaping of user strings that reach HTML, and CSV-injection neutralisation."""

import json

import pandas as pd

from territorial.geo.geography import Geography
from territorial.geo.mapdata import geojson_bytes
from territorial.indicators.store import IndicatorStore
from territorial.outputs.export import neutralise, to_csv_bytes
from territorial.outputs.fiche import fiche_data, render_html
from territorial.perimeters.model import PerimeterSet
from territorial.text.safetext import inert

ATTACK = "<img src=x onerror=alert(1)>"


def test_csv_cells_starting_with_formula_characters_are_neutralised():
    frame = pd.DataFrame(
        {"nom": ["=1+1", "+33", "-cmd", "@SUM(A1)", "Lyon"], "valeur": [-1.5, 2.0, 3.0, 4.0, 5.0]}
    )
    text = to_csv_bytes(frame).decode("utf-8-sig").splitlines()
    assert text[1].startswith("'=1+1;")
    assert text[2].startswith("'+33;") and text[3].startswith("'-cmd;")
    assert text[4].startswith("'@SUM(A1);")
    assert text[1].endswith(";-1,5")  # numbers are not touched
    assert neutralise("Lyon") == "Lyon" and neutralise(-3) == -3


def test_csv_header_is_neutralised_too():
    frame = pd.DataFrame({"=cmd": [1]})
    assert to_csv_bytes(frame).decode("utf-8-sig").startswith("'=cmd")


def test_inert_helper_on_html():
    assert "<" not in inert(ATTACK) and ">" not in inert(ATTACK)
    assert inert(None) == ""


def _geography_with_hostile_perimeter() -> Geography:
    geo = Geography()
    loire = geo.communes.loc[geo.communes["departement"] == "42", "code"]
    membership = pd.Series("hostile", index=loire.to_numpy()).rename("perimetre")
    perimetres = pd.DataFrame(
        {"code": ["hostile"], "nom": [ATTACK], "n_epci": [1], "portage": ["un EPCI"]}
    )
    geo.set_perimeters(PerimeterSet(ATTACK, "utilisateur", membership, perimetres))
    return geo


def test_user_perimeter_name_is_escaped_in_map_and_fiche(tmp_path, monkeypatch):
    monkeypatch.setattr("territorial.perimeters.model._CACHE_DIR", tmp_path, raising=False)
    geo = _geography_with_hostile_perimeter()
    payload = json.loads(geojson_bytes(geo, "perimetre", "metropole"))
    assert payload["features"][0]["properties"]["nom"] == inert(ATTACK)
    data = fiche_data(IndicatorStore(geo), "commune", "42218")
    html = render_html(data)
    assert ATTACK not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
