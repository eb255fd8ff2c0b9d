"""Inputs at the upload limits: time and peak memory of each importer, one process per case.

``python bench/limits.py [--json] [--quick]`` builds every input in memory (no input is
written to disk; the results go to ``bench/results/limits.json``), runs it through the importer the app uses — indicator table (read then
join), perimeter file, catalyst list — in a fresh Python process, and reports the wall time,
the peak resident memory of that process and the outcome (rows joined, or the French
message). The limits themselves are those of :mod:`territorial.indicators.tables`.

The security issue's target: every input up to the limit answers within 10 s with a result
or a clear French message, in bounded memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0


def _commune_codes() -> list[str]:
    from territorial import load_geography

    return list(load_geography().communes["code"])


def csv_rows(n_rows: int, n_values: int, codes: list[str]) -> bytes:
    """``n_rows`` rows keyed by commune code, ``n_values`` numeric columns with decimals."""
    header = "code_commune;" + ";".join(f"v{i}" for i in range(n_values))
    lines = [header]
    for i in range(n_rows):
        values = ";".join(f"{(i * 7 + j) % 1000},{j}" for j in range(n_values))
        lines.append(f"{codes[i % len(codes)]};{values}")
    return ("\n".join(lines) + "\n").encode()


def csv_wide(n_rows: int, n_columns: int, codes: list[str]) -> bytes:
    header = "code_commune;" + ";".join(f"c{i}" for i in range(n_columns - 1))
    row_tail = ";" + ";".join(str(j % 10) for j in range(n_columns - 1))
    body = "\n".join(codes[i % len(codes)] + row_tail for i in range(n_rows))
    return (header + "\n" + body + "\n").encode()


def xlsx_cells(n_rows: int, n_values: int, codes: list[str]) -> bytes:
    """A workbook written as raw sheet XML (inline strings for the codes)."""
    rows = [
        '<row r="1"><c t="inlineStr"><is><t>code_commune</t></is></c>'
        + "".join(f'<c t="inlineStr"><is><t>v{j}</t></is></c>' for j in range(n_values))
        + "</row>"
    ]
    for i in range(n_rows):
        cells = "".join(f"<c><v>{(i + j) % 1000}</v></c>" for j in range(n_values))
        rows.append(
            f'<row r="{i + 2}"><c t="inlineStr"><is><t>{codes[i % len(codes)]}</t></is></c>'
            f"{cells}</row>"
        )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        '.org/spreadsheetml/2006/main"><sheetData>' + "".join(rows) + "</sheetData></worksheet>"
    )
    return _xlsx_package(sheet.encode())


def _xlsx_package(sheet: bytes) -> bytes:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.'
            f'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.'
            'worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def parquet_cells(n_rows: int, n_values: int, codes: list[str]) -> bytes:
    import numpy as np
    import pandas as pd

    columns = {"code_commune": [codes[i % len(codes)] for i in range(n_rows)]}
    for j in range(n_values):
        columns[f"v{j}"] = (np.arange(n_rows) * (j + 1) % 1000).astype("float64")
    frame = pd.DataFrame(columns)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def perimeter_rows(n_rows: int, codes: list[str]) -> bytes:
    lines = ["code_commune;code_perimetre;nom_perimetre"]
    lines += [f"{codes[i % len(codes)]};P{i % 800};Périmètre {i % 800}" for i in range(n_rows)]
    return ("\n".join(lines) + "\n").encode()


def catalyst_rows(n_rows: int, codes: list[str]) -> bytes:
    lines = ["nom;code_commune;type"]
    lines += [f"Catalyseur {i};{codes[i % len(codes)]};association" for i in range(n_rows)]
    return ("\n".join(lines) + "\n").encode()


def cases(quick: bool) -> dict[str, tuple[str, object]]:
    """Name → (importer, builder). The sizes are at (or just past) each stated limit."""
    from tests import adversarial

    scale = 10 if quick else 1
    return {
        "CSV 200 000 lignes × 6 colonnes (la limite)": (
            "table",
            lambda c: csv_rows(200_000 // scale, 5, c),
        ),
        "CSV 50 Mo, 1 million de lignes (au-delà)": (
            "table",
            lambda c: csv_rows(1_000_000, 5, c),
        ),
        "CSV 5 millions de cases (5 000 lignes × 1 000 colonnes)": (
            "table",
            lambda c: csv_wide(5_000 // scale, 1_000, c),
        ),
        "CSV 5 millions de cases (35 000 lignes × 142 colonnes)": (
            "table",
            lambda c: csv_wide(35_000 // scale, 142, c),
        ),
        "CSV 6 millions de cases (au-delà)": ("table", lambda c: csv_wide(6_000, 1_000, c)),
        "CSV 20 000 colonnes (au-delà de la limite)": ("table", lambda c: adversarial.wide_csv()),
        "CSV 200 colonnes × 30 lignes": ("table", lambda c: csv_wide(30, 200, c)),
        "CSV cellule de 130 Ko (au-delà)": ("table", lambda c: adversarial.long_cell_csv()),
        "Page Données, envoi de 200 colonnes × 30 lignes": ("page", lambda c: csv_wide(30, 200, c)),
        "Page Données, envoi de 35 000 lignes × 142 colonnes": (
            "page",
            lambda c: csv_wide(35_000 // scale, 142, c),
        ),
        "Excel 30 Mo décompressés (≈ 1,1 million de cases)": (
            "table",
            lambda c: xlsx_cells(110_000 // scale, 9, c),
        ),
        "Excel chaînes partagées 40 Mo (bombe)": (
            "table",
            lambda c: adversarial.shared_strings_bomb(),
        ),
        "Excel 2 millions de lignes vides (au-delà)": (
            "table",
            lambda c: adversarial.empty_rows_workbook(),
        ),
        "Parquet 4 millions de cases (200 000 lignes × 20 colonnes)": (
            "table",
            lambda c: parquet_cells(200_000 // scale, 19, c),
        ),
        "Parquet 5 millions de cases (35 000 lignes × 142 colonnes)": (
            "table",
            lambda c: parquet_cells(35_000 // scale, 141, c),
        ),
        "Périmètres, CSV 40 000 lignes (la limite)": (
            "perimetres",
            lambda c: perimeter_rows(40_000 // scale, c),
        ),
        "Périmètres, CSV 1 million de lignes (au-delà)": (
            "perimetres",
            lambda c: perimeter_rows(1_000_000, c),
        ),
        "Catalyseurs, CSV 20 000 lignes (la limite)": (
            "catalyseurs",
            lambda c: catalyst_rows(20_000 // scale, c),
        ),
        "Catalyseurs, CSV 1 million de lignes (au-delà)": (
            "catalyseurs",
            lambda c: catalyst_rows(1_000_000, c),
        ),
    }


def _suffix(data: bytes) -> str:
    if data[:4] == b"PAR1":
        return ".parquet"
    if data[:2] == b"PK":
        return ".xlsx"
    return ".csv"


def run_case(importer: str, data: bytes, name: str) -> dict:
    """Run one importer on ``data`` in this process (called in a child process)."""
    from territorial import load_geography
    from territorial.indicators.tables import TableError

    geo = load_geography()
    geo.communes  # noqa: B018 - load the geography before the clock starts
    before = _peak_rss_mb()
    start = time.perf_counter()
    try:
        outcome = _import(importer, data, name, geo)
    except TableError as error:
        outcome = {"message": str(error)}
    except ValueError as error:
        outcome = {"message": str(error)}
    # a page case times the upload's rerun only (not the app's start-up in the test)
    outcome["seconds"] = outcome.pop("page_seconds", round(time.perf_counter() - start, 2))
    outcome["peak_rss_mb"] = _peak_rss_mb()
    outcome["geography_rss_mb"] = before
    return outcome


def _peak_rss_mb() -> int:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss``, reset by exec)."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024)


def _page_upload(data: bytes, name: str) -> dict:
    """The Données page (Streamlit AppTest): the upload's rerun, as a visitor waits for it."""
    import tempfile

    from streamlit.testing.v1 import AppTest

    folder = tempfile.mkdtemp(prefix="limites-")
    os.environ["TERRITORIAL_DATABASE_URL"] = f"sqlite:///{folder}/territorial.sqlite3"
    os.environ["TERRITORIAL_WORKSPACE"] = f"{folder}/ws"
    app = AppTest.from_file(str(ROOT / "main.py"), default_timeout=300)
    app.run()
    app.switch_page("views/donnees.py").run()
    uploader = next(u for u in app.file_uploader if u.key == "fichier-indicateurs")
    start = time.perf_counter()
    uploader.set_value((name, data, "text/csv")).run()
    seconds = time.perf_counter() - start
    shown = [e.value for e in app.error] or [e.value for e in app.exception]
    outcome = {"page_seconds": round(seconds, 2), "exception": bool(app.exception)}
    if shown:
        outcome["message"] = str(shown[0])[:300]
    else:
        outcome["rows"] = "tableau affiché"
    return outcome


