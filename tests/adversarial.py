"""Hostile inputs of the security audit, made by code (no committed binaries).

``python tests/adversarial.py DIR`` writes them as regression files; the tests import
:data:`CASES` directly. Sizes are those of the audit where they are cheap to build, else
the smallest input past the same limit (noted in the case name).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


def _xlsx(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def shared_strings_bomb() -> bytes:
    """A small workbook whose shared strings expand past the 30 Mo Excel limit."""
    text = b"<sst>" + b"<si><t>" + b"A" * (40 * 1024 * 1024) + b"</t></si></sst>"
    return _xlsx({"xl/sharedStrings.xml": text})


def empty_rows_workbook(n_rows: int = 2_000_000) -> bytes:
    """Millions of empty ``<row/>`` elements (the audit's 5 million: the same limit)."""
    rows = b"".join(b'<row r="%d"/>' % i for i in range(1, n_rows + 1))
    return _xlsx(
        {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData>" + rows + b"</sheetData></worksheet>"}
    )


def wide_csv(n_columns: int = 20_000, n_rows: int = 1) -> bytes:
    header = ";".join(f"c{i}" for i in range(n_columns))
    body = "\n".join(";".join("1" for _ in range(n_columns)) for _ in range(n_rows))
    return (header + "\n" + body + "\n").encode()


def long_cell_csv() -> bytes:
    return b"code;texte\n01001;" + b"x" * (130 * 1024) + b"\n"


def fake_parquet() -> bytes:
    return b"PAR1" + b"\x00garbage" * 100


def notice_first_workbook() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    notice = workbook.active
    notice.title = "Notice"
    for line in ("Source : exemple", "Champ : départements", "Lecture : une ligne par code"):
        notice.append([line])
    data = workbook.create_sheet("Données")
    data.append(["code", "valeur"])
    for code, value in (("01", 1), ("42", 2), ("69", 3)):
        data.append([code, value])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CASES = {
    "chaines_partagees_40Mo.xlsx": shared_strings_bomb,
    "2M_lignes_vides.xlsx": empty_rows_workbook,
    "20000_colonnes.csv": wide_csv,
    "200_colonnes_30_lignes.csv": lambda: wide_csv(200, 30),
    "cellule_130Ko.csv": long_cell_csv,
    "faux.parquet": fake_parquet,
    "notice_puis_donnees.xlsx": notice_first_workbook,
}


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "adversarial")
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in CASES.items():
        (folder / name).write_bytes(make())
        print(folder / name)
