"""Portrait and « Territoires comparables » sections, shared by the Fiche and the Carte."""

from __future__ import annotations

import itertools

import streamlit as st

from territorial.text.safetext import inert
from ui.common import query_value, write_query
from ui.state import geography, space_version, store

FICHE_PAGE = "views/fiche.py"
_YES = ("oui", "non")


def show_portrait(data: dict) -> None:
    """The fiche's portrait: sentences by theme, each with its source; the wording rules."""
    if not data["portrait"]:
        return
    st.subheader("Portrait du territoire")
    for theme, sentences in itertools.groupby(data["portrait"], key=lambda s: s["theme"]):
        st.markdown(f"**{inert(theme)}**")
        st.markdown(
            "\n".join(
                f"- {inert(s['texte'])} <span class='dt-source'>({inert(s['source'])})</span>"
                for s in sentences
            ),
            unsafe_allow_html=True,
        )
    with st.expander("Comment ce portrait est écrit"):
        st.markdown("\n".join(f"- {inert(rule)}" for rule in data["regles_portrait"]))


@st.cache_data(show_spinner="Recherche des territoires comparables…", max_entries=64)
def _peers(level, code, preset, same_region, exclude_neighbours, similar_size, version) -> dict:
    from territorial.analysis.peers import find_peers

    result = find_peers(
        store(), level, code, preset=preset, same_region=same_region,
        exclude_neighbours=exclude_neighbours, similar_size=similar_size,
    )  # fmt: skip
    return result.to_dict()


def peers_of(level: str, code: str, options: dict) -> dict | None:
    """The peers (as :meth:`PeersResult.to_dict`), cached per space and perimeter set.

    None, with the French reason shown, when the territory cannot be compared.
    """
    from territorial.analysis.peers import PeersError

    version = f"{geography().perimeters_hash}-{space_version()}"
    try:
        return _peers(level, code, options["preset"], options["same_region"],
                      options["exclude_neighbours"], options["similar_size"], version)  # fmt: skip
    except PeersError as error:
        st.info(inert(f"Pas de territoires comparables : {error.message}"))
        return None


def peers_options(level: str, key: str = "pairs") -> dict:
    """Profile and options of the comparison, read from and written to the URL."""
    from territorial.analysis.presets import DEFAULT_PRESET, available_presets

    presets = list(available_presets(store().catalogue))
    default_region = "oui" if level == "commune" else "non"
    cols = st.columns([1.6, 1, 1, 1])
    preset = cols[0].selectbox(
        "Profil comparé",
        presets,
        index=presets.index(query_value(f"{key}_profil", DEFAULT_PRESET, presets)),
        key=f"{key}-profil",
        help="Les indicateurs d'un jeu de la page Fragilités prioritaires.",
    )
    same_region = level != "region" and cols[1].toggle(
        "Même région seulement",
        value=query_value(f"{key}_region", default_region, _YES) == "oui",
        key=f"{key}-region",
    )
    exclude = cols[2].toggle(
        "Sans les voisins",
        value=query_value(f"{key}_sans_voisins", "non", _YES) == "oui",
        key=f"{key}-voisins",
        help="Écarte les territoires dont le contour touche celui-ci.",
    )
    size = cols[3].toggle(
        "Taille proche",
        value=query_value(f"{key}_taille", "non", _YES) == "oui",
        key=f"{key}-taille",
        help="Population comprise entre la moitié et le double de celle du territoire.",
    )
    region = "oui" if same_region else "non"
    write_query(**{
        f"{key}_profil": None if preset == DEFAULT_PRESET else preset,
        f"{key}_region": None if region == default_region else region,
        f"{key}_sans_voisins": "oui" if exclude else None,
        f"{key}_taille": "oui" if size else None,
    })  # fmt: skip
    return {"preset": preset, "same_region": same_region, "exclude_neighbours": exclude,
            "similar_size": size}  # fmt: skip


def show_peers(result: dict | None, level: str, compact: bool = False) -> None:
    """Each peer with a link to its fiche, why it is close, where it differs; the leads."""
    if result is None:
        return
    if not result["comparables"]:
        st.info("Aucun territoire comparable avec ces options.")
    for number, peer in enumerate(result["comparables"], start=1):
        st.page_link(
            FICHE_PAGE,
            label=f"{number}. {inert(peer['nom'])} ({inert(peer['code'])})",
            icon=":material/description:",
            query_params={"niveau": level, "territoire": peer["code"]},
        )
        if compact:
            continue
        lines = []
        if peer["texte_proches"]:
            lines.append(f"Proche sur : {inert(peer['texte_proches'])}")
        if peer["texte_differences"]:
            lines.append(f"Diffère surtout sur : {inert(peer['texte_differences'])}")
        if lines:
            st.caption("  \n".join(lines))
    if result["pistes"]:
        st.markdown("**Pistes : ce que des territoires comparables ont, et pas celui-ci**")
        st.markdown("\n".join(f"- {inert(lead['texte'])}" for lead in result["pistes"]))
        st.caption(
            "Programmes de l'ANCT (membres, septembre 2024 ; QPV 2024) : des pistes pour "
            "aller voir et échanger, pas un classement."
        )
    for note in result["remarques"]:
        st.caption(inert(note))
    with st.expander("Méthode de comparaison"):
        st.markdown(inert(result["methode"]))
