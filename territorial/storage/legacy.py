"""One-time import of an old ``data/workspace`` folder (files) into the database.

The folder's tables, catalyst lists and perimeter sets become an atelier named
« Espace de travail importé », in one transaction, and the folder is marked as imported
(by its absolute path) so that a restart never imports it twice. The atelier's code and
edit token are returned for the server's log (``python -m territorial ateliers`` lists the
codes and can issue a new edit link).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import insert, select, update

from territorial.storage.base import now
from territorial.storage.database import Database, create_atelier
from territorial.storage.schema import perimeter_sets, settings, spaces, tables
from territorial.storage.spaces import _jsonable
from territorial.storage.workspace import FALLBACK_PERIMETERS, Workspace

__all__ = ["IMPORTED_NAME", "import_workspace"]

IMPORTED_NAME = "Espace de travail importé"


def import_workspace(db: Database, directory: Path | str) -> tuple[str, str] | None:
    """Import the folder once; returns ``(code, edit token)`` of the new atelier, or None.

    ``None`` when the folder was already imported, does not exist or holds nothing.
    """
    folder = Workspace(Path(directory).resolve())
    key = f"import:{folder.directory}"
    saved = folder.tables()
    sets = folder.perimeter_sets()
    if not saved and not sets:
        return None
    with db.write() as conn:
        if conn.execute(select(settings.c.key).where(settings.c.key == key)).first():
            return None
        code, token = create_atelier(conn, IMPORTED_NAME)
        space_id = conn.execute(select(spaces.c.id).where(spaces.c.code == code)).scalar()
        for meta in saved:
            slug = meta.pop("slug")
            conn.execute(
                insert(tables).values(
                    space_id=space_id,
                    slug=slug,
                    name=meta["nom"],
                    kind=meta.get("type", "indicateurs"),
                    level=meta["niveau"],
                    meta=_jsonable(meta),
                    data=(folder.directory / slug / "values.parquet").read_bytes(),
                    version=1,
                    saved_at=now(),
                )
            )
        for meta in sets:
            source, _ = folder.perimeter_source(meta["slug"])
            conn.execute(
                insert(perimeter_sets).values(
                    space_id=space_id,
                    slug=meta["slug"],
                    name=meta["nom"],
                    filename=meta.get("fichier") or meta["nom"],
                    kind=meta.get("type", "utilisateur"),
                    content_hash=meta.get("hash"),
                    sha256=hashlib.sha256(source).hexdigest(),
                    report=_jsonable(meta.get("rapport") or {}),
                    source=source,
                    version=1,
                    saved_at=now(),
                )
            )
        active = folder.active_perimeters()
        if active is not None and active.get("slug") != FALLBACK_PERIMETERS:  # else: default
            conn.execute(
                update(spaces)
                .where(spaces.c.id == space_id)
                .values(active_perimeters=active["slug"])
            )
        conn.execute(insert(settings).values(key=key, value=code))
    return code, token
