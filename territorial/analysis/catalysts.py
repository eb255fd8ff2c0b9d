"""Territorial catalysts ("catalyseurs territoriaux"): placement, counts, densities, gaps.

A catalyst list is a user table with one row per catalyst: a name, a kind (association,
entreprise, collectivité, acteur académique) and a location given by a commune INSEE code,
by coordinates (latitude/longitude) or by a postcode. :func:`load_catalysts` places every
row in a current commune and reports, row by row, what it could not place and why.

Placement rules
---------------
1. **Commune code** (column ``code_commune``, ``insee``, ``codgeo``...): normalised with
   :meth:`~territorial.geo.geography.Geography.resolve_communes` (lost leading zero,
   arrondissements of Paris/Lyon/Marseille, delegated, associated and old communes).
2. Else **coordinates** (``latitude``/``longitude``, decimal comma allowed, WGS84 degrees
   or Lambert-93 metres): point in polygon on the detailed commune contours
   (:attr:`~territorial.geo.geography.Geography.detail_geometry`, ``shapely.STRtree``). A row
   whose two values only fall in France once swapped is placed and reported as swapped;
   a point in no commune (at sea, abroad) is reported, never dropped silently.
3. Else **postcode** (``code_postal``, ``cp``), through the shipped real table
   ``data/geo/code_postal.parquet`` (see :mod:`territorial.geo.postcodes`). A postcode
   shared by several communes is reported as ambiguous and the row stays unplaced.

When several locations are given, the first usable one places the row and the others are
checked against it: a disagreement is reported, the commune code always wins.

Each catalyst gets a point: its own coordinates when they lie in its commune, otherwise the
representative point of its commune's detailed contour. Distances (:func:`gaps`,
:func:`nearest`) are measured between such points in Lambert-93 (EPSG:2154) in
metropolitan France and in the UTM projection of each overseas région, and only between a
territory and the catalysts of the same part of France.

Examples
--------
>>> from territorial import load_geography
>>> geo = load_geography()
>>> data = "nom;type;code_commune\\nA;Associations;1001\\nB;Université;75108\\n".encode()
>>> catalysts, report = load_catalysts(data, geo, name="liste.csv")
>>> catalysts.table[["nom", "type", "commune", "placement"]].values.tolist()
[['A', 'association', '01001', 'code'], ['B', 'academique', '75056', 'code']]
>>> report.placed, catalysts.fictional
(2, False)
>>> from territorial.analysis.catalyst_density import catalyst_counts
>>> int(catalyst_counts(catalysts, geo, "departement")["75"])
1
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from territorial.analysis.catalyst_places import _place
from territorial.geo.geography import Geography
from territorial.geo.search import fold
from territorial.indicators.table_base import RawTable, TableError, check_row_limit
from territorial.indicators.tables import read_table
from territorial.text.formatting import count_text

__all__ = ["CatalystReport", "Catalysts", "KINDS", "PLACEMENTS", "load_catalysts", "match_kind"]

MAX_CATALYST_ROWS = 20_000
"""Rows of a catalyst list at most (each row is placed one by one; about 350 catalysts)."""


KINDS = {
    "association": "Association",
    "entreprise": "Entreprise",
    "collectivite": "Collectivité",
    "academique": "Acteur académique",
    "autre": "Autre",
}

_PLURALS = {
    "association": "Associations",
    "entreprise": "Entreprises",
    "collectivite": "Collectivités",
    "academique": "Acteurs académiques",
    "autre": "Autres",
}

PLACEMENTS = ("code", "coordonnées", "code postal")

FRAGILITY_PRESET = "Isolement et accès aux services"

# Keywords of each kind, matched as whole words (or word starts) in the folded text; the
# keyword that appears first in the text wins ("Association des maires" → association).
_KIND_WORDS = {
    "association": r"assoc\w*|assos?",
    "entreprise": r"entreprises?|societes?|sarl|sasu?|eurl|scop|scic|pme|tpe|eti|start ?ups?",
    "collectivite": (
        r"collectivit\w*|communes?|mairies?|intercommunal\w*|communautes?|epci|metropoles?"
        r"|departement\w*|regions?|regional\w*"
    ),
    "academique": (
        r"academi\w*|universit\w*|ecoles?|laboratoires?|labos?|recherches?"
        r"|enseignement superieur"
    ),
    "autre": r"autres?|divers",
}

_KIND_RE = {kind: re.compile(rf"\b(?:{words})\b") for kind, words in _KIND_WORDS.items()}

# Header patterns (on folded headers: lower case, no accents, "_" → " ").
_COLUMN_PATTERNS = {
    "fictif": r"\bficti(f|ve|fs|ves)\b|\bfictional\b",
    "code_postal": r"\bcode postal\b|\bcodepostal\b|^cp\b|\bcp$|\bpostal\b|\bzip",
    "latitude": r"^lat\b|\blatitude\b|^y$|^y wgs|^coord\w* y$",
    "longitude": r"^lon\b|^long\b|^lng\b|\blongitude\b|^x$|^x wgs|^coord\w* x$",
    "commune": r"insee|codgeo|depcom|\bcog\b|^code com\b|\bcode commune\b|^com$|^code geo",
    "type": r"^type|\btype\b|\bnature\b|\bcategor\w*|\bporteur\b|\bstatut\b|\bfamille\b",
    "nom": r"^nom\b|\bnom\b|\bname\b|\bstructure\b|\borganisme\b|\braison sociale\b"
    r"|\bdenomination\b|\bintitule\b|\blibelle\b",
}

_NOT_A_NAME = re.compile(r"commune|ville|departement|region|epci|postal|type|nature")

_YES = frozenset({"oui", "o", "vrai", "true", "1", "yes", "y", "x", "fictif", "fictive"})


# --------------------------------------------------------------------------- kinds
def match_kind(text: object) -> str | None:
    """Kind key for a free-text kind, or ``None`` when it is not recognised.

    Case, accents and plurals are ignored. Only obvious words count: academic actors are
    recognised from *académique*, *université*, *école*, *laboratoire* and *recherche*.
    An empty text gives ``"autre"``.

    Examples
    --------
    >>> match_kind("Collectivités locales"), match_kind("Université de Lille")
    ('collectivite', 'academique')
    >>> match_kind("ASSOCIATION des maires"), match_kind("Coopérative"), match_kind("")
    ('association', None, 'autre')
    """
    folded = fold("" if text is None or text != text else str(text))
    if not folded:
        return "autre"
    if folded in KINDS:
        return folded
    best = None
    for kind, pattern in _KIND_RE.items():
        found = pattern.search(folded)
        if found and (best is None or found.start() < best[0]):
            best = (found.start(), kind)
    return best[1] if best else None


# --------------------------------------------------------------------------- data classes
@dataclass
class Catalysts:
    """A placed catalyst list.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per row of the file: ``ligne`` (line number in the file), ``nom``,
        ``type`` (key of :data:`KINDS`), ``type_libelle``, ``commune`` (current INSEE code,
        missing when unplaced), ``nom_commune``, ``longitude`` and ``latitude`` (WGS84),
        ``point`` (``"coordonnées"`` when they are the file's own, ``"commune"`` when they
        are the representative point of the commune), ``placement`` (``"code"``,
        ``"coordonnées"`` or ``"code postal"``, missing when unplaced) and ``fictif``.
    name : str
        Name of the list (the file name by default).
    fictional : bool
        True when the source says the list is fictional (file name containing "fictif",
        or a ``fictif`` column set to *oui*).
    """

    table: pd.DataFrame
    name: str
    fictional: bool = False

    @property
    def placed(self) -> pd.DataFrame:
        """Rows placed in a commune."""
        return self.table[self.table["commune"].notna()]


@dataclass
class CatalystReport:
    """What :func:`load_catalysts` did, row by row, in numbers and in French."""

    source_name: str
    rows_read: int
    columns: dict[str, str] = field(default_factory=dict)
    placed: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    unplaced: list[dict] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    unknown_kinds: list[dict] = field(default_factory=list)
    missing_kinds: int = 0
    remapped: list[dict] = field(default_factory=list)
    unknown_codes: list[dict] = field(default_factory=list)
    ambiguous_postcodes: list[dict] = field(default_factory=list)
    unknown_postcodes: list[dict] = field(default_factory=list)
    outside_france: list[dict] = field(default_factory=list)
    unreadable_coordinates: list[dict] = field(default_factory=list)
    swapped: list[dict] = field(default_factory=list)
    lambert93: int = 0
    disagreements: list[dict] = field(default_factory=list)
    overseas: int = 0
    duplicates: list[dict] = field(default_factory=list)
    fictional: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every row was placed in a commune."""
        return not self.unplaced

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (``complete`` included)."""
        return {**asdict(self), "complete": self.complete}

    def summary_fr(self) -> list[str]:
        """The report in plain French, one sentence per fact.

        Examples
        --------
        >>> CatalystReport("t.csv", 2, placed=2, by_method={"code": 2}).summary_fr()[:2]
        ['2 lignes lues dans « t.csv ».', '2 catalyseurs localisés dans une commune : 2 par code commune.']
        """
        lines = []
        if self.fictional:
            lines.append("LISTE FICTIVE : ces catalyseurs n'existent pas (données d'exemple).")
        lines.append(
            f"{count_text(self.rows_read, 'ligne lue', 'lignes lues')} dans « {self.source_name} »."
        )
        methods = {"code": "par code commune", "coordonnées": "par coordonnées"}
        methods["code postal"] = "par code postal"
        detail = ", ".join(f"{n} {methods[m]}" for m, n in self.by_method.items() if n)
        lines.append(
            f"{count_text(self.placed, 'catalyseur localisé', 'catalyseurs localisés')} dans une commune"
            + (f" : {detail}." if detail else ".")
        )
        if self.unplaced:
            reasons = pd.Series([_reason_kind(u["raison"]) for u in self.unplaced]).value_counts()
            detail = " ; ".join(f"{n} : {reason}" for reason, n in reasons.items())
            lines.append(
                f"{count_text(len(self.unplaced), 'ligne NON localisée', 'lignes NON localisées')} — {detail}."
            )
        if self.remapped:
            lines.append(
                f"{count_text(len(self.remapped), 'code commune remplacé', 'codes communes remplacés')} "
                "par le code actuel "
                "(zéro initial, arrondissement, commune déléguée ou ancien code)."
            )
        if self.unknown_codes:
            lines.append(
                f"{count_text(len(self.unknown_codes), 'code commune inconnu', 'codes communes inconnus')}."
            )
        if self.swapped:
            lines.append(
                f"{count_text(len(self.swapped), 'ligne')} avec latitude et longitude inversées : corrigées."
            )
        if self.lambert93:
            lines.append(
                f"{count_text(self.lambert93, 'coordonnée en Lambert-93 convertie', 'coordonnées en Lambert-93 converties')} en degrés."
            )
        if self.outside_france:
            lines.append(
                f"{count_text(len(self.outside_france), 'point')} hors de toute commune française "
                "(en mer ou à l'étranger) : signalés ligne par ligne."
            )
        if self.unreadable_coordinates:
            lines.append(
                f"{count_text(len(self.unreadable_coordinates), 'ligne')} aux coordonnées illisibles "
                "(ni nombre décimal ni Lambert-93)."
            )
        if self.ambiguous_postcodes:
            lines.append(
                f"{count_text(len(self.ambiguous_postcodes), 'code postal commun', 'codes postaux communs')} "
                "à plusieurs communes : "
                "ligne non localisée faute de code commune ou de coordonnées."
            )
        if self.unknown_postcodes:
            lines.append(
                f"{count_text(len(self.unknown_postcodes), 'code postal inconnu', 'codes postaux inconnus')}."
            )
        if self.disagreements:
            lines.append(
                f"{count_text(len(self.disagreements), 'ligne')} dont les localisations se contredisent : "
                "le code commune (ou à défaut les coordonnées) a été gardé."
            )
        if self.kinds:
            kinds = ", ".join(
                f"{n} {(_PLURALS[k] if n > 1 else KINDS[k]).lower()}"
                for k, n in self.kinds.items()
                if n
            )
            lines.append(f"Types : {kinds}.")
        if self.unknown_kinds:
            values = sorted({u["valeur"] for u in self.unknown_kinds})
            shown = ", ".join(f"« {v} »" for v in values[:5])
            more = f" et {len(values) - 5} autres" if len(values) > 5 else ""
            lines.append(
                f"{count_text(len(self.unknown_kinds), 'type non reconnu, classé', 'types non reconnus, classés')} « Autre » : {shown}{more}."
            )
        if self.missing_kinds:
            lines.append(
                f"{count_text(self.missing_kinds, 'ligne sans type, classée', 'lignes sans type, classées')} « Autre »."
            )
        if self.overseas:
            lines.append(
                f"{count_text(self.overseas, 'catalyseur')} en outre-mer : visibles avec le périmètre "
                "d'étude « France entière »."
            )
        if self.duplicates:
            lines.append(
                f"{count_text(len(self.duplicates), 'doublon possible', 'doublons possibles')} (même nom, même commune) : "
                "gardés, à vérifier."
            )
        lines.extend(self.notes)
        return lines


def _reason_kind(reason: str) -> str:
    """Reason without the row's own value, to group reasons in a summary."""
    return re.sub(r"\s*«[^»]*»", "", reason).split(" (")[0]


