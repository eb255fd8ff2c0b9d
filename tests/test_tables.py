"""Tests of territorial.indicators.tables: robust reading of user tables and number parsing."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from territorial.indicators import csv_reader, numeric, table_base
from territorial.indicators.csv_reader import detect_separator
from territorial.indicators.numeric import NumberReport, numeric_columns, parse_numbers
from territorial.indicators.sheet_reader import cell_to_str
from territorial.indicators.table_base import SECRET_MARKERS, RawTable, TableError
from territorial.indicators.tables import read_table

# --------------------------------------------------------------------------- helpers


def write(tmp_path, name: str, content: str | bytes, encoding: str = "utf-8"):
    """Write a fixture file and return its path."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def xlsx_bytes(sheets: dict[str, list[list]], merge: dict[str, str] | None = None) -> bytes:
    """Build an xlsx workbook in memory: {sheet name: rows}, rows written from A1."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
        if merge and title in merge:
            sheet.merge_cells(merge[title])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def error_of(source, name=None, **kwargs) -> str:
    """Message of the TableError raised by read_table."""
    with pytest.raises(TableError) as info:
        read_table(source, name, **kwargs)
    assert info.value.message == str(info.value)
    return info.value.message


class FakeUpload(io.BytesIO):
    """Mimics Streamlit's UploadedFile: a BytesIO with .name and .size."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


# --------------------------------------------------------------------------- CSV basics


@pytest.mark.parametrize(
    ("sep", "label"),
    [(";", "point-virgule"), (",", "virgule"), ("\t", "tabulation"), ("|", "barre verticale")],
)
def test_csv_separators_are_detected(tmp_path, sep, label):
    lines = [
        ["codgeo", "libgeo", "pop"],
        ["01001", "L'Abergement", "776"],
        ["2A004", "Ajaccio", "7"],
    ]
    path = write(tmp_path, "t.csv", "\n".join(sep.join(r) for r in lines) + "\n")
    raw = read_table(path)
    assert isinstance(raw, RawTable)
    assert raw.separator == sep
    assert raw.format == "csv"
    assert f"Séparateur détecté : {label}" in raw.notes
    assert list(raw.frame.columns) == ["codgeo", "libgeo", "pop"]
    assert raw.frame["codgeo"].tolist() == ["01001", "2A004"]
    assert raw.source_name == "t.csv"
    assert raw.sheet is None and raw.sheets == []


def test_semicolon_wins_over_decimal_commas():
    text = "code;taux;part\n01001;12,5;3,4\n01002;13,1;2,2\n01003;1,0;9,9\n"
    raw = read_table(text.encode(), "t.csv")
    assert raw.separator == ";"
    assert raw.frame["taux"].tolist() == ["12,5", "13,1", "1,0"]


def test_comma_separator_with_quoted_decimal_commas():
    text = 'code,nom,taux\n01001,"Bourg, centre","12,5"\n01002,Ain,"3,25"\n'
    raw = read_table(text.encode(), "t.csv")
    assert raw.separator == ","
    assert raw.frame["nom"].tolist() == ["Bourg, centre", "Ain"]
    assert raw.frame["taux"].tolist() == ["12,5", "3,25"]


def test_detect_separator_ignores_separators_inside_quotes():
    sample = 'a,b\n"x;y;z",1\n"p;q;r",2\n'
    assert detect_separator(sample) == ","


def test_all_cells_are_strings_and_codes_keep_leading_zeros():
    raw = read_table(b"code;dep;pop\n01001;01;0012\n", "t.csv")
    row = raw.frame.iloc[0]
    assert row.tolist() == ["01001", "01", "0012"]
    for column in raw.frame.columns:
        assert pd.api.types.is_string_dtype(raw.frame[column].dtype)


def test_index_holds_file_line_numbers():
    raw = read_table(b"Titre\n\ncode;pop\n01001;1\n\n01002;2\n", "t.csv")
    assert raw.frame.index.name == "ligne"
    assert raw.frame.index.tolist() == [4, 6]


def test_cells_are_stripped_and_missing_fields_padded():
    raw = read_table(b"code;nom;pop\n 01001 ; Ain \n01002;Aisne;3\n", "t.csv")
    assert raw.frame.loc[2].tolist() == ["01001", "Ain", ""]
    assert raw.frame.loc[3].tolist() == ["01002", "Aisne", "3"]


# --------------------------------------------------------------------------- encodings


