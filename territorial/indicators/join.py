"""Join a user's indicator table to the territories, with a complete report.

The key column and its level are detected (commune INSEE code, EPCI SIREN, perimeter id,
département or région code; names only as a last resort, and reported as such), codes are
normalised with the core's rules, and every row that does not join is listed with why.

Examples
--------
>>> from territorial import load_geography
>>> from territorial.indicators.tables import read_table
>>> raw = read_table(b"code;valeur\\n1001;12\\n75108;3\\n99999;1\\n", "exemple.csv")
>>> result = join_table(raw, load_geography())
>>> result.report.level, result.report.matched, len(result.report.unmatched)
('commune', 2, 1)
>>> [r["code"] for r in result.report.remapped]
['01001', '75056']
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from territorial.geo.codes import clean_series, code_positions, normalise_series
from territorial.geo.geography import LEVEL_LABELS, Geography
from territorial.geo.search import fold
from territorial.indicators.catalogue import Indicator
from territorial.indicators.cells import Cells
from territorial.indicators.columns import code_like_columns, parse_number_columns
from territorial.indicators.store import UserIndicators
from territorial.indicators.table_base import RawTable, TableError
from territorial.text.formatting import count_text, format_number

__all__ = ["JoinReport", "JoinResult", "KeyGuess", "detect_key", "join_table", "to_user_indicators"]

KEY_LEVELS = ("commune", "epci", "perimetre", "departement", "region")
_HINTS = {
    "commune": r"(codgeo|insee|code_?com|^com$|depcom|code_?commune|cog)",
    "epci": r"(siren|epci|groupement|interco)",
    "perimetre": r"(perim|crte|projet|pays|pet?r)",
    "departement": r"(^dep|depart|dpt)",
    "region": r"(^reg|region)",
}
_RATE_WORDS = (  # whole words of the folded header ("ménages", "appartements" are counts)
    r"(\b(taux|parts?|pourcent\w*|pct|ratio|moyen\w*|median\w*|indices?|densites?|ages?|revenus?)\b|%)"
)
_SAMPLE = 500
KEY_SEARCH_COLUMNS = 20
_UNBEATABLE = 1.2  # a named column with 95 % of codes; an unnamed one scores 1.15 at most
"""The key column is looked for among the first columns and those whose header names a
key; past them (a wide table), the user picks it. Keeps the detection's cost bounded."""


@dataclass
class KeyGuess:
    """A candidate key column: its level, kind (``code`` or ``nom``) and match share."""

    column: str
    level: str
    kind: str
    share: float