# --------------------------------------------------------------------------- loading
def _detect_columns(raw: RawTable) -> dict[str, str]:
    """Role → column: ``nom``, ``type``, ``commune``, ``code_postal``, ``latitude``..."""
    folded = {column: fold(column) for column in raw.frame.columns}
    found: dict[str, str] = {}
    for role, pattern in _COLUMN_PATTERNS.items():
        regex = re.compile(pattern)
        for column, name in folded.items():
            if column in found.values() or not regex.search(name):
                continue
            if role == "type" and re.search(r"\bnom\b|\bname\b", name):
                continue
            if role == "nom" and _NOT_A_NAME.search(name):
                continue
            found[role] = column
            break
    return found


def _commune_column(raw: RawTable, geo: Geography, taken: Iterable[str]) -> str | None:
    """A column simply named like "commune" or "code" that holds commune codes."""
    for column in raw.frame.columns:
        if column in taken or fold(column) not in {"commune", "code", "code insee", "com"}:
            continue
        values = raw.frame[column]
        sample = values[values != ""].head(200)
        if len(sample) and geo.resolve_communes(sample)["code"].notna().mean() >= 0.5:
            return column
    return None


def load_catalysts(
    source, geo: Geography, name: str | None = None
) -> tuple[Catalysts, CatalystReport]:
    """Read a catalyst list and place every row in a current commune.

    Parameters
    ----------
    source : str, pathlib.Path, bytes, binary file-like or RawTable
        The file (CSV, Excel or Parquet, read by :func:`territorial.indicators.tables.read_table`).
    geo : Geography
        The geography (:func:`territorial.load_geography`).
    name : str, optional
        File name used for the format, in messages and as the list's name.

    Returns
    -------
    catalysts : Catalysts
        Every row of the file, placed or not (see :class:`Catalysts`).
    report : CatalystReport
        Placement by method, unplaced rows with their reason, kinds, remapped codes,
        ambiguous postcodes, points outside France, disagreements.

    Raises
    ------
    TableError
        Unreadable file, no location column, or no row placed at all (French message).

    Examples
    --------
    >>> from territorial import load_geography
    >>> data = b"nom;cp;lat;lon\\nA;75008;;\\nB;;48,8606;2,3376\\nC;01400;;\\n"
    >>> catalysts, report = load_catalysts(data, load_geography(), name="t.csv")
    >>> catalysts.table["placement"].tolist()
    ['code postal', 'coordonnées', None]
    >>> report.ambiguous_postcodes[0]["ligne"], len(report.unplaced)
    (4, 1)
    """
    raw = source if isinstance(source, RawTable) else read_table(source, name)
    check_row_limit(raw, MAX_CATALYST_ROWS, "une liste de catalyseurs")
    name = name or raw.source_name
    frame = raw.frame
    columns = _detect_columns(raw)
    if "commune" not in columns:
        found = _commune_column(raw, geo, columns.values())
        if found:
            columns["commune"] = found
    has_coords = "latitude" in columns and "longitude" in columns
    if not ({"commune", "code_postal"} & set(columns) or has_coords):
        listed = ", ".join(f"« {c} »" for c in frame.columns)
        raise TableError(
            f"« {name} » n'a aucune colonne pour localiser les catalyseurs. Il faut un code "
            "commune INSEE (colonne « code_commune »), des coordonnées (colonnes « latitude » "
            f"et « longitude ») ou un code postal (colonne « code_postal »). Colonnes lues : "
            f"{listed}."
        )
    report = CatalystReport(name, len(frame), columns=dict(columns))
    for role in ("latitude", "longitude"):
        if role in columns and not has_coords:
            report.notes.append(
                f"Colonne « {columns[role]} » ignorée : il faut à la fois une latitude et "
                "une longitude."
            )
    if "nom" not in columns:
        report.notes.append("Aucune colonne de nom : les catalyseurs sont nommés par leur ligne.")
    if "type" not in columns:
        report.notes.append("Aucune colonne de type : tous les catalyseurs sont classés « Autre ».")

    lines = frame.index.to_numpy(dtype=np.int64)
    names = _names(frame, columns.get("nom"), lines)
    kinds = _kinds(frame, columns.get("type"), lines, report)
    fictif_rows, fictional = _fictional(frame, columns.get("fictif"), name)
    report.fictional = fictional

    placement = _place(frame, columns, geo, names, lines, report, has_coords)
    table = pd.DataFrame(
        {
            "ligne": lines,
            "nom": names,
            "type": kinds,
            "type_libelle": [KINDS[k] for k in kinds],
            **placement,
            "fictif": fictif_rows,
        }
    )
    commune_names = geo.communes.set_index("code")["nom"]
    table.insert(5, "nom_commune", table["commune"].map(commune_names))
    table["commune"] = table["commune"].astype(object).where(table["commune"].notna(), None)
    table["placement"] = table["placement"].astype(object).where(table["placement"].notna(), None)

    placed = table["commune"].notna()
    report.placed = int(placed.sum())
    report.by_method = {m: int((table["placement"] == m).sum()) for m in PLACEMENTS}
    report.kinds = {k: int((table["type"] == k).sum()) for k in KINDS}
    outre_mer = geo.communes.set_index("code")["outre_mer"]
    report.overseas = int(table.loc[placed, "commune"].map(outre_mer).fillna(False).sum())
    names = table.loc[placed, "nom"]
    folded = names.map(dict(zip(pd.unique(names), map(fold, pd.unique(names)), strict=True)))
    dup_key = folded + "|" + table.loc[placed, "commune"]
    repeated = table.loc[placed][dup_key.duplicated(keep=False).to_numpy()]
    for _, rows in repeated.groupby(dup_key[repeated.index])["ligne"]:
        first = table.loc[rows.index[0]]
        report.duplicates.append(
            {"nom": first["nom"], "commune": first["commune"], "lignes": rows.tolist()}
        )
    if fictional and not fictif_rows.all():
        report.notes.append(
            f"{int(fictif_rows.sum())} lignes sur {len(table)} sont marquées fictives : "
            "toute la liste est traitée comme FICTIVE."
        )
    if report.placed == 0:
        reasons = pd.Series([_reason_kind(u["raison"]) for u in report.unplaced])
        detail = " ; ".join(f"{n} : {r}" for r, n in reasons.value_counts().items())
        raise TableError(f"Aucune ligne de « {name} » n'a pu être localisée ({detail}).")
    return Catalysts(table, name, fictional), report


