"""Assemble perimeter members (EPCI, communes) into a :class:`PerimeterSet` with its report."""

from __future__ import annotations

import contextlib
import re
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from territorial.geo.search import fold

if TYPE_CHECKING:
    from territorial.geo.geography import Geography
from typing import TYPE_CHECKING

from territorial.perimeters.model import EPCI_NATURES, REFERENCE_COUNTS

if TYPE_CHECKING:
    from territorial.perimeters.report import ValidationReport


class _Resolver:
    """SIREN / code lookups against a geography (built once per geography)."""

    def __init__(self, geo: Geography):
        self.geo = geo
        communes = geo.communes
        self.epci_members = communes.groupby("epci")["code"].agg(list).to_dict()
        epcis = geo.epcis.set_index("code")
        self.epci_names = epcis["nom"].to_dict()
        self.islands = set(epcis.index[epcis["sans_epci"].astype(bool)])
        self.ept_members = geo.ept.groupby("code")["commune"].agg(list).to_dict()
        self.ept_names = geo.ept.drop_duplicates("code").set_index("code")["nom"].to_dict()
        self.commune_ept = geo.ept.set_index("commune")["code"].to_dict()
        indexed = communes.set_index("code")
        self.commune_names = indexed["nom"].to_dict()
        self.commune_epci = indexed["epci"].to_dict()
        self.region_names = geo.regions.set_index("code")["nom"].to_dict()
        self.departement_names = geo.departements.set_index("code")["nom"].to_dict()
        # EPCIs whose member communes include EPTs (the Métropole du Grand Paris)
        self.epci_of_ept = {
            ept: self.commune_epci.get(members[0]) for ept, members in self.ept_members.items()
        }
        # EPCIs of 2022 merged or split since: their 2022 communes, in today's codes
        former = geo.former_epcis.dropna(subset=["commune"])
        self.former_members = (
            former.groupby("siren")["commune"].agg(lambda codes: sorted(set(codes))).to_dict()
        )
        self.former_names = former.drop_duplicates("siren").set_index("siren")["nom"].to_dict()

    def by_siren(self, siren: str, nature: str | None) -> tuple[str, str] | None:
        """``(level, unit)`` designated by a SIREN, trying the declared nature first."""
        order = {
            "COM": ("commune", "epci", "ept"),
            "EPT": ("ept", "epci", "commune"),
        }.get(nature or "", ("epci", "ept", "commune"))
        for level in order:
            if level == "epci" and siren in self.epci_members:
                if siren in self.islands:  # island commune without EPCI: a commune alone
                    return "commune", self.epci_members[siren][0]
                return "epci", siren
            if level == "ept" and siren in self.ept_members:
                return "ept", siren
            if level == "commune":
                code = self.geo.commune_from_siren(siren)
                if code:
                    return "commune", code
        if siren in self.former_members and nature not in {"COM", "EPT"}:
            return "ancien_epci", siren
        return None

    def name(self, level: str, unit: str) -> str:
        """Name of a unit."""
        names = {
            "epci": self.epci_names,
            "ept": self.ept_names,
            "commune": self.commune_names,
            "ancien_epci": self.former_names,
        }
        return str(names[level].get(unit, unit))


_RESOLVERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _resolver(geo: Geography) -> _Resolver:
    with contextlib.suppress(KeyError, TypeError):
        return _RESOLVERS[geo]
    resolver = _Resolver(geo)
    with contextlib.suppress(TypeError):  # an object without weak references: no memo
        _RESOLVERS[geo] = resolver
    return resolver