def test_utf8_encoding():
    raw = read_table("code;nom\n42218;Saint-Étienne\n".encode(), "t.csv")
    assert raw.encoding == "utf-8"
    assert raw.frame["nom"].tolist() == ["Saint-Étienne"]
    assert "Encodage détecté : UTF-8" in raw.notes


def test_utf8_with_bom_is_removed_from_header():
    raw = read_table("\ufeffcode;nom\n42218;Saint-Étienne\n".encode(), "t.csv")
    assert raw.encoding == "utf-8-sig"
    assert list(raw.frame.columns) == ["code", "nom"]
    assert "Encodage détecté : UTF-8 avec BOM" in raw.notes


def test_cp1252_encoding(tmp_path):
    path = write(tmp_path, "t.csv", "code;nom;unité\n42218;Saint-Étienne;€\n", "cp1252")
    raw = read_table(path)
    assert raw.encoding == "cp1252"
    assert list(raw.frame.columns) == ["code", "nom", "unité"]
    assert raw.frame.loc[2].tolist() == ["42218", "Saint-Étienne", "€"]
    assert any("Windows-1252" in note for note in raw.notes)


def test_latin1_fallback_when_cp1252_fails():
    data = "code;nom\n1;Sète\n".encode("latin-1") + b"2;x\x81y\n"
    raw = read_table(data, "t.csv")
    assert raw.encoding == "latin-1"
    assert raw.frame["nom"].tolist()[0] == "Sète"


def test_utf16_with_bom():
    raw = read_table("code\tnom\n01001\tÉvian\n".encode("utf-16"), "t.txt")
    assert raw.encoding == "utf-16"
    assert raw.separator == "\t"
    assert raw.frame["nom"].tolist() == ["Évian"]


# --------------------------------------------------------------------------- quoting


def test_quoted_separator_and_newline_in_fields():
    text = 'code;nom;note\n01001;"A;B";"ligne 1\nligne 2"\n01002;"dit ""X""";ok\n'
    raw = read_table(text.encode(), "t.csv")
    assert raw.frame["nom"].tolist() == ["A;B", 'dit "X"']
    assert raw.frame["note"].tolist() == ["ligne 1\nligne 2", "ok"]
    # the second record starts on line 4 because the first one spans lines 2-3
    assert raw.frame.index.tolist() == [2, 4]


def test_quoted_newline_in_header_is_collapsed():
    raw = read_table(b'code;"Population\n2020"\n01001;5\n01002;6\n', "t.csv")
    assert list(raw.frame.columns) == ["code", "Population 2020"]
    assert raw.frame.index.tolist() == [3, 4]


@pytest.mark.parametrize("cell", ['="01001"', '"=""01001"""'])
def test_excel_wrapped_codes_are_unwrapped(cell):
    text = f'code;pop\n{cell};12\n="2A004";3\n'
    raw = read_table(text.encode(), "t.csv")
    assert raw.frame["code"].tolist() == ["01001", "2A004"]
    assert any("Excel" in note and "2 cellules" in note for note in raw.notes)


# --------------------------------------------------------------------------- header position


def test_header_below_title_and_blank_lines():
    text = "Population légale 2021\nSource : Insee\n\ncode;nom;pop\n01001;Ain;1\n01002;Ain;2\n"
    raw = read_table(text.encode(), "t.csv")
    assert raw.header_row == 4
    assert list(raw.frame.columns) == ["code", "nom", "pop"]
    assert raw.frame.index.tolist() == [5, 6]
    assert any("ligne 4" in note for note in raw.notes)


def test_header_below_title_padded_with_separators():
    text = "Titre du tableau;;\n;;\ncode;nom;pop\n01001;Ain;1\n01002;Ain;2\n01003;Ain;\n"
    raw = read_table(text.encode(), "t.csv")
    assert raw.header_row == 3
    assert list(raw.frame.columns) == ["code", "nom", "pop"]


def test_title_with_commas_does_not_fool_separator_detection():
    text = "Population, ménages, logements\ncode;nom;pop\n01001;Ain;1\n01002;Ain;2\n"
    raw = read_table(text.encode(), "t.csv")
    assert raw.separator == ";"
    assert raw.header_row == 2