@dataclass
class JoinReport:
    """Everything the user must know about a join, in numbers and in French."""

    source_name: str
    rows_read: int
    key_column: str
    level: str
    key_kind: str
    matched: int = 0
    unmatched: list[dict] = field(default_factory=list)
    remapped: list[dict] = field(default_factory=list)
    duplicates_identical: int = 0
    duplicates_conflicting: list[dict] = field(default_factory=list)
    out_of_scope: list[dict] = field(default_factory=list)
    columns: dict[str, dict] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    coverage: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every row joined and no value was lost."""
        return not (self.unmatched or self.duplicates_conflicting)

    def to_dict(self) -> dict:
        return {**asdict(self), "complete": self.complete}

    def summary_fr(self) -> list[str]:
        """The report in plain French, one sentence per fact."""
        level = LEVEL_LABELS[self.level].lower()
        kind = "codes" if self.key_kind == "code" else "NOMS (dernier recours, à vérifier)"
        lines = [
            f"{count_text(self.rows_read, 'ligne lue', 'lignes lues')} dans « {self.source_name} » ; clé : colonne "
            f"« {self.key_column} » ({kind} de {level}).",
            f"{count_text(self.matched, 'ligne rattachée', 'lignes rattachées')} à un territoire.",
        ]
        if self.remapped:
            lines.append(
                f"{count_text(len(self.remapped), 'code remplacé', 'codes remplacés')} par le code actuel "
                "(zéro initial, arrondissement, commune déléguée ou ancien code)."
            )
        if self.unmatched:
            reasons = pd.Series([u["raison"] for u in self.unmatched]).value_counts()
            detail = " ; ".join(f"{n} : {reason}" for reason, n in reasons.items())
            lines.append(
                f"{count_text(len(self.unmatched), 'ligne non rattachée', 'lignes non rattachées')} — {detail}."
            )
        if self.duplicates_identical:
            lines.append(
                f"{count_text(self.duplicates_identical, 'ligne en double identique, comptée', 'lignes en double identiques, comptées')} une fois."
            )
        if self.duplicates_conflicting:
            lines.append(
                f"{count_text(len(self.duplicates_conflicting), 'territoire en double', 'territoires en double')} "
                "avec des valeurs différentes : écartés, faute de savoir quelle valeur garder."
            )
        if self.out_of_scope:
            lines.append(
                f"{count_text(len(self.out_of_scope), 'territoire')} hors de France métropolitaine : "
                "gardés, "
                "visibles avec le périmètre d'étude « France entière »."
            )
        for column, info in self.columns.items():
            missing = info["secret"] + info["vide"] + info["invalide"]
            if missing:
                lines.append(
                    f"Colonne « {column} » : "
                    f"{count_text(info['secret'], 'valeur secrète', 'valeurs secrètes')}, "
                    f"{count_text(info['vide'], 'vide')} et "
                    f"{count_text(info['invalide'], 'non numérique', 'non numériques')}, "
                    "traitées comme manquantes."
                )
        for lvl, cov in self.coverage.items():
            lines.append(
                f"Couverture {LEVEL_LABELS.get(lvl, lvl).lower()} : "
                f"{format_number(100 * cov['part_population'], 1)} % de la population."
            )
        if not self.complete:
            lines.append("Le tableau n'est PAS complet : voir les lignes non rattachées ci-dessus.")
        return lines


@dataclass
class JoinResult:
    """Parsed numeric values indexed by unit code, and the report."""

    values: pd.DataFrame
    report: JoinReport


# --------------------------------------------------------------------------- key detection
def _level_codes(geo: Geography, level: str) -> pd.Index:
    return pd.Index(geo.table(level, "france")["code"])


def normalise_codes(geo: Geography, level: str, values: pd.Series) -> pd.DataFrame:
    """Current codes (None when unknown) and the rule applied, for a column of codes."""
    if level == "commune":
        return geo.resolve_communes(values)
    code = normalise_series(values, level)
    known = pd.Series(code_positions(_level_codes(geo, level), code) >= 0, index=values.index)
    how = pd.Series(
        np.where(code == values.astype(str).str.strip(), "exact", "zero"), index=values.index
    )
    return pd.DataFrame({"code": code.where(known), "how": how.where(known)})


# What a cleaned cell (spaces removed) must look like to possibly be a code of a level:
# a cheap filter that spares the full normalisation for columns that cannot match.
_CODE_SHAPES = {
    "commune": r"\d[\dAB]\d{2,3}|\d{9}",  # 1001, 01001, 2A004; or the commune's SIREN
    "epci": r"\d{7,9}",
    "departement": r"\d{1,3}|2[AB]",
    "region": r"\d{1,2}",
}


def _key_sample(values: pd.Series) -> pd.DataFrame:
    """Up to ``_SAMPLE`` distinct filled cells of a column (``raw``), where key shares are
    measured, with their cleaned, upper-case, space-free form (``compact``)."""
    distinct = values.drop_duplicates()
    raw = distinct[distinct.str.strip() != ""].head(_SAMPLE)
    compact = clean_series(raw).str.upper().str.replace(r"[\s\u00a0]", "", regex=True)
    return pd.DataFrame({"raw": raw, "compact": compact})


def _share(geo: Geography, level: str, sample: pd.DataFrame) -> float:
    """Share of a column's sample (see :func:`_key_sample`) that are codes of ``level``."""
    total = len(sample)
    shape = _CODE_SHAPES.get(level)
    if shape is not None:
        sample = sample[sample["compact"].str.fullmatch(shape).to_numpy(dtype=bool)]
    if sample.empty:
        return 0.0
    return float(normalise_codes(geo, level, sample["raw"])["code"].notna().sum() / total)


