"""A local workspace on disk for the user's loaded tables (atomic writes, survives restarts).

Each table is a folder ``<slug>/`` holding ``values.parquet`` (joined values by unit code),
``meta.json`` (name, level, rules, units, polarities, report) and, for catalyst lists,
``catalysts.parquet``.

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

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from territorial.search import fold

__all__ = ["WORKSPACE_DIR", "Workspace", "slugify"]

WORKSPACE_DIR = Path(
    os.environ.get(
        "TERRITORIAL_WORKSPACE", Path(__file__).resolve().parent.parent / "data" / "workspace"
    )
)


def slugify(name: str) -> str:
    """File-safe identifier of a table name."""
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_") or "tableau"


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(payload)
    os.replace(tmp, path)


class Workspace:
    """The folder of saved tables."""

    def __init__(self, directory: Path | str = WORKSPACE_DIR):
        self.directory = Path(directory)

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
        payload = {**meta, "nom": name, "niveau": level, "type": kind}
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
