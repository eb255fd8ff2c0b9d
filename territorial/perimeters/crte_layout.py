"""CRTE files: detect which published layout a table follows and parse it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from territorial.geo.codes import clean_cell, normalise_siren
from territorial.indicators.table_base import RawTable, TableError, check_row_limit
from territorial.indicators.tables import read_table

if TYPE_CHECKING:
    from territorial.geo.geography import Geography
from typing import TYPE_CHECKING

from territorial.perimeters.assembly import _Assembler, _describe, _flag, _siren_ok, _unknown_reason
from territorial.perimeters.model import (
    CRTE_SOURCE,
    EPCI_NATURES,
    KNOWN_NATURES,
    MAX_PERIMETER_ROWS,
    PerimeterSet,
)
from territorial.perimeters.report import ValidationReport

if TYPE_CHECKING:
    from territorial.perimeters.assembly import _Resolver

__all__ = ["CRTE_LAYOUTS", "CrteLayout", "detect_crte_layout", "load_crte"]


@dataclass(frozen=True)
class CrteLayout:
    """One published layout of the ANCT CRTE file.

    Attributes
    ----------
    key : str
        ``"epci_crte"`` or ``"groupements"``.
    label : str
        French name of the table.
    columns : tuple of str
        Every column of the published table (normalised names).
    required : tuple of str
        Columns without which the file cannot be used.
    distinctive : tuple of str
        Columns that tell this layout from the other one.
    """

    key: str
    label: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    distinctive: tuple[str, ...]


CRTE_LAYOUTS = {
    "epci_crte": CrteLayout(
        key="epci_crte",
        label="table EPCI – CRTE de l'ANCT (un groupement par ligne, avec son groupement supra)",
        columns=(
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
        ),
        required=("id_crte", "lib_crte", "siren_groupement", "nature_juridique"),
        distinctive=(
            "crte_interreg",
            "crte_interdep",
            "siren_grp_supra",
            "lib_grp_supra",
            "nat_jur_grp_supra",
        ),
    ),
    "groupements": CrteLayout(
        key="groupements",
        label="table des groupements signataires de l'ANCT (suivi du périmètre)",
        columns=(
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
        ),
        required=("id_crte", "siren_epci"),
        distinctive=("siren_epci", "date_signature"),
    ),
}


def _header_key(name: object) -> str:
    """Normalised column name: lower case, no accent, no BOM, ``_`` between words."""
    text = unicodedata.normalize("NFKD", str(name).replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _column_map(columns) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in columns:
        mapping.setdefault(_header_key(column), column)
    return mapping


def detect_crte_layout(columns, source_name: str = "fichier") -> tuple[CrteLayout, list[str]]:
    """Which published CRTE layout a table has.

    Parameters
    ----------
    columns : iterable of str
        Column names as read (case, spaces and BOM do not matter).
    source_name : str
        File name, for the error message.

    Returns
    -------
    (CrteLayout, list of str)
        The layout and the columns of that layout absent from the file.

    Raises
    ------
    TableError
        Neither layout fits; the French message names the missing columns.

    Examples
    --------
    >>> layout, missing = detect_crte_layout(["ID_CRTE", " siren_epci"])
    >>> layout.key, missing[:2]
    ('groupements', ['insee_reg', 'lib_reg'])
    """
    columns = list(columns)
    keys = set(_column_map(columns))
    candidates = [lay for lay in CRTE_LAYOUTS.values() if set(lay.required) <= keys]
    if not candidates:
        parts = [
            f"pour la {lay.label} : {', '.join(c for c in lay.required if c not in keys)}"
            for lay in CRTE_LAYOUTS.values()
        ]
        found = ", ".join(f"« {c} »" for c in columns[:15]) or "aucune"
        raise TableError(
            f"Le fichier « {source_name} » n'a pas la forme d'un fichier CRTE de l'ANCT. "
            f"Colonnes manquantes {' ; '.join(parts)}. Colonnes trouvées : {found}."
        )
    layout = max(
        candidates,
        key=lambda lay: (len(set(lay.distinctive) & keys), len(set(lay.columns) & keys)),
    )
    return layout, [c for c in layout.columns if c not in keys]


def _split_sirens(cell: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[;,|/\n]+", cell)]
    return [p for p in parts if p] or [""]


def load_crte(
    source,
    geo: Geography,
    name: str | None = None,
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
) -> tuple[PerimeterSet, ValidationReport]:
    """Read the ANCT CRTE file into an official perimeter set.

    Both published layouts are accepted (see :data:`CRTE_LAYOUTS`): the EPCI – CRTE table
    (``siren_groupement`` + ``nature_juridique`` per row, with the supra groupement) and
    the table of signing groupements (``siren_epci`` per row). Column names are matched
    without regard to case, spaces or BOM. ``nature_juridique`` ``CC``, ``CA``, ``CU``,
    ``METRO``, ``MET69`` designate an EPCI (all its communes), ``EPT`` an établissement
    public territorial of the Grand Paris (its communes), ``COM`` a commune signing
    alone, given by its SIREN. Unknown natures and SIRENs are reported, not fatal.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        The file (CSV, Excel or Parquet, read by :func:`territorial.indicators.tables.read_table`).
    geo : Geography
        The geography the SIRENs are matched against.
    name : str, optional
        Name of the set shown to the user (default: from the file name).
    filename : str, optional
        File name when ``source`` is bytes or a nameless file object.
    sheet : str or int, optional
        Excel sheet.

    Returns
    -------
    (PerimeterSet, ValidationReport)

    Raises
    ------
    TableError
        Unreadable file, or a table with neither layout (the French message names the
        missing columns).
    """
    raw = read_table(source, filename, sheet=sheet)
    return _crte_from_raw(raw, geo, name)


def _crte_from_raw(
    raw: RawTable, geo: Geography, name: str | None
) -> tuple[PerimeterSet, ValidationReport]:
    check_row_limit(raw, MAX_PERIMETER_ROWS, "un fichier de périmètres")
    layout, missing = detect_crte_layout(raw.frame.columns, raw.source_name)
    columns = _column_map(raw.frame.columns)
    frame = raw.frame

    def col(key: str) -> list[str]:
        if key in columns:
            return [clean_cell(v) for v in frame[columns[key]].tolist()]
        return [""] * len(frame)

    values = {key: col(key) for key in layout.columns}
    assembler = _Assembler(geo, "officiel")
    resolver = assembler.resolver
    for i, ligne in enumerate(frame.index.tolist()):
        row = {key: values[key][i] for key in layout.columns}
        pid = row["id_crte"]
        nature = row["nature_juridique"].upper().replace(" ", "")
        if not pid:
            assembler.unknown(
                ligne,
                row.get("siren_epci") or row["siren_groupement"],
                "identifiant du CRTE (id_crte) manquant : ligne ignorée",
                nature=nature,
            )
            continue
        assembler.declare(pid, " ".join(row["lib_crte"].split()), ligne, _crte_extras(row))
        if layout.key == "groupements":
            cell = row["siren_epci"] or row["siren_groupement"]
            member_is_groupement = not row["siren_epci"] or (
                normalise_siren(row["siren_epci"]) == normalise_siren(row["siren_groupement"])
            )
            hint = nature if member_is_groupement or nature in KNOWN_NATURES else ""
        else:
            cell, hint = row["siren_groupement"], nature
        for given in _split_sirens(cell):
            _add_crte_member(assembler, resolver, row, pid, ligne, given, hint, layout.key)
    membership, table, detached = assembler.build()
    source_name = raw.source_name
    pset = PerimeterSet(
        name=name or f"CRTE (ANCT, fichier « {source_name} »)",
        kind="officiel",
        membership=membership,
        perimetres=table,
        source={
            **CRTE_SOURCE,
            "fichier": source_name,
            "disposition": layout.key,
            "description": f"Périmètres des CRTE lus dans la {layout.label}.",
        },
    )
    report = ValidationReport(
        source_name=source_name, kind="officiel", layout=layout.key, layout_label=layout.label
    )
    report.missing_columns = missing
    report.notes = list(raw.notes)
    if missing:
        report.notes.append(
            "Colonnes de la table publiée absentes du fichier (non bloquant) : "
            + ", ".join(missing)
        )
    assembler.report(report, table, detached, len(frame))
    return pset, report


def _crte_extras(row: dict) -> dict:
    extras = {
        "type_grp_crte": row.get("type_grp_crte", ""),
        "dep_chef_file": row.get("dep_chef_file", ""),
        "insee_reg": row.get("insee_reg", ""),
    }
    for key in ("crte_interreg", "crte_interdep"):
        if row.get(key):
            extras[key] = _flag(row[key])
    if row.get("date_signature"):
        extras["date_signature"] = row["date_signature"]
    return extras


def _add_crte_member(
    assembler: _Assembler,
    resolver: _Resolver,
    row: dict,
    pid: str,
    ligne: int,
    given: str,
    hint: str,
    layout: str,
) -> None:
    siren = normalise_siren(given)
    # in the groupements layout the nature may describe the carrier, not this member
    declared = hint if layout == "groupements" else row["nature_juridique"].upper()
    if not siren:
        assembler.unknown(ligne, given, "SIREN manquant : ligne ignorée", pid, nature=declared)
        return
    if not _siren_ok(siren):
        assembler.unknown(
            ligne,
            given,
            "SIREN mal formé (9 chiffres attendus) : ligne ignorée",
            pid,
            nature=declared,
        )
        return
    hit = resolver.by_siren(siren, hint or None)
    if hit is None:
        assembler.unknown(ligne, siren, _unknown_reason(hint, declared), pid, nature=declared)
        return
    level, unit = hit
    if layout == "epci_crte" and level == "epci":
        level, unit = _supra_ept(resolver, row, level, unit)
    if hint and hint not in KNOWN_NATURES:
        assembler.nature_issues.append(
            {
                "ligne": int(ligne),
                "code": siren,
                "nature": hint,
                "perimetre": pid,
                "motif": f"nature juridique « {hint} » inconnue ; le SIREN désigne "
                f"{_describe(resolver, level, unit)}, retenu",
            }
        )
    elif hint and not _nature_matches(hint, level):
        assembler.nature_issues.append(
            {
                "ligne": int(ligne),
                "code": siren,
                "nature": hint,
                "perimetre": pid,
                "motif": f"nature juridique « {hint} » mais le SIREN désigne "
                f"{_describe(resolver, level, unit)}, retenu comme tel",
            }
        )
    assembler.add(pid, level, unit, ligne, siren)


def _supra_ept(resolver: _Resolver, row: dict, level: str, unit: str) -> tuple[str, str]:
    """A row of the Métropole du Grand Paris whose supra groupement is one of its EPTs."""
    supra = normalise_siren(row.get("siren_grp_supra", ""))
    if supra in resolver.ept_members and resolver.epci_of_ept.get(supra) == unit:
        return "ept", supra
    return level, unit


def _nature_matches(nature: str, level: str) -> bool:
    if level in {"epci", "ancien_epci"}:
        return nature in EPCI_NATURES
    if level == "ept":
        return nature == "EPT"
    return nature == "COM"