def _name_index(geo: Geography, level: str) -> pd.Series:
    """Folded name → codes of a level (cached: folding 35 000 commune names takes ~1 s)."""
    version = geo.perimeters.content_hash() if level == "perimetre" else ""
    return _cached_name_index(geo, level, version)


@functools.lru_cache(maxsize=16)
def _cached_name_index(geo: Geography, level: str, version: str) -> pd.Series:
    names = geo.table(level, "france")[["code", "nom"]]
    return names.assign(folded=names["nom"].map(fold)).groupby("folded")["code"].agg(list)


def _key_candidates(frame: pd.DataFrame, headers: dict[str, str]) -> list[str]:
    """The first :data:`KEY_SEARCH_COLUMNS` columns and those whose header names a key."""
    first = list(frame.columns[:KEY_SEARCH_COLUMNS])
    hinted = [
        c
        for c in frame.columns[KEY_SEARCH_COLUMNS:]
        if any(re.search(_HINTS[lvl], headers[c]) for lvl in KEY_LEVELS)
    ]
    return first + hinted


def _looks_like_measures(values: pd.Series) -> bool:
    """True for columns of decimal numbers, which cannot be territory codes."""
    sample = values.head(200)
    return bool(sample.str.contains(r"\d[.,]\d*[1-9]", regex=True).mean() > 0.5)


def _plain_integers(values: pd.Series) -> bool:
    """True when every filled cell is an integer without leading zero (``1``, ``75``)."""
    filled = values[values.str.strip() != ""].head(_SAMPLE)
    return bool(len(filled)) and bool(filled.str.strip().str.fullmatch(r"[1-9]\d*").all())


def detect_key(raw: RawTable, geo: Geography, columns: list[str] | None = None) -> list[KeyGuess]:
    """Candidate key columns, best first. Codes beat names; a header hint breaks ties.

    A column of plain integers (``1``, ``75``) without a département/région header is
    more likely a count than a key: it is kept only as the first column when no other
    header names a key, and then ranked below names. Only ``columns`` are tried, by default
    the first :data:`KEY_SEARCH_COLUMNS` and those whose header names a key.
    """
    guesses = []
    frame = raw.frame
    headers = {c: fold(c).replace(" ", "_") for c in frame.columns}
    named = {
        c
        for c, h in headers.items()
        if any(re.search(_HINTS[lvl], h) for lvl in KEY_LEVELS if lvl != "perimetre")
    }
    candidates = set(_key_candidates(frame, headers) if columns is None else columns)
    hinted = {
        c for c in candidates if any(re.search(_HINTS[lvl], headers[c]) for lvl in KEY_LEVELS)
    }
    order = [(p, c) for p, c in enumerate(frame.columns) if c in candidates]
    order.sort(key=lambda item: item[1] not in hinted)  # columns named as keys first
    for position, column in order:
        if column not in hinted and any(score >= _UNBEATABLE for score, _, _ in guesses):
            break  # a named key matched: no unnamed column can score as high
        values = frame[column].astype(str)
        if _looks_like_measures(values):
            continue
        uniqueness = values.nunique() / max(len(values), 1)
        plain = _plain_integers(values)
        sample = _key_sample(values)
        for level in KEY_LEVELS:
            hint = bool(re.search(_HINTS[level], headers[column]))
            weak = level in {"departement", "region"} and not hint and plain
            if weak and (position > 0 or named - {column}):
                continue  # a count, unless first and no other header names the key
            share = _share(geo, level, sample)
            if share > 0:
                score = share + 0.25 * hint + 0.1 * uniqueness + (0.05 if position == 0 else 0)
                if level in {"departement", "region"} and not hint:
                    score -= 0.4  # small numbers look like these codes: ask for a header hint
                if weak:
                    score -= 0.5  # below names (score <= 0.5)
                guesses.append((score, weak, KeyGuess(column, level, "code", share)))
    if not any(g.share >= 0.5 and not weak for _, weak, g in guesses):
        for column in candidates:
            folded = frame[column].astype(str).map(fold).head(_SAMPLE)
            for level in KEY_LEVELS:
                index = _name_index(geo, level)
                share = float(folded.isin(index.index).mean()) if len(folded) else 0.0
                if share > 0:
                    guesses.append((share - 0.5, False, KeyGuess(column, level, "nom", share)))
    order = {lvl: i for i, lvl in enumerate(KEY_LEVELS)}
    guesses.sort(key=lambda item: (-item[0], order[item[2].level]))
    return [guess for _, _, guess in guesses]


