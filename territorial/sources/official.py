"""Official open data in the app: INSEE indicators and the ANCT CRTE perimeters.

Once a source is downloaded by :func:`territorial.sources.fetch.fetch` (``python -m territorial
fetch all``, or the « Mettre à jour les données officielles » button), its cached tables
become indicators of the :class:`~territorial.indicators.store.IndicatorStore`, usable everywhere
like the shipped ones. They are not in ``catalogue.toml``: they exist only once
downloaded.

- Recensement 2022 (``census``): ``taux_chomage_15_64`` and ``part_75_ans_plus``, ratios
  of counts given per commune and summed exactly to every level, perimeters included
  (a coarser level published by the file would be used as published).
- Filosofi 2021 (``filosofi``): ``taux_pauvrete`` and ``revenu_median``. A rate or a
  median is never averaged: at each INSEE level (commune, EPCI, département, région) the
  value is the one published in the file. A perimeter (and France, absent from the file)
  is not an INSEE level: its value is an *estimate*, the mean of the official values of
  the largest INSEE units wholly inside it (its whole EPCI, else its communes) weighted by
  the number of persons of fiscal households, flagged by
  :meth:`~territorial.indicators.store.IndicatorStore.is_estimate`. ``menages_fiscaux`` is a count.
- Grille communale de densité (``density``): shares of the population living in
  « urbain dense », « urbain intermédiaire » and « rural » communes, as INSEE groups the
  seven classes (the 7-level grid subdivides the 3-level one): 1 = grands centres urbains
  (communes densément peuplées) ; 2 to 4 = centres urbains intermédiaires, ceintures
  urbaines, petites villes (densité intermédiaire) ; 5 to 7 = bourgs ruraux, rural à
  habitat dispersé, rural à habitat très dispersé (communes rurales).
- CRTE (``crte``): :func:`load_official_crte` turns the cached ANCT table into the
  official perimeter set, to activate with ``geo.set_perimeters(pset)``.

Commune codes go through :meth:`Geography.resolve_communes` (Paris, Lyon and Marseille
arrondissements → commune, old codes → current commune); codes that match no unit are
counted in a :class:`~territorial.indicators.join.JoinReport` per source and level.

Examples
--------
>>> from territorial.sources.official_catalogue import density_group, indicators_for
>>> [i.id for i in indicators_for("census")]
['taux_chomage_15_64', 'part_75_ans_plus']
>>> density_group(6), density_group(1), density_group(3)
('rural', 'urbain_dense', 'urbain_intermediaire')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from territorial.geo.geography import Geography
from territorial.indicators.join import JoinReport
from territorial.indicators.store import IndicatorStore, OfficialIndicators
from territorial.indicators.table_base import TableError
from territorial.indicators.tables import read_table
from territorial.perimeters.crte_layout import load_crte
from territorial.perimeters.model import PerimeterSet
from territorial.perimeters.report import ValidationReport
from territorial.sources.cache import cache_dir
from territorial.sources.manifest import FetchError
from territorial.sources.official_build import _Loaded, build_official
from territorial.sources.official_catalogue import (
    ABSENT_FR,
    INDICATOR_SOURCES,
    SOURCE_IDS,
    TABLE_PREFIX,
    _spec,
)
from territorial.sources.official_status import _date_fr, _loaded_message
from territorial.sources.status import cached_files, load_cached, status

__all__ = ["join_reports", "load_official_crte", "official_indicators", "register_official"]


"""Classes of INSEE's 7-level communal density grid."""

"""INSEE grouping of the 7 classes into the 3-level grid (dense, intermediate, rural)."""


