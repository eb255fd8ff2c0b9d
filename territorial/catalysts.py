"""Territorial catalysts ("catalyseurs territoriaux"): placement, counts, densities, gaps.

A catalyst list is a user table with one row per catalyst: a name, a kind (association,
entreprise, collectivité, acteur académique) and a location given by a commune INSEE code,
by coordinates (latitude/longitude) or by a postcode. :func:`load_catalysts` places every
row in a current commune and reports, row by row, what it could not place and why.

Placement rules
---------------
1. **Commune code** (column ``code_commune``, ``insee``, ``codgeo``...): normalised with
   :meth:`~territorial.geography.Geography.resolve_communes` (lost leading zero,
   arrondissements of Paris/Lyon/Marseille, delegated, associated and old communes).
2. Else **coordinates** (``latitude``/``longitude``, decimal comma allowed, WGS84 degrees
   or Lambert-93 metres): point in polygon on the detailed commune contours
   (:attr:`~territorial.geography.Geography.detail_geometry`, ``shapely.STRtree``). A row
   whose two values only fall in France once swapped is placed and reported as swapped;
   a point in no commune (at sea, abroad) is reported, never dropped silently.
3. Else **postcode** (``code_postal``, ``cp``), through the shipped real table
   ``data/geo/code_postal.parquet`` (see :mod:`territorial.postcodes_build`). A postcode
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
>>> int(catalyst_counts(catalysts, geo, "departement")["75"])
1
"""

from __future__ import annotations

import functools
import re
import sys
import weakref
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from territorial.codes import clean_cell
from territorial.formatting import format_number
from territorial.geography import LEVEL_LABELS, Geography
from territorial.jsonout import json_text
from territorial.search import fold
from territorial.tables import RawTable, TableError, check_row_limit, parse_numbers, read_table

__all__ = [
    "KINDS",
    "PLACEMENTS",
    "CatalystReport",
    "Catalysts",
    "catalyst_counts",
    "cli_catalysts",
    "densities",
    "gaps",
    "load_catalysts",
    "lookup_postcodes",
    "match_kind",
    "nearest",
]

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
_POSTCODE_RE = re.compile(r"(\d{1,2}) ?(\d{3})(?: *cedex.*)?", re.IGNORECASE)
# Lambert-93 (EPSG:2154) bounds of metropolitan France, with a margin, in metres.
_L93_X = (0.0, 1_300_000.0)
_L93_Y = (6_000_000.0, 7_200_000.0)
_OVERSEAS_CRS = {"01": 5490, "02": 5490, "03": 2972, "04": 2975, "06": 4471}
_METRO_CRS = 2154

_TREES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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


# --------------------------------------------------------------------------- postcodes
@functools.lru_cache(maxsize=1)
def _postcode_index() -> dict[str, tuple[str, ...]]:
    from territorial.postcodes_build import load_postcode_table

    table = load_postcode_table()
    return {
        postcode: tuple(group)
        for postcode, group in table.groupby("code_postal", sort=False)["commune"]
    }


def _clean_postcode(value: str) -> str | None:
    """``"1000"`` → ``"01000"``, ``"75 008 CEDEX"`` → ``"75008"``; ``None`` if not a postcode."""
    match = _POSTCODE_RE.fullmatch(clean_cell(value).replace("\u00a0", " ").strip())
    return (match.group(1) + match.group(2)).zfill(5) if match else None


def lookup_postcodes(value: object) -> tuple[str, ...]:
    """Current communes served by a postcode (empty tuple when unknown).

    Examples
    --------
    >>> lookup_postcodes("75008"), lookup_postcodes("1000")
    (('75056',), ('01053', '01344'))
    >>> len(lookup_postcodes("01400")) > 1
    True
    """
    code = _clean_postcode(str(value))
    return _postcode_index().get(code, ()) if code else ()


