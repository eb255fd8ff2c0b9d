"""The French text of a validation report (summary, anomalies, uncovered communes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from territorial.text.formatting import count_text, format_number

if TYPE_CHECKING:
    pass
from typing import TYPE_CHECKING

from territorial.perimeters.model import _LEVEL_LABELS

if TYPE_CHECKING:
    from territorial.perimeters.report import ValidationReport


_MAX_LISTED = 10  # items quoted in a French sentence of the summary


def _n(value: float | None) -> str:
    return format_number(value) if value is not None else "–"


def _pct(share: float | None) -> str:
    return "–" if share is None else format_number(100 * share, 1) + " %"


def _listing(items: list[str], total: int) -> str:
    text = " ; ".join(items[:_MAX_LISTED])
    return text + (f" ; … et {_n(total - _MAX_LISTED)} autres" if total > _MAX_LISTED else "")


def _signed(n: int) -> str:
    return f"+{_n(n)}" if n > 0 else _n(n)


def _summary_fr(r: ValidationReport) -> list[str]:
    lines = [
        f"Fichier « {r.source_name} » lu comme {r.layout_label} : "
        f"{count_text(r.n_rows, 'ligne')} de données, {_n(r.n_rows_used)} utilisée"
        f"{'s' if r.n_rows_used > 1 else ''}."
    ]
    lines.append(
        f"{count_text(r.n_perimetres, 'périmètre')} : {_n(r.n_mono_epci)} porté"
        f"{'s' if r.n_mono_epci > 1 else ''} par un seul EPCI (ou une commune seule), "
        f"{_n(r.n_multi_epci)} par plusieurs EPCI."
    )
    if r.reference is not None and r.reference_differences is not None:
        ref, diff = r.reference, r.reference_differences
        head = (
            f"Référence : {_n(ref['total'])} périmètres ({_n(ref['mono_epci'])} mono-EPCI + "
            f"{_n(ref['multi_epci'])} multi-EPCI)"
        )
        if not any(diff.values()):
            lines.append(head + " : les effectifs sont identiques.")
        else:
            lines.append(
                f"{head} ; écarts : {_signed(diff['total'])} au total, "
                f"{_signed(diff['mono_epci'])} mono-EPCI, {_signed(diff['multi_epci'])} "
                "multi-EPCI."
            )
    for scope, label in (("metropole", "France métropolitaine"), ("outre_mer", "Outre-mer")):
        s = r.scopes.get(scope)
        if not s or not s["n_communes"]:
            continue
        lines.append(
            f"{label} : {count_text(s['n_perimetres'], 'périmètre')} "
            f"({_n(s['n_mono_epci'])} mono-EPCI, {_n(s['n_multi_epci'])} multi-EPCI), "
            f"{_n(s['n_communes_couvertes'])} communes sur {_n(s['n_communes'])} couvertes, "
            f"{_pct(s['part_population_couverte'])} de la population."
        )
    if r.kind == "utilisateur":
        lines.append(
            "Un jeu de périmètres d'atelier peut ne couvrir qu'une partie du territoire : "
            "les communes hors de ces périmètres n'y sont simplement pas rattachées."
        )
    lines += _anomaly_lines(r)
    lines += [f"Note : {note}" for note in r.notes]
    return lines


def _anomaly_lines(r: ValidationReport) -> list[str]:
    lines = []
    if r.duplicate_rows:
        items = [f"ligne {d['ligne']} (déjà ligne {d['ligne_premiere']})" for d in r.duplicate_rows]
        lines.append(
            f"{count_text(len(r.duplicate_rows), 'ligne')} en double, ignorée"
            f"{'s' if len(r.duplicate_rows) > 1 else ''} : " + _listing(items, len(items)) + "."
        )
    if r.unknown_codes:
        items = [
            f"ligne {d['ligne']} ({d['code'] or 'vide'} : {d['motif']})" for d in r.unknown_codes
        ]
        lines.append(
            f"{count_text(len(items), 'code non reconnu', 'codes non reconnus')} : "
            + _listing(items, len(items))
            + "."
        )
    if r.nature_issues:
        items = [f"ligne {d['ligne']} ({d['motif']})" for d in r.nature_issues]
        lines.append(
            f"{count_text(len(items), 'nature juridique', 'natures juridiques')} à vérifier : "
            + _listing(items, len(items))
            + "."
        )
    if r.counted_twice:
        items = [
            f"{_LEVEL_LABELS[d['niveau']]} {d['nom']} ({d['code']}) dans "
            f"{d['perimetre_retenu']} (ligne {d['ligne_retenue']}) et {d['perimetre_ecarte']} "
            f"(ligne {d['ligne_ecartee']})"
            for d in r.counted_twice
        ]
        lines.append(
            f"{count_text(len(items), 'unité citée', 'unités citées')} dans deux périmètres : "
            + _listing(items, len(items))
            + f". Règle appliquée : {r.double_count_rule}. "
            + f"{count_text(len(r.communes_in_two), 'commune concernée', 'communes concernées')}, "
            "comptées une seule fois."
        )
    if r.detached_communes:
        items = [
            f"{d['nom']} ({d['commune']}) → {d['perimetre']} au lieu de {d['perimetre_epci']}"
            for d in r.detached_communes
        ]
        lines.append(
            f"{count_text(len(items), 'commune rattachée', 'communes rattachées')} à un autre "
            "périmètre que celui de son EPCI (commune signataire seule ou EPT) : "
            + _listing(items, len(items))
            + "."
        )
    if r.former_epcis:
        items = [
            f"{d['nom']} ({d['code']}, ligne {d['ligne']}) → ses "
            f"{count_text(d['n_communes'], 'commune')} de 2022, aujourd'hui dans "
            + ", ".join(d["epci_actuels_noms"])
            for d in r.former_epcis
        ]
        lines.append(
            f"{count_text(len(items), 'EPCI de 2022 disparu', 'EPCI de 2022 disparus')} depuis "
            "(fusion ou scission) : résolu"
            + ("s" if len(items) > 1 else "")
            + " par leurs communes de 2022 (table des EPCI 2022 de "
            "@etalab/decoupage-administratif 2.3.1) : " + _listing(items, len(items)) + "."
        )
    if r.remapped_codes:
        items = [f"{d['code']} → {d['code_retenu']} ({d['motif']})" for d in r.remapped_codes]
        lines.append(
            f"{count_text(len(items), 'code commune corrigé', 'codes communes corrigés')} : "
            + _listing(items, len(items))
            + "."
        )
    if r.empty_perimetres:
        items = [f"{d['nom']} ({d['code']})" for d in r.empty_perimetres]
        lines.append(
            f"{count_text(len(items), 'périmètre')} du fichier sans aucune commune reconnue, "
            "écarté" + ("s" if len(items) > 1 else "") + " : " + _listing(items, len(items)) + "."
        )
    if r.kind == "officiel":
        lines += _uncovered_lines(r)
    lines += _spanning_lines(r)
    return lines


def _uncovered_lines(r: ValidationReport) -> list[str]:
    lines = []
    for scope, label in (("metropole", "de métropole"), ("outre_mer", "d'outre-mer")):
        u = r.uncovered.get(scope)
        if not u or not u["n_communes"]:
            continue
        epcis = u["epcis"]
        if epcis:
            population = sum(e["population"] or 0 for e in epcis)
            items = [f"{e['nom']} ({e['code']}, {_n(e['population'])} hab.)" for e in epcis]
            lines.append(
                f"{count_text(len(epcis), 'EPCI', 'EPCI')} {label} dans aucun périmètre "
                f"({_n(population)} habitants) : " + _listing(items, len(items)) + "."
            )
        communes = u["communes"]
        if communes:
            items = [f"{c['nom']} ({c['code']}, {_n(c['population'])} hab.)" for c in communes]
            lines.append(
                f"{count_text(len(communes), 'commune')} {label} hors de tout périmètre, "
                "dont l'EPCI est en partie couvert : " + _listing(items, len(items)) + "."
            )
    return lines


def _spanning_lines(r: ValidationReport) -> list[str]:
    lines = []
    if r.inter_regional:
        items = [f"{d['nom']} ({', '.join(d['regions_noms'])})" for d in r.inter_regional]
        lines.append(
            f"{count_text(len(items), 'périmètre')} à cheval sur plusieurs régions : "
            + _listing(items, len(items))
            + "."
        )
    if r.inter_departemental:
        items = [f"{d['nom']} ({', '.join(d['departements_noms'])})" for d in r.inter_departemental]
        lines.append(
            f"{count_text(len(items), 'périmètre')} à cheval sur plusieurs départements : "
            + _listing(items, len(items))
            + "."
        )
    if r.file_flag_mismatches:
        items = [
            f"{d['nom']} ({d['champ']} = {_yes_no(d['fichier'])} dans le fichier, "
            f"{_yes_no(d['calcule'])} d'après la géographie)"
            for d in r.file_flag_mismatches
        ]
        lines.append(
            "Indications du fichier contredites par la géographie : "
            + _listing(items, len(items))
            + "."
        )
    return lines


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return f"« {value} »"
