"""Ateliers in the interface: which space a session works in, the parcours of views.

A link ``?atelier=CODE`` opens an atelier read-only; ``?atelier=CODE&cle=TOKEN`` (the edit
link) opens it for editing, and the token is then taken out of the address bar (it must
not show on a projected screen). ``?atelier=CODE&etape=ID`` is a view's short link: the
session is sent to that view's page with its settings, and the parcours bar
(« précédente / suivante », QR code) is shown on top of the page.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlparse

import segno
import streamlit as st

from territorial.storage import StorageError
from territorial.storage.database import login_editors, may_edit_by_login
from territorial.text.safetext import inert
from ui.state import SPACE_KEY, current_space, database, sync_space, workspace

PUBLIC_URL_ENV = "TERRITORIAL_PUBLIC_URL"
STEP = "etape"  # URL parameter of a parcours step (a view id)
APPLIED_KEY = "etape-appliquee"
PAGE_KEY = "page-courante"
# URL parameters that are not part of a view's settings.
NOT_VIEW_SETTINGS = {"atelier", "cle", STEP, "mode"}


def open_space_from_url() -> None:
    """Read ``?atelier=`` (and its edit key) once; keep the atelier in the URL while in it."""
    code = st.query_params.get("atelier")
    token = st.query_params.get("cle")
    space = current_space()
    if code and (space["kind"] != "atelier" or space["code"] != code.upper() or token):
        record = database().atelier(code)
        if record is None:
            st.query_params.pop("atelier", None)
            st.query_params.pop("cle", None)
            st.error(
                inert(f"Aucun atelier n'a le code « {code[:12]} » : vérifiez le code ou le lien.")
            )
        else:
            editing = (
                database().can_edit(record["code"], token)
                or logged_in_editor()
                or (
                    space["kind"] == "atelier" and space["code"] == record["code"] and space["edit"]
                )
            )
            if token and not editing:
                st.warning(
                    "Ce lien d'édition n'est pas (ou plus) valable : atelier en lecture seule."
                )
            st.session_state[SPACE_KEY] = {
                "code": record["code"],
                "kind": "atelier",
                "nom": record["name"],
                "edit": editing,
            }
    st.query_params.pop("cle", None)
    space = current_space()
    if space["kind"] == "atelier" and st.query_params.get("atelier") != space["code"]:
        st.query_params["atelier"] = space["code"]
    sync_space()


def logged_in_editor() -> bool:
    """A user logged in through Streamlit's OIDC login and listed in ``$TERRITORIAL_EDITORS``."""
    editors = login_editors()
    if not editors:
        return False
    user = st.user.to_dict()
    return may_edit_by_login(user.get("email"), bool(user.get("is_logged_in")), editors)


def login_buttons() -> None:
    """Log in / out buttons, when the deployment configures OIDC editors."""
    if not login_editors():
        return
    if st.user.to_dict().get("is_logged_in"):
        if st.button("Se déconnecter", key="atelier-deconnexion"):
            st.logout()
    elif st.button("Se connecter (animateurs)", key="atelier-connexion"):
        st.login()


def leave_atelier() -> None:
    st.session_state.pop(SPACE_KEY, None)
    st.query_params.pop("atelier", None)
    st.query_params.pop(STEP, None)


def public_base_url() -> str:
    """Address participants open: ``$TERRITORIAL_PUBLIC_URL``, else this server's address."""
    import os

    configured = os.environ.get(PUBLIC_URL_ENV)
    if configured:
        return configured.rstrip("/")
    parsed = urlparse(st.context.url or "")
    host = f"{parsed.scheme}://{parsed.netloc}" if parsed.netloc else "http://localhost:8501"
    base_path = (st.get_option("server.baseUrlPath") or "").strip("/")
    return host + (f"/{base_path}" if base_path else "")


def short_link(code: str, view_id: int) -> str:
    return f"{public_base_url()}/?{urlencode({'atelier': code, STEP: view_id})}"


def qr_png(text: str) -> bytes:
    """A QR code (PNG) of ``text``, large enough to be read from the back of a room."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _views() -> list[dict]:
    return workspace().views() if current_space()["kind"] == "atelier" else []


def go_to_view(pages: list) -> None:
    """Send the session to the page of ``?etape=ID`` with the view's settings (once per step)."""
    wanted = st.query_params.get(STEP)
    space = current_space()
    if not wanted or space["kind"] != "atelier":
        return
    step = (space["code"], wanted)
    if st.session_state.get(APPLIED_KEY) == step:
        return
    view = next((v for v in _views() if str(v["id"]) == wanted), None)
    if view is None:
        st.query_params.pop(STEP, None)
        st.warning("Cette vue ne fait plus partie du parcours de l'atelier.")
        return
    st.session_state[APPLIED_KEY] = step
    params = {**view["parametres"], "atelier": space["code"], STEP: wanted}
    if st.query_params.get("mode"):
        params["mode"] = st.query_params["mode"]
    page = next((p for p in pages if p.url_path == view["page"]), pages[0])
    st.switch_page(page, query_params=params)


def parcours_bar() -> None:
    """On a view of the parcours: its place, title, note, previous/next, QR code and link."""
    wanted = st.query_params.get(STEP)
    space = current_space()
    if not wanted or space["kind"] != "atelier":
        return
    views = _views()
    at = next((i for i, v in enumerate(views) if str(v["id"]) == wanted), None)
    if at is None:
        return
    view = views[at]
    link = short_link(space["code"], view["id"])
    text, qr = st.columns([4, 1], vertical_alignment="center")
    with text:
        st.markdown(f"**Parcours « {inert(space['nom'])} » — vue {at + 1} / {len(views)}**")
        st.subheader(inert(view["titre"]), anchor=False)
        if view["note"]:
            st.markdown(inert(view["note"]))
        back, forward, _ = st.columns([1, 1, 3])
        if back.button("« précédente", key="parcours-precedente", disabled=at == 0):
            _step(views[at - 1]["id"])
        if forward.button("suivante »", key="parcours-suivante", disabled=at == len(views) - 1):
            _step(views[at + 1]["id"])
    with qr:
        st.image(qr_png(link), caption="Sur votre téléphone", width=220)
        st.code(link, language=None, wrap_lines=True)


def _step(view_id: int) -> None:
    st.query_params[STEP] = str(view_id)
    st.rerun()


def add_view_form() -> None:
    """Sidebar form: save the current view (page and settings) at the end of the parcours."""
    space = current_space()
    if space["kind"] != "atelier" or not space["edit"]:
        return
    with st.sidebar.expander("Ajouter cette vue au parcours"):
        title = st.text_input("Titre de la vue", max_chars=200, key="vue-titre").strip()
        note = st.text_area("Note (facultative)", max_chars=2000, key="vue-note")
        if st.button("Ajouter au parcours", key="vue-ajouter", disabled=not title):
            settings = {
                k: v for k, v in st.query_params.to_dict().items() if k not in NOT_VIEW_SETTINGS
            }
            try:
                workspace().add_view(title, note, st.session_state.get(PAGE_KEY, ""), settings)
            except StorageError as err:
                st.error(err.message)
            else:
                st.success("Vue ajoutée au parcours (page « Atelier »).")


def space_caption() -> None:
    space = current_space()
    with st.sidebar:
        if space["kind"] != "atelier":
            st.caption("Espace privé : ce que vous chargez n'est visible que dans cette session.")
        else:
            state = "édition" if space["edit"] else "lecture seule"
            st.caption(f"Atelier « {inert(space['nom'])} » ({space['code']}, {state}).")
