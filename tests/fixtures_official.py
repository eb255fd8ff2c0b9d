"""Builders of small files reproducing the layout of the official sources.

Every file written here is SYNTHETIC test data: the values are invented, each
row is labelled as such (a ``LIBGEO`` such as « Commune fictive A
(synthétique) » or a ``COMMENTAIRE`` column), only the territorial codes are
real (communes 01001, 01004, 2A004, 75056, EPCI 200000172 and 200054781,
départements 01, 2A, 75, régions 84, 94, 11) so that the tables can be joined
with the real referentials later.

Layouts reproduced:

- Filosofi 2021 géographie 2025: zip with ``DS_FILOSOFI_CC_data.csv`` (long
  format, ``;``) and ``DS_FILOSOFI_CC_metadata.csv``; or the historical wide
  layout (``cc_filosofi_2021_COM.csv``, ``_EPCI``, ``_DEP``, ``_REG`` and a
  ``meta_`` file) with ``s`` / ``nd`` / ``ns`` secret markers.
- Census base-cc 2022: zips with ``base-cc-evol-struct-pop-2022.CSV`` (seven
  age bands, no ``P22_POP75P``) or ``base-cc-emploi-pop-active-2022.CSV`` plus
  a ``meta_`` file; the Paris arrondissement 75101 is present as in files that
  mix communes and arrondissements.
- Density grid 2025: xlsx with a documentation sheet, then a sheet whose
  header is on row 5 below title rows; one code stored as a number (1004).
- CRTE: two CSV tables (``;`` for the EPCI table, ``,`` for the groupements).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

SYNTH = "donnée synthétique de test"

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html lang='fr'><head><title>Erreur</title></head>"
    b"<body><h1>Service momentan\xc3\xa9ment indisponible</h1>"
    b"<p>Page d'erreur synth\xc3\xa9tique servie par les tests.</p></body></html>\n"
)

# Long Filosofi layout: (GEO, GEO_OBJECT, measure, value, CONF_STATUS)
_FILOSOFI_VALUES: dict[tuple[str, str], dict[str, str]] = {
    ("01001", "COM"): {"NUM_HH": "321", "NUM_PER": "802", "MED_SL": "24520", "PR_MD60": ""},
    ("01004", "COM"): {"NUM_HH": "6801", "NUM_PER": "14911", "MED_SL": "22180", "PR_MD60": "14.2"},
    ("2A004", "COM"): {"NUM_HH": "33012", "NUM_PER": "68030", "MED_SL": "21890", "PR_MD60": "17.5"},
    ("75056", "COM"): {
        "NUM_HH": "1051234",
        "NUM_PER": "2003456",
        "MED_SL": "28570",
        "PR_MD60": "15.1",
    },
    ("200000172", "EPCI"): {
        "NUM_HH": "11034",
        "NUM_PER": "26050",
        "MED_SL": "27230",
        "PR_MD60": "8.9",
    },
    ("200054781", "EPCI"): {
        "NUM_HH": "3102345",
        "NUM_PER": "6801234",
        "MED_SL": "25710",
        "PR_MD60": "16.4",
    },
    ("01", "DEP"): {"NUM_HH": "262345", "NUM_PER": "640123", "MED_SL": "24810", "PR_MD60": "10.8"},
    ("2A", "DEP"): {"NUM_HH": "71234", "NUM_PER": "155678", "MED_SL": "21640", "PR_MD60": "18.2"},
    ("75", "DEP"): {
        "NUM_HH": "1051234",
        "NUM_PER": "2003456",
        "MED_SL": "28570",
        "PR_MD60": "15.1",
    },
    ("84", "REG"): {
        "NUM_HH": "3456789",
        "NUM_PER": "7890123",
        "MED_SL": "23890",
        "PR_MD60": "12.6",
    },
    ("94", "REG"): {"NUM_HH": "151234", "NUM_PER": "330456", "MED_SL": "21800", "PR_MD60": "18.0"},
    ("11", "REG"): {
        "NUM_HH": "5123456",
        "NUM_PER": "11890123",
        "MED_SL": "25340",
        "PR_MD60": "15.9",
    },
    # Other geographic objects present in the real file and ignored by the parser.
    ("75101", "ARM"): {"NUM_HH": "9012", "NUM_PER": "15012", "MED_SL": "36010", "PR_MD60": "12.0"},
    ("0101", "ZE2020"): {
        "NUM_HH": "50123",
        "NUM_PER": "120345",
        "MED_SL": "24010",
        "PR_MD60": "9.9",
    },
}

_UNITS = {"NUM_HH": "HH", "NUM_PER": "PERS", "MED_SL": "EUR_YR", "PR_MD60": "PT"}


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], sep: str = ";") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_zip(
    path: Path, members: Mapping[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            archive.writestr(name, data)
    return path


def filosofi_long_csv(
    *,
    rename_columns: Mapping[str, str] | None = None,
    rename_measures: Mapping[str, str] | None = None,
    period: str = "2021",
    overrides: Mapping[tuple[str, str, str], str] | None = None,
) -> str:
    """Text of a synthetic ``DS_FILOSOFI_CC_data.csv`` (long layout).

    Parameters
    ----------
    rename_columns : mapping, optional
        Header renames (to simulate a format change).
    rename_measures : mapping, optional
        Measure code renames (for example ``{"MED_SL": "MEDIAN_SL"}``).
    period : str, default "2021"
        TIME_PERIOD written on every row.
    overrides : mapping, optional
        ``(geo, geo_object, measure) -> value`` replacements.

    Returns
    -------
    str
    """
    header = [
        "GEO",
        "GEO_OBJECT",
        "FILOSOFI_MEASURE",
        "UNIT_MEASURE",
        "UNIT_MULT",
        "CONF_STATUS",
        "OBS_STATUS",
        "TIME_PERIOD",
        "OBS_VALUE",
        "COMMENTAIRE",
    ]
    header = [(rename_columns or {}).get(name, name) for name in header]
    rows = []
    for (geo, obj), measures in _FILOSOFI_VALUES.items():
        for measure, value in measures.items():
            value = (overrides or {}).get((geo, obj, measure), value)
            secret = value == ""
            code = (rename_measures or {}).get(measure, measure)
            rows.append(
                [
                    geo,
                    obj,
                    code,
                    _UNITS[measure],
                    "0",
                    "C" if secret else "F",
                    "O" if secret else "A",
                    period,
                    value,
                    SYNTH,
                ]
            )
    return _csv_text(header, rows)


def write_filosofi_zip(
    path: Path,
    *,
    layout: str = "long",
    rename_columns: Mapping[str, str] | None = None,
    rename_measures: Mapping[str, str] | None = None,
    overrides: Mapping[tuple[str, str, str], str] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a synthetic Filosofi 2021 archive.

    Parameters
    ----------
    path : Path
        Output zip file.
    layout : {"long", "wide"}
        ``long``: ``DS_FILOSOFI_CC_data.csv`` + metadata (géographie 2025
        release); ``wide``: one CSV per level + a ``meta_`` file.
    rename_columns, rename_measures, overrides : mapping, optional
        Faults and value changes (see :func:`filosofi_long_csv`). For the wide
        layout ``rename_columns`` renames headers of every level file.
    compression : int
        ``zipfile.ZIP_DEFLATED`` or ``zipfile.ZIP_STORED``.

    Returns
    -------
    Path
    """
    if layout == "long":
        meta = _csv_text(
            ["COD_VAR", "LIB_VAR", "COD_MOD", "LIB_MOD"],
            [
                ["FILOSOFI_MEASURE", "Mesure (synthétique)", "NUM_HH", "Nombre de ménages"],
                ["FILOSOFI_MEASURE", "Mesure (synthétique)", "NUM_PER", "Nombre de personnes"],
                ["FILOSOFI_MEASURE", "Mesure (synthétique)", "MED_SL", "Médiane du niveau de vie"],
                ["FILOSOFI_MEASURE", "Mesure (synthétique)", "PR_MD60", "Taux de pauvreté"],
                ["GEO_OBJECT", "Niveau (synthétique)", "COM", "Commune"],
            ],
        )
        members = {
            "DS_FILOSOFI_CC_data.csv": filosofi_long_csv(
                rename_columns=rename_columns,
                rename_measures=rename_measures,
                overrides=overrides,
            ),
            "DS_FILOSOFI_CC_metadata.csv": meta,
        }
        return _write_zip(path, members, compression)
    return _write_zip(path, filosofi_wide_members(rename_columns=rename_columns), compression)


