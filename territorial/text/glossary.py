"""The glossary: the words of the tool in plain French, each with its source.

One source of truth: the « Glossaire » page lists :data:`TERMS`, and the widgets of the
other pages take their help tooltip from :func:`help_text`. The definitions use the
wording of the source documents of the project (Le RAMEAU and the Observatoire des
partenariats, listed in :data:`DOCUMENTS`, quoted with their line numbers), of the data
producers (INSEE, ANCT), or describe the method of this tool, and say which.

Examples
--------
>>> TERMS["epci"].term
'EPCI'
>>> help_text("quantiles").startswith("**Quantiles** : Classes qui regroupent chacune")
True
>>> [t.key for t in search("pairs")]
['se_compter']
"""

from __future__ import annotations

from dataclasses import dataclass

from territorial.geo.search import fold

__all__ = ["DOCUMENTS", "TERMS", "Term", "anchor", "help_text", "search"]

DOCUMENTS = {
    "002": "Le RAMEAU, « Ensemble, valorisons le « jouer collectif » », 20 mai 2021",
    "003": "Observatoire des partenariats (Caisse des Dépôts et Le RAMEAU), programme IMPACT",
    "004": "Le RAMEAU, synthèse de l'étude d'impact ODD 17 en France et dans les 13 régions "
    "métropolitaines (2018-2022)",
}
"""Source documents (``/work/shared/seeds/``), by their file number."""

_TOOL = "Dynamiques territoriales, méthode de l'outil"


@dataclass(frozen=True)
class Term:
    """A glossary entry: the term, its plain-French definition, and where it comes from."""

    key: str
    term: str
    definition: str
    source: str

    @property
    def anchor(self) -> str:
        return anchor(self.key)


def _doc(number: str, lines: str) -> str:
    return f"{DOCUMENTS[number]} (document {number}, lignes {lines})"


