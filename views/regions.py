"""Régions: the 13 metropolitan régions side by side, against France, and in detail.

The page reads the choices (indicators, régions, reference, view) from the URL and the
pickers; each view is drawn by :mod:`ui.regions_views`.
"""

import streamlit as st

from territorial.analysis.compare import (
    REFERENCES,
    reference_values,
    region_comparison,
)
from ui.common import page_header, projection_mode, query_value, sources_footer, write_query
from ui.regions_common import RegionView
from ui.regions_views import VIEW_FUNCTIONS
from ui.state import geography, store
from ui.widgets import indicator_label

DEFAULT_INDICATORS = (
    "densite",
    "part_pop_communes_moins_2000",
    "distance_pole_10000_km",
    "part_femmes_conseil_municipal",
    "part_maires_70_ans_plus",
)
VIEWS = {
    "tableau": "Tableau",
    "graphiques": "Graphiques",
    "cartes": "Cartes",
    "ecarts": "Écarts à la référence",
    "comparer": "Comparaison détaillée",
}

projection = projection_mode()
page_header(
    "Comparer les régions",
    "Les 13 régions métropolitaines côte à côte. Choisissez des indicateurs (rangés par thème) "
    "et un affichage : tableau triable, graphiques, cartes, écarts à la France ; choisissez "
    "deux régions ou plus pour les comparer en détail. L'adresse de la page garde vos choix : "
    "copiez-la pour partager cette vue.",
)
if projection:  # larger tables for a projected screen
    st.markdown(
        "<style>[data-testid='stTable'] table {font-size: 1.25rem;}</style>",
        unsafe_allow_html=True,
    )
catalogue = store().catalogue
grouped = catalogue.themes()
ordered = [i.id for theme in grouped for i in grouped[theme]]
regions = geography().table("region", "metropole")[["code", "nom"]].reset_index(drop=True)
names = dict(zip(regions["code"], regions["nom"], strict=True))


def _listed(text: str, allowed) -> list[str]:
    """Comma-separated values of a URL parameter, keeping only known ones, in order."""
    allowed = set(allowed)
    return [v for v in dict.fromkeys(text.split(",")) if v in allowed]


default_ids = [i for i in DEFAULT_INDICATORS if i in catalogue] or ordered[:5]
wanted = _listed(query_value("indicateurs", ",".join(default_ids)), ordered) or default_ids
wanted_regions = _listed(query_value("regions", ""), names)

settings = (
    st.expander("Réglages : indicateurs, régions, référence", expanded=False)
    if projection
    else st.container()
)
with settings:
    indicator_ids = st.multiselect(
        "Indicateurs",
        ordered,
        default=wanted,
        format_func=lambda i: indicator_label(catalogue[i]),
        key="indicateurs",
        placeholder="Choisissez un ou plusieurs indicateurs",
        help="Rangés par thème (le thème précède le nom de l'indicateur).",
        wrap=True,
    )
    controls = st.columns([3, 1])
    chosen = controls[0].multiselect(
        "Régions à comparer en détail",
        list(names),
        default=wanted_regions,
        format_func=names.get,
        key="regions",
        placeholder="Choisissez deux régions ou plus",
        help="Elles sont aussi mises en évidence dans le tableau et les graphiques.",
        wrap=True,
    )
    reference = controls[1].selectbox(
        "Référence",
        list(REFERENCES),
        index=list(REFERENCES).index(query_value("reference", "france", REFERENCES)),
        format_func=REFERENCES.get,
        key="reference",
        help="France entière (avec l'outre-mer) ou France métropolitaine (les 13 régions), "
        "calculée en rapportant les sommes, jamais en moyennant les régions.",
    )
view = st.segmented_control(
    "Affichage",
    list(VIEWS),
    default=query_value("vue", "tableau", VIEWS),
    format_func=VIEWS.get,
    required=True,
    key="vue",
)
write_query(
    indicateurs=",".join(indicator_ids) or None,
    regions=",".join(chosen) or None,
    reference=None if reference == "france" else reference,
    vue=None if view == "tableau" else view,
)

reference_label = REFERENCES[reference]
references = reference_values(store(), reference)
indicators = [catalogue[i] for i in indicator_ids]
table = region_comparison(store(), indicator_ids)


if not indicators and view != "comparer":
    st.info("Choisissez au moins un indicateur pour comparer les régions.")
    sources_footer()
    st.stop()

highlighted = {names[c] for c in chosen}

VIEW_FUNCTIONS[view](
    RegionView(
        catalogue=catalogue,
        indicators=indicators,
        indicator_ids=indicator_ids,
        table=table,
        references=references,
        reference=reference,
        reference_label=reference_label,
        highlighted=highlighted,
        chosen=chosen,
        names=names,
        projection=projection,
    )
)

sources_footer()
