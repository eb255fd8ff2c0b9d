"""« Se conter » : a short portrait of a territory in plain French, written from its data.

Every sentence is generated from the indicator values (never free text), tied to its
figures (value, département, région and France side by side), its source and vintage.
A value the data does not have gives no sentence; an estimated value says « (estimation) ».

Wording rules (:data:`RULES`, stated on screen by :func:`rules_text`): the gap between the
territory's value ``v`` and a reference ``r`` is measured

- *relative* for levels (income, rates, distances): ``(v - r) / |r|``;
- *absolute* (in the indicator's unit) for changes around zero (population growth,
  natural balance), where a relative gap has no meaning.

A gap smaller than the rule's ``near`` band reads « proche de » ; from ``far`` on it reads
« nettement supérieur / inférieur à » ; in between « supérieur / inférieur à ». A reference
of exactly zero under a relative rule gives « proche » for zero, else « supérieur » /
« inférieur » (never « nettement »: the size of the gap cannot be stated).

Examples
--------
>>> compare_word(28.0, 17.3, RULES["taux_pauvrete_2021"])
'nettement supérieur'
>>> compare_word(17.5, 17.3, RULES["taux_pauvrete_2021"])
'proche'
>>> compare_word(0.16, 0.30, RULES["evolution_population_2015_2021"], feminine=True)
'inférieure'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from territorial.text.formatting import format_number

__all__ = [
    "RULES",
    "GapRule",
    "compare_word",
    "comparison_clause",
    "portrait",
    "rules_text",
]


@dataclass(frozen=True)
class GapRule:
    """How a gap to a reference is put into words for one indicator.

    Attributes
    ----------
    kind : str
        ``"relatif"`` (gap divided by the reference's absolute value) or ``"absolu"``
        (gap in the indicator's unit).
    near : float
        Below this gap (strictly), the value is « proche ».
    far : float
        From this gap on, the value is « nettement » above or below.
    """

    kind: str
    near: float
    far: float


RULES: dict[str, GapRule] = {
    "evolution_population_2015_2021": GapRule("absolu", 0.1, 0.5),
    "solde_naturel_2022_1000_hab": GapRule("absolu", 0.5, 2.0),
    "revenu_median_2021": GapRule("relatif", 0.03, 0.10),
    "taux_pauvrete_2021": GapRule("relatif", 0.05, 0.20),
    "taux_chomage_15_64_2021": GapRule("relatif", 0.05, 0.20),
    "france_services_10000_hab": GapRule("relatif", 0.10, 0.50),
    "distance_pole_10000_km": GapRule("relatif", 0.10, 0.50),
}
"""The wording rule of each indicator the portrait compares."""

_STABLE_GROWTH = 0.05  # %/an: below this (in absolute value) the population is « stable »
_REFERENCES = {  # (« à celui … », « de celui … ») per reference level
    "departement": "du département",
    "region": "de la région",
    "france": "de la France",
}
_SUBJECTS = {
    "commune": "La commune",
    "epci": "L'intercommunalité",
    "perimetre": "Le projet de territoire",
    "departement": "Le département",
    "region": "La région",
}


def compare_word(value: float, reference: float, rule: GapRule, feminine: bool = False) -> str:
    """« proche », « supérieur », « nettement inférieur »… for ``value`` against ``reference``.

    Parameters
    ----------
    value, reference : float
        The territory's value and the reference's (département, région, France).
    rule : GapRule
        Relative or absolute gap, with its « proche » and « nettement » bands.
    feminine : bool
        Agree with a feminine noun (« inférieure »).

    Examples
    --------
    >>> rule = GapRule("relatif", 0.05, 0.20)
    >>> [compare_word(v, 100.0, rule) for v in (104.9, 105.0, 119.9, 120.0, 80.0, 80.1)]
    ['proche', 'supérieur', 'supérieur', 'nettement supérieur', 'nettement inférieur', 'inférieur']
    >>> compare_word(0.0, 0.0, rule), compare_word(3.0, 0.0, rule)
    ('proche', 'supérieur')
    """
    gap = value - reference
    undefined = rule.kind == "relatif" and reference == 0  # a relative gap to zero
    if undefined:
        size = rule.near if gap else 0.0
    elif rule.kind == "relatif":
        size = abs(gap) / abs(reference)
    else:
        size = abs(gap)
    size = round(size, 9)  # 104.9 against 100 must not flip on float noise
    if size < rule.near:
        return "proche"
    word = ("supérieur" if gap > 0 else "inférieur") + ("e" if feminine else "")
    return f"nettement {word}" if size >= rule.far and not undefined else word


def _figure(value: float, indicator, estimate: bool, signed: bool = False, mark="{} (estimation)"):
    """The value with its unit, ``+`` for a positive change, and its estimate mark."""
    text = format_number(value, indicator.decimals)
    if signed and value > 0 and text.strip("0,") != "":
        text = f"+{text}"
    text = f"{text} {indicator.unit}".strip()
    return mark.format(text) if estimate else text


def comparison_clause(
    value: float,
    references: dict[str, float | None],
    indicator,
    rule: GapRule,
    feminine: bool = False,
    estimates: frozenset[str] | set[str] = frozenset(),
    signed: bool = False,
) -> str:
    """The comparisons with the known references (département, région, France, in order).

    References that get the same word are grouped (« inférieur à celui du département
    (…) et de la région (…) »), groups are separated by « ; » ; missing references are
    left out; none at all gives ``""``.

    >>> from territorial.indicators.catalogue import Indicator
    >>> rate = Indicator("t", "Taux", "%", "x", "fragile_si_haut", "somme", decimals=1)
    >>> rule = GapRule("relatif", .05, .2)
    >>> comparison_clause(28.0, {"region": 27.0, "france": None}, rate, rule,
    ...                   estimates={"region"})
    'proche de celui de la région (27,0 %, estimation)'
    >>> comparison_clause(28.0, {"departement": 20.0, "region": 28.5, "france": 21.0}, rate, rule)
    'nettement supérieur à celui du département (20,0 %) et de la France (21,0 %) ; proche de celui de la région (28,5 %)'
    """
    pronoun = "celle" if feminine else "celui"
    groups: dict[str, list[str]] = {}
    for level, where in _REFERENCES.items():
        reference = references.get(level)
        if reference is None or (isinstance(reference, float) and math.isnan(reference)):
            continue
        word = compare_word(value, reference, rule, feminine)
        figure = _figure(reference, indicator, level in estimates, signed, "{}, estimation")
        groups.setdefault(word, []).append(f"{where} ({figure})")
    parts = []
    for word, places in groups.items():
        link = "de" if word == "proche" else "à"
        listed = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " et " + places[-1]
        parts.append(f"{word} {link} {pronoun} {listed}")
    return " ; ".join(parts)


def _source(indicator) -> str:
    return f"{indicator.source} — {indicator.vintage}"


@dataclass
class _Facts:
    """What the sentences of one territory need."""

    store: object
    level: str
    code: str

    def indicator(self, indicator_id: str):
        return self.store.catalogue.indicators.get(indicator_id)

    def values(self, indicator_id: str) -> tuple[float | None, dict]:
        if self.indicator(indicator_id) is None:
            return None, {}
        references = self.store.reference(indicator_id, self.level, self.code)
        own = references.pop(self.level, None)  # a département is not its own reference
        return own, references

    def estimates(self, indicator_id: str) -> set[str]:
        levels = (self.level, *_REFERENCES)
        return {lvl for lvl in levels if self.store.is_estimate(indicator_id, lvl)}


def _compared(
    facts: _Facts,
    indicator_id: str,
    lead: str,
    noun: str = "",
    feminine: bool = False,
    signed: bool = False,
    after: str = "",
) -> dict | None:
    """``lead`` value ``after``, ``noun`` comparisons; None when the territory has no value."""
    own, references = facts.values(indicator_id)
    if own is None:
        return None
    indicator = facts.indicator(indicator_id)
    estimates = facts.estimates(indicator_id)
    figure = _figure(own, indicator, facts.level in estimates, signed)
    clause = comparison_clause(
        own, references, indicator, RULES[indicator_id], feminine, estimates, signed
    )
    text = f"{lead} {figure}{after}"
    if clause:
        text += f", {noun} {clause}" if noun else f", {clause}"
    return {"indicateur": indicator_id, "texte": text + ".", "source": _source(indicator)}


def _fact(facts: _Facts, indicator_id: str, text: str) -> dict:
    """A sentence without comparison (a count, a plain fact)."""
    return {
        "indicateur": indicator_id,
        "texte": text,
        "source": _source(facts.indicator(indicator_id)),
    }


def _demography(facts: _Facts) -> list[dict]:
    out = []
    population, _ = facts.values("population")
    if population is not None:
        subject = _SUBJECTS[facts.level]
        out.append(
            _fact(facts, "population", f"{subject} compte {format_number(population)} habitants.")
        )
    growth, _ = facts.values("evolution_population_2015_2021")
    if growth is not None:
        if abs(growth) < _STABLE_GROWTH:
            trend = "Entre 2015 et 2021, la population est restée presque stable"
        else:
            verb = "augmenté" if growth > 0 else "diminué"
            trend = f"Entre 2015 et 2021, la population a {verb}"
        out.append(
            _compared(
                facts,
                "evolution_population_2015_2021",
                f"{trend} :",
                noun="une évolution",
                feminine=True,
                signed=True,
                after=" en moyenne",
            )
        )
    balance, _ = facts.values("solde_naturel_2022_1000_hab")
    if balance is not None:
        if balance > 0:
            lead = "En 2022, les naissances ont dépassé les décès : solde naturel de"
        elif balance < 0:
            lead = "En 2022, les décès ont dépassé les naissances : solde naturel de"
        else:
            lead = "En 2022, naissances et décès se sont équilibrés : solde naturel de"
        out.append(_compared(facts, "solde_naturel_2022_1000_hab", lead, signed=True))
    return out


def _income_and_work(facts: _Facts) -> list[dict]:
    return [
        _compared(facts, "revenu_median_2021", "Le niveau de vie médian est de"),
        _compared(facts, "taux_pauvrete_2021", "Le taux de pauvreté est de"),
        _compared(facts, "taux_chomage_15_64_2021", "Le taux de chômage des 15-64 ans est de"),
    ]


def _services(facts: _Facts) -> list[dict]:
    out = []
    count, _ = facts.values("n_france_services")
    if count is not None:
        subject = _SUBJECTS[facts.level]
        if int(count) == 0:
            out.append(
                _fact(
                    facts, "n_france_services", f"{subject} n'a aucune France services sur son sol."
                )
            )
        else:
            lead = f"{subject} compte {format_number(count)} France services, soit"
            sentence = _compared(
                facts, "france_services_10000_hab", lead, noun="une densité", feminine=True
            )
            out.append(sentence or _fact(facts, "n_france_services", lead[:-6] + "."))
    distance, _ = facts.values("distance_pole_10000_km")
    if distance is not None and facts.level == "commune" and distance == 0:
        out.append(
            _fact(
                facts,
                "distance_pole_10000_km",
                "La commune compte elle-même 10 000 habitants ou plus.",
            )
        )
    elif distance is not None:
        if facts.level == "commune":
            lead, after = "La commune de 10 000 habitants ou plus la plus proche est à", ""
        else:
            lead = "En moyenne, un habitant vit à"
            after = " d'une commune de 10 000 habitants ou plus"
        out.append(
            _compared(
                facts,
                "distance_pole_10000_km",
                lead,
                noun="une distance",
                feminine=True,
                after=after,
            )
        )
    return out


def _belonging(level: str, identity: dict | None, programmes: list[dict] | None) -> list[dict]:
    out = []
    perimeter = (identity or {}).get("perimetre")
    if perimeter and level != "perimetre":
        text = f"Elle fait partie du projet de territoire « {perimeter['nom']} »."
        out.append(
            {
                "indicateur": "perimetre",
                "texte": text,
                "source": f"Jeu de périmètres : {perimeter['jeu']}",
            }
        )
    if programmes is not None:
        if programmes:
            names = ", ".join(f"{p['programme']} ({p['n']})" for p in programmes)
            text = f"Programmes de l'ANCT présents : {names}."
        else:
            text = "Aucun des programmes de l'ANCT suivis n'est présent."
        out.append(
            {
                "indicateur": "programmes",
                "texte": text,
                "source": "ANCT, membres des programmes — septembre 2024 ; QPV — 2024",
            }
        )
    return out


def _fragilities(priorities: list[dict] | None, preset: str) -> list[dict]:
    if priorities is None:  # not computed: say nothing rather than « none »
        return []
    if priorities:
        names = " ; ".join(p["ecart_texte"] for p in priorities)
        text = f"Fragilités prioritaires (jeu « {preset} ») : {names}."
    else:
        text = f"Aucune fragilité au-dessus de la médiane (jeu « {preset} »)."
    return [
        {
            "indicateur": "fragilites",
            "texte": text,
            "source": "Calcul Dynamiques territoriales (rangs en centiles)",
        }
    ]


def portrait(
    store,
    level: str,
    code: str,
    priorities: list[dict] | None = None,
    identity: dict | None = None,
    programmes: list[dict] | None = None,
    preset: str = "Vue d'ensemble",
) -> list[dict]:
    """The portrait of one territory: a list of sentences with their theme and source.

    Parameters
    ----------
    store : IndicatorStore
        Values at every level, catalogue and estimate flags.
    level, code : str
        The territory.
    priorities : list of dict, optional
        Its fragilités prioritaires (entries of :attr:`FragilityResult.priorities`);
        None when not computed (no sentence), ``[]`` when there is none.
    identity : dict, optional
        The fiche's identity (for its perimeter); programmes : list of dict, optional
        the ANCT programmes of :func:`territorial.fiche.programmes`.
    preset : str
        Name of the fragility preset the priorities come from.

    Returns
    -------
    list of dict
        ``theme`` (French section name), ``indicateur``, ``texte`` (the sentence) and
        ``source`` (producer and vintage). Missing values give no sentence.

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> lines = portrait(IndicatorStore(load_geography()), "commune", "42218")
    >>> lines[0]["texte"].replace("\u202f", " ")
    'La commune compte 172 718 habitants.'
    """
    facts = _Facts(store, level, code)
    themes = {
        "Qui y vit et comment cela évolue": _demography(facts),
        "Revenus, pauvreté et emploi": _income_and_work(facts),
        "Accès aux services": _services(facts),
        "Périmètre et programmes": _belonging(level, identity, programmes),
        "Fragilités prioritaires": _fragilities(priorities, preset),
    }
    return [
        {"theme": theme, **sentence}
        for theme, sentences in themes.items()
        for sentence in sentences
        if sentence is not None
    ]


def rules_text() -> str:
    """The wording rules in French, one per indicator, as shown under the portrait.

    >>> print(rules_text().splitlines()[0])
    Chaque phrase est écrite par le programme à partir des données, jamais à la main.
    """
    from territorial.indicators.catalogue import load_catalogue

    catalogue = load_catalogue()
    lines = [
        "Chaque phrase est écrite par le programme à partir des données, jamais à la main.",
        "Une donnée manquante ne donne aucune phrase ; une valeur estimée porte « (estimation) ».",
    ]
    for indicator_id, rule in RULES.items():
        indicator = catalogue[indicator_id]
        if rule.kind == "relatif":
            near = f"{format_number(rule.near * 100)} %"
            far = f"{format_number(rule.far * 100)} %"
            how = "écart rapporté à la valeur de référence"
        else:
            near = f"{format_number(rule.near, 1)} {indicator.unit}"
            far = f"{format_number(rule.far, 1)} {indicator.unit}"
            how = "écart en valeur absolue"
        lines.append(
            f"{indicator.label} ({how}) : « proche » en dessous de {near}, "
            f"« supérieur » ou « inférieur » de {near} à {far}, « nettement » à partir de {far}."
        )
    lines.append(
        f"Évolution de la population : « presque stable » en dessous de "
        f"{format_number(_STABLE_GROWTH, 2)} %/an en valeur absolue."
    )
    return "\n".join(lines)