def test_explicit_header_row():
    text = "a;b;c\nnot;the;header\ncode;nom;pop\n01001;Ain;1\n"
    raw = read_table(text.encode(), "t.csv", header_row=3)
    assert raw.header_row == 3
    assert list(raw.frame.columns) == ["code", "nom", "pop"]
    assert raw.frame.index.tolist() == [4]


def test_explicit_header_row_out_of_range():
    message = error_of(b"code;pop\n1;2\n", "t.csv", header_row=9)
    assert "ligne d'en-tête 9" in message and "2 lignes" in message


def test_explicit_header_row_blank():
    message = error_of(b"\ncode;pop\n1;2\n", "t.csv", header_row=1)
    assert "ligne 1" in message and "vide" in message


def test_numbers_only_first_line_means_no_header():
    message = error_of(b"01001;12,5;3\n01002;13;4\n", "t.csv")
    assert "Aucune ligne d'en-tête" in message and "ligne 1" in message


def test_year_headers_are_accepted():
    raw = read_table(b"2019;2020\n1;2\n", "t.csv")
    assert list(raw.frame.columns) == ["2019", "2020"]


# --------------------------------------------------------------------------- trailing stuff


def test_trailing_empty_columns_and_rows_are_dropped():
    text = "code;pop;;\n01001;1;;\n01002;2;;\n;;;\n\n\n"
    raw = read_table(text.encode(), "t.csv")
    assert list(raw.frame.columns) == ["code", "pop"]
    assert len(raw.frame) == 2
    assert any("colonnes vides" in note for note in raw.notes)


def test_trailing_separator_only_on_data_lines():
    raw = read_table(b"code;pop\n01001;1;\n01002;2;\n", "t.csv")
    assert list(raw.frame.columns) == ["code", "pop"]
    assert raw.frame["pop"].tolist() == ["1", "2"]
    assert raw.frame.index.tolist() == [2, 3]


def test_duplicate_and_empty_headers_are_renamed():
    raw = read_table(b"code;pop;;pop\n01001;1;x;2\n", "t.csv")
    assert list(raw.frame.columns) == ["code", "pop", "colonne_3", "pop_4"]
    assert any("colonne_3" in note for note in raw.notes)
    assert any("pop_4" in note for note in raw.notes)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(newline):
    text = newline.join(["code;pop", "01001;1", "01002;2", ""])
    raw = read_table(text.encode(), "t.csv")
    assert raw.frame["pop"].tolist() == ["1", "2"]
    assert list(raw.frame.columns) == ["code", "pop"]


# --------------------------------------------------------------------------- sources


def test_path_as_str_and_file_like_and_bytes(tmp_path):
    data = b"code;pop\n01001;1\n"
    path = write(tmp_path, "données.csv", data)
    for source, name in [(str(path), None), (io.BytesIO(data), "x.csv"), (data, None)]:
        raw = read_table(source, name)
        assert raw.frame["code"].tolist() == ["01001"]
    assert read_table(str(path)).source_name == "données.csv"
    assert read_table(data).source_name == "fichier"


def test_uploaded_file_like_object_is_read_from_the_start():
    upload = FakeUpload(b"code;pop\n01001;1\n", "dossier/envoi.csv")
    upload.read()  # already consumed once, as Streamlit reruns do
    raw = read_table(upload)
    assert raw.source_name == "envoi.csv"
    assert raw.frame["pop"].tolist() == ["1"]


def test_missing_path(tmp_path):
    message = error_of(tmp_path / "absent.csv")
    assert "introuvable" in message and "absent.csv" in message


def test_unsupported_source_type():
    assert "non prise en charge" in error_of(12345)


def test_format_sniffed_without_extension():
    xlsx = xlsx_bytes({"F": [["code", "pop"], ["01001", 1]]})
    assert read_table(xlsx, "export").format == "xlsx"
    parquet = parquet_bytes(pd.DataFrame({"code": ["01001"]}))
    assert read_table(parquet, "export.bin").format == "parquet"
    assert read_table(b"code;pop\n1;2\n", "export").format == "csv"


def test_text_file_with_excel_extension_is_read_as_csv():
    raw = read_table(b"code;pop\n01001;1\n", "faux.xlsx")
    assert raw.format == "csv"
    assert any(".xlsx" in note for note in raw.notes)


# --------------------------------------------------------------------------- malformed


def test_empty_file(tmp_path):
    assert "est vide" in error_of(write(tmp_path, "vide.csv", b""))
    assert "est vide" in error_of(b"  \n\n \r\n", "blanc.csv")
    assert "seulement des séparateurs" in error_of(b";;;\n;;\n", "vide.csv")