def _signature(source_id: str) -> tuple:
    """Names, sizes and dates of the cached files of a source (memo key)."""
    parts = []
    for previous in (False, True):
        with contextlib.suppress(FetchError):
            for name, path in sorted((cached_files(source_id, previous=previous) or {}).items()):
                with contextlib.suppress(OSError):
                    stat = Path(path).stat()
                    parts.append(
                        (previous, name, str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
                    )
    return (str(cache_dir()), tuple(parts))


def _load_parsed(source_id: str) -> _Loaded | None:
    """The cached version, else the previous one when the current file is unreadable."""
    try:
        parsed = load_cached(source_id)
    except FetchError as exc:
        try:
            older = load_cached(source_id, previous=True)
        except FetchError:
            older = None
        if older is None:
            raise
        reason = exc.detail.rstrip(". ")
        return _Loaded(
            older, f"version précédente utilisée (version en cache illisible : {reason})"
        )
    return None if parsed is None else _Loaded(parsed, None)


_MEMO: dict[tuple, tuple[_Loaded | None, OfficialIndicators | None]] = {}

_MEMO_SIZE = 8


def _load_source(
    source_id: str, geo: Geography
) -> tuple[_Loaded | None, OfficialIndicators | None]:
    key = (source_id, id(geo), _signature(source_id))
    if key in _MEMO:
        return _MEMO[key]
    loaded = _load_parsed(source_id)
    table = None
    if loaded is not None and source_id in INDICATOR_SOURCES:
        table = build_official(source_id, loaded.parsed, geo, record=status(source_id))
    if len(_MEMO) >= _MEMO_SIZE:
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # other threads
            _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (loaded, table)
    return loaded, table


def register_official(
    store: IndicatorStore, sources: Iterable[str] | None = None
) -> dict[str, str]:
    """Add the official indicators found in the cache to ``store``.

    Idempotent: a source already registered from the same files is not rebuilt, a source
    no longer in the cache is removed from the store, and an unreadable cached version is
    replaced by the previous one when the cache keeps it. Nothing is downloaded.

    Parameters
    ----------
    store : IndicatorStore
        The store to fill (its geography joins the codes).
    sources : iterable of str, optional
        Source ids (default: every source, ``crte`` included for its status).

    Returns
    -------
    dict of str to str
        Per source, a French status: ``"chargé (millésime 2021, 34 932 communes…)"``,
        :data:`ABSENT_FR`, or ``"erreur : …"`` (the store then keeps what it had).

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> from territorial import load_geography
    >>> store = IndicatorStore(load_geography())
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     register_official(store)["filosofi"]  # empty cache
    'absent : utilisez « Mettre à jour les données officielles »'
    """
    out: dict[str, str] = {}
    for source_id in sources or SOURCE_IDS:
        name = TABLE_PREFIX + source_id
        try:
            loaded, table = _load_source(source_id, store.geo)
        except FetchError as exc:
            out[source_id] = f"erreur : {exc.message}"
            continue
        except Exception as exc:  # a bad file must never break the app
            out[source_id] = f"erreur : lecture impossible ({type(exc).__name__} : {exc})"
            continue
        if loaded is None:
            store.remove_official(name)
            out[source_id] = ABSENT_FR
            continue
        if table is not None:
            store.add_official(table)
        out[source_id] = _loaded_message(source_id, loaded, table)
    return out


def official_indicators(geo: Geography) -> list[OfficialIndicators]:
    """The official indicator tables that can be built from the cache (nothing added).

    Parameters
    ----------
    geo : Geography
        Geography the codes are joined to.

    Returns
    -------
    list of OfficialIndicators
        One per downloaded and readable indicator source (``filosofi``, ``census``,
        ``density``), ready for :meth:`IndicatorStore.add_official`.
    """
    tables = []
    for source_id in INDICATOR_SOURCES:
        with contextlib.suppress(FetchError):
            _, table = _load_source(source_id, geo)
            if table is not None:
                tables.append(table)
    return tables


def join_reports(store: IndicatorStore) -> dict[str, dict[str, JoinReport]]:
    """Join reports of the registered official sources, per source and level.

    Returns
    -------
    dict
        Source id → level → :class:`~territorial.indicators.join.JoinReport` (``summary_fr()`` gives
        the French sentences).
    """
    return {
        name.removeprefix(TABLE_PREFIX): dict(table.report.get("jointures", {}))
        for name, table in store.official_tables.items()
    }


def load_official_crte(
    geo: Geography, *, previous: bool = False
) -> tuple[PerimeterSet, ValidationReport] | None:
    """The official CRTE perimeter set, from the ANCT table in the cache.

    Parameters
    ----------
    geo : Geography
        Geography the SIRENs are matched against (it is not modified: activate the set
        with ``geo.set_perimeters(pset)``).
    previous : bool, default False
        Read the version replaced by the last update. Used automatically when the current
        cached file cannot be read.

    Returns
    -------
    (PerimeterSet, ValidationReport) or None
        None when the CRTE source was never downloaded. The set's name gives the file and
        the download date; ``pset.source`` adds the vintage, sha256 and address; when the
        groupements table is cached, ``date_signature`` is added to ``pset.perimetres``.

    Raises
    ------
    TableError
        If neither the current nor the previous cached file can be read.

    Examples
    --------
    >>> import tempfile
    >>> from unittest import mock
    >>> from territorial import load_geography
    >>> with mock.patch.dict("os.environ", {"TERRITORIAL_CACHE_DIR": tempfile.mkdtemp()}):
    ...     load_official_crte(load_geography()) is None
    True
    """
    files = cached_files("crte", previous=previous)
    if not files:
        return None
    spec = _spec("crte")
    record = status("crte") or {}
    details = spec["resource_details"]["epci_crte"]
    shown = details.get("mirror_name") or Path(files["epci_crte"]).name
    if previous:
        fetched_at = (record.get("previous") or {}).get("fetched_at")
    else:
        fetched_at = record.get("fetched_at")
    date = _date_fr(fetched_at)
    parts = (["version précédente"] if previous else []) + (
        [f"téléchargé le {date}"] if date else []
    )
    name = f"CRTE officiels (ANCT, fichier « {shown} »{''.join(', ' + p for p in parts)})"
    try:
        pset, report = load_crte(files["epci_crte"], geo, name, filename=shown)
    except TableError:
        if previous:
            raise
        older = None
        with contextlib.suppress(TableError):
            older = load_official_crte(geo, previous=True)
        if older is None:
            raise
        return older
    pset.source = {
        **pset.source,
        "millesime": str(spec["vintage"]),
        "telecharge_le": fetched_at,
        "sha256": None if previous else record.get("sha256"),
        "url": None if previous else record.get("url"),
        "fichier_cache": str(files["epci_crte"]),
        "version": "précédente" if previous else "courante",
    }
    if "groupements" in files and "date_signature" not in pset.perimetres.columns:
        dates = _signature_dates(files["groupements"])
        if dates is not None:
            pset.perimetres = pset.perimetres.assign(
                date_signature=pset.perimetres["code"].map(dates)
            )
    return pset, report


def _signature_dates(path: Path) -> pd.Series | None:
    """Earliest signature date per CRTE id in the cached groupements table (or None)."""
    try:
        frame = read_table(path).frame
    except TableError:
        return None
    columns = {str(c).strip().lstrip("\ufeff").lower(): c for c in frame.columns}
    if "id_crte" not in columns or "date_signature" not in columns:
        return None
    ids = frame[columns["id_crte"]].astype(str).str.strip()
    dates = frame[columns["date_signature"]].astype(str).str.strip()
    keep = (ids != "") & (dates != "")
    return dates[keep].groupby(ids[keep]).min()
