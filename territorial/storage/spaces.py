"""The saved work of one space (an atelier or a visitor's private space).

A :class:`Space` saves and lists indicator tables and catalyst lists (with their reports),
perimeter sets (the file as given), the active perimeter set and the parcours of saved
views. Every save is one transaction. A save names the version it replaces (``expected``,
``None`` for a new name): when another session saved that name in between, nothing is
written and :class:`ConflictError` tells the user. A space opened without the edit right
raises :class:`ReadOnlyError` on every write.

Examples
--------
>>> import tempfile, pandas as pd
>>> from territorial.storage import Database
>>> db = Database(f"sqlite:///{tempfile.mkdtemp()}/t.sqlite3")
>>> space = db.space("session-1", kind="prive", editable=True)
>>> space.save_table("Mes données", "departement", pd.DataFrame({"x": [1.0]}, index=["01"]), {})
'mes_donnees'
>>> [t["nom"] for t in space.tables()], space.table_version("mes_donnees")
(['Mes données'], 1)
>>> space.save_table("Mes données", "departement", pd.DataFrame({"x": [2.0]}), {})
Traceback (most recent call last):
...
territorial.storage.spaces.ConflictError: Un tableau « Mes données » a été enregistré entre-temps (par une autre session ou un autre onglet) : rien n'a été écrit. Rechargez la page pour voir sa version actuelle.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from territorial.storage.base import StorageError, now
from territorial.storage.schema import perimeter_sets, spaces, views
from territorial.storage.schema import tables as saved_tables
from territorial.storage.workspace import slugify

__all__ = ["ConflictError", "ReadOnlyError", "Space"]


class ConflictError(StorageError):
    """Another session saved (or deleted) the same name first: nothing was written."""


class ReadOnlyError(StorageError):
    """A write in a space opened without its edit link."""


MAX_SLUG = 120  # longest stored name, once folded to simple characters


def _slug(name: str) -> str:
    slug = slugify(name)
    if len(slug) > MAX_SLUG:
        raise StorageError(
            "Ce nom est trop long une fois écrit en caractères simples : raccourcissez-le."
        )
    return slug


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


class Space:
    """Tables, perimeter sets and views of one atelier or private space."""

    def __init__(self, db, code: str, *, kind: str = "atelier", editable: bool = False):
        self.db = db
        self.code = code
        self.kind = kind
        self.editable = editable

    # ------------------------------------------------------------------ plumbing
    def _space_row(self, conn: Connection):
        return conn.execute(
            select(spaces).where(spaces.c.code == self.code, spaces.c.kind == self.kind)
        ).first()

    def _space_id(self, conn: Connection) -> int | None:
        row = self._space_row(conn)
        return None if row is None else row.id

    def _writable_id(self, conn: Connection) -> int:
        """The space's id for a write (a private space is created at its first save).

        Bumping the revision first takes the space's write lock: saves in one space queue.
        """
        if not self.editable:
            raise ReadOnlyError(
                "Cet atelier est ouvert en lecture seule : seul le lien d'édition de "
                "l'animateur permet d'ajouter, de modifier ou de supprimer."
            )
        if self.kind == "prive" and self._space_id(conn) is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(spaces).values(
                            kind="prive", code=self.code, name="", revision=0, created_at=now()
                        )
                    )
            except IntegrityError:
                pass  # created by a concurrent save of the same session
        done = conn.execute(
            update(spaces)
            .where(spaces.c.code == self.code, spaces.c.kind == self.kind)
            .values(revision=spaces.c.revision + 1, updated_at=now())
        ).rowcount
        if not done:
            raise StorageError("Cet atelier n'existe plus.")
        return self._space_id(conn)

    def version(self) -> str:
        """Changes whenever anything is saved or deleted in the space (for caches)."""
        with self.db.read() as conn:
            row = self._space_row(conn)
        return "vide" if row is None else f"{self.kind}:{self.code}:{row.revision}"

    @staticmethod
    def _put(conn, table, space_id: int, slug: str, label: str, expected, fields: dict) -> None:
        """Insert or replace the record ``slug``, only if its version is still ``expected``."""
        found = conn.execute(
            select(table.c.version).where(table.c.space_id == space_id, table.c.slug == slug)
        ).scalar()
        if found != expected:
            raise ConflictError(
                f"Un {label} a été enregistré entre-temps (par une autre session ou un autre "
                "onglet) : rien n'a été écrit. Rechargez la page pour voir sa version actuelle."
                if found is not None
                else f"Le {label} a été supprimé ou renommé entre-temps : rien n'a été écrit. "
                "Rechargez la page."
            )
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(table).values(space_id=space_id, slug=slug, version=1, **fields)
                    )
            except IntegrityError as err:  # inserted by a concurrent save
                raise ConflictError(
                    f"Un {label} a été enregistré entre-temps par une autre session : rien "
                    "n'a été écrit. Rechargez la page."
                ) from err
            return
        conn.execute(
            update(table)
            .where(table.c.space_id == space_id, table.c.slug == slug)
            .values(version=found + 1, **fields)
        )

    # ------------------------------------------------------------------ tables
    def tables(self, kind: str | None = None) -> list[dict]:
        """Metadata of every saved table (optionally only one ``kind``), by slug."""
        query = select(*self._TABLE_META).join(spaces, spaces.c.id == saved_tables.c.space_id)
        query = query.where(spaces.c.code == self.code, spaces.c.kind == self.kind)
        if kind is not None:
            query = query.where(saved_tables.c.kind == kind)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(saved_tables.c.slug)).all()
        return [self._meta(row) for row in rows]

    @staticmethod
    def _meta(row) -> dict:
        return {
            **row.meta,
            "nom": row.name,
            "niveau": row.level,
            "type": row.kind,
            "enregistre_le": row.meta.get("enregistre_le") or _iso(row.saved_at),
            "slug": row.slug,
            "version": row.version,
        }

    def _table_row(self, slug: str, *columns):
        with self.db.read() as conn:
            space_id = self._space_id(conn)
            row = conn.execute(
                select(*columns).where(
                    saved_tables.c.space_id == space_id, saved_tables.c.slug == slug
                )
            ).first()
        if row is None:
            raise StorageError(f"Le tableau « {slug} » n'existe pas (ou plus).")
        return row

    def table_version(self, slug: str) -> int | None:
        """Version of a saved table (``None`` when there is none): pass it as ``expected``."""
        with self.db.read() as conn:
            space_id = self._space_id(conn)
            return conn.execute(
                select(saved_tables.c.version).where(
                    saved_tables.c.space_id == space_id, saved_tables.c.slug == slug
                )
            ).scalar()

    def save_table(
        self,
        name: str,
        level: str,
        values: pd.DataFrame,
        meta: dict,
        kind: str = "indicateurs",
        *,
        expected: int | None = None,
    ) -> str:
        """Save a table whole (values and metadata in one row); returns its slug.

        ``expected`` is the version being replaced (:meth:`table_version`), ``None`` for a
        new name; any other current version raises :class:`ConflictError`.
        """
        slug = _slug(name)
        payload = {k: v for k, v in meta.items() if k not in {"slug", "version"}}
        payload.update(nom=name, niveau=level, type=kind)
        payload["enregistre_le"] = payload.get("enregistre_le") or _iso(now())
        fields = {
            "name": name,
            "kind": kind,
            "level": level,
            "meta": _jsonable(payload),
            "data": values.to_parquet(index=True),
            "saved_at": now(),
        }
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            self._put(conn, saved_tables, space_id, slug, f"tableau « {name} »", expected, fields)
        return slug

    _TABLE_META = (
        saved_tables.c.slug, saved_tables.c.name, saved_tables.c.kind, saved_tables.c.level, saved_tables.c.meta,
        saved_tables.c.version, saved_tables.c.saved_at,
    )  # fmt: skip

    def load_table(self, slug: str) -> tuple[dict, pd.DataFrame]:
        """Metadata and values of a table, read together (always from the same save)."""
        row = self._table_row(slug, *self._TABLE_META, saved_tables.c.data)
        return self._meta(row), pd.read_parquet(io.BytesIO(row.data))

    def load_values(self, slug: str) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self._table_row(slug, saved_tables.c.data).data))

    def load_meta(self, slug: str) -> dict:
        return self._meta(self._table_row(slug, *self._TABLE_META))

    def rename(self, slug: str, new_name: str) -> str:
        """Rename a table in one transaction; returns the new slug."""
        new_slug = _slug(new_name)
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            row = conn.execute(
                select(saved_tables.c.meta, saved_tables.c.version).where(
                    saved_tables.c.space_id == space_id, saved_tables.c.slug == slug
                )
            ).first()
            if row is None:
                raise ConflictError("Ce tableau a été supprimé entre-temps : rechargez la page.")
            try:
                with conn.begin_nested():
                    conn.execute(
                        update(saved_tables)
                        .where(saved_tables.c.space_id == space_id, saved_tables.c.slug == slug)
                        .values(
                            slug=new_slug,
                            name=new_name,
                            meta={**row.meta, "nom": new_name},
                            version=row.version + 1,
                        )
                    )
            except IntegrityError as err:
                raise ConflictError(f"Un tableau « {new_name} » existe déjà.") from err
        return new_slug

    def delete(self, slug: str) -> None:
        """Delete a table (no error when it is already gone)."""
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            conn.execute(
                delete(saved_tables).where(
                    saved_tables.c.space_id == space_id, saved_tables.c.slug == slug
                )
            )

    # ------------------------------------------------------------------ perimeter sets
    def save_perimeters(
        self,
        name: str,
        source_bytes: bytes,
        filename: str,
        kind: str,
        *,
        content_hash: str | None = None,
        report: dict | None = None,
        activate: bool = True,
        expected: int | None = None,
    ) -> str:
        """Keep a perimeter file as given (to rebuild the set later); returns its slug.

        ``kind`` is ``"officiel"`` (ANCT CRTE file) or ``"utilisateur"`` (two-column set);
        ``content_hash`` is :meth:`PerimeterSet.content_hash` of the set built from it.
        With ``activate``, the set becomes the space's active set in the same transaction.
        """
        slug = _slug(name)
        fields = {
            "name": name,
            "filename": filename,
            "kind": kind,
            "content_hash": content_hash,
            "sha256": hashlib.sha256(source_bytes).hexdigest(),
            "report": _jsonable(report or {}),
            "source": source_bytes,
            "saved_at": now(),
        }
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            label = f"jeu de périmètres « {name} »"
            self._put(conn, perimeter_sets, space_id, slug, label, expected, fields)
            if activate:
                self._set_active(conn, space_id, slug)
        return slug

    def _perimeter_query(self, *columns):
        return (
            select(*columns)
            .join(spaces, spaces.c.id == perimeter_sets.c.space_id)
            .where(spaces.c.code == self.code, spaces.c.kind == self.kind)
        )

    _PERIMETER_META = (
        perimeter_sets.c.slug, perimeter_sets.c.name, perimeter_sets.c.filename,
        perimeter_sets.c.kind, perimeter_sets.c.content_hash, perimeter_sets.c.sha256,
        perimeter_sets.c.saved_at, perimeter_sets.c.version,
    )  # fmt: skip

    @staticmethod
    def _perimeter_meta(row) -> dict:
        return {
            "nom": row.name,
            "slug": row.slug,
            "fichier": row.filename,
            "type": row.kind,
            "hash": row.content_hash,
            "sha256": row.sha256,
            "enregistre_le": _iso(row.saved_at),
            "version": row.version,
        }

    def perimeter_sets(self) -> list[dict]:
        """Metadata of every saved perimeter set."""
        query = self._perimeter_query(*self._PERIMETER_META).order_by(perimeter_sets.c.slug)
        with self.db.read() as conn:
            return [self._perimeter_meta(row) for row in conn.execute(query).all()]

    def perimeter_source(self, slug: str) -> tuple[bytes, dict]:
        """The saved file of a perimeter set and its metadata (with its report)."""
        query = self._perimeter_query(
            *self._PERIMETER_META, perimeter_sets.c.source, perimeter_sets.c.report
        ).where(perimeter_sets.c.slug == slug)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise StorageError(f"Le jeu de périmètres « {slug} » n'existe pas (ou plus).")
        return row.source, {**self._perimeter_meta(row), "rapport": row.report}

    def _set_active(self, conn: Connection, space_id: int, slug: str | None) -> None:
        conn.execute(update(spaces).where(spaces.c.id == space_id).values(active_perimeters=slug))

    def set_active_perimeters(self, slug: str | None) -> None:
        """Make a saved set the space's active set; ``None``: back to the default set."""
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            if slug is not None:
                exists = conn.execute(
                    select(perimeter_sets.c.id).where(
                        perimeter_sets.c.space_id == space_id, perimeter_sets.c.slug == slug
                    )
                ).first()
                if exists is None:
                    raise ConflictError("Ce jeu de périmètres a été supprimé entre-temps.")
            self._set_active(conn, space_id, slug)

    def active_perimeters(self) -> dict | None:
        """The metadata of the space's active perimeter set (``nom``, ``fichier``, ``type``,
        ``hash``, ``sha256``...), or ``None`` for the default set (the shipped one).
        """
        with self.db.read() as conn:
            row = self._space_row(conn)
            slug = None if row is None else row.active_perimeters
            if slug is None:
                return None
            found = conn.execute(
                select(*self._PERIMETER_META).where(
                    perimeter_sets.c.space_id == row.id, perimeter_sets.c.slug == slug
                )
            ).first()
        return None if found is None else self._perimeter_meta(found)

    def delete_perimeters(self, slug: str) -> None:
        """Forget a saved set (the space falls back to the default set when it was active)."""
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            conn.execute(
                delete(perimeter_sets).where(
                    perimeter_sets.c.space_id == space_id, perimeter_sets.c.slug == slug
                )
            )
            conn.execute(
                update(spaces)
                .where(spaces.c.id == space_id, spaces.c.active_perimeters == slug)
                .values(active_perimeters=None)
            )

    # ------------------------------------------------------------------ parcours (views)
    def views(self) -> list[dict]:
        """The parcours: saved views in order (``numero`` counts from 1)."""
        query = (
            select(views)
            .join(spaces, spaces.c.id == views.c.space_id)
            .where(spaces.c.code == self.code, spaces.c.kind == self.kind)
            .order_by(views.c.position, views.c.id)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "id": row.id,
                "numero": number,
                "titre": row.title,
                "note": row.note,
                "page": row.page,
                "parametres": row.query,
            }
            for number, row in enumerate(rows, start=1)
        ]

    def add_view(self, title: str, note: str, page: str, query: dict[str, str]) -> int:
        """Append a view (a page and its URL settings) to the parcours; returns its id."""
        title = " ".join(title.split())
        if not title:
            raise StorageError("Donnez un titre à la vue.")
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            last = conn.execute(
                select(func.max(views.c.position)).where(views.c.space_id == space_id)
            ).scalar()
            return conn.execute(
                insert(views).values(
                    space_id=space_id,
                    position=(last or 0) + 1,
                    title=title[:200],
                    note=note.strip()[:2000],
                    page=page,
                    query={str(k): str(v) for k, v in query.items()},
                    saved_at=now(),
                )
            ).inserted_primary_key[0]

    def move_view(self, view_id: int, step: int) -> None:
        """Move a view ``step`` places (−1: earlier, +1: later) in the parcours."""
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            ordered = conn.execute(
                select(views.c.id)
                .where(views.c.space_id == space_id)
                .order_by(views.c.position, views.c.id)
            ).scalars().all()  # fmt: skip
            if view_id not in ordered:
                raise ConflictError("Cette vue a été supprimée entre-temps.")
            at = ordered.index(view_id)
            ordered.insert(max(0, min(len(ordered) - 1, at + step)), ordered.pop(at))
            for position, moved in enumerate(ordered, start=1):
                conn.execute(update(views).where(views.c.id == moved).values(position=position))

    def delete_view(self, view_id: int) -> None:
        with self.db.write() as conn:
            space_id = self._writable_id(conn)
            conn.execute(delete(views).where(views.c.space_id == space_id, views.c.id == view_id))


def _jsonable(value):
    """Metadata as plain JSON types (dates, numpy numbers and tuples made plain)."""
    import json

    return json.loads(json.dumps(value, ensure_ascii=False, default=_plain))


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)