def test_only_a_header():
    message = error_of(b"code;pop\n", "t.csv")
    assert "en-tête" in message and "aucune ligne de données" in message


def test_random_binary_garbage():
    rng = np.random.default_rng(0)
    garbage = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    message = error_of(garbage, "donnees.csv")
    assert "binaire" in message


def test_binary_with_unknown_extension():
    assert "format non reconnu" in error_of(b"\x01\x02\x03\x04" * 100, "x.dat")


def test_png_image():
    message = error_of(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "carte.csv")
    assert "image PNG" in message and "pas un tableau" in message


def test_old_xls_format():
    message = error_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "vieux.xls")
    assert ".xls" in message and ".xlsx" in message


def test_html_error_page_saved_as_csv():
    page = b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>Not found</body></html>"
    message = error_of(page, "export.csv")
    assert "page web" in message and "HTML" in message
    assert "page web" in error_of(b"\n  <html lang='fr'><body>Erreur</body></html>", "e.csv")


def test_json_and_unknown_extensions_are_refused():
    assert "JSON" in error_of(b'{"a": 1}', "t.json")
    assert "JSON" in error_of(b'{"a": 1}', "t.csv")


def test_zip_archive_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("t.csv", "a;b\n1;2\n")
    message = error_of(buffer.getvalue(), "t.zip")
    assert "archive ZIP" in message


def test_row_with_more_fields_than_header_names_the_line():
    text = "Titre\ncode;nom;pop\n01001;Ain;1\n01002;Ain;2;99\n"
    message = error_of(text.encode(), "t.csv")
    assert "Ligne 4" in message
    assert "4 valeurs" in message and "3 colonnes" in message and "ligne 2" in message


def test_unclosed_quote_names_the_line():
    text = 'code;nom;pop\n01001;Ain;1\n01002;"Aisne;2\n01003;Allier;3\n01004;Ardèche;4\n'
    message = error_of(text.encode(), "t.csv")
    assert "Ligne 3" in message and "guillemet" in message


def test_single_column_file():
    raw = read_table(b"nom\nParis, 1er\nLyon\n", "t.csv")
    assert list(raw.frame.columns) == ["nom"]
    assert raw.frame["nom"].tolist() == ["Paris, 1er", "Lyon"]


def test_too_big_file(tmp_path, monkeypatch):
    monkeypatch.setattr(table_base, "MAX_BYTES", 1024 * 1024)
    data = b"code;pop\n" + b"01001;1\n" * 200_000  # 1.5 Mo
    path = write(tmp_path, "gros.csv", data)
    for source in (path, data, FakeUpload(data, "gros.csv"), io.BytesIO(data)):
        message = error_of(source, "gros.csv")
        assert "1,5 Mo" in message and "limite de 1 Mo" in message


def test_too_many_rows_csv(monkeypatch):
    monkeypatch.setattr(table_base, "MAX_ROWS", 3)
    assert len(read_table(b"c;p\n1;1\n2;2\n3;3\n", "t.csv").frame) == 3
    message = error_of(b"c;p\n1;1\n2;2\n3;3\n4;4\n", "t.csv")
    assert "plus de 3 lignes" in message
    # the slow path (ragged lines) applies the same limit
    assert "plus de 3 lignes" in error_of(b"c;p\n1;1;\n2;2\n3;3\n4;4\n", "t.csv")


@pytest.mark.parametrize(
    ("reader", "source"),
    [
        ((csv_reader.pd, "read_csv"), b'code;pop\n"1";2\n'),  # quotes: pandas' reader
        ((csv_reader.pa_csv, "read_csv"), b"code;pop\n1;2\n"),  # a clean file: pyarrow's
    ],
)
def test_unexpected_errors_are_wrapped(monkeypatch, reader, source):
    def boom(*args, **kwargs):
        raise RuntimeError("panne interne")

    monkeypatch.setattr(*reader, boom)
    message = error_of(source, "t.csv")
    assert message.startswith("Le fichier « t.csv » n'a pas pu être lu")
    assert "panne interne" not in message  # a library's (English) text never reaches the user
    assert "Formats acceptés" in message


# --------------------------------------------------------------------------- Excel


