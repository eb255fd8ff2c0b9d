"""Shared page furniture: cached core objects, URL state, projection mode, sources footer."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from territorial import LEVEL_LABELS
from territorial.perimeters.crte import active_set_label
from territorial.sources.raw import raw_manifest
from territorial.text.safetext import inert
from ui.state import geography, per_run


def query_value(name: str, default: str, options=None) -> str:
    """A view setting read from the URL query parameters, falling back to ``default``."""
    value = st.query_params.get(name, default)
    if options is not None and value not in options:
        return default
    return value


def write_query(**values) -> None:
    """Write view settings to the URL so the view can be shared or bookmarked."""
    for name, value in values.items():
        if value in (None, ""):
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def projection_mode() -> bool:
    """Projection mode: large type, high contrast, collapsed sidebar (``?mode=projection``)."""
    return st.query_params.get("mode") == "projection"


def on_phone() -> bool:
    """A phone's browser (its user agent says « Mobi », as every phone browser does)."""
    return per_run("telephone", lambda: "Mobi" in (st.context.headers.get("User-Agent") or ""))


# Short page names for the projection bar, so that it holds on one line at 1920 px.
SHORT_TITLES = {"Fiche territoire": "Fiche", "Fragilités prioritaires": "Fragilités"}


def view_bar(pages: list) -> DeltaGenerator:
    """In projection mode, one row of links to the pages that stay in projection mode (the
    sidebar is hidden); returns where :func:`share_link` goes (that row, else the sidebar)."""
    if not projection_mode():
        return st.sidebar.container()
    bar = st.container(
        horizontal=True, vertical_alignment="center", gap="xsmall", key="dt-projection-bar"
    )
    for page in pages:
        bar.page_link(
            page,
            label=SHORT_TITLES.get(page.title, page.title),
            query_params={"mode": "projection"},
        )
    if bar.button("Quitter le mode projection", key="quit-projection", icon=":material/close:"):
        st.query_params.pop("mode", None)
        st.rerun()
    return bar


def view_url(url_path: str) -> str:
    """The public address of this view: its page and every setting in the URL (never an
    atelier's edit key)."""
    from ui.atelier import STEP, public_base_url

    settings = {k: v for k, v in st.query_params.to_dict().items() if k not in {"cle", STEP}}
    return f"{public_base_url()}/{url_path}" + (f"?{urlencode(settings)}" if settings else "")


def share_link(where: DeltaGenerator, url_path: str) -> None:
    """« Copier le lien de cette vue »: the view's address, with a copy button. Drawn after
    the page ran, so that the address holds the settings the page just wrote."""
    label = "Lien de la vue" if projection_mode() else "Copier le lien de cette vue"
    with where.popover(label, icon=":material/link:"):
        st.caption("Ce lien rouvre cette page avec les mêmes réglages (bouton de copie à droite).")
        st.code(view_url(url_path), language=None, wrap_lines=True)


