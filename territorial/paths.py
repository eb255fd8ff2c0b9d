"""Where the repository's folders are: the one place that knows the layout on disk.

Examples
--------
>>> (REPO_ROOT / "app.py").is_file(), DATA_DIR.name
(True, 'data')
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "REPO_ROOT", "STATIC_DIR"]

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
STATIC_DIR = REPO_ROOT / "static"