def test_xlsx_numbers_become_clean_strings():
    rows = [
        ["code", "nom", "taux", "entier", "date", "vrai"],
        [1001, "Ain", 12.5, 3.0, dt.datetime(2020, 1, 1), True],
        ["2A004", None, 0.1, -7, dt.datetime(2020, 1, 1, 12, 30), False],
    ]
    raw = read_table(xlsx_bytes({"Données": rows}), "t.xlsx")
    assert raw.format == "xlsx"
    assert raw.encoding is None and raw.separator is None
    assert raw.frame.loc[2].tolist() == ["1001", "Ain", "12.5", "3", "2020-01-01", "VRAI"]
    assert raw.frame.loc[3].tolist() == ["2A004", "", "0.1", "-7", "2020-01-01 12:30:00", "FAUX"]


def test_xlsx_header_below_merged_title():
    rows = [
        ["Population légale 2021", None, None],
        [None, None, None],
        ["code", "nom", "pop"],
        ["01001", "Ain", 776],
        ["01002", "Ain", 248],
    ]
    data = xlsx_bytes({"F": rows}, merge={"F": "A1:C1"})
    raw = read_table(data, "t.xlsx")
    assert raw.header_row == 3
    assert list(raw.frame.columns) == ["code", "nom", "pop"]
    assert raw.frame.index.tolist() == [4, 5]
    assert raw.frame["pop"].tolist() == ["776", "248"]


def test_xlsx_explicit_header_row():
    rows = [["x", "y", "z"], ["code", "nom", "pop"], ["01001", "Ain", 1]]
    raw = read_table(xlsx_bytes({"F": rows}), "t.xlsx", header_row=2)
    assert list(raw.frame.columns) == ["code", "nom", "pop"]
    assert "vide ou absente" in error_of(xlsx_bytes({"F": rows}), "t.xlsx", header_row=7)


def test_xlsx_default_sheet_is_first_non_empty():
    data = xlsx_bytes({"Vide": [], "Notes": [["code", "pop"], ["01001", 5]], "Autre": [["a"], [1]]})
    raw = read_table(data, "t.xlsx")
    assert raw.sheet == "Notes"
    assert raw.sheets == ["Vide", "Notes", "Autre"]
    assert any("Notes" in note for note in raw.notes)


def test_xlsx_sheet_by_name_and_index():
    data = xlsx_bytes({"A": [["code", "pop"], ["1", 1]], "B": [["code", "taux"], ["2", 2.5]]})
    assert read_table(data, "t.xlsx", sheet="B").frame["taux"].tolist() == ["2.5"]
    assert read_table(data, "t.xlsx", sheet=" b ").sheet == "B"
    assert read_table(data, "t.xlsx", sheet=1).sheet == "B"
    assert read_table(data, "t.xlsx", sheet=0).sheet == "A"


def test_xlsx_wrong_sheet_lists_existing_sheets():
    data = xlsx_bytes({"A": [["code"], ["1"]], "B": [["code"], ["2"]]})
    message = error_of(data, "t.xlsx", sheet="Communes")
    assert "« Communes » n'existe pas" in message
    assert "« A », « B »" in message
    assert "n° 6 n'existe pas" in error_of(data, "t.xlsx", sheet=5)


def test_xlsx_empty_sheet_and_empty_workbook():
    data = xlsx_bytes({"A": [], "B": [["code"], ["1"]]})
    assert "« A »" in error_of(data, "t.xlsx", sheet="A") and "vide" in error_of(data, sheet="A")
    assert "aucune donnée" in error_of(xlsx_bytes({"A": [], "B": []}), "t.xlsx")


def test_xlsx_only_header():
    assert "aucune ligne de données" in error_of(xlsx_bytes({"A": [["code", "pop"]]}), "t.xlsx")


def test_xlsx_too_many_rows(monkeypatch):
    monkeypatch.setattr(table_base, "MAX_ROWS", 2)
    data = xlsx_bytes({"A": [["code"], ["1"], ["2"], ["3"]]})
    assert "plus de 2 lignes" in error_of(data, "t.xlsx")


def test_damaged_xlsx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "pas du xml")
    message = error_of(buffer.getvalue(), "t.xlsx")
    assert "illisible ou endommagé" in message


# --------------------------------------------------------------------------- Parquet


