"""INSEE Filosofi (median income, poverty rate): the wide and the long file layouts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from territorial.sources.cache import _mirror_name
from territorial.sources.manifest import DEFAULT_SECRET_MARKERS, ROW_LABELS, _Ctx, _ctx
from territorial.sources.parsing import (
    _check_years,
    _finalize_values,
    _is_meta,
    _keep_matching,
    _match_columns,
    _missing_column,
    _norm_header,
    _normalize_codes,
    _Part,
    _read_csv,
    _read_member,
    _select_columns,
    _spec_patterns,
    _to_float,
    _year4,
    _zip_members,
)


def _parse_filosofi(spec: Mapping[str, Any], resource: str, path: Path) -> _Part:
    ctx = _ctx(spec)
    what = _mirror_name(spec, resource)
    members = _zip_members(path, ctx, what)
    long_layout = spec["layouts"]["long"]
    long_rx = re.compile(long_layout["data_member"], re.IGNORECASE)
    long_member = next((m.filename for m in members if long_rx.search(m.filename)), None)
    if long_member is not None:
        return _parse_filosofi_long(spec, path, long_member)
    wide = spec["layouts"]["wide"]
    by_level: dict[str, str] = {}
    for level, pattern in wide["members"].items():
        rx = re.compile(pattern, re.IGNORECASE)
        found = [m.filename for m in members if rx.search(m.filename) and not _is_meta(m.filename)]
        if found:
            by_level[level] = found[0]
    if not by_level:
        names = ", ".join(m.filename for m in members) or "aucun fichier"
        raise ctx.error(
            "format",
            f"aucun fichier de données Filosofi reconnu dans l'archive {what} "
            f"(attendu : DS_FILOSOFI_CC_data.csv ou cc_filosofi_*_COM.csv ; trouvé : {names}).",
        )
    return _parse_filosofi_wide(spec, path, by_level)


def _parse_filosofi_wide(spec: Mapping[str, Any], path: Path, by_level: dict[str, str]) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    code_pattern = spec["layouts"]["wide"]["code_column"]
    for level in spec["levels"]:
        member = by_level.get(level)
        if member is None:
            _missing_level(spec, level, part, ctx)
            continue
        keep = _keep_matching(code_pattern, *_spec_patterns(spec["columns"]))
        raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
        code_cols = _match_columns(list(raw.columns), code_pattern)
        if not code_cols:
            raise _missing_column(
                ctx,
                "code",
                {"example": "CODGEO", "label": "code"},
                member,
                raw.attrs["all_columns"],
            )
        values, secret = _select_columns(raw, spec["columns"], markers, level, member, ctx, part)
        part.tables[level] = _finalize_values(
            values, secret, raw[code_cols[0][0]], level, member, part
        )
    _check_years(spec, part, "Filosofi")
    return part


def _missing_level(spec: Mapping[str, Any], level: str, part: _Part, ctx: _Ctx) -> None:
    if level in spec.get("required_levels", []):
        raise ctx.error(
            "format",
            f"aucune donnée au niveau « {ROW_LABELS.get(level, level)} » dans le fichier.",
        )
    part.warnings.append(
        f"Aucune donnée au niveau « {ROW_LABELS.get(level, level)} » dans le fichier."
    )


def _parse_filosofi_long(spec: Mapping[str, Any], path: Path, member: str) -> _Part:
    ctx = _ctx(spec)
    part = _Part()
    layout = spec["layouts"]["long"]
    markers = set(spec.get("secret_markers", DEFAULT_SECRET_MARKERS))
    names = [layout[key] for key in layout if key.endswith("_column")]
    keep = _keep_matching(*(re.escape(_norm_header(name)) for name in names))
    raw = _read_csv(_read_member(path, member, ctx), member, ctx, keep)
    columns = raw.attrs["all_columns"]
    by_norm = {_norm_header(col): col for col in raw.columns}

    def column(key: str, required: bool = True) -> str | None:
        name = layout[key]
        found = by_norm.get(_norm_header(name))
        if found is None and required:
            raise _missing_column(ctx, key, {"example": name, "label": key}, member, columns)
        return found

    geo = column("geo_column")
    level_col = column("level_column")
    measure_col = column("measure_column")
    value_col = column("value_column")
    period_col = column("period_column", required=False)
    conf_col = column("confidentiality_column", required=False)

    raw[measure_col] = raw[measure_col].str.strip().str.upper()
    raw[level_col] = raw[level_col].str.strip().str.upper()
    if period_col is not None:
        periods = raw[period_col].str.strip()
        latest = periods[periods != ""].max() if (periods != "").any() else None
        if latest is not None and periods.nunique() > 1:
            part.warnings.append(
                f"{member} : plusieurs périodes présentes, seule la plus récente ({latest}) est "
                "conservée."
            )
            raw = raw.loc[periods.isin([latest, ""])]
        if latest:
            for stable in spec["columns"]:
                part.years[stable] = _year4(str(latest)[-4:] if len(latest) >= 4 else latest)
    present_measures = set(raw[measure_col].unique())
    chosen: dict[str, str] = {}
    for stable, col_spec in spec["columns"].items():
        measure = next(
            (m for m in col_spec.get("long_measures", []) if m in present_measures), None
        )
        if measure is None:
            if col_spec.get("required", True):
                example = " ou ".join(col_spec.get("long_measures", [])) or stable
                shown = ", ".join(sorted(present_measures)[:20])
                raise ctx.error(
                    "colonne",
                    f"mesure attendue absente : « {example} » ({col_spec.get('label', stable)}) "
                    f"dans {member}. Mesures trouvées : {shown}. Le format du fichier a "
                    "peut-être changé.",
                )
            part.warnings.append(
                f"{member} : mesure « {' / '.join(col_spec.get('long_measures', []))} » absente, "
                f"« {stable} » laissé vide."
            )
            continue
        chosen[stable] = measure

    # Keep only the wanted measures before the costly per-row work.
    raw = raw.loc[raw[measure_col].isin(list(chosen.values()))]
    observed = raw[value_col].astype(str).str.strip()
    if conf_col is not None:
        confidential = (
            raw[conf_col]
            .str.strip()
            .str.upper()
            .isin([v.upper() for v in layout.get("confidential_values", ["C"])])
        )
        observed = observed.where(~confidential, "")
    raw = raw.assign(**{value_col: observed})

    level_codes = {code.upper(): level for code, level in layout["level_codes"].items()}
    for level in spec["levels"]:
        objects = [code for code, lvl in level_codes.items() if lvl == level]
        sub = raw.loc[raw[level_col].isin(objects)]
        if sub.empty:
            _missing_level(spec, level, part, ctx)
            continue
        codes = _normalize_codes(sub[geo], level)
        kept = sub.assign(_code=codes.to_numpy())
        dup = kept.duplicated(["_code", measure_col], keep="first")
        if dup.any():
            part.warnings.append(
                f"{member} : {int(dup.sum())} observation(s) en double au niveau {level}, "
                "première occurrence conservée."
            )
            kept = kept.loc[~dup]
        wide = kept.pivot(index="_code", columns=measure_col, values=value_col)
        all_codes = pd.Index(sorted(set(kept["_code"])), dtype=str)
        wide = wide.reindex(index=all_codes)
        values: dict[str, pd.Series] = {}
        secrets: dict[str, pd.Series] = {}
        for stable, measure in chosen.items():
            text = wide[measure] if measure in wide.columns else pd.Series("", index=all_codes)
            numbers, is_secret, invalid = _to_float(text, markers)
            if invalid.any():
                part.warnings.append(
                    f"{member} : {int(invalid.sum())} valeur(s) non numérique(s) pour "
                    f"« {measure} » ({level}) remplacée(s) par des valeurs manquantes."
                )
            values[stable], secrets[stable] = numbers, is_secret
            part.source_columns.setdefault(level, {})[stable] = measure
        part.tables[level] = _finalize_values(
            pd.DataFrame(values, index=all_codes),
            pd.DataFrame(secrets, index=all_codes),
            pd.Series(all_codes, index=all_codes),
            level,
            member,
            part,
        )
    _check_years(spec, part, "Filosofi")
    return part