class _Assembler:
    """Collects ``(perimeter, unit)`` pairs row by row, then builds the set and report."""

    def __init__(self, geo: Geography, kind: str):
        self.geo = geo
        self.kind = kind
        self.resolver = _resolver(geo)
        self.perimeters: dict[str, dict] = {}
        self.first: dict[tuple[str, str], tuple[str, int]] = {}
        self.seen: dict[tuple[str, str, str], int] = {}
        self.rows_used: set[int] = set()
        self.duplicate_rows: list[dict] = []
        self.counted_twice: list[dict] = []
        self.unknown_codes: list[dict] = []
        self.nature_issues: list[dict] = []
        self.remapped_codes: list[dict] = []
        self.former_epcis: list[dict] = []

    def declare(self, pid: str, nom: str, ligne: int, extras: dict | None = None) -> None:
        """Register a perimeter (first name and file values win)."""
        entry = self.perimeters.setdefault(pid, {"nom": nom or pid, "ligne": ligne, "rows": []})
        entry["rows"].append(ligne)
        for key, value in (extras or {}).items():
            if value not in (None, "") and entry.get(key) in (None, ""):
                entry[key] = value

    def unknown(self, ligne: int, code: str, motif: str, perimetre: str = "", **extra) -> None:
        """Report a row that cannot be used."""
        self.unknown_codes.append(
            {"ligne": int(ligne), "code": code, "perimetre": perimetre, "motif": motif, **extra}
        )

    def add(self, pid: str, level: str, unit: str, ligne: int, given: str) -> None:
        """Give ``unit`` to perimeter ``pid`` unless it is a duplicate or already elsewhere."""
        key = (pid, level, unit)
        if key in self.seen:
            self.duplicate_rows.append(
                {
                    "ligne": int(ligne),
                    "ligne_premiere": int(self.seen[key]),
                    "perimetre": pid,
                    "niveau": level,
                    "code": given,
                    "nom": self.resolver.name(level, unit),
                }
            )
            return
        self.seen[key] = ligne
        previous = self.first.get((level, unit))
        if previous is not None and previous[0] != pid:
            self.counted_twice.append(
                {
                    "niveau": level,
                    "code": unit,
                    "nom": self.resolver.name(level, unit),
                    "perimetre_retenu": previous[0],
                    "ligne_retenue": int(previous[1]),
                    "perimetre_ecarte": pid,
                    "ligne_ecartee": int(ligne),
                    "regle": "première occurrence conservée",
                }
            )
            return
        self.first[(level, unit)] = (pid, ligne)
        self.rows_used.add(int(ligne))
        if level == "ancien_epci":
            members = self.resolver.former_members[unit]
            today = sorted({self.resolver.commune_epci.get(c) for c in members} - {None})
            self.former_epcis.append(
                {
                    "ligne": int(ligne),
                    "code": unit,
                    "nom": self.resolver.name(level, unit),
                    "perimetre": pid,
                    "n_communes": len(members),
                    "epci_actuels": today,
                    "epci_actuels_noms": [self.resolver.name("epci", e) for e in today],
                }
            )

    # ------------------------------------------------------------------ build
    def build(self) -> tuple[pd.Series, pd.DataFrame, list[dict]]:
        """Membership, per-perimeter table (with file extras) and detached communes."""
        communes = self.geo.communes
        codes = communes["code"].tolist()
        epcis = communes["epci"].tolist()
        assigned: dict[str, dict[str, str]] = {
            "epci": {},
            "ept": {},
            "commune": {},
            "ancien_epci": {},
        }
        for (level, unit), (pid, _) in self.first.items():
            assigned[level][unit] = pid
        former_of = {
            commune: siren
            for siren in assigned["ancien_epci"]
            for commune in self.resolver.former_members[siren]
        }
        ept_of = [self.resolver.commune_ept.get(c) for c in codes]
        # a 2022 EPCI merged since stands for its 2022 communes, before today's EPCI
        via_epci = [
            assigned["ancien_epci"].get(former_of.get(c, "")) or assigned["epci"].get(e)
            for c, e in zip(codes, epcis, strict=True)
        ]
        via_unit = [
            f"ancien_epci:{former_of[c]}" if c in former_of else f"epci:{e}"
            for c, e in zip(codes, epcis, strict=True)
        ]
        via_ept = [assigned["ept"].get(t) if t else None for t in ept_of]
        via_com = [assigned["commune"].get(c) for c in codes]
        perimetre: list[str | None] = []
        units: list[str | None] = []
        detached: list[dict] = []
        for i, code in enumerate(codes):
            lower = via_ept[i] or via_epci[i]
            if via_com[i] and via_com[i] != lower:
                chosen, via = via_com[i], "commune"
                unit = f"commune:{code}" if self.kind == "officiel" else f"epci:{epcis[i]}"
            elif via_ept[i]:
                chosen, via, unit = via_ept[i], "ept", f"ept:{ept_of[i]}"
            elif via_epci[i]:
                chosen, via, unit = via_epci[i], "epci", via_unit[i]
            else:
                chosen, via, unit = None, None, None
            perimetre.append(chosen)
            units.append(unit)
            if chosen and via_epci[i] and chosen != via_epci[i]:
                detached.append(
                    {
                        "commune": code,
                        "nom": self.resolver.commune_names.get(code, code),
                        "par": via,
                        "perimetre": chosen,
                        "epci": epcis[i],
                        "epci_nom": self.resolver.epci_names.get(epcis[i], epcis[i]),
                        "perimetre_epci": via_epci[i],
                    }
                )
        frame = pd.DataFrame(
            {
                "code": codes,
                "epci": epcis,
                "perimetre": perimetre,
                "unit": units,
                "population": communes["population"].fillna(0).astype("int64").to_numpy(),
                "departement": communes["departement"].to_numpy(),
                "region": communes["region"].to_numpy(),
                "outre_mer": communes["outre_mer"].astype(bool).to_numpy(),
            }
        )
        self.commune_frame = frame
        covered = frame.dropna(subset=["perimetre"])
        membership = pd.Series(
            covered["perimetre"].to_numpy(),
            index=pd.Index(covered["code"].to_numpy(), name="code"),
            name="perimetre",
            dtype="str",
        )
        table = self._perimeter_table(covered)
        return membership, table, detached

    def _perimeter_table(self, covered: pd.DataFrame) -> pd.DataFrame:
        grouped = covered.groupby("perimetre", sort=False)

        def joined(column: str) -> pd.Series:
            pairs = covered[["perimetre", column]].drop_duplicates().sort_values(column)
            return pairs.groupby("perimetre", sort=False)[column].agg(",".join)

        stats = pd.DataFrame(
            {
                "n_epci": grouped["unit"].nunique(),
                "n_communes": grouped.size(),
                "population": grouped["population"].sum(),
                "departements": joined("departement"),
                "n_departements": grouped["departement"].nunique(),
                "regions": joined("region"),
                "n_regions": grouped["region"].nunique(),
                "outre_mer": grouped["outre_mer"].any(),
                "membres": joined("unit"),
            }
        )
        columns = ["code", "nom", "n_epci", "portage", *stats.columns.drop("n_epci")]
        order = [pid for pid in self.perimeters if pid in stats.index]
        if not order:
            return pd.DataFrame(columns=columns)
        table = stats.loc[order].rename_axis("code").reset_index()
        table.insert(1, "nom", [self.perimeters[pid]["nom"] for pid in order])
        extra_keys = sorted(
            {k for pid in order for k in self.perimeters[pid]} - {"nom", "ligne", "rows"}
        )
        for key in extra_keys:
            table[key] = [self.perimeters[pid].get(key) for pid in order]
        table["n_epci"] = table["n_epci"].astype("int64")
        table["portage"] = np.where(table["n_epci"] >= 2, "plusieurs EPCI", "un EPCI")
        table["interregional"] = table["n_regions"] >= 2
        table["interdepartemental"] = table["n_departements"] >= 2
        extras = [c for c in table.columns if c not in columns]
        return table[columns + extras].reset_index(drop=True)

    # ------------------------------------------------------------------ report
    def report(
        self,
        report: ValidationReport,
        table: pd.DataFrame,
        detached: list[dict],
        n_rows: int,
    ) -> ValidationReport:
        """Fill ``report`` from the built set."""
        frame = self.commune_frame
        report.n_rows = int(n_rows)
        report.n_rows_used = len(self.rows_used)
        report.n_perimetres = len(table)
        multi = table["n_epci"] >= 2 if len(table) else pd.Series(dtype=bool)
        report.n_multi_epci = int(multi.sum())
        report.n_mono_epci = report.n_perimetres - report.n_multi_epci
        if self.kind == "officiel":
            report.reference = dict(REFERENCE_COUNTS)
            report.reference_differences = {
                "total": report.n_perimetres - REFERENCE_COUNTS["total"],
                "mono_epci": report.n_mono_epci - REFERENCE_COUNTS["mono_epci"],
                "multi_epci": report.n_multi_epci - REFERENCE_COUNTS["multi_epci"],
            }
        report.scopes = self._scopes(frame, table)
        report.uncovered = self._uncovered(frame)
        report.duplicate_rows = self.duplicate_rows
        report.unknown_codes = sorted(self.unknown_codes, key=lambda d: d["ligne"])
        report.nature_issues = self.nature_issues
        report.counted_twice = self.counted_twice
        report.communes_in_two = self._communes_in_two()
        report.detached_communes = detached
        report.remapped_codes = self.remapped_codes
        report.former_epcis = self.former_epcis
        kept = set(table["code"])
        report.empty_perimetres = [
            {"code": pid, "nom": info["nom"], "lignes": [int(x) for x in info["rows"]]}
            for pid, info in self.perimeters.items()
            if pid not in kept
        ]
        spanning = _spanning(table, self.resolver)
        report.inter_regional, report.inter_departemental, report.file_flag_mismatches = spanning
        keep = ["code", "nom", "n_epci", "portage", "n_communes", "population"]
        keep += ["n_departements", "n_regions", "outre_mer"]
        report.perimeters = table[keep].to_dict("records") if len(table) else []
        return report

    def _communes_in_two(self) -> list[dict]:
        members = {
            "epci": self.resolver.epci_members,
            "ept": self.resolver.ept_members,
            "ancien_epci": self.resolver.former_members,
        }
        out = []
        for d in self.counted_twice:
            codes = members.get(d["niveau"], {}).get(d["code"], [d["code"]])
            out += [
                {
                    "commune": code,
                    "nom": self.resolver.commune_names.get(code, code),
                    "perimetre_retenu": d["perimetre_retenu"],
                    "perimetre_ecarte": d["perimetre_ecarte"],
                }
                for code in codes
            ]
        return out

    def _scopes(self, frame: pd.DataFrame, table: pd.DataFrame) -> dict:
        epci_cover = (
            frame.assign(covered=frame["perimetre"].notna())
            .groupby("epci")
            .agg(all=("covered", "all"), any=("covered", "any"), outre_mer=("outre_mer", "any"))
        )
        perimeter_scope = table["outre_mer"].astype(bool) if len(table) else pd.Series(dtype=bool)
        scopes = {}
        for scope in ("metropole", "outre_mer", "france"):
            if scope == "france":
                part, perims, epci_part = frame, table, epci_cover
            else:
                overseas = scope == "outre_mer"
                part = frame[frame["outre_mer"] == overseas]
                perims = table[perimeter_scope == overseas] if len(table) else table
                epci_part = epci_cover[epci_cover["outre_mer"] == overseas]
            covered = part["perimetre"].notna()
            population = int(part["population"].sum())
            covered_population = int(part.loc[covered, "population"].sum())
            n_multi = int((perims["n_epci"] >= 2).sum()) if len(perims) else 0
            scopes[scope] = {
                "n_perimetres": int(len(perims)),
                "n_mono_epci": int(len(perims)) - n_multi,
                "n_multi_epci": n_multi,
                "n_communes": int(len(part)),
                "n_communes_couvertes": int(covered.sum()),
                "population": population,
                "population_couverte": covered_population,
                "part_population_couverte": (
                    round(covered_population / population, 4) if population else None
                ),
                "n_epci": int(len(epci_part)),
                "n_epci_couverts": int(epci_part["all"].sum()),
                "n_epci_partiellement_couverts": int((epci_part["any"] & ~epci_part["all"]).sum()),
            }
        return scopes

    def _uncovered(self, frame: pd.DataFrame) -> dict:
        communes = self.geo.communes
        epcis = self.geo.epcis.set_index("code")
        data = frame.assign(nom=communes["nom"].to_numpy())
        covered_epcis = set(data.loc[data["perimetre"].notna(), "epci"])
        out = {}
        for scope, flag in (("metropole", False), ("outre_mer", True)):
            part = data[(data["outre_mer"] == flag) & data["perimetre"].isna()]
            whole = sorted(set(part["epci"]) - covered_epcis)
            epci_list = [
                {
                    "code": code,
                    "nom": epcis.at[code, "nom"],
                    "nature": epcis.at[code, "nature"],
                    "population": _int(epcis.at[code, "population"]),
                    "departement": epcis.at[code, "departement"],
                    "n_communes": int(epcis.at[code, "n_communes"]),
                }
                for code in whole
            ]
            epci_list.sort(key=lambda d: (-(d["population"] or 0), d["code"]))
            loose = part[part["epci"].isin(covered_epcis)]
            commune_list = [
                {
                    "code": row.code,
                    "nom": row.nom,
                    "population": int(row.population),
                    "epci": row.epci,
                    "epci_nom": epcis.at[row.epci, "nom"] if row.epci in epcis.index else "",
                }
                for row in loose.sort_values("population", ascending=False).itertuples()
            ]
            out[scope] = {
                "n_communes": int(len(part)),
                "population": int(part["population"].sum()),
                "epcis": epci_list,
                "communes": commune_list,
            }
        return out


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _spanning(
    table: pd.DataFrame, resolver: _Resolver
) -> tuple[list[dict], list[dict], list[dict]]:
    """Inter-region and inter-département perimeters, and disagreements with the file."""
    regional, departemental, mismatches = [], [], []
    if table.empty:
        return regional, departemental, mismatches
    for row in table.to_dict("records"):
        file_reg = row.get("crte_interreg")
        file_dep = row.get("crte_interdep")
        if row["n_regions"] >= 2:
            regional.append(
                {
                    "code": row["code"],
                    "nom": row["nom"],
                    "regions": row["regions"].split(","),
                    "regions_noms": [
                        resolver.region_names.get(c, c) for c in row["regions"].split(",")
                    ],
                    "drapeau_fichier": file_reg,
                }
            )
        if row["n_departements"] >= 2:
            departemental.append(
                {
                    "code": row["code"],
                    "nom": row["nom"],
                    "departements": row["departements"].split(","),
                    "departements_noms": [
                        resolver.departement_names.get(c, c) for c in row["departements"].split(",")
                    ],
                    "drapeau_fichier": file_dep,
                }
            )
        portage = _portage_flag(row.get("type_grp_crte"))
        checks = (
            ("crte_interreg", file_reg, bool(row["n_regions"] >= 2), file_reg),
            ("crte_interdep", file_dep, bool(row["n_departements"] >= 2), file_dep),
            ("type_grp_crte", portage, bool(row["n_epci"] >= 2), row.get("type_grp_crte")),
        )
        for champ, in_file, computed, shown in checks:
            if isinstance(in_file, bool) and in_file != computed:
                mismatches.append(
                    {
                        "code": row["code"],
                        "nom": row["nom"],
                        "champ": champ,
                        "fichier": shown,
                        "calcule": ("pluri" if computed else "mono")
                        if champ == "type_grp_crte"
                        else computed,
                    }
                )
    return regional, departemental, mismatches