def test_parquet_values_become_strings():
    frame = pd.DataFrame(
        {
            "code": ["01001", None],
            "pop": pd.array([776, None], dtype="Int64"),
            "taux": [12.5, np.nan],
            "entier": [3.0, 4.0],
        }
    )
    raw = read_table(parquet_bytes(frame), "t.parquet")
    assert raw.format == "parquet"
    assert raw.header_row == 1
    assert raw.frame.loc[2].tolist() == ["01001", "776", "12.5", "3"]
    assert raw.frame.loc[3].tolist() == ["", "", "", "4"]


def test_parquet_ignores_header_row_with_a_note():
    raw = read_table(parquet_bytes(pd.DataFrame({"a": ["1"]})), "t.parquet", header_row=3)
    assert raw.header_row == 1
    assert any("Parquet" in note for note in raw.notes)


def test_parquet_too_many_rows_and_damaged(monkeypatch):
    data = parquet_bytes(pd.DataFrame({"a": range(5)}))
    assert "illisible" in error_of(data[:20] + b"PAR1", "t.parquet")
    monkeypatch.setattr(table_base, "MAX_ROWS", 4)
    assert "plus de 4 lignes" in error_of(data, "t.parquet")


# --------------------------------------------------------------------------- cell_to_str


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (1001, "1001"),
        (1001.0, "1001"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (float("nan"), ""),
        (np.int64(7), "7"),
        (1e20, "1e+20"),
        (dt.date(2021, 3, 4), "2021-03-04"),
        ("  texte ", "  texte "),
    ],
)
def test_cell_to_str(value, expected):
    assert cell_to_str(value) == expected


# --------------------------------------------------------------------------- parse_numbers


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", 12.0),
        ("-3", -3.0),
        ("12,5", 12.5),
        ("12.5", 12.5),
        ("  12,5  ", 12.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234\u00a0567", 1234567.0),
        ("1\u202f234,25", 1234.25),
        ("1.234.567", 1234567.0),
        ("1.234.567,89", 1234567.89),
        ("1,234,567", 1234567.0),
        ("1,234.5", 1234.5),
        ("12,5 %", 12.5),
        ("12.5%", 12.5),
        ("\u22125,5", -5.5),
        ("1e-05", 1e-05),
        ("1.5E+3", 1500.0),
        ('="42"', 42.0),
        (",5", 0.5),
        ("1.234", 1.234),
        ("1,234", 1.234),
        ("0.123", 0.123),
    ],
)
def test_parse_numbers_formats(cell, expected):
    numbers, report = parse_numbers(pd.Series([cell]))
    assert numbers.iloc[0] == pytest.approx(expected)
    assert report.n_numeric == 1 and report.n_invalid == 0


@pytest.mark.parametrize(
    "cell", ["abc", "12 34", "1.2.3", "12,5,6", "--1", "1 2 3", "inf", "NaN", "#DIV/0!", "1e999"]
)
def test_parse_numbers_rejects_garbage(cell):
    numbers, report = parse_numbers(pd.Series([cell]))
    assert math.isnan(numbers.iloc[0])
    assert report.n_invalid == 1


def test_secret_markers_and_empty_cells_are_counted_apart():
    cells = ["1", "S", " nd ", "NS", "Secret", "nc", "N.D.", "so", "", "  ", None, "abc"]
    numbers, report = parse_numbers(pd.Series(cells, dtype=object))
    assert report == NumberReport(
        n_values=12,
        n_numeric=1,
        n_secret=7,
        n_empty=3,
        n_invalid=1,
        invalid_examples=[(12, "abc")],
    )
    assert numbers.isna().sum() == 11
    assert "" in SECRET_MARKERS


def test_invalid_examples_are_limited_to_five_and_use_line_numbers():
    text = "code;val\n" + "".join(f"{i:05d};x{i}\n" for i in range(8))
    raw = read_table(("Titre\n" + text).encode(), "t.csv")
    _, report = parse_numbers(raw.frame["val"])
    assert report.n_invalid == 8
    assert report.invalid_examples == [(3, "x0"), (4, "x1"), (5, "x2"), (6, "x3"), (7, "x4")]


def test_parse_numbers_keeps_index_and_name():
    values = pd.Series(["1", "2,5"], index=[10, 20], name="pop")
    numbers, report = parse_numbers(values)
    assert numbers.index.tolist() == [10, 20]
    assert numbers.name == "pop"
    assert numbers.dtype == "float64"
    assert report.n_values == 2


