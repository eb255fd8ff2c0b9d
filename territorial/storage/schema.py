"""Tables of the database that holds everything users save (SQLAlchemy Core).

One ``spaces`` row per atelier or private session space; each saved table, perimeter set
and view belongs to one space. Every record carries its whole payload in one row (values
as Parquet bytes, metadata as JSON), so one transaction writes it whole or not at all.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "metadata",
    "perimeter_sets",
    "settings",
    "spaces",
    "tables",
    "views",
]

SCHEMA_VERSION = 2
# SQL that brings a database of the previous version up to each version (both dialects).
MIGRATIONS = {
    2: ("ALTER TABLE spaces ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE",),
}
metadata = MetaData()

spaces = Table(
    "spaces",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # "atelier" or "prive"
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("edit_token_hash", String(64)),
    Column("active_perimeters", String(200)),  # slug, "par_epci" or NULL (default set)
    Column("revision", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

tables = Table(
    "tables",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("level", String(32), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("space_id", "slug", name="uq_tables_space_slug"),
)

perimeter_sets = Table(
    "perimeter_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("filename", String(300), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("content_hash", String(64)),
    Column("sha256", String(64), nullable=False),
    Column("report", JSON, nullable=False),
    Column("source", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("space_id", "slug", name="uq_perimeters_space_slug"),
)

views = Table(
    "views",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space_id", ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("page", String(64), nullable=False),
    Column("query", JSON, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("value", Text, nullable=False),
)