def _import(importer: str, data: bytes, name: str, geo) -> dict:
    if importer == "page":
        return _page_upload(data, name)
    if importer == "table":
        from territorial.indicators.join import join_table
        from territorial.indicators.tables import read_table

        raw = read_table(data, name=name)
        result = join_table(raw, geo)
        return {"rows": len(raw.frame), "joined": int(result.report.matched)}
    if importer == "perimetres":
        from territorial.perimeters import load_user_perimeters

        pset, report = load_user_perimeters(data, geo, "limite", filename=name)
        return {"perimeters": len(pset.perimetres)}
    from territorial.analysis.catalysts import load_catalysts

    catalysts, report = load_catalysts(data, geo, name=name)
    return {"rows": int(len(catalysts.placed))}


def measure(quick: bool = False, timeout: float = 120.0) -> list[dict]:
    codes = _commune_codes()
    results = []
    for label, (importer, build) in cases(quick).items():
        data = build(codes)
        name = "limite" + _suffix(data)
        results.append(_measure_one(label, importer, data, name, timeout))
    return results


def _measure_one(label: str, importer: str, data: bytes, name: str, timeout: float) -> dict:
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", importer, name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    row = {"cas": label, "importeur": importer, "octets": len(data)}
    try:
        out, err = child.communicate(data, timeout=timeout)
        row.update(json.loads(out) if out else {"erreur": err.decode()[-600:], "seconds": None})
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        row["message"] = f"délai de {timeout:.0f} s dépassé"
        row["seconds"] = timeout
    row["within_target"] = row["seconds"] is not None and row["seconds"] <= TARGET_SECONDS
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("IMPORTER", "NAME"))
    args = parser.parse_args(argv)
    if args.child:
        outcome = run_case(args.child[0], sys.stdin.buffer.read(), args.child[1])
        sys.stdout.write(json.dumps(outcome, ensure_ascii=False))
        return 0
    load_before = os.getloadavg()[0]
    results = measure(quick=args.quick)
    meta = {"charge_debut": round(load_before, 2), "charge_fin": round(os.getloadavg()[0], 2)}
    out = ROOT / "bench" / "results" / "limits.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "cas": results}, ensure_ascii=False, indent=1))
    print(f"Charge moyenne de la machine : {meta}", file=sys.stderr)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        for row in results:
            outcome = row.get("message", "")[:70] or row.get("erreur") or f"{row.get('rows')} l."
            print(
                f"{row['seconds'] or 0:6.1f} s {row.get('peak_rss_mb', 0):7.0f} Mo  {row['cas']} — {outcome}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