def test_parse_numbers_accepts_numeric_input():
    numbers, report = parse_numbers(pd.Series([1.5, np.nan, 3]))
    assert numbers.iloc[0] == 1.5 and numbers.iloc[2] == 3
    assert report.n_empty == 1 and report.n_numeric == 2


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1.234"], [1.234]),  # alone: decimal
        (["1.234", "1.234.567"], [1234.0, 1234567.0]),  # other value shows dot thousands
        (["1.234", "12,5"], [1234.0, 12.5]),  # dotted values all x.xxx + decimal comma
        (["1.234", "2.500", "0,75"], [1234.0, 2500.0, 0.75]),
        (["1.234", "12.5"], [1.234, 12.5]),  # dot is clearly decimal in the column
        (["1.234", "1.234,5"], [1234.0, 1234.5]),
        (["1.234", "12,500"], [1.234, 12.5]),  # an ambiguous comma is no evidence
        (["1,234"], [1.234]),  # comma: decimal by default (French)
        (["1,234", "1,234,567"], [1234.0, 1234567.0]),
        (["1,234", "12.5"], [1234.0, 12.5]),  # English-style column
        (["1,234", "12,5"], [1.234, 12.5]),
    ],
)
def test_dot_and_comma_ambiguity_rule(cells, expected):
    numbers, _ = parse_numbers(pd.Series(cells))
    assert numbers.tolist() == pytest.approx(expected)


def _full_parser(cells: list[str]) -> np.ndarray:
    """The general path of parse_numbers, bypassing its plain-number fast path."""
    text = numeric._as_text(pd.Series(cells))
    return numeric._to_floats(numeric._number_text(text))


@pytest.mark.parametrize(
    "cells",
    [
        ["12", "-3", "+4", "0"],
        ["12.5", "-3.25", "7", "1.234"],  # decimal dots, "1.234" alone is a decimal
        ["12,5", "-3,25", "7", "1,234"],  # decimal commas, "1,234" alone is a decimal
        ["40,12", "s", "", "nd", "3"],  # secret and empty cells beside decimal commas
        ["1.5", "secret", "2"],
    ],
)
def test_plain_number_fast_path_agrees_with_the_full_parser(cells):
    numbers, report = parse_numbers(pd.Series(cells))
    assert (
        numeric._plain_numbers(
            numeric._as_text(pd.Series(cells)),
            np.array([c.lower() in SECRET_MARKERS for c in cells]),
        )
        is not None
    )  # the fast path is the one taken
    assert np.array_equal(numbers.to_numpy(), _full_parser(cells), equal_nan=True)
    secret = sum(c != "" and c.lower() in SECRET_MARKERS for c in cells)
    assert (report.n_secret, report.n_empty) == (secret, cells.count(""))
    assert report.n_numeric == len(cells) - secret - cells.count("") and report.n_invalid == 0


@pytest.mark.parametrize(
    "cells",
    [
        ["1.234", "12,5"],  # mixed separators: the column decides, not each cell
        ["1 234", "5"],  # thousands spaces
        ["1e5", "2"],
        ["12,5 %", "3"],
        ["abc", "3"],
    ],
)
def test_other_columns_leave_the_fast_path(cells):
    text = numeric._as_text(pd.Series(cells))
    assert numeric._plain_numbers(text, np.zeros(len(cells), dtype=bool)) is None


# --------------------------------------------------------------------------- numeric_columns


def test_numeric_columns():
    text = (
        "codgeo;nom;pop;taux;mixte;secret;libre\n"
        "01001;Ain;776;12,5;1;s;a\n"
        "01002;Ain;s;13,0;2;s;b\n"
        "01004;Ain;1 234;;x;;1\n"
        "01005;Ain;5;1,5;3;nd;c\n"
        "01006;Ain;6;2;4;;d\n"
    )
    raw = read_table(text.encode(), "t.csv")
    assert numeric_columns(raw) == ["pop", "taux", "mixte"]
    assert numeric_columns(raw, min_share=0.9) == ["pop", "taux"]
    assert numeric_columns(raw, exclude_codes=False) == ["codgeo", "pop", "taux", "mixte"]


def test_numeric_columns_on_excel_numbers():
    rows = [["code", "pop", "part"], [1001, 776, 0.25], [1002, 248, 0.5]]
    raw = read_table(xlsx_bytes({"F": rows}), "t.xlsx")
    # codes stored as numbers lost their zeros: they look like numbers
    assert numeric_columns(raw) == ["code", "pop", "part"]
