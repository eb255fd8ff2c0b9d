"""Fiche territoire: identity, indicators side by side, fragilités prioritaires, catalysts."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.outputs.export import to_csv_bytes
from territorial.outputs.fiche import cell_text, fiche_data, render_html
from territorial.text.formatting import format_number
from territorial.text.safetext import inert
from ui.common import on_phone, page_header, query_value, sources_footer, write_query
from ui.locator import locator_caption, show_locator
from ui.peers import peers_of, peers_options, show_peers, show_portrait
from ui.state import active_catalysts, fictional_banner, geography, store, workspace
from ui.tables import number_column, rank_column, text_column
from ui.widgets import search_box

LEVELS = ("region", "departement", "perimetre", "epci", "commune")
PRESET = "Vue d'ensemble"

page_header(
    "Fiche territoire",
    "Tout ce que l'on sait d'un territoire : portrait, indicateurs comparés au département, "
    "à la région et à la France, fragilités prioritaires, territoires comparables, "
    "catalyseurs proches.",
)
geo = geography()

level = query_value("niveau", "commune", LEVELS)
code = query_value("territoire", "")
picked = search_box()
if picked is not None:
    level, code = picked
if not code or code not in set(geo.table(level, "france")["code"]):
    st.info("Cherchez un territoire par son nom ou son code, ou cliquez-en un sur la carte.")
    write_query(niveau=level, territoire=None)
    st.stop()
write_query(niveau=level, territoire=code)


@st.cache_data(show_spinner="Calcul des fragilités…", max_entries=32)
def priorities(level: str, scope: str, code: str, version: str) -> list[dict]:
    from territorial.analysis.fragility import fragility

    # one reference, the one the caption names: a commune's région, else France
    reference = "region" if level == "commune" else "france"
    result = fragility(store(), level, scope, preset=PRESET, reference=reference)
    return result.priorities.get(code, [])


@st.cache_data(show_spinner=False, max_entries=32)
def catalysts_near(level: str, code: str, version: str) -> dict:
    from territorial.analysis.catalyst_density import catalyst_counts, nearest

    catalysts = active_catalysts()
    inside = int(catalyst_counts(catalysts, geo, level).get(code, 0))
    close = nearest(catalysts, geo, level, code, k=5)
    return {
        "fictif": catalysts.fictional,
        "dedans": inside,
        "proches": [
            {
                "nom": r["nom"],
                "type": r["type_libelle"],
                "commune": r.get("nom_commune") or r["commune"],
                "distance": f"{format_number(r['distance_km'], 1)} km",
            }
            for r in close.to_dict("records")
        ],
    }


def rank_help(table: pd.DataFrame, column: str, among: str) -> str:
    """The tooltip of a rank column: how many territories are ranked."""
    totals = table[f"{column}_sur"].dropna().astype(int).unique()
    among_n = f"sur {format_number(totals[0])} territoires " if len(totals) == 1 else ""
    return f"Rang {among_n}{among} (1 = valeur la plus haute)"


unit = geo.table(level, "france").set_index("code").loc[code]
scope = (
    f"region:{unit['region']}"
    if level == "commune"
    else ("france" if unit["outre_mer"] else "metropole")
)
version = f"{geo.perimeters_hash}-{workspace().version()}"  # per space: its own tables
catalysts = active_catalysts()
data = fiche_data(
    store(),
    level,
    code,
    priorities=priorities(level, scope, code, version),
    catalysts=catalysts_near(level, code, version + catalysts.name),
)
identity = data["identite"]

st.header(inert(identity["nom"]))
ident_col, map_col = (st.container(), st.container()) if on_phone() else st.columns([2, 1])
with ident_col:
    st.markdown(
        f"**{inert(identity['niveau'])}** · code {inert(code)} · "
        + " · ".join(f"{inert(p['niveau'])} : **{inert(p['nom'])}**" for p in identity["parents"])
    )
    cols = st.columns(3 if level != "commune" else 2)
    cols[0].metric("Population municipale", identity["population"])
    cols[1].metric("Superficie (km²)", identity["superficie_km2"])
    if level != "commune":
        cols[2].metric("Communes", identity["n_communes"])
    if "perimetre" in identity:
        perimeter = identity["perimetre"]
        st.markdown(
            f"Projet de territoire : **{inert(perimeter['nom'])}** — porté par "
            + {0: "des communes signataires", 1: "un seul EPCI"}.get(
                perimeter["n_epci"], f"{perimeter['n_epci']} EPCI"
            )
            + f". Jeu de périmètres : {inert(perimeter['jeu'])}."
        )
with map_col:
    st.caption(locator_caption(level))
    other = show_locator(level, code, height=260 if on_phone() else 300)
    if other:  # another territory clicked: its fiche
        st.query_params.update(niveau=level, territoire=other)
        st.rerun()

show_portrait(data)

st.subheader("Fragilités prioritaires")
st.caption(
    f"Jeu d'indicateurs « {PRESET} », comparé à {'la région' if level == 'commune' else 'la France métropolitaine'}."
)
if data["priorites"]:
    for number, item in enumerate(data["priorites"], start=1):
        st.markdown(f"{number}. {inert(item['ecart_texte'])}")
else:
    st.markdown("Aucune fragilité au-dessus de la médiane pour ces indicateurs.")

st.subheader("Indicateurs")
VALUE_HELP = "La valeur du territoire, dans l'unité de la colonne suivante ; un clic sur l'en-tête trie les indicateurs par valeur."
table = data["indicateurs"]
rows = table.to_dict("records")
typology = table["categories"].map(bool)
estimated = table["estimation"].map(lambda levels: level in levels)
shown = pd.DataFrame(
    {
        "Indicateur": table["indicateur"],
        # a number, so that a click on the header sorts by value; rounded as it is published
        "Valeur": [
            None if is_typology or value != value else round(float(value), int(decimals))
            for value, decimals, is_typology in zip(
                table["valeur"], table["decimales"], typology, strict=True
            )
        ],
        "Unité": [
            ("" if unit == "classe" else unit) + (" (estimation)" if flag else "")
            for unit, flag in zip(table["unite"].fillna(""), estimated, strict=True)
        ],
        "Classe": [cell_text(r, "valeur", level) if r["categories"] else "" for r in rows],
        "Rang région": table["rang_region"].astype("Int64"),
        "Rang France": table["rang_france"].astype("Int64"),
        "Département": [cell_text(r, "departement", "departement") for r in rows],
        "Région": [cell_text(r, "region", "region") for r in rows],
        "France": [cell_text(r, "france", "france") for r in rows],
        "Thème": table["theme"],
        "Source, millésime, licence": table["source"],
    }
).astype({"Valeur": "float64"})
if not shown["Classe"].str.len().any():  # no typology in the table
    shown = shown.drop(columns="Classe")
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    height="content",  # every row visible: the last ones were cut off
    column_config={
        "Indicateur": text_column(180 if on_phone() else 330, pinned=True),  # value in view
        "Valeur": number_column(None, width=110, help=VALUE_HELP),
        "Unité": text_column(165),
        "Classe": text_column(250, help="Pour une typologie : la classe du territoire."),
        "Rang région": rank_column(rank_help(table, "rang_region", "de la région")),
        "Rang France": rank_column(rank_help(table, "rang_france", "de France")),
        "Département": text_column(135),
        "Région": text_column(135),
        "France": text_column(135),
        "Thème": text_column(150),
        "Source, millésime, licence": text_column(220),
    },
)
st.caption(
    "Rang : 1 = valeur la plus haute ; « – » : pas de rang (valeur manquante, ou la même "
    "pour tous, comme le nombre de communes d'une commune). Selon l'indicateur, une valeur "
    "haute peut signaler une fragilité (distance à un pôle) ou une ressource (heures "
    "d'ouverture des mairies) : voir « Fragilités prioritaires » pour la lecture orientée. "
    "« (estimation) » : valeur non publiée à ce niveau (médiane, taux sous secret "
    "statistique), estimée à partir des communes — méthode et part de la population couverte sur la page Carte."
)

if data["typologies"]:
    st.markdown("**Typologies : part de la population (2021) dans chaque classe**")
    for item in data["typologies"]:
        st.markdown(f"- {inert(item['typologie'])} : {inert(item['classes'])}")

st.subheader("Programmes de l'ANCT sur ce territoire")
if data["programmes"]:
    for item in data["programmes"]:
        st.markdown(f"- **{inert(item['programme'])}** ({item['n']}) : {inert(item['membres'])}")
else:
    st.markdown(
        "Aucun des programmes suivis (Petites villes de demain, Action cœur de ville, "
        "Villages d'avenir, France services, Territoires d'industrie, Fabriques de "
        "territoire, Manufactures de proximité, QPV) sur ce territoire."
    )
st.caption(
    "Sources : ANCT, membres des programmes (septembre 2024) ; ANCT, quartiers prioritaires "
    "de la politique de la ville 2024. Territoires d'industrie : part de la population dans "
    "le tableau des indicateurs."
)

st.subheader("Territoires comparables")
st.caption(
    "Les territoires du même niveau dont le profil ressemble le plus à celui-ci : "
    "à qui parler, de qui apprendre — pas un classement."
)
comparables = peers_of(level, code, peers_options(level))
show_peers(comparables, level)
data["comparables"] = comparables

st.subheader("Catalyseurs territoriaux")
fictional_banner(catalysts)
near = data["catalyseurs"]
st.markdown(f"{near['dedans']} catalyseur(s) dans ce territoire. Les plus proches :")
st.dataframe(
    pd.DataFrame(near["proches"]).rename(columns=str.capitalize), hide_index=True, width="stretch"
)

exports = st.columns(2)
slug = f"fiche_{LEVEL_LABELS[level].split()[0].lower()}_{code}"
exports[0].download_button(
    "Télécharger la fiche imprimable (HTML)",
    render_html(data).encode("utf-8"),
    file_name=f"{slug}.html",
    mime="text/html",
)
exports[1].download_button(
    "Télécharger les données (CSV)",
    to_csv_bytes(
        table.drop(columns=["decimales", "categories"]).assign(
            estimation=table["estimation"].map(", ".join)
        )
    ),
    file_name=f"{slug}.csv",
    mime="text/csv",
)
sources_footer()