# --------------------------------------------------------------------------- join
def join_table(
    raw: RawTable,
    geo: Geography,
    key: str | None = None,
    level: str | None = None,
    scope: str = "metropole",
    kind: str | None = None,
) -> JoinResult:
    """Join a raw table to the territories of a level.

    Raises
    ------
    TableError
        When no key column can be found, the chosen key does not exist, or no row joins.
    """
    frame = raw.frame
    if frame.empty:
        raise TableError(f"Le fichier « {raw.source_name} » ne contient aucune ligne de données.")
    if key is not None and key not in frame.columns:
        raise TableError(
            f"La colonne « {key} » n'existe pas. Colonnes du fichier : "
            + ", ".join(f"« {c} »" for c in frame.columns)
        )
    guess = _choose_key(raw, geo, key, level, kind)
    report = JoinReport(raw.source_name, len(frame), guess.column, guess.level, guess.kind)
    if guess.kind == "nom":
        report.notes.append(
            "Rattachement par les NOMS : les homonymes sont écartés ; préférez une colonne de codes."
        )
    codes = _resolve_keys(frame[guess.column], geo, guess, report)
    cells = Cells(frame, [c for c in frame.columns if c != guess.column]).stripped(by_value=True)
    others = _other_keys(frame, geo, guess.column, cells)
    measures = [c for c in frame.columns if c != guess.column and c not in others]
    values = _parse_values(frame, measures, report, cells)
    numeric = list(values.columns)
    report.ignored_columns = [c for c in frame.columns if c not in numeric and c != guess.column]
    values["_code"] = codes
    values = values[codes.notna().to_numpy()]
    values = _deduplicate(values, report)
    known = int(codes.notna().sum())
    # rows dropped as conflicting duplicates are listed as unmatched, not matched
    report.matched = known - sum(len(d["lignes"]) for d in report.duplicates_conflicting)
    _report_scope(values.index, geo, guess.level, scope, report)
    if known == 0:
        raise TableError(
            f"Aucune ligne de « {raw.source_name} » ne correspond à un territoire connu "
            f"(colonne « {guess.column} », {LEVEL_LABELS[guess.level].lower()}). "
            "Vérifiez la colonne clé ou choisissez-la vous-même."
        )
    if not numeric:
        raise TableError(
            f"« {raw.source_name} » n'a aucune colonne numérique à cartographier "
            f"en dehors de la clé « {guess.column} »."
        )
    report.coverage = _coverage(values, geo, guess.level, scope)
    return JoinResult(values, report)


def _choose_key(raw: RawTable, geo: Geography, key, level, kind) -> KeyGuess:
    if key is not None and level is not None:
        share = _share(geo, level, _key_sample(raw.frame[key].astype(str)))
        return KeyGuess(key, level, kind or ("code" if share > 0 else "nom"), share)
    guesses = [
        g
        for g in detect_key(raw, geo, None if key is None else [key])
        if level is None or g.level == level
    ]
    if not guesses:
        names = list(raw.frame.columns)
        columns = ", ".join(f"« {c} »" for c in names[:KEY_SEARCH_COLUMNS])
        if len(names) > KEY_SEARCH_COLUMNS:
            columns += (
                f"… ({len(names)} colonnes ; au-delà des {KEY_SEARCH_COLUMNS} premières, "
                "seules celles dont l'en-tête annonce un code sont examinées : "
                "choisissez la colonne clé vous-même)"
            )
        raise TableError(
            f"Aucune colonne de « {raw.source_name} » ne contient des codes de territoire "
            f"reconnus (code commune INSEE, SIREN d'EPCI, code de département ou de région). "
            f"Colonnes lues : {columns}."
        )
    return guesses[0]


