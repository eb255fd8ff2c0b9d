"""Fiche territoire: identity, indicators side by side, fragilités prioritaires, catalysts."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.export import to_csv_bytes
from territorial.fiche import fiche_data, render_html
from territorial.formatting import format_number
from territorial.safetext import inert
from ui.common import page_header, query_value, sources_footer, write_query
from ui.state import active_catalysts, fictional_banner, geography, store, workspace
from ui.widgets import search_box

LEVELS = ("region", "departement", "perimetre", "epci", "commune")
PRESET = "Vue d'ensemble"

page_header(
    "Fiche territoire",
    "Tout ce que l'on sait d'un territoire : identité, indicateurs comparés au département, "
    "à la région et à la France, fragilités prioritaires, catalyseurs proches.",
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
    from territorial.fragility import fragility

    result = fragility(store(), level, scope, preset=PRESET)
    return result.priorities.get(code, [])


@st.cache_data(show_spinner=False, max_entries=32)
def catalysts_near(level: str, code: str, version: str) -> dict:
    from territorial.catalysts import catalyst_counts, nearest

    catalysts = active_catalysts()
    inside = int(catalyst_counts(catalysts, geo, level).get(code, 0))
    close = nearest(catalysts, geo, level, code, k=5)
    return {
        "fictif": catalysts.fictional,
        "dedans": inside,
        "proches": [
            {"nom": r["nom"], "type": r["type_libelle"], "commune": r.get("nom_commune") or r["commune"],
             "distance": f"{format_number(r['distance_km'], 1)} km"}
            for r in close.to_dict("records")
        ],
    }


unit = geo.table(level, "france").set_index("code").loc[code]
scope = f"region:{unit['region']}" if level == "commune" else ("france" if unit["outre_mer"] else "metropole")
version = f"{geo.perimeters_hash}-{workspace().version()}"  # per space: its own tables
catalysts = active_catalysts()
data = fiche_data(
    store(), level, code,
    priorities=priorities(level, scope, code, version),
    catalysts=catalysts_near(level, code, version + catalysts.name),
)
identity = data["identite"]

st.header(inert(identity["nom"]))
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

st.subheader("Fragilités prioritaires")
st.caption(f"Jeu d'indicateurs « {PRESET} », comparé à {'la région' if level == 'commune' else 'la France métropolitaine'}.")
if data["priorites"]:
    for number, item in enumerate(data["priorites"], start=1):
        st.markdown(f"{number}. {inert(item['ecart_texte'])}")
else:
    st.markdown("Aucune fragilité au-dessus de la médiane pour ces indicateurs.")

st.subheader("Indicateurs")
table = data["indicateurs"]
def _shown(row, column: str) -> str:
    """A value of the fiche table: a class label for a typology, « (estimation) » if so."""
    value = row[column]
    if row["categories"]:
        text = row["categories"][int(value) - 1] if value == value and value is not None else "–"
    else:
        text = format_number(value, row["decimales"])
    level_key = level if column == "valeur" else column
    return f"{text} (estimation)" if level_key in row["estimation"] and text != "–" else text


rows = table.to_dict("records")
shown = pd.DataFrame({
    "Thème": table["theme"],
    "Indicateur": table["indicateur"] + table["unite"].map(lambda u: f" ({u})" if u and u != "classe" else ""),
    "Valeur": [_shown(r, "valeur") for r in rows],
    "Rang région": table["rang_region"],
    "Rang France": table["rang_france"],
    "Département": [_shown(r, "departement") for r in rows],
    "Région": [_shown(r, "region") for r in rows],
    "France": [_shown(r, "france") for r in rows],
    "Source, millésime, licence": table["source"],
})
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(
    "Rang : 1er = valeur la plus haute. Selon l'indicateur, une valeur haute peut signaler une "
    "fragilité (distance à un pôle) ou une ressource (heures d'ouverture des mairies) : voir "
    "« Fragilités prioritaires » pour la lecture orientée. « (estimation) » : valeur non "
    "publiée à ce niveau (médiane, taux sous secret statistique), estimée à partir des "
    "communes — méthode et part de la population couverte sur la page Carte."
)

st.subheader("Catalyseurs territoriaux")
fictional_banner(catalysts)
near = data["catalyseurs"]
st.markdown(f"{near['dedans']} catalyseur(s) dans ce territoire. Les plus proches :")
st.dataframe(pd.DataFrame(near["proches"]).rename(columns=str.capitalize), hide_index=True, width="stretch")

exports = st.columns(2)
slug = f"fiche_{LEVEL_LABELS[level].split()[0].lower()}_{code}"
exports[0].download_button(
    "Télécharger la fiche imprimable (HTML)", render_html(data).encode("utf-8"),
    file_name=f"{slug}.html", mime="text/html",
)
exports[1].download_button(
    "Télécharger les données (CSV)", to_csv_bytes(table.drop(columns="decimales")),
    file_name=f"{slug}.csv", mime="text/csv",
)
sources_footer()
