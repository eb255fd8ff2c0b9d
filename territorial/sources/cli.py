"""``python -m territorial fetch``: the command line over :func:`territorial.sources.fetch.fetch`."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from tqdm import tqdm

from territorial.sources.fetch import FetchResult, fetch
from territorial.sources.manifest import ROW_LABELS, FetchError, load_manifest
from territorial.sources.status import status
from territorial.text.formatting import format_bytes, format_number
from territorial.text.jsonout import json_text

__all__ = ["cli_fetch"]


class _ProgressBar:
    """One :mod:`tqdm` bar per downloaded resource, drawn on ``stream`` when it is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: tqdm | None = None

    def start(self, source_id: str, resource: str, location: str) -> None:
        self.finish()
        self.stream.write(f"Téléchargement {source_id}/{resource} depuis {location}\n")
        self.stream.flush()
        self.bar = tqdm(
            file=self.stream,
            disable=not getattr(self.stream, "isatty", lambda: False)(),
            unit="o",
            unit_scale=True,
            unit_divisor=1024,
            ascii=".#",
            mininterval=0.1,
            bar_format="  [{bar:30}] {percentage:3.0f} % {n_fmt}o / {total_fmt}o",
        )

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            return
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _summary_ok(spec: Mapping[str, Any], result: FetchResult) -> list[str]:
    counts = ", ".join(
        f"{format_number(n)} {ROW_LABELS.get(level, level)}"
        for level, n in result.parsed.rows.items()
    )
    sha = (result.status.get("sha256") or "")[:12]
    lines = [
        f"✓ {spec['label']} : {counts} — {format_bytes(result.status.get('size') or 0)}, "
        f"sha256 {sha}…"
    ]
    lines.extend(f"  ⚠ {warning}" for warning in result.warnings)
    return lines


def _summary_fail(error: FetchError, record: Mapping[str, Any] | None) -> list[str]:
    lines = [f"✗ {error.message}"]
    if record and record.get("fetched_at"):
        lines.append(
            f"  Données en cache conservées (version téléchargée le {record['fetched_at']})."
        )
    elif error.source_id:
        lines.append("  Aucune donnée en cache pour cette source.")
    return lines


def cli_fetch(
    source: str,
    origin: str | None,
    as_json: bool,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    timeout: float = 60,
) -> int:
    """Implement ``python -m territorial fetch SOURCE [--from URL_OR_FILE] [--json]``.

    Parameters
    ----------
    source : str
        A source id of the manifest, or ``all``.
    origin : str or None
        Mirror base URL, local file or folder (see :func:`fetch`).
    as_json : bool
        Print one JSON document ``{"ok": ..., "sources": {id: {...}}}``
        instead of the French summary.
    stdout, stderr : text stream, optional
        Output streams (default: ``sys.stdout`` and ``sys.stderr``).
    timeout : float, default 60
        Socket timeout in seconds.

    Returns
    -------
    int
        0 when every requested source was updated, 1 otherwise.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        manifest = load_manifest()
    except FetchError as exc:
        err.write(exc.message + "\n")
        return 1
    if source == "all":
        ids = list(manifest)
    elif source in manifest:
        ids = [source]
    else:
        err.write(
            f"Source inconnue : « {source} ». Sources disponibles : {', '.join(manifest)}, all.\n"
        )
        return 1
    all_ok = True
    report: dict[str, Any] = {}
    lines: list[str] = []
    for source_id in ids:
        spec = manifest[source_id]
        bar = _ProgressBar(err)
        try:
            result = fetch(
                source_id,
                origin=origin,
                progress=bar,
                timeout=timeout,
                on_resource=lambda name, where, sid=source_id, b=bar: b.start(sid, name, where),
            )
        except FetchError as exc:
            bar.finish()
            all_ok = False
            record = status(source_id)
            lines.extend(_summary_fail(exc, record))
            report[source_id] = {
                "ok": False,
                "message": exc.message,
                "error_kind": exc.kind,
                "status": record,
            }
            continue
        bar.finish()
        lines.extend(_summary_ok(spec, result))
        report[source_id] = {
            "ok": True,
            "message": f"{spec['label']} : données mises à jour.",
            "error_kind": None,
            "status": result.status,
        }
    if as_json:
        out.write(json_text({"ok": all_ok, "sources": report}))
        out.write("\n")
    else:
        failed = sum(1 for item in report.values() if not item["ok"])
        lines.append(f"Bilan : {len(report) - failed} source(s) à jour, {failed} en échec.")
        out.write("\n".join(lines) + "\n")
    out.flush()
    return 0 if all_ok else 1
