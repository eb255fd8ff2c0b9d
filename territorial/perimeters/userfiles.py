"""A user's perimeter file (one row per member, any code column) read into a :class:`PerimeterSet`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from territorial.geo.codes import clean_cell, normalise_commune_code, normalise_siren
from territorial.geo.search import fold
from territorial.indicators.table_base import RawTable, TableError, check_row_limit
from territorial.indicators.tables import read_table

if TYPE_CHECKING:
    from territorial.geo.geography import Geography
from territorial.perimeters.assembly import _Assembler, _siren_ok
from territorial.perimeters.model import MAX_PERIMETER_ROWS, PerimeterSet
from territorial.perimeters.report import ValidationReport

__all__ = ["load_user_perimeters", "slugify"]


_USER_LAYOUT_LABEL = "table à deux colonnes (code d'EPCI ou de commune → nom du périmètre)"

_COMMUNE_RE = re.compile(r"\d{5}|2[AB]\d{3}")


def _looks_like_code(value: str) -> bool:
    if not value:
        return False
    if _siren_ok(normalise_siren(value)):
        return True
    return bool(_COMMUNE_RE.fullmatch(normalise_commune_code(value)))


def _code_share(values: list[str]) -> float:
    filled = [v for v in values if v]
    return sum(map(_looks_like_code, filled)) / len(filled) if filled else 0.0


def slugify(name: str) -> str:
    """Stable perimeter id from a name: ``"Alliance des Vallées"`` → ``"alliance-des-vallees"``.

    >>> slugify("  Pôle Sud-Est & Co ")
    'pole-sud-est-co'
    """
    words = re.sub(r"[^a-z0-9]+", " ", fold(name)).split()
    return "-".join(words) or "perimetre"


def load_user_perimeters(
    source,
    geo: Geography,
    name: str,
    *,
    filename: str | None = None,
    sheet: str | int | None = None,
) -> tuple[PerimeterSet, ValidationReport]:
    """Read a workshop's own perimeters: a table of code → perimeter name.

    The code column (detected: the column whose cells look most like codes) holds EPCI
    SIRENs (9 digits; an EPT or a commune SIREN is accepted too) or commune INSEE codes,
    normalised with ``geo.resolve_commune`` (lost leading zero, arrondissements, delegated
    communes, old codes). The other column holds the perimeter names; ids are made from
    the names (:func:`slugify`), names are kept. A set may cover only part of France:
    the communes not covered stay out of it, and the report gives the coverage.

    Parameters
    ----------
    source : str, Path, bytes or binary file-like
        The table (CSV, Excel or Parquet).
    geo : Geography
        The geography the codes are matched against.
    name : str
        Name of the set shown to the user.
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
        Unreadable file, fewer than two columns, no code column or no name column.
    """
    raw = read_table(source, filename, sheet=sheet)
    return _user_from_raw(raw, geo, name)


def _user_columns(raw: RawTable) -> tuple[str, str, list[str]]:
    frame = raw.frame
    columns = list(frame.columns)
    if len(columns) < 2:
        raise TableError(
            f"Le fichier « {raw.source_name} » doit avoir deux colonnes : le code (SIREN "
            "d'EPCI ou code commune INSEE) et le nom du périmètre. Une seule colonne a été "
            f"trouvée : « {columns[0] if columns else ''} »."
        )
    shares = {c: _code_share([clean_cell(v) for v in frame[c].tolist()]) for c in columns}
    code_column = max(columns, key=lambda c: shares[c])
    if shares[code_column] < 0.5:
        raise TableError(
            f"Le fichier « {raw.source_name} » n'a pas de colonne de codes : il faut une "
            "colonne de SIREN d'EPCI (9 chiffres) ou de codes communes INSEE (5 caractères). "
            f"Colonnes trouvées : {', '.join(f'« {c} »' for c in columns)}."
        )
    others = [c for c in columns if c != code_column and shares[c] < 0.5]
    if not others:
        raise TableError(
            f"Le fichier « {raw.source_name} » n'a pas de colonne de noms de périmètres : "
            "à côté de la colonne des codes, il faut une colonne donnant le nom du périmètre "
            "de chaque code."
        )
    name_column = max(others, key=lambda c: ((frame[c] != "").sum(), -columns.index(c)))
    ignored = [c for c in columns if c not in (code_column, name_column)]
    return code_column, name_column, ignored


def _user_from_raw(
    raw: RawTable, geo: Geography, name: str
) -> tuple[PerimeterSet, ValidationReport]:
    check_row_limit(raw, MAX_PERIMETER_ROWS, "un fichier de périmètres")
    code_column, name_column, ignored = _user_columns(raw)
    frame = raw.frame
    rows = list(
        zip(
            frame.index.tolist(),
            [clean_cell(v) for v in frame[code_column].tolist()],
            [" ".join(clean_cell(v).split()) for v in frame[name_column].tolist()],
            strict=True,
        )
    )
    notes = list(raw.notes)
    if _looks_like_code(clean_cell(code_column)) and not _looks_like_code(name_column):
        rows.insert(0, (raw.header_row, clean_cell(code_column), " ".join(name_column.split())))
        notes.append(
            f"Pas de ligne d'en-tête : la ligne {raw.header_row} a été lue comme une donnée."
        )
    else:
        notes.append(
            f"Colonne des codes : « {code_column} » ; colonne des noms : « {name_column} »."
        )
    if ignored:
        notes.append("Colonnes ignorées : " + ", ".join(f"« {c} »" for c in ignored) + ".")
    assembler = _Assembler(geo, "utilisateur")
    resolver = assembler.resolver
    ids: dict[str, str] = {}
    used: set[str] = set()
    for ligne, code, label in rows:
        if not label:
            assembler.unknown(ligne, code, "nom de périmètre manquant : ligne ignorée")
            continue
        if label not in ids:
            base = slugify(label)
            pid, n = base, 2
            while pid in used:
                pid, n = f"{base}-{n}", n + 1
            if pid != base:
                notes.append(
                    f"Le périmètre « {label} » reçoit l'identifiant « {pid} » "
                    f"(« {base} » désigne déjà un autre nom)."
                )
            ids[label] = pid
            used.add(pid)
        pid = ids[label]
        assembler.declare(pid, label, ligne)
        if not code:
            assembler.unknown(ligne, code, "code manquant : ligne ignorée", pid)
            continue
        siren = normalise_siren(code)
        if _siren_ok(siren):
            hit = resolver.by_siren(siren, None)
            if hit is None:
                assembler.unknown(
                    ligne,
                    siren,
                    "SIREN inconnu du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée",
                    pid,
                )
                continue
            assembler.add(pid, *hit, ligne, siren)
            continue
        resolution = geo.resolve_commune(code)
        if resolution.code is None:
            assembler.unknown(
                ligne,
                code,
                "code inconnu : ni SIREN d'EPCI (9 chiffres) ni code commune INSEE actuel "
                "ou ancien : ligne ignorée",
                pid,
            )
            continue
        if resolution.how != "exact" or resolution.code != code:
            assembler.remapped_codes.append(
                {
                    "ligne": int(ligne),
                    "code": code,
                    "code_retenu": resolution.code,
                    "nom": resolver.commune_names.get(resolution.code, ""),
                    "motif": resolution.label or "code normalisé",
                }
            )
        assembler.add(pid, "commune", resolution.code, ligne, code)
    membership, table, detached = assembler.build()
    pset = PerimeterSet(
        name=name,
        kind="utilisateur",
        membership=membership,
        perimetres=table,
        source={
            "fichier": raw.source_name,
            "disposition": "deux_colonnes",
            "description": "Périmètres définis par l'utilisateur (atelier).",
        },
    )
    report = ValidationReport(
        source_name=raw.source_name,
        kind="utilisateur",
        layout="deux_colonnes",
        layout_label=_USER_LAYOUT_LABEL,
    )
    report.notes = notes
    assembler.report(report, table, detached, len(frame))
    return pset, report