def _names(frame: pd.DataFrame, column: str | None, lines: np.ndarray) -> list[str]:
    if column is None:
        return [f"Catalyseur ligne {line}" for line in lines]
    values = frame[column].astype(str).str.strip()
    return [value or f"(sans nom, ligne {line})" for value, line in zip(values, lines, strict=True)]


def _kinds(
    frame: pd.DataFrame, column: str | None, lines: np.ndarray, report: CatalystReport
) -> list[str]:
    if column is None:
        return ["autre"] * len(frame)
    out = []
    values = frame[column].astype(str).tolist()
    known = {value: match_kind(value) for value in set(values)}  # few distinct kinds
    for value, line in zip(values, lines, strict=True):
        kind = known[value]
        if not value.strip():
            report.missing_kinds += 1
        if kind is None:
            report.unknown_kinds.append({"ligne": int(line), "valeur": value.strip()})
            kind = "autre"
        out.append(kind)
    return out


def _fictional(frame: pd.DataFrame, column: str | None, name: str) -> tuple[np.ndarray, bool]:
    by_name = bool(re.search(r"fictif|fictive|fictional", fold(Path(name).name)))
    if column is None:
        rows = np.zeros(len(frame), dtype=bool)
    else:
        rows = frame[column].map(lambda v: fold(v) in _YES).to_numpy(dtype=bool)
    fictional = by_name or bool(rows.any())
    if by_name:
        rows = np.ones(len(frame), dtype=bool)
    return rows, fictional
