"""What every official-source parser shares: column matching, CSV and zip reading, code normalisation, value checks."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from territorial.sources.manifest import FetchError, _Ctx

__all__ = ["ParsedSource"]


_CODE_WIDTH = {"commune": 5, "epci": 9, "departement": 2, "region": 2}

_CODE_FORMAT = {
    "commune": re.compile(r"^(\d{5}|2[AB]\d{3})$"),
    "epci": re.compile(r"^\d{9}$"),
    "departement": re.compile(r"^(\d{2}|2[AB]|97\d)$"),
    "region": re.compile(r"^\d{2}$"),
}

# Municipal arrondissements of Paris, Lyon and Marseille and their parent commune.
_ARM_PARENTS = (
    (re.compile(r"^751(0[1-9]|1\d|20)$"), "75056"),
    (re.compile(r"^6938[1-9]$"), "69123"),
    (re.compile(r"^132(0[1-9]|1[0-6])$"), "13055"),
)


@dataclass
class ParsedSource:
    """Clean tables extracted from one source.

    Attributes
    ----------
    source_id : str
        Identifier of the source in the manifest.
    vintage : str
        Vintage declared in the manifest (for example ``"2021"``).
    tables : dict of str to pandas.DataFrame
        One frame per level. Statistical levels (``commune``, ``epci``,
        ``departement``, ``region``) are indexed by ``code`` (str) and hold
        float columns named by stable ids. The CRTE levels
        (``perimetre_rows``, ``groupements_rows``) hold the raw rows as str.
    rows : dict of str to int
        Number of rows per level.
    secret_counts : dict of str to dict of str to int
        Per level, per column: number of values withheld (statistical secret
        markers ``s``, ``nd``, ``ns``, ``secret``, empty or missing).
    years : dict of str to str
        Four-digit year detected in the source for each column, when known.
    source_columns : dict of str to dict of str to str
        Per level, original column (or measure) name behind each stable id.
    warnings : list of str
        Non-blocking anomalies, in French.
    """

    source_id: str
    vintage: str
    tables: dict[str, pd.DataFrame]
    rows: dict[str, int]
    secret_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)
    source_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return (
        text.startswith(b"<!doctype html")
        or text.startswith(b"<html")
        or text.startswith(b"<head")
        or (text.startswith(b"<") and b"<html" in text[:2048])
    )


def _norm_header(name: object) -> str:
    """Upper-case ASCII header with non-alphanumerics collapsed to ``_``."""
    text = unicodedata.normalize("NFKD", "" if name is None else str(name))
    text = text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").upper()


def _year4(two_or_four: str | None) -> str | None:
    if not two_or_four:
        return None
    return two_or_four if len(two_or_four) == 4 else f"20{two_or_four[-2:]}"


def _match_columns(columns: list[str], pattern: str) -> list[tuple[str, str | None]]:
    """Columns whose normalised name matches ``pattern``, most recent year first."""
    regex = re.compile(pattern)
    found: list[tuple[str, str | None]] = []
    for column in columns:
        match = regex.fullmatch(_norm_header(column))
        if match:
            year = match.groupdict().get("year") if "year" in regex.groupindex else None
            found.append((column, year))
    found.sort(key=lambda item: int(_year4(item[1]) or 0), reverse=True)
    return found


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_csv(
    data: bytes, what: str, ctx: _Ctx, keep: Callable[[str], bool] | None = None
) -> pd.DataFrame:
    """Read CSV bytes as str columns, detecting separator and encoding.

    ``keep`` selects the columns to read (all by default); the full header is
    stored in ``frame.attrs["all_columns"]`` for error messages.
    """
    if not data.strip():
        raise ctx.error("vide", f"le fichier {what} est vide.")
    if _looks_like_html(data[:4096]):
        raise ctx.error("html", f"le fichier {what} est une page HTML et non un tableau CSV.")
    text = _decode_csv(data)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    separators = (";", ",", "\t", "|")
    sep = max(separators, key=header.count)
    if header.count(sep) == 0:
        sep = ";"
    all_columns = [name.strip().strip('"').strip() for name in header.strip().split(sep)]
    usecols = None if keep is None else (lambda name: keep(str(name)))
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            usecols=usecols,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ctx.error("format", f"le fichier {what} n'est pas un CSV lisible ({exc}).") from None
    frame.columns = [str(col).strip().lstrip("\ufeff").strip('"').strip() for col in frame.columns]
    frame.attrs["all_columns"] = all_columns
    if frame.empty:
        raise ctx.error("vide", f"le fichier {what} ne contient aucune ligne de données.")
    return frame


def _cell_to_str(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _to_float(values: pd.Series, markers: set[str]) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Convert str values to float; return (values, secret mask, invalid mask)."""
    text = values.fillna("").astype(str).str.strip()
    secret = text.str.lower().isin(markers)
    cleaned = (
        text.str.replace("\u00a0", "", regex=False)
        .str.replace("\u202f", "", regex=False)
        .str.replace(" ", "", regex=False)
        .str.replace(",", ".", regex=False)
    )
    numbers = pd.to_numeric(cleaned.where(~secret), errors="coerce").astype("float64")
    numbers.index = values.index
    invalid = numbers.isna() & ~secret
    return numbers, secret.astype(bool), invalid.astype(bool)


