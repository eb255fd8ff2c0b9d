"""Everything users save, in one database (SQLite by default, PostgreSQL by URL).

:class:`Database` opens (and creates or migrates) the database; :meth:`Database.space`
gives the :class:`Space` of an atelier or of a private session space;
:func:`import_workspace` imports an old ``data/workspace`` folder once.
"""

from territorial.storage.base import StorageError
from territorial.storage.database import DATABASE_ENV, Database, database_url
from territorial.storage.legacy import import_workspace
from territorial.storage.spaces import ConflictError, ReadOnlyError, Space

__all__ = [
    "DATABASE_ENV",
    "ConflictError",
    "Database",
    "ReadOnlyError",
    "Space",
    "StorageError",
    "database_url",
    "import_workspace",
]
