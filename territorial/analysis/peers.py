"""« Se compter » : the territories most similar to one, to learn from, not to rank.

For a territory of any level, its most similar territories of the same level on a stated
profile (by default the indicators of the « Vue d'ensemble » fragility preset), with a
distance anyone can recompute:

1. **pool**: the territories of the level in France métropolitaine (all of France for an
   overseas territory), or in the territory's région with ``same_region``;
2. **standardisation**: each indicator becomes a z-score over the pool,
   ``(x - mean) / standard deviation`` (population standard deviation); an indicator
   without spread in the pool, or that the territory itself lacks, is left out (stated);
3. **distance**: the root mean square of the z-score gaps over the indicators both
   territories have, ``sqrt(sum((z_a - z_b)²) / n_shared)`` (a Euclidean distance divided
   by the number of indicators compared, so that a missing value neither helps nor
   hurts); a territory sharing fewer than half of the profile is not compared;
4. **filters** (after standardisation, so that a filter removes peers without moving the
   others): ``exclude_neighbours`` drops the territories whose outline touches the
   territory's; ``similar_size`` keeps those between half and twice its population;
5. the ``n`` smallest distances, ties broken by ascending code.

Each peer says on which indicators it is close (gap below :data:`CLOSE_Z` standard
deviation) and where it differs most (gap of at least :data:`FAR_Z`), and what it has
that the territory has not (ANCT programmes) — as leads to look at, never a ranking.

Examples
--------
>>> import pandas as pd
>>> values = pd.DataFrame({"a": [1.0, 2.0, 3.0, 1.0]}, index=["t", "u", "v", "w"])
>>> standardise(values)[0]["a"].round(3).tolist()
[-0.905, 0.302, 1.508, -0.905]
>>> distances(standardise(values)[0], "t").round(3).to_dict()
{'u': 1.206, 'v': 2.412, 'w': 0.0}
>>> nearest(distances(standardise(values)[0], "t"), 2)
['w', 'u']
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territorial.geo.geography import LEVEL_LABELS, LEVELS
from territorial.text.formatting import count_text, format_number

__all__ = [
    "CLOSE_Z",
    "DEFAULT_N",
    "FAR_Z",
    "PeersError",
    "PeersResult",
    "cli_peers",
    "distances",
    "find_peers",
    "nearest",
    "neighbours",
    "standardise",
]

DEFAULT_N = 8
N_RANGE = (5, 10)
CLOSE_Z = 0.25  # « proche sur » : gap below a quarter of a standard deviation
FAR_Z = 0.5  # « diffère surtout sur » : gap of at least half a standard deviation
MIN_SHARED = 0.5  # share of the profile two territories must both have
SIZE_FACTOR = 2.0  # similar size: population between 1/2 and 2 times the territory's
TOUCH_DEGREES = 0.001  # outlines closer than ~100 m touch (simplified display contours)
_PLURALS = {
    "commune": "communes",
    "epci": "EPCI",
    "perimetre": "projets de territoire",
    "departement": "départements",
    "region": "régions",
}


class PeersError(ValueError):
    """A bad request (unknown territory, indicator or option), with a French message."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------- computation