_ENTRIES = [
    Term(
        "epci",
        "EPCI",
        "Établissement public de coopération intercommunale : un regroupement de communes "
        "(communauté de communes, communauté d'agglomération, communauté urbaine, métropole) "
        "qui exercent ensemble certaines compétences. Chaque commune appartient à un EPCI, "
        "sauf quelques îles.",
        "INSEE, Code officiel géographique ; 660 des 833 périmètres de « Projets de "
        "Territoire » sont portés par une intercommunalité : " + _doc("004", "300-304"),
    ),
    Term(
        "ept",
        "EPT",
        "Établissement public territorial : dans la Métropole du Grand Paris, les communes "
        "hors Paris sont regroupées en 11 territoires qui signent par exemple un CRTE à la "
        "place d'un EPCI.",
        "INSEE, Code officiel géographique ; ANCT, table EPCI – CRTE des groupements "
        "signataires (décembre 2022)",
    ),
    Term(
        "crte",
        "CRTE / Projet de territoire",
        "Contrat de relance et de transition écologique : le contrat passé entre l'État et "
        "les élus d'un territoire pour son projet. « 833 périmètres de « Projets de "
        "Territoire » ont été définis par les préfets de départements en concertation avec "
        "les élus » ; la liste livrée avec l'outil (décembre 2022) en compte 832 en France "
        "métropolitaine.",
        _doc("004", "300-304") + " ; ANCT, liste des CRTE (décembre 2022)",
    ),
    Term(
        "perimetre",
        "Périmètre",
        "Le contour d'un Projet de territoire : un EPCI seul (660 périmètres) ou plusieurs "
        "EPCI ensemble (173). Dans l'outil, « Périmètre d'étude » désigne aussi la zone "
        "affichée : la France métropolitaine, la France entière, une région ou un "
        "département.",
        _doc("004", "300-304") + " ; " + _TOOL,
    ),
    Term(
        "catalyseur",
        "Catalyseur territorial",
        "Un acteur qui anime l'ingénierie de l'interconnaissance : il fait se rencontrer les "
        "organisations d'un territoire autour de ses enjeux, en amont de tout projet. Il "
        "peut être une association, une entreprise, une collectivité ou un acteur "
        "académique. Ses 4 fonctions : dialogue territorial, expérimentations collectives, "
        "accompagnements, services d'urgence. « 350 « Catalyseurs territoriaux » ont émergé "
        "pour accompagner les "
        "coopérations innovantes » ; leur liste n'est pas publique : l'outil montre une "
        "liste d'exemple FICTIVE ou celle que vous importez.",
        _doc("003", "1181-1193") + " ; " + _doc("002", "468-472") + " ; " + _doc("004", "305-306"),
    ),
    Term(
        "fabrique",
        "Fabrique de territoire",
        "Un tiers-lieu labellisé par l'ANCT : un lieu ouvert qui anime la coopération "
        "locale. Les tiers-lieux « représentent des lieux ressources ouverts, propices à la "
        "rencontre d'acteurs différents ». Ce n'est pas un « catalyseur » au sens des "
        "documents, mais un lieu réel qui en est proche.",
        "ANCT, liste des membres des programmes (septembre 2024) ; " + _doc("003", "1172-1174"),
    ),
    Term(
        "manufacture",
        "Manufacture de proximité",
        "Un atelier partagé de production (fabrication, réparation, artisanat) labellisé par "
        "l'ANCT.",
        "ANCT, liste des membres des programmes (septembre 2024)",
    ),
    Term(
        "france_services",
        "France services",
        "Un guichet où l'on est accompagné dans ses démarches administratives (impôts, "
        "retraite, santé, emploi…) : un accès aux services publics près de chez soi.",
        "ANCT, liste des membres des programmes (septembre 2024)",
    ),
    Term(
        "quantiles",
        "Quantiles",
        "Classes qui regroupent chacune le même nombre de territoires : avec 5 classes "
        "(quintiles), chaque couleur de la carte réunit un cinquième des territoires. Le "
        "« quintile le plus fragile » est le cinquième des territoires les plus fragiles.",
        _TOOL + " (classes de la carte)",
    ),
    Term(
        "seuils_naturels",
        "Seuils naturels (Jenks)",
        "Classes dont les limites passent là où les valeurs se séparent le plus nettement : "
        "les territoires proches restent dans la même classe. Les classes n'ont donc pas le "
        "même nombre de territoires.",
        _TOOL + " (classes de la carte, méthode de Jenks)",
    ),
    Term(
        "polarite",
        "Polarité (côté fragile)",
        "Le sens dans lequel un indicateur signale une fragilité : « fragile si haut » (par "
        "exemple le taux de pauvreté) ou « fragile si bas » (par exemple le niveau de vie "
        "médian). Un indicateur sans côté fragile n'entre pas dans les fragilités.",
        _TOOL + " (catalogue des indicateurs)",
    ),
    Term(
        "mediane",
        "Médiane",
        "La valeur qui partage la population en deux moitiés : la moitié des personnes a "
        "moins, l'autre moitié a plus. Le niveau de vie médian d'une commune est celui de "
        "sa personne du milieu. Une médiane ne s'additionne pas : celle d'un EPCI calculée "
        "à partir de ses communes est une estimation.",
        "INSEE, Filosofi 2021 (niveau de vie médian)",
    ),
    Term(
        "taux_pauvrete",
        "Taux de pauvreté",
        "Part des personnes vivant sous le seuil de pauvreté (60 % du niveau de vie médian "
        "de France métropolitaine).",
        "INSEE, Filosofi 2021",
    ),
    Term(
        "secret_statistique",
        "Secret statistique",
        "L'INSEE ne publie pas certains chiffres des petites communes pour qu'on ne puisse "
        "pas reconnaître des personnes : le taux de pauvreté n'est publié qu'au-delà de "
        "1 000 ménages et 2 000 personnes. La case reste vide (« s » dans le fichier).",
        "INSEE, Filosofi 2021 (base communale)",
    ),
    Term(
        "estimation",
        "Estimation",
        "Une valeur calculée par l'outil, pas publiée telle quelle : par exemple un taux ou "
        "une médiane d'un EPCI ou d'un périmètre obtenu à partir de ses communes. L'outil "
        "l'écrit toujours « (estimation) ».",
        _TOOL,
    ),
    Term(
        "ingenieries",
        "Les 3 ingénieries",
        "Trois façons complémentaires d'animer un territoire : l'ingénierie de gestion "
        "(infrastructures, mise en œuvre de la politique publique locale, en général par "
        "les collectivités), l'ingénierie de projet (management de projet territorial) et "
        "l'ingénierie de l'interconnaissance, la « catalyse », qui crée des liens entre les "
        "organisations en amont de tout projet.",
        _doc("003", "1181-1193"),
    ),
    Term(
        "se_conter",
        "Se conter",
        "Premier degré de maturité de l'évaluation : savoir retracer le cheminement et faire "
        "le récit d'un parcours.",
        _doc("003", "5495-5515"),
    ),
    Term(
        "se_compter",
        "Se compter",
        "Deuxième degré : identifier les « pairs » à même degré de maturité pour mesurer "
        "l'avancement d'un concept ou d'une innovation. Dans l'outil : les « Territoires "
        "comparables » de la fiche.",
        _doc("003", "5495-5515"),
    ),
    Term(
        "compter",
        "Compter",
        "Troisième degré : mesurer les résultats d'une action en phase de maturité et de "
        "déploiement.",
        _doc("003", "5495-5515"),
    ),
    Term(
        "premiers_pas",
        "Premiers pas",
        "Les personnes « qui ne connaissent pas le sujet de co-construction territoriale » : "
        "les outils doivent leur être accessibles, pas seulement aux acteurs déjà actifs.",
        _doc("003", "2501-2522"),
    ),
]

TERMS: dict[str, Term] = {term.key: term for term in _ENTRIES}
"""Glossary entries by key, in reading order."""


def anchor(key: str) -> str:
    """HTML anchor of a term on the Glossaire page (``"epci"`` → ``"glossaire-epci"``)."""
    return f"glossaire-{key.replace('_', '-')}"


def help_text(*keys: str) -> str:
    """Help tooltip of a widget: the definition of each term, its source, a link to it.

    >>> print(help_text("epci").splitlines()[-1])
    [Voir le glossaire](/glossaire#glossaire-epci)
    """
    parts = [
        f"**{TERMS[k].term}** : {TERMS[k].definition} *Source : {TERMS[k].source}.*" for k in keys
    ]
    return "\n\n".join([*parts, f"[Voir le glossaire](/glossaire#{anchor(keys[0])})"])


def search(text: str) -> list[Term]:
    """Terms whose name, definition or source contains ``text`` (accents and case ignored)."""
    wanted = fold(text or "")
    return [
        term
        for term in TERMS.values()
        if wanted in fold(f"{term.term} {term.definition} {term.source}")
    ]
