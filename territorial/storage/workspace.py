"""A local workspace on disk for the user's loaded tables (atomic writes, survives restarts).

Each table is a folder ``<slug>/`` holding ``values.parquet`` (joined values by unit code),
``meta.json`` (name, level, rules, units, polarities, report, save date) and, for catalyst
lists, ``catalysts.parquet``.

Perimeter sets loaded by the user are kept in ``_perimetres/<slug>/`` (the source file as
given, ``source.bin``, and ``meta.json``); ``_perimetres/actif.json`` names the active set
so that it can be re-applied after a restart (see :meth:`Workspace.active_perimeters`).

The folder is ``$TERRITORIAL_WORKSPACE`` when set (read each time a :class:`Workspace` is
created), else ``data/workspace`` in the repository.

Examples
--------
>>> import tempfile, pandas as pd
>>> ws = Workspace(tempfile.mkdtemp())
>>> ws.save_table("Mes données", "departement", pd.DataFrame({"x": [1.0]}, index=["01"]), {})
'mes_donnees'
>>> [t["nom"] for t in ws.tables()]
['Mes données']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from territorial.geo.search import fold
from territorial.paths import DATA_DIR

__all__ = ["WORKSPACE_DIR", "Workspace", "slugify", "workspace_dir"]

WORKSPACE_ENV = "TERRITORIAL_WORKSPACE"
DEFAULT_WORKSPACE_DIR = DATA_DIR / "workspace"
PERIMETER_DIR = "_perimetres"
FALLBACK_PERIMETERS = "par_epci"


def workspace_dir() -> Path:
    """``$TERRITORIAL_WORKSPACE`` when set (read at call time), else ``data/workspace``."""
    return Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE_DIR)


WORKSPACE_DIR = workspace_dir()  # value at import time, kept for compatibility


def slugify(name: str) -> str:
    """File-safe identifier of a table name."""
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_") or "tableau"


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(payload)
    os.replace(tmp, path)


class Workspace:
    """The folder of saved tables."""

    def __init__(self, directory: Path | str | None = None):
        self.directory = Path(directory) if directory is not None else workspace_dir()

    def _folder(self, slug: str) -> Path:
        return self.directory / slug

    def version(self) -> str:
        """Changes whenever a table is saved, renamed or deleted (for caches)."""
        if not self.directory.exists():
            return "vide"
        stamps = sorted(
            f"{p.parent.name}:{p.stat().st_mtime_ns}" for p in self.directory.glob("*/meta.json")
        )
        return "|".join(stamps) or "vide"

    def tables(self, kind: str | None = None) -> list[dict]:
        """Metadata of every saved table (optionally only one ``kind``)."""
        if not self.directory.exists():
            return []
        out = []
        for meta_path in sorted(self.directory.glob("*/meta.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if kind is None or meta.get("type", "indicateurs") == kind:
                out.append({**meta, "slug": meta_path.parent.name})
        return out

    def save_table(
        self, name: str, level: str, values: pd.DataFrame, meta: dict, kind: str = "indicateurs"
    ) -> str:
        """Save a table (replacing one of the same name); returns its slug."""
        slug = slugify(name)
        folder = self._folder(slug)
        buffer = values.to_parquet(index=True)
        _atomic_write(folder / "values.parquet", buffer)
        payload = {
            **meta,
            "nom": name,
            "niveau": level,
            "type": kind,
            "enregistre_le": meta.get("enregistre_le") or _now(),
        }
        _atomic_write(
            folder / "meta.json", json.dumps(payload, ensure_ascii=False, default=str).encode()
        )
        return slug

    def load_values(self, slug: str) -> pd.DataFrame:
        return pd.read_parquet(self._folder(slug) / "values.parquet")

    def load_meta(self, slug: str) -> dict:
        return json.loads((self._folder(slug) / "meta.json").read_text(encoding="utf-8"))

    def rename(self, slug: str, new_name: str) -> str:
        """Rename a table; returns the new slug."""
        meta = self.load_meta(slug)
        values = self.load_values(slug)
        new_slug = self.save_table(
            new_name, meta["niveau"], values, meta, meta.get("type", "indicateurs")
        )
        if new_slug != slug:
            self.delete(slug)
        return new_slug

    def delete(self, slug: str) -> None:
        folder = self._folder(slug)
        if folder.exists():
            trash = folder.with_name(f".supprime-{slug}")
            os.replace(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ perimeter sets
    def _perimeter_root(self) -> Path:
        return self.directory / PERIMETER_DIR

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
    ) -> str:
        """Keep a perimeter file as given (to rebuild the set after a restart); returns its slug.

        ``kind`` is ``"officiel"`` (ANCT CRTE file) or ``"utilisateur"`` (two-column set);
        ``content_hash`` is :meth:`PerimeterSet.content_hash` of the set built from it.
        """
        slug = slugify(name)
        folder = self._perimeter_root() / slug
        _atomic_write(folder / "source.bin", source_bytes)
        meta = {
            "nom": name,
            "slug": slug,
            "fichier": filename,
            "type": kind,
            "hash": content_hash,
            "sha256": hashlib.sha256(source_bytes).hexdigest(),
            "enregistre_le": _now(),
            "rapport": report or {},
        }
        _atomic_write(
            folder / "meta.json", json.dumps(meta, ensure_ascii=False, default=str).encode()
        )
        if activate:
            self.set_active_perimeters(slug)
        return slug

    def perimeter_sets(self) -> list[dict]:
        """Metadata of every saved perimeter set."""
        root = self._perimeter_root()
        if not root.exists():
            return []
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(root.glob("*/meta.json"))
        ]

    def perimeter_source(self, slug: str) -> tuple[bytes, dict]:
        """The saved file of a perimeter set and its metadata."""
        folder = self._perimeter_root() / slug
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return (folder / "source.bin").read_bytes(), meta

    def set_active_perimeters(self, slug: str | None, content_hash: str | None = None) -> None:
        """Make a saved set active; ``None`` records the fallback (one perimeter per EPCI)."""
        if slug is None:
            record = {"slug": FALLBACK_PERIMETERS, "type": FALLBACK_PERIMETERS}
            if content_hash:
                record["hash"] = content_hash
        else:
            record = {**self.perimeter_source(slug)[1], "slug": slug}
            record.pop("rapport", None)
            if content_hash:
                record["hash"] = content_hash
        record["active_le"] = _now()
        _atomic_write(
            self._perimeter_root() / "actif.json",
            json.dumps(record, ensure_ascii=False, default=str).encode(),
        )

    def active_perimeters(self) -> dict | None:
        """The active perimeter set recorded in the workspace, or ``None`` if none was chosen.

        ``{"slug": "par_epci", "type": "par_epci"}`` means the user went back to the
        fallback; otherwise the dict is the set's metadata (``nom``, ``fichier``, ``type``,
        ``hash``, ``sha256``...). A record whose file has disappeared gives ``None``.
        """
        path = self._perimeter_root() / "actif.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        slug = record.get("slug")
        if slug != FALLBACK_PERIMETERS and not (self._perimeter_root() / str(slug)).is_dir():
            return None
        return record

    def delete_perimeters(self, slug: str) -> None:
        """Forget a saved set (the active record falls back when it named this set)."""
        active = self.active_perimeters()
        folder = self._perimeter_root() / slug
        if folder.exists():
            trash = folder.with_name(f".supprime-{slug}")
            os.replace(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)
        if active and active.get("slug") == slug:
            self.set_active_perimeters(None)