def standardise(values: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """z-scores of each column over the rows, and the columns dropped (no spread).

    A column with fewer than two values, or whose values are all equal, has no
    standard deviation: it is dropped and named.

    >>> frame = pd.DataFrame({"a": [1.0, 3.0], "b": [5.0, 5.0], "c": [1.0, None]})
    >>> z, dropped = standardise(frame)
    >>> z["a"].tolist(), dropped
    ([-1.0, 1.0], ['b', 'c'])
    """
    mean = values.mean()
    std = values.std(ddof=0)
    counts = values.notna().sum()
    usable = [c for c in values.columns if counts[c] >= 2 and std[c] > 0]
    dropped = [c for c in values.columns if c not in usable]
    return (values[usable] - mean[usable]) / std[usable], dropped


def distances(z: pd.DataFrame, code: str, min_shared: float = MIN_SHARED) -> pd.Series:
    """Root mean square z-score gap of every other row to ``code``, over shared columns.

    Rows sharing fewer than ``min_shared`` of ``code``'s non-missing columns get NaN.

    >>> z = pd.DataFrame({"a": [0.0, 1.0, None], "b": [0.0, 1.0, 3.0]}, index=list("tuv"))
    >>> distances(z, "t").tolist()
    [1.0, 3.0]
    >>> distances(z, "t", min_shared=1.0).tolist()
    [1.0, nan]
    """
    own = z.loc[code]
    columns = own.index[own.notna()]
    gaps = z[columns].drop(index=code) - own[columns]
    shared = gaps.notna().sum(axis=1)
    result = np.sqrt((gaps**2).sum(axis=1) / shared.where(shared > 0))
    return result.where(shared >= math.ceil(min_shared * len(columns) - 1e-9))


def nearest(dist: pd.Series, n: int) -> list[str]:
    """The ``n`` codes with the smallest distance, ties broken by ascending code.

    >>> nearest(pd.Series({"b": 1.0, "a": 1.0, "c": 0.5, "d": float("nan")}), 3)
    ['c', 'a', 'b']
    """
    known = dist.dropna().round(9)
    frame = pd.DataFrame({"d": known.to_numpy(), "code": known.index.astype(str)})
    return frame.sort_values(["d", "code"], kind="stable")["code"].head(n).tolist()


def neighbours(geo, level: str, code: str) -> set[str]:
    """Codes of the territories whose outline touches ``code``'s (within ~100 m).

    >>> from territorial import load_geography
    >>> sorted(neighbours(load_geography(), "region", "75"))[:3]
    ['24', '52', '76']
    """
    table = geo.table(level, "france")
    shape = table.loc[table["code"] == code, "geometry"]
    if not len(shape) or shape.iloc[0] is None:
        return set()
    hits = table.sindex.query(shape.iloc[0].buffer(TOUCH_DEGREES), predicate="intersects")
    return set(table["code"].iloc[hits]) - {code}


# ---------------------------------------------------------------------------- request
def _profile(catalogue, preset: str | None, indicators: Sequence[str] | None):
    """Indicator ids and the profile's French name."""
    from territorial.analysis.presets import DEFAULT_PRESET, FragilityError, find_preset

    if preset is not None and indicators is not None:
        raise PeersError("Choisissez soit un jeu d'indicateurs, soit une liste, pas les deux.")
    if indicators is None:
        try:
            chosen = find_preset(preset or DEFAULT_PRESET, catalogue)
        except FragilityError as error:
            raise PeersError(error.message) from None
        return list(chosen.indicators), f"jeu « {chosen.name} »"
    ids = [str(i).strip() for i in indicators if str(i).strip()]
    if not ids:
        raise PeersError("Choisissez au moins un indicateur.")
    for indicator_id in ids:
        if indicator_id not in catalogue:
            raise PeersError(f"Indicateur inconnu : « {indicator_id} ».")
        if catalogue[indicator_id].is_categorical:
            raise PeersError(
                f"« {catalogue[indicator_id].label} » est une typologie (des classes, pas une "
                "mesure) : elle ne peut pas entrer dans une distance."
            )
    return list(dict.fromkeys(ids)), "indicateurs choisis"


def _unit(geo, level: str, code: str) -> pd.Series:
    if level not in LEVELS:
        raise PeersError(f"Niveau inconnu : « {level} ». Niveaux possibles : {', '.join(LEVELS)}.")
    table = geo.indexed(level)
    if code not in table.index:
        raise PeersError(f"Territoire inconnu au niveau « {LEVEL_LABELS[level]} » : « {code} ».")
    return table.loc[code]


def _pool(geo, level: str, unit: pd.Series, same_region: bool) -> tuple[pd.DataFrame, str]:
    table = geo.indexed(level)
    if not unit["outre_mer"]:
        table, label = table[~table["outre_mer"]], "France métropolitaine"
    else:
        label = "France entière"
    if same_region:
        if level == "region":
            raise PeersError("L'option « même région » n'a pas de sens pour une région.")
        table = table[table["region"] == unit["region"]]
        label = f"région {geo.names('region').get(unit['region'], unit['region'])}"
    return table, label


# ---------------------------------------------------------------------------- result
@dataclass
class PeersResult:
    """The peers of one territory and how they were found.

    Attributes
    ----------
    level, code, nom : str
        The territory.
    indicators : list of str
        Indicator ids of the profile actually compared.
    peers : list of dict
        Nearest first: ``code``, ``nom``, ``distance``, ``population``, ``proches``
        and ``differences`` (dicts with ``indicateur``, ``libelle``, ``valeur``,
        ``valeur_territoire``, ``ecart_z``), ``texte_proches``, ``texte_differences``.
    leads : list of dict
        ANCT programmes some peers have and the territory has not, by programme name:
        ``programme``, ``n``, ``territoires`` (peer names), ``texte``.
    method_note : str
        The method in plain French, options included.
    notes : list of str
        What was left out, and why.
    """

    level: str
    code: str
    nom: str
    profile: str
    pool: str
    n_pool: int
    indicators: list[str]
    peers: list[dict]
    leads: list[dict]
    method_note: str
    options: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready content."""
        return {
            "niveau": self.level,
            "code": self.code,
            "nom": self.nom,
            "profil": self.profile,
            "comparaison": self.pool,
            "n_comparaison": self.n_pool,
            "indicateurs": list(self.indicators),
            "options": dict(self.options),
            "comparables": self.peers,
            "pistes": self.leads,
            "methode": self.method_note,
            "remarques": list(self.notes),
        }


def _value_text(value: float, indicator, estimate: bool) -> str:
    text = f"{format_number(value, indicator.decimals)} {indicator.unit}".strip()
    return f"{text} (estimation)" if estimate else text


def _versus(entry: dict) -> str:
    """``"Niveau de vie médian : 19 140 €/an contre 19 010 €/an ici"``."""
    return f"{entry['libelle']} : {entry['valeur']} contre {entry['valeur_territoire']} ici"


def _explain(store, level, code, peer, z, values, ids) -> dict:
    catalogue = store.catalogue
    gaps = (z.loc[peer, ids] - z.loc[code, ids]).dropna()
    order = gaps.abs().sort_values(kind="stable")
    entries = {}
    for indicator_id, gap in gaps.items():
        indicator = catalogue[indicator_id]
        estimate = store.is_estimate(indicator_id, level)
        entries[indicator_id] = {
            "indicateur": indicator_id,
            "libelle": indicator.label,
            "valeur": _value_text(values.at[peer, indicator_id], indicator, estimate),
            "valeur_territoire": _value_text(values.at[code, indicator_id], indicator, estimate),
            "ecart_z": round(float(gap), 3),
        }
    close = [entries[i] for i in order.index if order[i] < CLOSE_Z][:3]
    far = [entries[i] for i in order.index[::-1] if order[i] >= FAR_Z][:2]
    return {
        "proches": close,
        "differences": far,
        "texte_proches": " ; ".join(_versus(e) for e in close),
        "texte_differences": " ; ".join(_versus(e) for e in far),
    }


def _leads(geo, level: str, code: str, peers: list[dict]) -> list[dict]:
    from territorial.outputs.fiche import programmes

    own = {p["programme"] for p in programmes(geo, level, code)}
    having: dict[str, list[str]] = {}
    for peer in peers:
        for item in programmes(geo, level, peer["code"]):
            if item["programme"] not in own:
                having.setdefault(item["programme"], []).append(peer["nom"])
    total = len(peers)
    return [
        {
            "programme": name,
            "n": len(names),
            "territoires": names,
            "texte": f"{name} : présent chez {len(names)} des {total} territoires comparables "
            f"({', '.join(names)}), absent ici.",
        }
        for name, names in sorted(having.items())
    ]


def _method_note(n_pool, level, pool, profile, labels, options, n) -> str:
    plural = _PLURALS[level]
    filters = []
    if options["sans_voisins"]:
        filters.append("les territoires voisins (contours qui se touchent) sont écartés")
    if options["taille_proche"]:
        filters.append(
            "seuls sont gardés les territoires dont la population est comprise entre la moitié "
            "et le double de celle du territoire"
        )
    text = (
        f"Profil comparé ({profile}) : {', '.join(labels)}. Chaque indicateur est centré-réduit "
        f"(z-score : écart à la moyenne divisé par l'écart-type) sur les {format_number(n_pool)} "
        f"{plural} de la comparaison ({pool}). La distance entre deux territoires est la racine "
        "de la moyenne des carrés des écarts de z-scores, sur les indicateurs renseignés des "
        "deux côtés (distance euclidienne rapportée au nombre d'indicateurs) ; un territoire "
        "qui a moins de la moitié de ces indicateurs n'est pas comparé. "
        f"Les {n} plus petites distances sont retenues, à égalité par ordre de code. "
        f"« Proche sur » : écart de moins de {format_number(CLOSE_Z, 2)} écart-type ; "
        f"« diffère surtout sur » : écart d'au moins {format_number(FAR_Z, 1)} écart-type. "
    )
    if filters:
        text += "Options : " + " ; ".join(filters) + " (après le calcul des z-scores). "
    if options["meme_region"] and level in {"epci", "perimetre"}:
        text += (
            "Région d'un territoire à cheval : celle de son département principal (où vit le "
            "plus d'habitants). "
        )
    return text + "Ce sont des territoires à qui parler, pas un classement."


def find_peers(
    store,
    level: str,
    code: str,
    preset: str | None = None,
    indicators: Sequence[str] | None = None,
    same_region: bool = False,
    exclude_neighbours: bool = False,
    similar_size: bool = False,
    n: int = DEFAULT_N,
) -> PeersResult:
    """The ``n`` territories of ``level`` most similar to ``code`` (see the module doc).

    Parameters
    ----------
    store : IndicatorStore
        Values, catalogue, estimate flags and the geography.
    level, code : str
        The territory.
    preset : str, optional
        A fragility preset name (default « Vue d'ensemble »); or ``indicators``, a list of
        indicator ids (any measured indicator, neutral ones included).
    same_region, exclude_neighbours, similar_size : bool
        Pool within the territory's région; drop the territories touching it; keep those
        between half and twice its population.
    n : int
        Number of peers, 5 to 10.

    Returns
    -------
    PeersResult

    Raises
    ------
    PeersError
        With a French message, for any bad request.

    Examples
    --------
    >>> from territorial import load_geography
    >>> from territorial.indicators.store import IndicatorStore
    >>> result = find_peers(IndicatorStore(load_geography()), "departement", "42")
    >>> len(result.peers), result.peers[0]["distance"] <= result.peers[-1]["distance"]
    (8, True)
    """
    if not isinstance(n, int) or not N_RANGE[0] <= n <= N_RANGE[1]:
        raise PeersError(f"Nombre de territoires comparables : de {N_RANGE[0]} à {N_RANGE[1]}.")
    geo = store.geo
    unit = _unit(geo, level, code)
    catalogue = store.catalogue
    ids, profile = _profile(catalogue, preset, indicators)
    pool, pool_label = _pool(geo, level, unit, same_region)
    values = store.values(level, "france").reindex(index=pool.index, columns=ids).astype(float)
    notes = []
    lacking = [i for i in ids if pd.isna(values.at[code, i])]
    if lacking:
        names = ", ".join(catalogue[i].label for i in lacking)
        notes.append(f"Sans valeur pour ce territoire, donc non comparés : {names}.")
    z, flat = standardise(values.drop(columns=lacking))
    if flat:
        names = ", ".join(catalogue[i].label for i in flat)
        notes.append(f"Sans écart entre territoires de la comparaison, écartés : {names}.")
    used = list(z.columns)
    if len(pool) < 2:
        raise PeersError("Aucun autre territoire de ce niveau à qui le comparer.")
    if not used:
        raise PeersError("Aucun indicateur du profil n'a de valeur pour ce territoire.")
    dist = distances(z, code)
    if exclude_neighbours:
        dist = dist.drop(index=list(neighbours(geo, level, code) & set(dist.index)))
    if similar_size:
        population = pool["population"].astype(float)
        own = float(unit["population"])
        inside = population.between(own / SIZE_FACTOR, own * SIZE_FACTOR)
        dist = dist[inside.reindex(dist.index).fillna(False).to_numpy()]
    chosen = nearest(dist, n)
    if len(chosen) < n:
        notes.append(
            f"Seulement {count_text(len(chosen), 'territoire comparable', 'territoires comparables')} "
            "avec ces options."
        )
    peers = [
        {
            "code": peer,
            "nom": str(pool.at[peer, "nom"]),
            "distance": round(float(dist[peer]), 3),
            "population": int(pool.at[peer, "population"]),
            **_explain(store, level, code, peer, z, values, used),
        }
        for peer in chosen
    ]
    options = {
        "meme_region": same_region,
        "sans_voisins": exclude_neighbours,
        "taille_proche": similar_size,
        "nombre": n,
    }
    labels = [catalogue[i].label for i in used]
    return PeersResult(
        level=level,
        code=code,
        nom=str(unit["nom"]),
        profile=profile,
        pool=pool_label,
        n_pool=len(pool),
        indicators=used,
        peers=peers,
        leads=_leads(geo, level, code, peers),
        method_note=_method_note(len(pool), level, pool_label, profile, labels, options, n),
        options=options,
        notes=notes,
    )


# ---------------------------------------------------------------------------- CLI
def _text_lines(result: PeersResult) -> list[str]:
    lines = [f"Territoires comparables à {result.nom} ({result.code}) — {result.pool} :"]
    for rank, peer in enumerate(result.peers, start=1):
        lines.append(f"{rank}. {peer['nom']} ({peer['code']}) — distance {peer['distance']}")
        if peer["texte_proches"]:
            lines.append(f"   Proche sur : {peer['texte_proches']}")
        if peer["texte_differences"]:
            lines.append(f"   Diffère surtout sur : {peer['texte_differences']}")
    if result.leads:
        lines += ["", "Pistes (ce que des territoires comparables ont, et pas celui-ci) :"]
        lines += [f"- {lead['texte']}" for lead in result.leads]
    return [*lines, "", *result.notes, result.method_note]


def cli_peers(
    code: str,
    level: str,
    preset: str | None = None,
    indicators: str | None = None,
    same_region: bool = False,
    exclude_neighbours: bool = False,
    similar_size: bool = False,
    n: int = DEFAULT_N,
    as_json: bool = False,
) -> int:
    """``python -m territorial peers``: print the peers; 2 on a bad request.

    >>> cli_peers("00000", "commune")
    2
    """
    from territorial.analysis.fragility_cli import _cli_store
    from territorial.text.jsonout import json_text

    try:
        result = find_peers(
            _cli_store(),
            level,
            code,
            preset=preset,
            indicators=indicators.split(",") if indicators else None,
            same_region=same_region,
            exclude_neighbours=exclude_neighbours,
            similar_size=similar_size,
            n=n,
        )
    except PeersError as error:
        print(error.message, file=sys.stderr)
        return 2
    print(json_text(result.to_dict()) if as_json else "\n".join(_text_lines(result)))
    return 0
