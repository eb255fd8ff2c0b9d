"""``python -m territorial ateliers``: the ateliers of the database, a new edit link.

For the server's operator (who holds the database): list the ateliers, or replace an
atelier's edit link when the facilitator lost it (``--nouveau-lien CODE``).
"""

from __future__ import annotations

import json

from territorial.storage.base import StorageError
from territorial.storage.database import Database

__all__ = ["cli_ateliers"]


def cli_ateliers(new_link_for: str | None, as_json: bool, url: str | None = None) -> int:
    db = Database(url)
    if new_link_for:
        try:
            token = db.new_edit_token(new_link_for)
        except StorageError as err:
            print(err.message)
            return 2
        code = new_link_for.strip().upper()
        payload = {"code": code, "lien_edition": f"?atelier={code}&cle={token}"}
        lines = [f"Nouveau lien d'édition de {code} : {payload['lien_edition']}"]
    else:
        payload = [
            {"code": a["code"], "nom": a["name"], "cree_le": a["created_at"]} for a in db.ateliers()
        ]
        lines = [f"{a['code']}  {a['nom']}" for a in payload] or ["Aucun atelier."]
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(lines))
    return 0
