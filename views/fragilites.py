"""Fragilités prioritaires: which territories, and which of their fragilities, come first."""

import pandas as pd
import streamlit as st

from territorial import LEVEL_LABELS
from territorial.analysis.classify import classify
from territorial.analysis.fragility import fragility
from territorial.analysis.presets import (
    CLASS_LABELS,
    DEFAULT_PRESET,
    FragilityError,
    available_presets,
)
from territorial.outputs.export import to_csv_bytes
from territorial.text.formatting import format_number
from territorial.text.glossary import help_text
from territorial.text.safetext import inert
from ui.common import page_header, projection_mode, query_value, sources_footer, write_query
from ui.fastmap import show_fast_map
from ui.maps import legend_html, palette
from ui.state import geography, store
from ui.tables import number_column, rank_column, text_column
from ui.widgets import level_picker, scope_picker

OWN = "Mes indicateurs"

page_header(
    "Fragilités prioritaires",
    "Quels territoires passent en premier, et pour quelles fragilités : partir du « premier "
    "kilomètre des besoins ». Choisissez un jeu d'indicateurs ; chaque territoire reçoit un "
    "score de 0 à 100 (100 = le plus fragile) et ses trois fragilités prioritaires.",
)
geo = geography()
indicator_store = store()
catalogue = indicator_store.catalogue
presets = available_presets(catalogue)

controls = st.columns([1.3, 1.3, 1.5, 0.9])
with controls[0]:
    level = level_picker(default="epci")
with controls[1]:
    scope = scope_picker(level)
with controls[2]:
    names = [*presets, OWN]
    preset = st.selectbox(
        "Jeu d'indicateurs", names, index=names.index(query_value("jeu", DEFAULT_PRESET, names)),
        help=help_text("polarite"),
    )  # fmt: skip
with controls[3]:
    references = {"france": "France", "region": "Sa région"}
    allowed = ["france"] if level == "region" else list(references)
    reference = st.radio(
        "Comparer à",
        allowed,
        format_func=references.get,
        horizontal=True,
        index=allowed.index(query_value("reference", "france", allowed)),
    )

weights = None
chosen = None
if preset == OWN:
    eligible = [i for i in catalogue if i.polarity != "neutre"]
    default_ids = [
        i for i in query_value("indicateurs", "", None).split(",") if i in {e.id for e in eligible}
    ]
    chosen = st.multiselect(
        "Indicateurs (seuls ceux qui ont un côté « fragile » sont proposés)",
        [i.id for i in eligible],
        default=default_ids or [eligible[0].id],
        format_func=lambda i: f"{catalogue[i].theme} · {catalogue[i].label}",
    )
    if chosen:
        columns = st.columns(min(len(chosen), 4))
        weights = [
            columns[n % len(columns)].slider(
                f"Poids : {inert(catalogue[i].label)}", 1, 5, 1, key=f"poids-{i}"
            )
            for n, i in enumerate(chosen)
        ]
else:
    st.caption(presets[preset].description_fr)

try:
    with st.spinner("Calcul des scores…"):
        result = fragility(
            indicator_store,
            level,
            scope,
            indicators=chosen or None,
            weights=weights,
            reference=reference,
            preset=None if preset == OWN else preset,
        )
except FragilityError as error:
    st.error(str(error))
    st.stop()

table = result.table
selected = query_value("territoire", "")
if selected not in table.index:
    selected = ""

map_col, side_col = st.columns([2.1, 1.4] if projection_mode() else [3, 1.2])
scores = table["score"].reindex(geo.table(level, scope)["code"].to_numpy())
classes = table["classe"]
breaks = [
    float(table.loc[classes == c, "score"].max()) for c in range(1, 6) if (classes == c).any()
]
classification = classify(scores.reset_index(drop=True), "manuel", breaks=breaks[:-1] or breaks)
colours = palette(classification.k, "sequentiel")
with map_col:
    clicked = show_fast_map(
        level,
        scope,
        pd.Series(scores.index),
        scores,
        classification,
        colours,
        "Score de fragilité",
        "/ 100",
        1,
        key=f"fragilites-{level}-{scope}",
        ranks=table["rang"].reindex(scores.index),
        rank_total=int(table["rang"].notna().sum()),
        selected=selected or None,
        height=740 if projection_mode() else 600,
    )
    if clicked:
        selected = clicked
with side_col:
    st.markdown(f"**Classes de fragilité** — {inert(LEVEL_LABELS[level])}")
    present = [c for c in range(1, 6) if (classes == c).any()]
    legend = legend_html(
        classification,
        colours,
        "",
        lambda v: format_number(v, 1),
        names=[CLASS_LABELS[c] for c in present],
    )
    st.markdown(legend, unsafe_allow_html=True)
    st.caption("Classes : quintiles du score (un cinquième des territoires chacune).")
    if selected:
        row = table.loc[selected]
        st.subheader(inert(row["nom"]))
        st.markdown(
            f"Score **{format_number(row['score'], 1)}** / 100 — rang **{inert(row['rang_texte'])}** — {inert(row['classe_libelle'])}"
        )
        for number, item in enumerate(result.priorities.get(selected, []), start=1):
            st.markdown(f"{number}. {inert(item['ecart_texte'])}")
        st.page_link(
            "views/fiche.py",
            label="Ouvrir la fiche",
            icon=":material/description:",
            query_params={"niveau": level, "territoire": selected},
        )

st.subheader("Classement")
n_scores = int(table["score"].notna().sum())
shown = pd.DataFrame(
    {
        "Rang": table["rang"].astype("Int64"),
        "Territoire": table["nom"],
        "Score": table["score"].astype(float),
        "Classe": table["classe_libelle"],
        "Fragilités prioritaires": table["priorites_texte"],
        "Données (%)": (100 * table["couverture"]).astype(float),
        "Sans score : raison": table["sans_score_raison"],
        "Code": table.index,
    }
)
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    height=420 if not projection_mode() else 600,
    column_config={
        "Rang": rank_column(f"Rang sur {format_number(n_scores)} (1 = le plus fragile)", True),
        "Territoire": text_column(300, pinned=True),
        "Score": number_column(1, 80, "Score de fragilité, de 0 à 100 (100 = le plus fragile)"),
        "Classe": text_column(110),
        "Fragilités prioritaires": text_column(720),
        "Données (%)": number_column(0, 90, "Couverture des données : part du poids disponible"),
    },
)
st.download_button(
    "Télécharger le classement (CSV)",
    to_csv_bytes(
        table.reset_index(), sources=[indicator_store.catalogue[i] for i in result.indicators]
    ),
    file_name=f"fragilites_{level}.csv",
    mime="text/csv",
)

with st.expander("Méthode (en clair)", expanded=projection_mode() is False):
    st.markdown(inert(result.method_note).replace("\n", "  \n"))
    for note in result.coverage.get("remarques", []):
        st.caption(inert(note))

write_query(
    niveau=level,
    perimetre=scope,
    jeu=preset,
    reference=reference,
    indicateurs=",".join(chosen) if chosen else None,
    territoire=selected or None,
)

sources_footer()
