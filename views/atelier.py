"""Atelier: create one (code + edit link), open one by its code, the parcours of views."""

import streamlit as st

from territorial.storage import StorageError
from territorial.text.safetext import inert
from ui.atelier import leave_atelier, login_buttons, public_base_url, qr_png, short_link
from ui.common import page_header
from ui.state import SPACE_KEY, current_space, database, workspace

page_header(
    "Atelier",
    "Un atelier réunit les tableaux, périmètres, catalyseurs et vues d'un atelier de travail : "
    "les participants l'ouvrent par son code, en lecture seule ; l'animateur le modifie avec "
    "son lien d'édition.",
)
login_buttons()
space = current_space()
created = st.session_state.pop("atelier-cree", None)
if created:
    code, token = created
    base = public_base_url()
    st.success(inert(f"Atelier « {space['nom']} » créé : code {code}."))
    st.markdown("**Lien des participants (lecture seule)**")
    st.code(f"{base}/?atelier={code}", language=None)
    st.markdown("**Lien d'édition de l'animateur : gardez-le, il n'est affiché qu'une fois**")
    st.code(f"{base}/?atelier={code}&cle={token}", language=None)

if space["kind"] == "atelier":
    state = "vous pouvez le modifier" if space["edit"] else "lecture seule"
    st.markdown(
        f"**Atelier en cours : {inert(space['nom'])}** — code **{space['code']}** ({state})."
    )
    if st.button("Quitter l'atelier (revenir à mon espace privé)", key="atelier-quitter"):
        leave_atelier()
        st.rerun()
else:
    st.info(
        "Vous travaillez dans votre **espace privé** : ce que vous chargez n'est visible que "
        "dans cette session ; une fois la session fermée, personne ne peut plus l'ouvrir (il "
        "est effacé après 7 jours sans modification)."
    )

left, right = st.columns(2)
with left:
    st.markdown("#### Ouvrir un atelier")
    typed = st.text_input("Code de l'atelier", max_chars=12, key="atelier-code").strip()
    if st.button("Ouvrir", key="atelier-ouvrir", disabled=not typed):
        if database().atelier(typed) is None:
            st.error(inert(f"Aucun atelier n'a le code « {typed} »."))
        else:
            st.query_params["atelier"] = typed.upper()
            st.rerun()
with right:
    st.markdown("#### Créer un atelier")
    name = st.text_input("Nom de l'atelier", max_chars=200, key="atelier-nom").strip()
    if st.button("Créer l'atelier", key="atelier-creer", type="primary", disabled=not name):
        try:
            code, token = database().create_atelier(name)
        except StorageError as err:
            st.error(err.message)
        else:
            st.session_state[SPACE_KEY] = {
                "code": code,
                "kind": "atelier",
                "nom": name,
                "edit": True,
            }
            st.session_state["atelier-cree"] = (code, token)
            st.query_params["atelier"] = code
            st.rerun()

if space["kind"] == "atelier":
    st.markdown("#### Parcours de l'atelier")
    views = workspace().views()
    if not views:
        st.caption(
            "Aucune vue pour l'instant. Sur n'importe quelle page, le menu latéral « Ajouter "
            "cette vue au parcours » enregistre la vue affichée (avec le lien d'édition)."
        )
    else:
        first = views[0]["id"]
        st.link_button(
            "Lancer le parcours en mode projection",
            f"{public_base_url()}/?atelier={space['code']}&etape={first}&mode=projection",
            icon=":material/slideshow:",
        )
    for view in views:
        with st.container(border=True):
            text, qr = st.columns([4, 1])
            link = short_link(space["code"], view["id"])
            text.markdown(f"**{view['numero']}. {inert(view['titre'])}**")
            if view["note"]:
                text.markdown(inert(view["note"]))
            text.code(link, language=None)
            qr.image(qr_png(link), width=140)
            if space["edit"]:
                up, down, remove, _ = text.columns([1, 1, 1, 3])
                moves = (
                    (up, "Monter", -1, view["numero"] == 1),
                    (down, "Descendre", 1, view["numero"] == len(views)),
                )
                for column, label, step, disabled in moves:
                    if column.button(label, key=f"vue-{step}-{view['id']}", disabled=disabled):
                        workspace().move_view(view["id"], step)
                        st.rerun()
                if remove.button("Retirer", key=f"vue-retirer-{view['id']}"):
                    workspace().delete_view(view["id"])
                    st.rerun()