# --------------------------------------------------------------------------- geometry
def _commune_tree(geo: Geography) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
    """STRtree over the detailed commune contours, their codes and geometries (cached)."""
    if geo not in _TREES:
        detail = geo.detail_geometry
        detail = detail[detail.notna() & ~detail.is_empty]
        geoms = detail.to_numpy()
        _TREES[geo] = (shapely.STRtree(geoms), detail.index.to_numpy(dtype=object), geoms)
    return _TREES[geo]


def locate_points(geo: Geography, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Commune code holding each WGS84 point (``None`` when none does).

    A point on a border goes to the commune with the smallest code.

    Examples
    --------
    >>> from territorial import load_geography
    >>> locate_points(load_geography(), np.array([2.3376, 7.0]), np.array([48.8606, 50.0]))
    array(['75056', None], dtype=object)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), None, dtype=object)
    valid = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(valid):
        return out
    tree, codes, _ = _commune_tree(geo)
    points = shapely.points(lon[valid], lat[valid])
    inputs, hits = tree.query(points, predicate="intersects")
    if len(inputs):
        order = np.lexsort((hits, inputs))
        inputs, hits = inputs[order], hits[order]
        first = np.unique(inputs, return_index=True)[1]
        out[valid[inputs[first]]] = codes[hits[first]]
    return out


def _commune_points(geo: Geography, communes: Iterable[str]) -> pd.DataFrame:
    """Representative point (lon, lat) of the detailed contour of each commune."""
    detail = geo.detail_geometry
    codes = pd.Index(sorted(set(communes))).intersection(detail.index)
    geoms = detail.reindex(codes)
    present = geoms.notna().to_numpy()
    points = shapely.point_on_surface(geoms[present].to_numpy())
    frame = pd.DataFrame(
        {"longitude": shapely.get_x(points), "latitude": shapely.get_y(points)},
        index=codes[present],
    )
    return frame


def _zone(region: pd.Series) -> pd.Series:
    """``"metro"`` or the overseas région code, which selects the projected CRS."""
    return region.where(region.isin(list(_OVERSEAS_CRS)), "metro")