def filosofi_wide_members(*, rename_columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Members of the historical wide Filosofi archive (one CSV per level).

    Secret markers ``s``, ``nd`` and ``ns`` are used, and an EPCI line with
    the code ``ZZZZZZZZZ`` (communes outside any EPCI) is included.

    Returns
    -------
    dict of str to str
    """
    header = [
        "CODGEO",
        "LIBGEO",
        "NBMENFISC21",
        "NBPERSMENFISC21",
        "MED21",
        "PIMP21",
        "TP6021",
        "D121",
        "D921",
    ]
    header = [(rename_columns or {}).get(name, name) for name in header]
    levels = {
        "COM": [
            ["01001", "Commune fictive A (synthétique)", "321", "802", "24520", "s", "s", "s", "s"],
            ["01004", "Commune fictive B (synthétique)", "6801", "14911", "22180", "51", "14.2"]
            + ["12010", "36780"],
            ["2A004", "Commune fictive C (synthétique)", "33012", "68030", "nd", "48", "ns"]
            + ["nd", "nd"],
            ["75056", "Commune fictive D (synthétique)", "1051234", "2003456", "28570", "66"]
            + ["15.1", "11800", "64000"],
        ],
        "EPCI": [
            ["200000172", "EPCI fictif (synthétique)", "11034", "26050", "27230", "62", "8.9"]
            + ["14000", "45000"],
            ["200054781", "EPCI fictif (synthétique)", "3102345", "6801234", "25710", "60"]
            + ["16.4", "11000", "55000"],
            ["ZZZZZZZZZ", "Communes hors EPCI (synthétique)", "10", "20", "s", "s", "s", "s", "s"],
        ],
        "DEP": [
            ["01", "Département fictif (synthétique)", "262345", "640123", "24810", "57", "10.8"]
            + ["13200", "40100"],
            ["2A", "Département fictif (synthétique)", "71234", "155678", "21640", "47", "18.2"]
            + ["10200", "38000"],
        ],
        "REG": [
            ["84", "Région fictive (synthétique)", "3456789", "7890123", "23890", "55", "12.6"]
            + ["12300", "41000"],
            ["94", "Région fictive (synthétique)", "151234", "330456", "21800", "47", "18.0"]
            + ["10100", "38500"],
        ],
    }
    members = {
        f"cc_filosofi_2021_{level}.csv": _csv_text(header, rows) for level, rows in levels.items()
    }
    members["meta_cc_filosofi_2021.csv"] = _csv_text(
        ["COD_VAR", "LIB_VAR", "COMMENTAIRE"],
        [["MED21", "Médiane du niveau de vie (€)", SYNTH], ["TP6021", "Taux de pauvreté", SYNTH]],
    )
    return members


_CENSUS_COMMUNES = [
    ("01001", "Commune fictive A (synthétique)"),
    ("01004", "Commune fictive B (synthétique)"),
    ("2A004", "Commune fictive C (synthétique)"),
    ("75056", "Commune fictive D (synthétique)"),
    ("75101", "Arrondissement fictif (synthétique)"),
]


def census_evol_csv(
    *, rename_columns: Mapping[str, str] | None = None, with_pop75p: bool = False
) -> str:
    """Text of a synthetic ``base-cc-evol-struct-pop-2022.CSV``.

    The 2022 base has seven age bands (``P22_POP7589``, ``P22_POP90P``) and no
    ``P22_POP75P`` unless ``with_pop75p`` is True.

    Returns
    -------
    str
    """
    header = ["CODGEO", "LIBGEO", "P22_POP", "P22_POP0014", "P22_POP1529", "P22_POP3044"]
    header += ["P22_POP4559", "P22_POP6074", "P22_POP7589", "P22_POP90P", "P16_POP", "P11_POP"]
    if with_pop75p:
        header.append("P22_POP75P")
    values = {
        "01001": [832, 160, 120, 150, 190, 130, 70, 12, 790, 760],
        "01004": [16000.5, 3000, 2900, 3100, 3200, 2500, 1100.5, 200, 15200, 14100],
        "2A004": [74000, 12000, 13000, 14000, 15000, 12000, 6500, 1500, 70000, 66000],
        "75056": [2100000, 300000, 450000, 480000, 400000, 300000, 150000, 20000, 2190000, 2250000],
        "75101": [16000, 1500, 3500, 4000, 3500, 2500, 900, 100, 16500, 17000],
    }
    rows = []
    for code, label in _CENSUS_COMMUNES:
        numbers = values[code]
        row = [code, label, *numbers]
        if with_pop75p:
            row.append(numbers[6] + numbers[7])
        rows.append(row)
    header = [(rename_columns or {}).get(name, name) for name in header]
    return _csv_text(header, rows)


def census_emploi_csv(*, rename_columns: Mapping[str, str] | None = None) -> str:
    """Text of a synthetic ``base-cc-emploi-pop-active-2022.CSV``.

    Returns
    -------
    str
    """
    header = ["CODGEO", "LIBGEO", "P22_POP1564", "P22_ACT1564", "P22_ACTOCC1564"]
    header += ["P22_CHOM1564", "P16_ACT1564", "P16_CHOM1564"]
    values = {
        "01001": [520, 400, 380, 20, 390, 25],
        "01004": [10500, 7900.25, 7000, 900.75, 7700, 950],
        "2A004": [47000, 34000, 30500, 3500, 33000, 3800],
        "75056": [1400000, 1050000, 950000, 100000, 1060000, 120000],
        "75101": [11000, 8500, 7900, 600, 8600, 700],
    }
    rows = [[code, label, *values[code]] for code, label in _CENSUS_COMMUNES]
    header = [(rename_columns or {}).get(name, name) for name in header]
    return _csv_text(header, rows)


def write_census_zip(
    path: Path,
    *,
    table: str = "evol",
    rename_columns: Mapping[str, str] | None = None,
    with_pop75p: bool = False,
) -> Path:
    """Write a synthetic census base-cc archive.

    Parameters
    ----------
    path : Path
        Output zip file.
    table : {"evol", "emploi"}
        Which base: « évolution et structure de la population » or « emploi –
        population active ».
    rename_columns : mapping, optional
        Header renames (to simulate a format change).
    with_pop75p : bool, default False
        Add a ``P22_POP75P`` column (evol only).

    Returns
    -------
    Path
    """
    if table == "evol":
        name = "base-cc-evol-struct-pop-2022.CSV"
        data = census_evol_csv(rename_columns=rename_columns, with_pop75p=with_pop75p)
    else:
        name = "base-cc-emploi-pop-active-2022.CSV"
        data = census_emploi_csv(rename_columns=rename_columns)
    meta = _csv_text(
        ["COD_VAR", "LIB_VAR", "COMMENTAIRE"],
        [["P22_POP", "Population en 2022", SYNTH], ["CODGEO", "Code géographique", SYNTH]],
    )
    return _write_zip(path, {name: data, f"meta_{name}": meta})


def write_density_xlsx(path: Path, *, rename_columns: Mapping[str, str] | None = None) -> Path:
    """Write a synthetic density grid workbook (header on row 5 of the 2nd sheet).

    Returns
    -------
    Path
    """
    from openpyxl import Workbook

    workbook = Workbook()
    doc = workbook.active
    doc.title = "Documentation"
    doc.append(["Grille communale de densité à 7 niveaux — classeur SYNTHÉTIQUE de test"])
    doc.append(["Aucune valeur de ce fichier n'est une donnée réelle."])
    sheet = workbook.create_sheet("Grille_Densite_2025")
    sheet.append(["Grille communale de densité à 7 niveaux, millésime 2025 (synthétique)"])
    sheet.append(["Source : fixture de test, données inventées"])
    sheet.append([])
    sheet.append(["Champ : France (synthétique)"])
    header = ["CODGEO", "LIBGEO", "DENS", "LIBDENS", "PMUN22"]
    sheet.append([(rename_columns or {}).get(name, name) for name in header])
    sheet.append(["01001", "Commune fictive A (synthétique)", 6, "Rural à habitat dispersé", 832])
    sheet.append([1004, "Commune fictive B (synthétique)", 3, "Ceintures urbaines", 16000])
    sheet.append(["2A004", "Commune fictive C (synthétique)", "2", "Centres urbains", 74000])
    sheet.append(["75056", "Commune fictive D (synthétique)", 1, "Grands centres urbains", 2.1e6])
    sheet.append([])
    sheet.append(["Note : fichier synthétique de test"])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def crte_epci_csv(*, rename_columns: Mapping[str, str] | None = None) -> str:
    """Text of a synthetic ANCT EPCI – CRTE table (``;`` separated).

    Returns
    -------
    str
    """
    header = [
        "insee_reg",
        "lib_reg",
        "dep_chef_file",
        "lib_dep",
        "id_crte",
        "lib_crte",
        "type_grp_crte",
        "crte_interreg",
        "crte_interdep",
        "siren_groupement",
        "lib_groupement",
        "nature_juridique",
        "siren_grp_supra",
        "lib_grp_supra",
        "nat_jur_grp_supra",
    ]
    rows = [
        ["84", "Région fictive (synthétique)", "01", "Département fictif (synthétique)"]
        + ["crte_synth_01", "CRTE fictif 1 (synthétique)", "mono", "non", "non", "200000172"]
        + ["EPCI fictif (synthétique)", "CC", "", "", ""],
        ["11", "Région fictive (synthétique)", "75", "Département fictif (synthétique)"]
        + ["crte_synth_02", "CRTE fictif 2 (synthétique)", "pluri", "non", "non", "200054781"]
        + ["EPCI fictif (synthétique)", "METRO", "", "", ""],
        ["94", "Région fictive (synthétique)", "2A", "Département fictif (synthétique)"]
        + ["crte_synth_03", "CRTE fictif 3 (synthétique)", "mono", "non", "non", "242000354"]
        + ["EPCI fictif (synthétique)", "CA", "", "", ""],
    ]
    header = [(rename_columns or {}).get(name, name) for name in header]
    return _csv_text(header, rows, sep=";")


def crte_groupements_csv(*, rename_columns: Mapping[str, str] | None = None) -> str:
    """Text of a synthetic ANCT groupements table (``,`` separated).

    Returns
    -------
    str
    """
    header = [
        "insee_reg",
        "lib_reg",
        "dep_chef_file",
        "lib_dep",
        "id_crte",
        "lib_crte",
        "type_grp_crte",
        "siren_groupement",
        "lib_groupement",
        "nature_juridique",
        "siren_epci",
        "date_signature",
    ]
    rows = [
        ["84", "Région fictive (synthétique)", "01", "Département fictif (synthétique)"]
        + ["crte_synth_01", "CRTE fictif 1 (synthétique)", "mono", "200000172"]
        + ["EPCI fictif (synthétique)", "CC", "200000172", "2022-03-15"],
        ["11", "Région fictive (synthétique)", "75", "Département fictif (synthétique)"]
        + ["crte_synth_02", "CRTE fictif 2 (synthétique)", "pluri", "200054781"]
        + ["EPCI fictif (synthétique)", "METRO", "200054781", "2021-12-20"],
    ]
    header = [(rename_columns or {}).get(name, name) for name in header]
    return _csv_text(header, rows, sep=",")


def write_source_files(
    source_id: str,
    folder: Path,
    mirror_names: Mapping[str, str],
    **options: object,
) -> dict[str, Path]:
    """Write every resource of a source under its mirror name in ``folder``.

    Parameters
    ----------
    source_id : str
        ``crte``, ``filosofi``, ``census`` or ``density``.
    folder : Path
        Output folder (created).
    mirror_names : mapping
        Resource name -> file name (``mirror_name`` of the manifest).
    **options
        Passed to the builder of the primary resource (``rename_columns``,
        ``layout``, ``with_pop75p``...).

    Returns
    -------
    dict of str to Path
        Resource name -> written file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for resource, name in mirror_names.items():
        path = folder / name
        if source_id == "filosofi":
            write_filosofi_zip(path, **options)  # type: ignore[arg-type]
        elif source_id == "census":
            if resource == "evol_struct_pop":
                evol = {key: value for key, value in options.items() if key != "emploi_rename"}
                write_census_zip(path, table="evol", **evol)  # type: ignore[arg-type]
            else:
                rename = options.get("emploi_rename")
                write_census_zip(path, table="emploi", rename_columns=rename)  # type: ignore[arg-type]
        elif source_id == "density":
            write_density_xlsx(path, **options)  # type: ignore[arg-type]
        elif source_id == "crte":
            epci = resource == "epci_crte"
            text = crte_epci_csv(**options) if epci else crte_groupements_csv()  # type: ignore[arg-type]
            path.write_text(text, encoding="utf-8")
        else:  # pragma: no cover - guard for new sources
            raise ValueError(f"unknown source {source_id}")
        out[resource] = path
    return out


def truncated_copy(path: Path, out: Path, fraction: float = 0.6) -> Path:
    """Write the first ``fraction`` of ``path`` to ``out`` (a truncated download).

    Returns
    -------
    Path
    """
    data = path.read_bytes()
    out.write_bytes(data[: max(1, int(len(data) * fraction))])
    return out


def corrupted_member_zip(path: Path) -> Path:
    """Write a stored (uncompressed) Filosofi zip whose data member fails its CRC.

    Returns
    -------
    Path
    """
    write_filosofi_zip(path, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    marker = b"MED_SL"
    index = data.find(marker, 200)
    data[index : index + len(marker)] = b"MEX_SL"
    path.write_bytes(bytes(data))
    return path
