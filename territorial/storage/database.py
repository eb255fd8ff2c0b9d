"""The database of saved work: SQLite by default, PostgreSQL when a URL is configured.

``$TERRITORIAL_DATABASE_URL`` (read when :func:`database_url` is called) is any SQLAlchemy
URL, e.g. ``postgresql+psycopg://user:secret@db:5432/territorial``; without it the
database is the file ``data/territorial.sqlite3`` (created at first use). The schema is
created, or migrated, when a :class:`Database` is opened.

Writes go through :meth:`Database.write`: one transaction, taken on SQLite with
``BEGIN IMMEDIATE`` so that two writers queue instead of failing half-way.

Examples
--------
>>> import tempfile
>>> db = Database(f"sqlite:///{tempfile.mkdtemp()}/t.sqlite3")
>>> code, token = db.create_atelier("Atelier Loire")
>>> db.atelier(code)["name"], db.can_edit(code, token), db.can_edit(code, "faux")
('Atelier Loire', True, False)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from territorial.storage.base import StorageError, now
from territorial.storage.schema import MIGRATIONS, SCHEMA_VERSION, metadata, settings, spaces

__all__ = ["DATABASE_ENV", "DEFAULT_DATABASE", "Database", "database_url"]


DATABASE_ENV = "TERRITORIAL_DATABASE_URL"

EDITORS_ENV = "TERRITORIAL_EDITORS"  # with Streamlit's OIDC login: who may edit every atelier

DEFAULT_DATABASE = Path(__file__).resolve().parents[2] / "data" / "territorial.sqlite3"

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed on phones

CODE_LENGTH = 6

SQLITE_BUSY_MS = 30_000

PRIVATE_DAYS = 7  # a private space unused this long is deleted (its session is over)


def database_url() -> str:
    """``$TERRITORIAL_DATABASE_URL`` when set, else the SQLite file under ``data/``."""
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{DEFAULT_DATABASE}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions are begun below, explicitly
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get("write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One database of ateliers and private spaces (see :mod:`territorial.storage`)."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.engine = _engine(self.url)
        self.writes = 0  # write transactions of this process so far (see :meth:`write`)
        self._migrate()

    # ------------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def write(self):
        """One write transaction: committed whole at the end, rolled back on any error.

        Each one, done or not, changes :attr:`writes` (what a cache of this process
        compares to know that it may be stale).
        """
        try:
            with self.engine.connect().execution_options(write=True) as conn, conn.begin():
                yield conn
        finally:
            self.writes += 1

    @contextlib.contextmanager
    def read(self):
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _migrate(self) -> None:
        """Create missing tables, bring an older schema up to date (one transaction).

        A database of a newer schema than this code is refused.
        """
        metadata.create_all(self.engine)
        with self.write() as conn:
            found = conn.execute(
                select(settings.c.value).where(settings.c.key == "schema_version")
            ).scalar()
            if found is None:
                conn.execute(
                    insert(settings).values(key="schema_version", value=str(SCHEMA_VERSION))
                )
            elif int(found) < SCHEMA_VERSION:
                for version in range(int(found) + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[version]:
                        conn.exec_driver_sql(statement)
                conn.execute(
                    update(settings)
                    .where(settings.c.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )
            elif int(found) > SCHEMA_VERSION:
                raise StorageError(
                    f"La base de données a le schéma {found}, plus récent que celui de cette "
                    f"version de l'application ({SCHEMA_VERSION}) : mettez l'application à jour."
                )

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        with self.read() as conn:
            return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()

    # ------------------------------------------------------------------ ateliers
    def create_atelier(self, name: str) -> tuple[str, str]:
        """A new atelier: returns its short code and its secret edit token (shown once)."""
        with self.write() as conn:
            return create_atelier(conn, name)

    def atelier(self, code: str) -> dict | None:
        """The atelier of a code (case and spaces ignored), or None."""
        code = normalise_code(code)
        with self.read() as conn:
            row = conn.execute(
                select(spaces).where(spaces.c.code == code, spaces.c.kind == "atelier")
            ).first()
        return None if row is None else dict(row._mapping)

    def ateliers(self) -> list[dict]:
        with self.read() as conn:
            rows = conn.execute(
                select(spaces.c.code, spaces.c.name, spaces.c.created_at)
                .where(spaces.c.kind == "atelier")
                .order_by(spaces.c.created_at)
            ).all()
        return [dict(r._mapping) for r in rows]

    def can_edit(self, code: str, token: str | None) -> bool:
        """True when ``token`` is the edit token of the atelier ``code``."""
        record = self.atelier(code)
        if record is None or not token or not record["edit_token_hash"]:
            return False
        return hmac.compare_digest(record["edit_token_hash"], token_hash(token))

    def new_edit_token(self, code: str) -> str:
        """Replace an atelier's edit token (the old edit link stops working)."""
        token = secrets.token_urlsafe(18)
        with self.write() as conn:
            done = conn.execute(
                update(spaces)
                .where(spaces.c.code == normalise_code(code), spaces.c.kind == "atelier")
                .values(edit_token_hash=token_hash(token))
            ).rowcount
        if not done:
            raise StorageError(f"Aucun atelier n'a le code « {code} ».")
        return token

    def purge_private(self, days: float = PRIVATE_DAYS) -> int:
        """Delete the private spaces not written for ``days`` days; returns how many.

        A private space is reachable only from its session, which is long gone by then.
        """
        limit = now() - dt.timedelta(days=days)
        with self.write() as conn:
            return conn.execute(
                delete(spaces).where(
                    spaces.c.kind == "prive",
                    func.coalesce(spaces.c.updated_at, spaces.c.created_at) < limit,
                )
            ).rowcount

    def space(self, code: str, *, kind: str = "atelier", editable: bool = False):
        """The saved work of an atelier (``kind="atelier"``) or of a private space."""
        from territorial.storage.spaces import Space

        return Space(self, code, kind=kind, editable=editable)


def login_editors(setting: str | None = None) -> frozenset[str]:
    """E-mail addresses (lower case) of ``$TERRITORIAL_EDITORS``: who may edit when logged in.

    >>> sorted(login_editors("Anne@Exemple.fr, paul@exemple.fr,"))
    ['anne@exemple.fr', 'paul@exemple.fr']
    """
    raw = os.environ.get(EDITORS_ENV, "") if setting is None else setting
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def may_edit_by_login(email: str | None, logged_in: bool, editors: frozenset[str]) -> bool:
    """True for a user logged in (OIDC) with a verified address listed in ``editors``.

    >>> may_edit_by_login("anne@exemple.fr", True, frozenset({"anne@exemple.fr"}))
    True
    >>> may_edit_by_login("anne@exemple.fr", False, frozenset({"anne@exemple.fr"}))
    False
    """
    return bool(logged_in and email and email.strip().lower() in editors)


def normalise_code(code: str) -> str:
    return "".join(str(code).split()).upper()


def create_atelier(conn: Connection, name: str) -> tuple[str, str]:
    """Insert an atelier in an open write transaction; returns ``(code, edit token)``."""
    name = " ".join(name.split())[:200]
    if not name:
        raise StorageError("Donnez un nom à l'atelier.")
    token = secrets.token_urlsafe(18)
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(spaces).values(
                        kind="atelier",
                        code=code,
                        name=name,
                        edit_token_hash=token_hash(token),
                        revision=0,
                        created_at=now(),
                    )
                )
        except IntegrityError:
            continue  # code already taken: draw another
        return code, token
    raise StorageError("Aucun code d'atelier libre n'a été trouvé : réessayez.")