_TRUE = {"oui", "o", "1", "true", "vrai", "x", "yes", "y"}

_FALSE = {"non", "n", "0", "false", "faux", "no"}


def _flag(value: str) -> bool | None:
    text = fold(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _portage_flag(value: Any) -> bool | None:
    """``type_grp_crte``: True for a multi-EPCI perimeter, False for mono, else None."""
    text = fold(value or "")
    if text.startswith(("pluri", "multi", "plusieurs")):
        return True
    if text.startswith(("mono", "un ")) or text == "un":
        return False
    return None


def _siren_ok(siren: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", siren))


def _describe(resolver: _Resolver, level: str, unit: str) -> str:
    label = {
        "epci": "l'EPCI",
        "ept": "l'EPT",
        "commune": "la commune",
        "ancien_epci": "l'EPCI de 2022",
    }[level]
    return f"{label} {resolver.name(level, unit)} ({unit})"


def _unknown_reason(hint: str, declared: str) -> str:
    if hint in EPCI_NATURES:
        return (
            f"SIREN d'EPCI ({hint}) inconnu du référentiel : EPCI dissous, fusionné ou "
            "d'un autre millésime ? Ligne ignorée"
        )
    if hint == "EPT":
        return "SIREN d'EPT inconnu (aucun des 11 EPT du Grand Paris) : ligne ignorée"
    if hint == "COM":
        return (
            "SIREN de commune inconnu du référentiel (commune fusionnée ou d'un autre "
            "millésime ?) : ligne ignorée"
        )
    if declared:
        return (
            f"nature juridique « {declared} » non prise en charge et SIREN inconnu "
            "du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée"
        )
    return "SIREN inconnu du référentiel (ni EPCI, ni EPT, ni commune) : ligne ignorée"