_UPLOAD_BUTTON = "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer']"
_MAIN = "[data-testid='stMainBlockContainer']"
_NO_RESULTS = [
    f"[data-testid='{box}'] [role='listbox'][data-empty] [role='option'] > span"
    for box in ("stSelectboxVirtualDropdown", "stMultiSelectDropdown")
]
_BASE_CSS = (
    f"{_MAIN} {{padding-top: 2.2rem;}}"
    "h1 {padding-top: 0.2rem !important; padding-bottom: 0.4rem !important; font-size: 2.2rem !important;}"
    ".dt-legend table {border-collapse: collapse; font-size: 0.9rem;}"
    ".dt-legend td {padding: 2px 6px;}"
    ".dt-swatch {display:inline-block; width:1.1em; height:1.1em; border:1px solid #555;}"
    ".dt-source {color:#444; font-size:0.8rem;}"
    # Streamlit's file uploader cannot be given French texts: its button is relabelled and
    # its English size hint hidden (every page states its limits in French above it).
    f"{_UPLOAD_BUTTON} p {{font-size: 0 !important;}}"
    f"{_UPLOAD_BUTTON} p::after {{content: 'Choisir un fichier (ou le glisser ici)';"
    " font-size: 0.95rem;}"
    "[data-testid='stFileUploaderDropzoneInstructions'] {display: none;}"
    # its size written the English way (« 352.0B ») too: the page writes it in French
    "[data-testid='stFileChipName'] + * {display: none;}"
    # « No results » of an empty select list, hard-coded in English: written in French
    f"{', '.join(_NO_RESULTS)} {{font-size: 0 !important;}}"
    f"{', '.join(s + '::after' for s in _NO_RESULTS)}"
    " {content: 'Aucun résultat'; font-size: 0.95rem;}"
)
_PROJECTION_CSS = (
    "html, body, [class*='css'], .stMarkdown p, .stMarkdown li, label, .stCaption"
    " {font-size: 1.45rem !important;}"
    "h1 {font-size: 2rem !important; padding: 0 !important;} h2, h3 {font-size: 2rem !important;}"
    "[data-testid='stMetricValue'] {font-size: 3.2rem !important;}"
    "[data-testid='stMetricLabel'] p {font-size: 1.45rem !important;}"
    # The grids (st.dataframe, st.data_editor) draw on a canvas whose font size, row and
    # header heights are in rem of the root font size set above: larger type without a
    # zoom, which made them overflow on the right.
    "[data-testid='stPageLink'] p {font-size: 1.05rem !important;}"
    "[data-testid='stPageLink'] a {padding: 0 0.3rem;}"
    # the page bar on one line: no wrapping, each item its natural width
    ".st-key-dt-projection-bar {flex-wrap: nowrap !important;}"
    ".st-key-dt-projection-bar > div {width: auto !important; flex: 0 0 auto !important;}"
    ".dt-legend table {font-size: 1.15rem; width: 100%;} .dt-legend td.dt-n {white-space: nowrap;}"
    "[data-testid='stWidgetLabel'] p, [data-baseweb='select'] div {font-size: 1.2rem !important;}"
    ".dt-source {font-size: 1.1rem; color:#000;}"
    f"{_UPLOAD_BUTTON} p::after {{font-size: 1.2rem;}}"
    "section[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'] {display: none;}"
    "header[data-testid='stHeader'] {display: none;}"
    f"{_MAIN} {{padding: 0.6rem 1.5rem 2rem; max-width: 100%;}}"
)


def apply_page_style() -> None:
    """CSS for normal and projection mode (one line, so Markdown never reads it as code)."""
    css = _BASE_CSS + (_PROJECTION_CSS if projection_mode() else "")
    st.markdown(f"<style>{css}</style>", unsafe_allow_html=True)


def level_label(level: str) -> str:
    return LEVEL_LABELS[level]


def page_header(title: str, intro: str, first_steps: bool = False) -> None:
    """Title, one line of plain-French help (hidden in projection mode), projection switch;
    ``first_steps`` adds the link to the Premiers pas page on the help's line."""
    apply_page_style()
    st.title(title)
    if first_steps and not projection_mode():
        help_line, link = st.columns([3, 1], vertical_alignment="center")
        help_line.caption(intro)
        link.page_link(
            "views/premiers_pas.py",
            label="Première visite ? Les premiers pas",
            icon=":material/school:",
        )
    elif not projection_mode():  # projection mode: the pages and « Quitter » in view_bar
        st.caption(intro)
    from ui.atelier import parcours_bar

    parcours_bar()  # on a view of an atelier's parcours: previous / next, QR code
    with st.sidebar:
        on = st.toggle(
            "Mode projection",
            value=projection_mode(),
            help="Grands caractères, carte pleine largeur, sans menu : pour projeter en atelier.",
        )
        if on != projection_mode():
            if on:
                st.query_params["mode"] = "projection"
            else:
                st.query_params.pop("mode", None)
            st.rerun()


def sources_footer() -> None:
    """Provenance of what is shown, with vintages and licences."""
    manifest = geography().manifest
    parts = [
        f"{inert(s['attribution'])} — {inert(s['name'])} {inert(s['version'])}"
        + (f", {inert(s['usage'])}" if s.get("usage") else "")
        + f" ({inert(s['licence'])})"
        for s in manifest["sources"]
    ]
    geo = geography()
    producers = sorted({entry["producteur"] for entry in raw_manifest().values()})
    population = manifest["population"]
    st.markdown(
        f"<div class='dt-source'>Sources : {' · '.join(parts)} · Données officielles : "
        f"{inert(' ; '.join(producers))} (millésimes et licences : page Données, onglet "
        f"Sources). COG {manifest['cog']}, {inert(population['definition'])} "
        f"({inert(population['millesime'])}). Projets de territoire : "
        f"{inert(active_set_label(geo.perimeters, geo.perimeters_report))}.</div>",
        unsafe_allow_html=True,
    )