def _crs(zone: str) -> int:
    return _OVERSEAS_CRS.get(zone, _METRO_CRS)


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
        lines.append(f"{self.rows_read} lignes lues dans « {self.source_name} ».")
        methods = {"code": "par code commune", "coordonnées": "par coordonnées"}
        methods["code postal"] = "par code postal"
        detail = ", ".join(f"{n} {methods[m]}" for m, n in self.by_method.items() if n)
        lines.append(
            f"{self.placed} catalyseurs localisés dans une commune"
            + (f" : {detail}." if detail else ".")
        )
        if self.unplaced:
            reasons = pd.Series([_reason_kind(u["raison"]) for u in self.unplaced]).value_counts()
            detail = " ; ".join(f"{n} : {reason}" for reason, n in reasons.items())
            lines.append(f"{len(self.unplaced)} lignes NON localisées — {detail}.")
        if self.remapped:
            lines.append(
                f"{len(self.remapped)} codes communes remplacés par le code actuel "
                "(zéro initial, arrondissement, commune déléguée ou ancien code)."
            )
        if self.unknown_codes:
            lines.append(f"{len(self.unknown_codes)} codes communes inconnus.")
        if self.swapped:
            lines.append(
                f"{len(self.swapped)} lignes avec latitude et longitude inversées : corrigées."
            )
        if self.lambert93:
            lines.append(f"{self.lambert93} coordonnées en Lambert-93 converties en degrés.")
        if self.outside_france:
            lines.append(
                f"{len(self.outside_france)} points hors de toute commune française "
                "(en mer ou à l'étranger) : signalés ligne par ligne."
            )
        if self.unreadable_coordinates:
            lines.append(
                f"{len(self.unreadable_coordinates)} lignes aux coordonnées illisibles "
                "(ni nombre décimal ni Lambert-93)."
            )
        if self.ambiguous_postcodes:
            lines.append(
                f"{len(self.ambiguous_postcodes)} codes postaux communs à plusieurs communes : "
                "ligne non localisée faute de code commune ou de coordonnées."
            )
        if self.unknown_postcodes:
            lines.append(f"{len(self.unknown_postcodes)} codes postaux inconnus.")
        if self.disagreements:
            lines.append(
                f"{len(self.disagreements)} lignes dont les localisations se contredisent : "
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
                f"{len(self.unknown_kinds)} types non reconnus, classés « Autre » : {shown}{more}."
            )
        if self.missing_kinds:
            lines.append(f"{self.missing_kinds} lignes sans type, classées « Autre ».")
        if self.overseas:
            lines.append(
                f"{self.overseas} catalyseurs en outre-mer : visibles avec le périmètre "
                "d'étude « France entière »."
            )
        if self.duplicates:
            lines.append(
                f"{len(self.duplicates)} doublons possibles (même nom, même commune) : "
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


def _parse_coordinates(
    frame: pd.DataFrame, lat_col: str | None, lon_col: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats for both columns, and which rows had text that is not a number."""
    if lat_col is None or lon_col is None:
        nan = np.full(len(frame), np.nan)
        return nan, nan.copy(), np.zeros(len(frame), dtype=bool)
    lat, _ = parse_numbers(frame[lat_col])
    lon, _ = parse_numbers(frame[lon_col])
    filled = (frame[lat_col] != "").to_numpy() | (frame[lon_col] != "").to_numpy()
    unreadable = filled & (lat.isna().to_numpy() | lon.isna().to_numpy())
    return lat.to_numpy(dtype=float), lon.to_numpy(dtype=float), unreadable


def _from_lambert93(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert the values that look like Lambert-93 metres (x, y) to WGS84 degrees."""
    metric = (lon >= _L93_X[0]) & (lon <= _L93_X[1]) & (lat >= _L93_Y[0]) & (lat <= _L93_Y[1])
    metric &= (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if metric.any():
        from pyproj import Transformer

        transformer = Transformer.from_crs(_METRO_CRS, 4326, always_xy=True)
        lon, lat = lon.copy(), lat.copy()
        lon[metric], lat[metric] = transformer.transform(lon[metric], lat[metric])
    return lon, lat, metric


def load_catalysts(
    source, geo: Geography, name: str | None = None
) -> tuple[Catalysts, CatalystReport]:
    """Read a catalyst list and place every row in a current commune.

    Parameters
    ----------
    source : str, pathlib.Path, bytes, binary file-like or RawTable
        The file (CSV, Excel or Parquet, read by :func:`territorial.tables.read_table`).
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


def _place(
    frame: pd.DataFrame,
    columns: dict[str, str],
    geo: Geography,
    names: list[str],
    lines: np.ndarray,
    report: CatalystReport,
    has_coords: bool,
) -> dict[str, list]:
    """Commune, point and placement method of every row (see the module docstring)."""
    n = len(frame)
    empty = pd.Series([""] * n, index=frame.index)

    # 1. commune codes
    code_text = frame[columns["commune"]].astype(str).str.strip() if "commune" in columns else empty
    code_values = code_text.tolist()  # fast access in the loops
    resolved = geo.resolve_communes(code_text)
    by_code = resolved["code"].where(code_text != "").to_numpy(dtype=object)
    for i in np.flatnonzero((code_text != "").to_numpy() & pd.isna(by_code)):
        report.unknown_codes.append({"ligne": int(lines[i]), "valeur": code_values[i]})
    changed = pd.notna(by_code) & (resolved["how"] != "exact").to_numpy()
    for i in np.flatnonzero(changed):
        report.remapped.append(
            {
                "ligne": int(lines[i]),
                "valeur": code_values[i],
                "code": by_code[i],
                "regle": resolved["how"].iat[i],
            }
        )

    # 2. coordinates
    lat, lon, unreadable = _parse_coordinates(
        frame, columns.get("latitude") if has_coords else None, columns.get("longitude")
    )
    lon, lat, metric = _from_lambert93(lon, lat)
    report.lambert93 = int(metric.sum())
    by_point = locate_points(geo, lon, lat)
    given = np.isfinite(lon) & np.isfinite(lat)
    retry = np.flatnonzero(given & pd.isna(by_point))
    if len(retry):
        swapped = locate_points(geo, lat[retry], lon[retry])
        for i, commune in zip(retry, swapped, strict=True):
            if commune is not None:
                lon[i], lat[i] = lat[i], lon[i]
                by_point[i] = commune
                report.swapped.append({"ligne": int(lines[i]), "nom": names[i]})

    # 3. postcodes
    cp_text = (
        frame[columns["code_postal"]].astype(str).str.strip() if "code_postal" in columns else empty
    )
    by_postcode = [lookup_postcodes(v) if v else () for v in cp_text]
    cp_values = cp_text.tolist()  # fast access in the loop
    outside_by_line: dict[int, dict] = {}

    communes, methods, points = [], [], []
    for i in range(n):
        line, name = int(lines[i]), names[i]
        postcode = cp_values[i]
        reasons: list[str] = []
        commune = method = None
        if by_code[i] is not None and pd.notna(by_code[i]):
            commune, method = by_code[i], "code"
        elif code_values[i]:
            hint = " — c'est peut-être un code postal" if lookup_postcodes(code_values[i]) else ""
            reasons.append(f"code commune inconnu « {code_values[i]} »{hint}")
        if unreadable[i]:
            report.unreadable_coordinates.append({"ligne": line, "nom": name})
            reasons.append("coordonnées illisibles")
        elif given[i] and by_point[i] is None:
            outside_by_line[line] = {
                "ligne": line,
                "nom": name,
                "latitude": float(lat[i]),
                "longitude": float(lon[i]),
                "localise_par": None,
            }
            report.outside_france.append(outside_by_line[line])
            reasons.append("coordonnées hors de toute commune française (en mer ou à l'étranger)")
        elif given[i] and commune is None:
            commune, method = by_point[i], "coordonnées"
        elif given[i] and by_point[i] != commune:
            report.disagreements.append(
                {
                    "ligne": line,
                    "nom": name,
                    "commune": commune,
                    "selon": "coordonnées",
                    "autre_commune": by_point[i],
                }
            )
        candidates = by_postcode[i]
        if postcode and not candidates:
            report.unknown_postcodes.append({"ligne": line, "valeur": postcode})
            if commune is None:
                reasons.append(f"code postal inconnu « {postcode} »")
        elif candidates and commune is None and len(candidates) == 1:
            commune, method = candidates[0], "code postal"
        elif candidates and commune is None:
            report.ambiguous_postcodes.append(
                {"ligne": line, "nom": name, "code_postal": postcode, "communes": list(candidates)}
            )
            reasons.append(
                f"code postal ambigu « {postcode} » ({len(candidates)} communes possibles)"
            )
        elif candidates and commune not in candidates:
            report.disagreements.append(
                {
                    "ligne": line,
                    "nom": name,
                    "commune": commune,
                    "selon": "code postal",
                    "autre_commune": ", ".join(candidates),
                }
            )
        if commune is not None:
            if line in outside_by_line:
                outside_by_line[line]["localise_par"] = method
        elif not reasons:
            reasons.append("aucune localisation (ni code commune, ni coordonnées, ni code postal)")
        if commune is None:
            report.unplaced.append({"ligne": line, "nom": name, "raison": " ; ".join(reasons)})
        own_point = commune is not None and given[i] and by_point[i] == commune
        points.append((lon[i], lat[i]) if own_point else None)
        communes.append(commune)
        methods.append(method)

    centres = _commune_points(
        geo, [c for c, p in zip(communes, points, strict=True) if c and not p]
    )
    centre_lon, centre_lat = centres["longitude"].to_dict(), centres["latitude"].to_dict()
    longitude, latitude, point_kind = [], [], []
    for commune, point in zip(communes, points, strict=True):
        if point is not None:
            longitude.append(float(point[0]))
            latitude.append(float(point[1]))
            point_kind.append("coordonnées")
        elif commune is not None and commune in centre_lon:
            longitude.append(float(centre_lon[commune]))
            latitude.append(float(centre_lat[commune]))
            point_kind.append("commune")
        else:
            longitude.append(np.nan)
            latitude.append(np.nan)
            point_kind.append(None)
    no_point = [c for c, k in zip(communes, point_kind, strict=True) if c and k is None]
    if no_point:
        report.notes.append(
            f"{len(no_point)} catalyseurs dans une commune sans contour dans la source "
            f"({', '.join(sorted(set(no_point)))}) : comptés, mais sans point sur la carte "
            "ni distance."
        )
    return {
        "commune": communes,
        "longitude": longitude,
        "latitude": latitude,
        "point": point_kind,
        "placement": methods,
    }


# --------------------------------------------------------------------------- counts
def _unit_of_communes(geo: Geography, level: str, communes: pd.Series) -> pd.Series:
    if level == "commune":
        return communes
    if level == "france":
        return pd.Series("FR", index=communes.index)
    hierarchy = geo.hierarchy()
    if level not in hierarchy.columns:
        raise ValueError(f"Niveau inconnu : « {level} »")
    return communes.map(hierarchy[level])


def catalyst_counts(catalysts: Catalysts, geo: Geography, level: str) -> pd.Series:
    """Number of placed catalysts in every unit of ``level`` (all of France, zeros included).

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    geo : Geography
        The geography whose active perimeter set defines the ``perimetre`` level.
    level : str
        ``"commune"``, ``"epci"``, ``"perimetre"``, ``"departement"``, ``"region"`` or
        ``"france"``.

    Returns
    -------
    pandas.Series
        ``n_catalyseurs`` (int) indexed by unit code.

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\nB;42218\\n", geo, "t.csv")
    >>> counts = catalyst_counts(catalysts, geo, "region")
    >>> int(counts["84"]), int(counts.sum()), len(counts)
    (2, 2, 18)
    """
    placed = catalysts.placed["commune"]
    units = _unit_of_communes(geo, level, placed)
    codes = ["FR"] if level == "france" else geo.table(level, "france")["code"]
    index = pd.Index(codes)
    counts = units.value_counts().reindex(index, fill_value=0).astype("int64")
    counts.index.name = "code"
    counts.name = "n_catalyseurs"
    return counts


def densities(catalysts: Catalysts, store, level: str, scope: str = "metropole") -> pd.DataFrame:
    """Catalysts per 100 000 inhabitants and per 1 000 km² in each unit of ``level``.

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    store : territorial.store.IndicatorStore
        Gives ``population`` and ``superficie_km2`` (:meth:`IndicatorStore.values`).
    level : str
        A level of :data:`territorial.store.AGGREGATION_LEVELS`.
    scope : str, default "metropole"
        Study scope (see :func:`territorial.geography.parse_scope`).

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``nom``, ``n_catalyseurs``, ``population``,
        ``superficie_km2``, ``pour_100k_hab`` and ``pour_1000_km2`` (missing when the
        population or the area is zero or unknown).

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.store import IndicatorStore
    >>> geo = load_geography()
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\n", geo, "t.csv")
    >>> table = densities(catalysts, IndicatorStore(geo), "departement")
    >>> int(table.at["42", "n_catalyseurs"]), bool(table.at["42", "pour_100k_hab"] > 0)
    (1, True)
    """
    values = store.values(level, scope)
    counts = catalyst_counts(catalysts, store.geo, level).reindex(values.index, fill_value=0)
    names = {"FR": "France"} if level == "france" else store.geo.names(level)
    population = values["population"].astype(float)
    area = values["superficie_km2"].astype(float)
    table = pd.DataFrame(
        {
            "nom": values.index.map(lambda code: names.get(code, code)),
            "n_catalyseurs": counts.astype("int64"),
            "population": population,
            "superficie_km2": area,
        },
        index=values.index,
    )
    table["pour_100k_hab"] = counts / population.where(population > 0) * 100_000
    table["pour_1000_km2"] = counts / area.where(area > 0) * 1_000
    table.index.name = "code"
    return table


# --------------------------------------------------------------------------- distances
def _catalyst_frame(catalysts: Catalysts, geo: Geography) -> pd.DataFrame:
    """Placed catalysts with a point, and the zone (metro / overseas région) they are in."""
    placed = catalysts.placed
    placed = placed[placed["longitude"].notna() & placed["latitude"].notna()].copy()
    placed["zone"] = _zone(placed["commune"].map(geo.hierarchy()["region"]))
    return placed


def _projected(lon: np.ndarray, lat: np.ndarray, zone: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    transformer = Transformer.from_crs(4326, _crs(zone), always_xy=True)
    x, y = transformer.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def _unit_points(geo: Geography, level: str, scope: str | None) -> pd.DataFrame:
    """Representative point (lon, lat), zone and name of each unit of a level and scope."""
    table = geo.table(level, scope)
    region = table["code"] if level == "region" else table["region"]
    present = table.geometry.notna().to_numpy() & ~table.geometry.is_empty.to_numpy()
    points = np.full(len(table), None, dtype=object)
    points[present] = shapely.point_on_surface(table.geometry.to_numpy()[present])
    return pd.DataFrame(
        {
            "nom": table["nom"].to_numpy(),
            "population": table["population"].to_numpy(dtype=float),
            "longitude": shapely.get_x(points.astype(object)),
            "latitude": shapely.get_y(points.astype(object)),
            "zone": _zone(region).to_numpy(),
        },
        index=pd.Index(table["code"].to_numpy(), name="code"),
    )


def _nearest_catalyst(
    units: pd.DataFrame, catalysts: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) to, and row label of, the nearest catalyst of the same zone."""
    distance = np.full(len(units), np.nan)
    label = np.full(len(units), None, dtype=object)
    for zone in units["zone"].unique():
        rows = np.flatnonzero((units["zone"] == zone).to_numpy() & units["longitude"].notna())
        pool = catalysts[catalysts["zone"] == zone]
        if not len(rows) or pool.empty:
            continue
        ux, uy = _projected(units["longitude"].iloc[rows], units["latitude"].iloc[rows], zone)
        cx, cy = _projected(pool["longitude"], pool["latitude"], zone)
        tree = shapely.STRtree(shapely.points(cx, cy))
        inputs, hits = tree.query_nearest(shapely.points(ux, uy), all_matches=False)
        distance[rows[inputs]] = np.hypot(ux[inputs] - cx[hits], uy[inputs] - cy[hits]) / 1000
        label[rows[inputs]] = pool.index.to_numpy()[hits]
    return distance, label


def gaps(
    catalysts: Catalysts,
    geo: Geography,
    level: str,
    scope: str | None,
    fragile_codes: Iterable[str],
) -> pd.DataFrame:
    """ "Zones blanches": fragile territories with no catalyst inside, farthest first.

    Parameters
    ----------
    catalysts : Catalysts
        From :func:`load_catalysts`.
    geo : Geography
        The geography.
    level : str
        Level of the territories (``"epci"``, ``"departement"``...).
    scope : str
        Study scope; codes outside it are ignored.
    fragile_codes : iterable of str
        Codes of the territories to examine, normally the most fragile quintile
        (``classe == 5``) of :func:`territorial.fragility.fragility`.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code: ``nom``, ``population``, ``distance_km`` (from the unit's
        representative point to the nearest catalyst, both in Lambert-93, or in the
        overseas région's UTM projection), ``catalyseur_proche`` (its name),
        ``commune_catalyseur`` and ``nom_commune_catalyseur``; sorted by distance
        descending (a unit with no catalyst in its part of France comes first, with a
        missing distance).

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;13055\\n", geo, "t.csv")
    >>> table = gaps(catalysts, geo, "departement", "metropole", ["13", "59"])
    >>> table.index.tolist(), table.at["59", "catalyseur_proche"]
    (['59'], 'A')
    >>> round(float(table.at["59", "distance_km"]), -2)
    800.0
    """
    units = _unit_points(geo, level, scope)
    wanted = pd.Index([str(code) for code in fragile_codes]).unique()
    units = units[units.index.isin(wanted)]
    counts = catalyst_counts(catalysts, geo, level)
    units = units[counts.reindex(units.index, fill_value=0).to_numpy() == 0]
    pool = _catalyst_frame(catalysts, geo)
    distance, label = _nearest_catalyst(units, pool)
    table = units[["nom", "population"]].copy()
    table["distance_km"] = distance
    found = pd.Series(label, index=units.index)
    table["catalyseur_proche"] = found.map(pool["nom"])
    table["commune_catalyseur"] = found.map(pool["commune"])
    table["nom_commune_catalyseur"] = found.map(pool["nom_commune"])
    table = table.assign(_missing=table["distance_km"].isna(), _code=table.index)
    table = table.sort_values(["_missing", "distance_km", "_code"], ascending=[False, False, True])
    return table.drop(columns=["_missing", "_code"])


def nearest(
    catalysts: Catalysts, geo: Geography, level: str, code: str, k: int = 5
) -> pd.DataFrame:
    """The ``k`` catalysts nearest to a territory, those inside it first (distance 0).

    Distances go from the territory's representative point to each catalyst's point
    (Lambert-93, or the overseas région's UTM projection), among the catalysts of the same
    part of France.

    Returns
    -------
    pandas.DataFrame
        Columns ``ligne``, ``nom``, ``type_libelle``, ``commune``, ``nom_commune``,
        ``distance_km`` and ``dans_le_territoire``, nearest first.

    Raises
    ------
    ValueError
        Unknown territory code (French message).

    Examples
    --------
    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> catalysts, _ = load_catalysts(b"nom;code_commune\\nA;42218\\nB;69123\\n", geo, "t.csv")
    >>> table = nearest(catalysts, geo, "departement", "42", k=2)
    >>> table["nom"].tolist(), float(table["distance_km"].iat[0]), table["dans_le_territoire"].tolist()
    (['A', 'B'], 0.0, [True, False])
    """
    units = _unit_points(geo, level, "france")
    if code not in units.index:
        raise ValueError(f"Territoire inconnu : « {code} » ({LEVEL_LABELS.get(level, level)})")
    unit = units.loc[[code]]
    zone = unit["zone"].iat[0]
    pool = _catalyst_frame(catalysts, geo)
    pool = pool[pool["zone"] == zone]
    inside = _unit_of_communes(geo, level, pool["commune"]) == code
    if pool.empty or unit["longitude"].isna().iat[0]:
        distance = np.full(len(pool), np.nan)
    else:
        ux, uy = _projected(unit["longitude"], unit["latitude"], zone)
        cx, cy = _projected(pool["longitude"], pool["latitude"], zone)
        distance = np.hypot(cx - ux[0], cy - uy[0]) / 1000
    table = pool[["ligne", "nom", "type_libelle", "commune", "nom_commune"]].copy()
    table["distance_km"] = np.where(inside.to_numpy(), 0.0, distance)
    table["dans_le_territoire"] = inside.to_numpy()
    table["_true"] = distance
    table = table.sort_values(["distance_km", "_true", "ligne"])
    return table.drop(columns="_true").head(k).reset_index(drop=True)


# --------------------------------------------------------------------------- CLI
def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows (NaN → None, numpy scalars → Python)."""
    out = []
    for code, row in frame.iterrows():
        record = {"code": code}
        for key, value in row.items():
            if isinstance(value, (float, np.floating)):
                record[key] = None if np.isnan(value) else round(float(value), 4)
            elif isinstance(value, (np.integer,)):
                record[key] = int(value)
            elif isinstance(value, np.bool_):
                record[key] = bool(value)
            else:
                record[key] = None if value is None or value is pd.NA else value
        out.append(record)
    return out


def _fragile_codes(store, level: str, scope: str) -> tuple[list[str] | None, str]:
    """Codes of the most fragile quintile, or ``None`` and why they are not available."""
    try:
        from territorial.fragility import fragility
    except ImportError:
        return None, (
            "Zones blanches non calculées : le module d'analyse des fragilités "
            "(territorial.fragility) n'est pas disponible."
        )
    try:
        result = fragility(store, level, scope, preset=FRAGILITY_PRESET)
        table = result.table
        codes = (
            table["code"] if "code" in table.columns else pd.Series(table.index, index=table.index)
        )
        most_fragile = (table["classe"] == 5).fillna(False).to_numpy(dtype=bool)
        return sorted(codes[most_fragile].astype(str)), (
            f"Zones blanches parmi le quintile le plus fragile (classe 5) selon le jeu "
            f"d'indicateurs « {FRAGILITY_PRESET} »."
        )
    except Exception as err:  # the CLI still reports placement and densities
        return None, f"Zones blanches non calculées : l'analyse des fragilités a échoué ({err})."


def cli_catalysts(path: str, level: str, scope: str, as_json: bool) -> int:
    """Print the placement report, counts, densities and gaps of a catalyst file.

    Parameters
    ----------
    path : str
        The catalyst file (CSV, Excel or Parquet).
    level : str
        Level of the counts and densities.
    scope : str
        Study scope (``"metropole"``, ``"france"``, ``"region:84"``...).
    as_json : bool
        Print JSON instead of French text.

    Returns
    -------
    int
        0 when the file was read (unplaced rows are listed in the report), 2 when it could
        not be used (French message on stderr).
    """
    from territorial.geography import load_geography
    from territorial.store import IndicatorStore

    try:
        geo = load_geography()
        catalysts, report = load_catalysts(path, geo)
        store = IndicatorStore(geo)
        table = densities(catalysts, store, level, scope)
    except TableError as err:
        print(err.message, file=sys.stderr)
        return 2
    except Exception as err:  # the CLI never shows a traceback
        print(f"« {Path(str(path)).name} » n'a pas pu être traité : {err}", file=sys.stderr)
        return 2
    codes, gap_note = _fragile_codes(store, level, scope)
    gap_table = gaps(catalysts, geo, level, scope, codes) if codes is not None else None
    warning = (
        "FICTIF : cette liste de catalyseurs est fictive, elle ne décrit aucun acteur réel."
        if catalysts.fictional
        else None
    )
    payload = {
        "fictif": catalysts.fictional,
        "avertissement": warning,
        "liste": catalysts.name,
        "niveau": level,
        "perimetre_etude": scope,
        "rapport": report.to_dict(),
        "resume": report.summary_fr(),
        "densites": _records(table),
        "zones_blanches": None if gap_table is None else _records(gap_table),
        "zones_blanches_note": gap_note,
    }
    if as_json:
        print(json_text(payload))
    else:
        print("\n".join(_text_lines(payload, table, gap_table)))
    return 0


def _text_lines(payload: dict, table: pd.DataFrame, gap_table: pd.DataFrame | None) -> list[str]:
    lines = []
    if payload["fictif"]:
        lines += [f"*** {payload['avertissement']} ***", ""]
    lines += payload["resume"]
    level = LEVEL_LABELS.get(payload["niveau"], payload["niveau"])
    shown = table.sort_values(["n_catalyseurs", "pour_100k_hab"], ascending=False).head(20)
    lines += ["", f"Densité par {level.lower()} ({len(table)} territoires, 20 premiers) :"]
    for code, row in shown.iterrows():
        lines.append(
            f"  {code:<10} {str(row['nom'])[:34]:<34} {int(row['n_catalyseurs']):>4} catalyseurs"
            f"  {format_number(row['pour_100k_hab'], 2):>8} / 100 000 hab."
            f"  {format_number(row['pour_1000_km2'], 2):>8} / 1 000 km²"
        )
    lines += ["", payload["zones_blanches_note"]]
    if gap_table is not None:
        n = len(gap_table)
        lines.append(
            f"{n} territoire{'s' if n > 1 else ''} parmi les plus fragiles sans aucun "
            "catalyseur, du plus éloigné au plus proche d'un catalyseur :"
        )
        for code, row in gap_table.head(20).iterrows():
            lines.append(
                f"  {code:<10} {str(row['nom'])[:34]:<34} "
                f"{format_number(row['distance_km'], 1):>7} km de « {row['catalyseur_proche']} »"
            )
    if payload["fictif"]:
        lines += ["", "FICTIF — données d'exemple."]
    return lines