def _resolve_keys(
    column: pd.Series, geo: Geography, guess: KeyGuess, report: JoinReport
) -> pd.Series:
    text = column.astype(str).str.strip()
    empty = text == ""
    if guess.kind == "nom":
        names = _name_index(geo, guess.level)
        found = text.map(fold).map(names)
        n_found = found.map(lambda f: len(f) if isinstance(f, list) else 0)
        codes = found.where(n_found == 1).map(lambda f: f[0] if isinstance(f, list) else None)
        reasons = pd.Series(
            np.where(n_found > 1, "nom ambigu (plusieurs territoires)", "nom inconnu"),
            index=text.index,
        )
    else:
        resolved = normalise_codes(geo, guess.level, text)
        codes = resolved["code"]
        reasons = None  # every code not found is unknown
        changed = codes.notna() & ~resolved["how"].isin(["exact"])
        report.remapped = [
            {
                "ligne": int(row),
                "valeur": text[row],
                "code": codes[row],
                "regle": resolved.at[row, "how"],
            }
            for row in text.index[changed]
        ]
    missing = codes.isna().to_numpy()
    why = np.full(int(missing.sum()), "code inconnu", dtype=object)
    if reasons is not None:
        why = reasons.to_numpy(dtype=object)[missing]
    why[empty.to_numpy()[missing]] = "clé vide"
    given = text.to_numpy(dtype=object)[missing]
    report.unmatched = [
        {"ligne": int(row), "valeur": value, "raison": reason}
        for row, value, reason in zip(text.index[missing], given, why, strict=True)
    ]
    return codes.where(~empty)


def _other_keys(frame: pd.DataFrame, geo: Geography, key: str, cells: Cells) -> set[str]:
    """Identifier columns besides the key (``01001``, or codes under a key header).

    They parse as numbers but are not measures: never summed into an indicator.
    """
    columns = [c for c in frame.columns if c != key]
    others = code_like_columns(frame, columns, cells)
    for column in columns:
        header = fold(column).replace(" ", "_")
        hinted = [lvl for lvl in KEY_LEVELS if re.search(_HINTS[lvl], header)]
        if hinted and column not in others:
            sample = _key_sample(frame[column].astype(str))  # once, whatever the levels
            if any(_share(geo, lvl, sample) >= 0.5 for lvl in hinted):
                others.add(column)
    return others


def _parse_values(
    frame: pd.DataFrame, columns: list[str], report: JoinReport, cells: Cells
) -> pd.DataFrame:
    """Numeric columns (at least 80 % of their filled, non-secret cells are numbers)."""
    parsed = {}
    all_values, all_numbers = parse_number_columns(frame, columns, cells)
    for column in columns:
        values, numbers = all_values[column], all_numbers[column]
        filled = numbers.n_numeric + numbers.n_invalid
        if numbers.n_numeric == 0 or numbers.n_numeric < 0.8 * filled:
            continue
        parsed[column] = values
        report.columns[column] = {
            "numeriques": numbers.n_numeric,
            "secret": numbers.n_secret,
            "vide": numbers.n_empty,
            "invalide": numbers.n_invalid,
            "exemples_invalides": numbers.invalid_examples,
        }
    return pd.DataFrame(parsed, index=frame.index)


def _deduplicate(values: pd.DataFrame, report: JoinReport) -> pd.DataFrame:
    """Identical duplicates count once; duplicates with different values are dropped."""
    columns = [c for c in values.columns if c != "_code"]
    repeated = values["_code"].duplicated(keep=False).to_numpy()
    if not repeated.any():  # the common case: one row per territory
        return values.set_index("_code").rename_axis("code")[columns]
    duplicated = values[repeated]
    if not duplicated.empty:
        distinct = duplicated.drop_duplicates().groupby("_code").size()
        conflicting = distinct.index[distinct > 1]
        report.duplicates_identical = int(len(duplicated) - len(duplicated["_code"].unique()))
        clash = duplicated[duplicated["_code"].isin(conflicting)]
        report.duplicates_identical -= int(len(clash) - len(conflicting))
        for code, lines in _lines_by_code(clash):
            report.duplicates_conflicting.append({"code": code, "lignes": lines})
            report.unmatched += [
                {
                    "ligne": line,
                    "valeur": code,
                    "raison": "clé en double avec des valeurs différentes",
                }
                for line in lines
            ]
        values = values[~values["_code"].isin(conflicting)]
    kept = values.drop_duplicates("_code")
    return kept.set_index("_code").rename_axis("code")[columns]