def _normalize_codes(values: pd.Series, level: str) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.upper().str.strip('="')
    text = text.str.replace(r"\.0+$", "", regex=True)
    prefixed = text.str.contains("-", regex=False)  # "COM-01001" (Melodi style)
    if prefixed.any():
        text = text.where(~prefixed, text.str.rsplit("-", n=1).str[-1])
    width = _CODE_WIDTH[level]
    short_digits = text.str.fullmatch(r"\d+") & (text.str.len() < width)
    if level == "departement":
        short_digits = text.str.fullmatch(r"\d")
    return text.where(~short_digits, text.str.zfill(width))


@dataclass
class _Part:
    """Parsed content of one resource (merged later into a ParsedSource)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    secret_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)
    source_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _finalize(
    frame: pd.DataFrame, codes: pd.Series, level: str, what: str, part: _Part
) -> pd.DataFrame:
    """Index ``frame`` by normalised codes, dropping invalid and duplicate codes."""
    frame = frame.copy()
    frame.index = pd.Index(_normalize_codes(codes, level).to_numpy(), name="code", dtype=str)
    valid = frame.index.to_series().str.fullmatch(_CODE_FORMAT[level].pattern).to_numpy()
    dropped = int((~valid).sum())
    if dropped:
        examples = ", ".join(sorted(set(frame.index[~valid]))[:3])
        part.warnings.append(
            f"{what} : {dropped} ligne(s) au code {level} invalide ignorée(s) ({examples})."
        )
        frame = frame.loc[valid]
    duplicated = frame.index.duplicated(keep="first")
    if duplicated.any():
        part.warnings.append(
            f"{what} : {int(duplicated.sum())} code(s) en double, première occurrence conservée."
        )
        frame = frame.loc[~duplicated]
    if level == "commune":
        present = set(frame.index)
        arm = [
            code
            for code in frame.index
            if any(rx.match(code) and parent in present for rx, parent in _ARM_PARENTS)
        ]
        if arm:
            part.warnings.append(
                f"{what} : {len(arm)} arrondissement(s) municipal(aux) écarté(s), la commune "
                "entière (Paris, Lyon ou Marseille) étant déjà présente."
            )
            frame = frame.drop(index=arm)
    return frame.sort_index()


_SECRET_PREFIX = "__secret__"


def _finalize_values(
    values: pd.DataFrame,
    secret: pd.DataFrame,
    codes: pd.Series,
    level: str,
    what: str,
    part: _Part,
) -> pd.DataFrame:
    """Index float ``values`` by code and count the secret values that remain."""
    masks = secret.add_prefix(_SECRET_PREFIX)
    table = _finalize(pd.concat([values, masks], axis=1), codes, level, what, part)
    counts = part.secret_counts.setdefault(level, {})
    for stable in values.columns:
        counts[stable] = counts.get(stable, 0) + int(table[_SECRET_PREFIX + stable].sum())
    return table[list(values.columns)].astype("float64")


def _file_year(columns: list[str], col_specs: list[Mapping[str, Any]]) -> str | None:
    """Most recent year suffix found among the columns matching ``col_specs``."""
    years = [
        year
        for col_spec in col_specs
        for pattern in [col_spec["pattern"], *col_spec.get("fallback_sum", [])]
        for _, year in _match_columns(columns, pattern)
        if year
    ]
    return max(years, key=lambda y: int(_year4(y) or 0)) if years else None


def _pick(columns: list[str], pattern: str, year: str | None) -> tuple[str, str | None] | None:
    for column, found in _match_columns(columns, pattern):
        if year is None or found is None or found == year:
            return column, found
    return None


def _example(col_spec: Mapping[str, Any], year: str | None) -> str:
    pattern = col_spec.get("pattern", "")
    if year and "(?P<year>" in pattern:
        text = re.sub(r"\(\?P<year>[^)]*\)", year, pattern).strip("^$")
        if re.fullmatch(r"[A-Z0-9_]+", text):
            return text
    return col_spec.get("example") or pattern


def _missing_column(
    ctx: _Ctx,
    column_id: str,
    col_spec: Mapping[str, Any],
    what: str,
    columns: list[str],
    year: str | None = None,
) -> FetchError:
    shown = ", ".join(columns[:15]) + (" …" if len(columns) > 15 else "")
    example = _example(col_spec, year) or column_id
    return ctx.error(
        "colonne",
        f"colonne attendue absente : « {example} » ({col_spec.get('label', column_id)}) dans "
        f"{what}. Colonnes trouvées : {shown}. Le format du fichier a peut-être changé.",
    )


def _keep_matching(*patterns: str) -> Callable[[str], bool]:
    """Column filter for :func:`_read_csv`: names matching one of ``patterns``."""
    regexes = [re.compile(p) for p in patterns]
    return lambda name: any(rx.fullmatch(_norm_header(name)) for rx in regexes)


def _spec_patterns(col_specs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [
        pattern
        for col_spec in col_specs.values()
        for pattern in [col_spec["pattern"], *col_spec.get("fallback_sum", [])]
    ]


def _select_columns(
    raw: pd.DataFrame,
    col_specs: Mapping[str, Mapping[str, Any]],
    markers: set[str],
    level: str,
    what: str,
    ctx: _Ctx,
    part: _Part,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert the columns described by ``col_specs`` to floats.

    The year suffix of the file is detected once (most recent year among the
    matching columns) and every column must exist for that year, so that a
    renamed ``P22_POP`` is reported instead of silently using ``P16_POP``.
    """
    columns = list(raw.columns)
    year = _file_year(columns, list(col_specs.values()))
    values: dict[str, pd.Series] = {}
    secrets: dict[str, pd.Series] = {}
    for stable, col_spec in col_specs.items():
        picked = _pick(columns, col_spec["pattern"], year)
        fallback = [_pick(columns, p, year) for p in col_spec.get("fallback_sum", [])]
        if picked is not None:
            sources, found_years = [picked[0]], [picked[1]]
        elif fallback and all(fallback):
            sources = [item[0] for item in fallback if item]
            found_years = [item[1] for item in fallback if item]
            part.warnings.append(
                f"{what} : « {stable} » calculé comme {' + '.join(sources)} (colonne "
                f"{_example(col_spec, year)} absente)."
            )
        elif col_spec.get("required", True):
            shown = raw.attrs.get("all_columns", columns)
            raise _missing_column(ctx, stable, col_spec, what, shown, year)
        else:
            part.warnings.append(
                f"{what} : colonne « {_example(col_spec, year)} » absente, « {stable} » "
                "laissé vide."
            )
            continue
        total: pd.Series | None = None
        secret: pd.Series | None = None
        for name in sources:
            numbers, is_secret, invalid = _to_float(raw[name], markers)
            if invalid.any():
                part.warnings.append(
                    f"{what} : {int(invalid.sum())} valeur(s) non numérique(s) dans « {name} » "
                    "remplacée(s) par des valeurs manquantes."
                )
            total = numbers if total is None else total + numbers
            secret = is_secret if secret is None else secret | is_secret
        values[stable] = total
        secrets[stable] = secret
        part.source_columns.setdefault(level, {})[stable] = " + ".join(sources)
        full_year = _year4(next((y for y in found_years if y), None))
        if full_year:
            part.years[stable] = full_year
    return pd.DataFrame(values, index=raw.index), pd.DataFrame(secrets, index=raw.index)


def _zip_members(path: Path, ctx: _Ctx, what: str) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ctx.error("zip", f"archive zip illisible ({what}) : {exc}.") from None


def _read_member(path: Path, name: str, ctx: _Ctx) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.read(name)
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as exc:
        raise ctx.error("zip", f"membre « {name} » illisible dans l'archive : {exc}.") from None


def _is_meta(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return base.startswith("meta") or "metadata" in base or "_meta" in base


def _check_years(spec: Mapping[str, Any], part: _Part, what: str) -> None:
    if not spec.get("check_year_against_vintage"):
        return
    for stable, year in part.years.items():
        if year and year != str(spec["vintage"]):
            part.warnings.append(
                f"{what} : millésime {year} détecté pour « {stable} », {spec['vintage']} attendu "
                "d'après le manifeste."
            )