def _lines_by_code(rows: pd.DataFrame) -> list[tuple[str, list[int]]]:
    """Row numbers (the index) of each ``_code``, codes sorted, rows in file order."""
    if rows.empty:
        return []
    rows = rows.sort_values("_code", kind="stable")
    codes, lines = rows["_code"].to_numpy(), rows.index.to_numpy(dtype=np.int64)
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.r_[0, cuts].astype(np.int64)
    return list(
        zip(codes[starts].tolist(), [g.tolist() for g in np.split(lines, cuts)], strict=True)
    )


def _report_scope(
    codes: pd.Index, geo: Geography, level: str, scope: str, report: JoinReport
) -> None:
    if scope != "metropole":
        return
    table = geo.table(level, "france").set_index("code")
    overseas = table["outre_mer"].reindex(codes).fillna(False).astype(bool)
    report.out_of_scope = [{"code": c, "raison": "outre-mer"} for c in codes[overseas.to_numpy()]]


def _coverage(
    values: pd.DataFrame, geo: Geography, level: str, scope: str = "metropole"
) -> dict[str, dict]:
    """Share of the population (metropolitan, or of all France) covered at the table's level."""
    table = geo.indexed(level)[["outre_mer", "population"]]
    if scope != "france":
        table = table[~table["outre_mer"].to_numpy(dtype=bool)]
    found = code_positions(table.index, values.index)
    covered = np.zeros(len(table), dtype=bool)
    covered[found[found >= 0]] = True
    population = table["population"].fillna(0)
    return {
        level: {
            "territoires": int(covered.sum()),
            "sur": len(table),
            "part_population": float(population[covered].sum() / population.sum()),
        }
    }


# --------------------------------------------------------------------------- indicators
def default_rule(column: str) -> str:
    """Sum for counts; population-weighted mean for rates, shares, means and medians.

    >>> default_rule("Taux de pauvreté"), default_rule("Nombre d'associations")
    ('moyenne_ponderee', 'somme')
    """
    return "moyenne_ponderee" if re.search(_RATE_WORDS, fold(column)) else "somme"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_") or "colonne"


def to_user_indicators(
    result: JoinResult,
    name: str,
    population: pd.Series,
    rules: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    polarities: dict[str, str] | None = None,
) -> UserIndicators:
    """Turn a joined table into indicators with components, ready for the store.

    ``population`` (by unit code at the table's level) weights the weighted means.
    """
    rules, units, polarities = rules or {}, units or {}, polarities or {}
    prefix = f"u_{_slug(name)}"
    indicators, frames = [], []
    aligned = population.reindex(result.values.index).astype(float)  # once for every column
    for column in result.values.columns:
        rule = rules.get(column) or default_rule(column)
        weight = "population" if rule == "moyenne_ponderee" else None
        indicator = Indicator(
            id=f"{prefix}__{_slug(column)}",
            label=column,
            unit=units.get(column, ""),
            theme=f"Mes données : {name}",
            polarity=polarities.get(column, "neutre"),
            rule=rule,
            weight=weight,
            decimals=2,
            source=f"Tableau importé « {result.report.source_name} »",
            vintage="non précisé",
            licence="fourni par l'utilisateur",
            method=f"Colonne « {column} », agrégée par {rule.replace('_', ' ')}.",
            origin=name,
        )
        values = result.values[column]
        weights = aligned if weight else None
        frames.append(indicator.commune_components(values.astype(float), weights))
        indicators.append(indicator)
    components = pd.concat(frames, axis=1)
    components["n_membres"] = np.int64(1)
    return UserIndicators(
        name, result.report.level, indicators, components, result.report.to_dict()
    )
