"""The shipped CRTE perimeters: the ANCT list of December 2022, in today's geography.

The default perimeter set of the app is built from the ANCT table shipped in
``data/raw/`` (:data:`CRTE_RAW_FILE`) by ``python -m territorial.geo.build`` (after the geography), which writes:

- ``data/geo/epci_2022_disparus.parquet``: the EPCIs of 2022 that have no SIREN today
  (merged or split since), with their 2022 member communes in today's codes, read from
  ``@etalab/decoupage-administratif`` 2.3.1 (the package's 2022 millésime, downloaded from
  npm and checked against its sha512);
- ``data/geo/crte_2022.parquet`` (commune → perimeter) and ``data/geo/crte_2022.json``
  (the perimeter table, the provenance and the validation report).

:func:`load_shipped_crte` reads them back in a few milliseconds; the building rules are
those of :func:`territorial.perimeters.crte_layout.load_crte`.

Examples
--------
>>> from territorial import load_geography
>>> pset, report = load_shipped_crte(load_geography().geo_dir)
>>> pset.kind, report.scopes["metropole"]["n_perimetres"]
('officiel', 832)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from territorial.perimeters.crte_layout import load_crte
from territorial.perimeters.model import CRTE_SOURCE, PerimeterSet
from territorial.perimeters.report import ValidationReport
from territorial.sources.raw import raw_manifest, raw_path

if TYPE_CHECKING:
    from territorial.geo.geography import Geography

__all__ = [
    "CRTE_RAW_FILE",
    "SHIPPED_CRTE_NAME",
    "active_set_label",
    "build_former_epcis",
    "build_shipped_crte",
    "load_shipped_crte",
]

CRTE_RAW_FILE = "anct_crte_groupements_2022_epci-and-crte.csv"
SHIPPED_CRTE_NAME = "CRTE — liste ANCT de décembre 2022"
MEMBERSHIP_FILE = "crte_2022.parquet"
DETAILS_FILE = "crte_2022.json"
FORMER_EPCI_FILE = "epci_2022_disparus.parquet"
REFERENCE_NOTE = "les documents de référence en comptent 833 en 2025"


def build_former_epcis(geo: Geography) -> pd.DataFrame:
    """EPCIs of 2022 with no SIREN today, and their 2022 communes in today's codes.

    A 2022 commune code is resolved like any user code (merged commune → commune
    nouvelle); ``commune`` is missing when no current commune matches.
    """
    from territorial.sources import build_inputs as _sources

    current = set(geo.epcis["code"])
    rows = []
    for epci in _sources.read_decoupage("epci", vintage_2022=True):
        if epci["code"] in current:
            continue
        for member in epci["membres"]:
            rows.append(
                {
                    "siren": epci["code"],
                    "nom": epci["nom"],
                    "commune_2022": member["code"],
                    "commune": geo.resolve_commune(member["code"]).code,
                }
            )
    frame = pd.DataFrame(rows, columns=["siren", "nom", "commune_2022", "commune"])
    return frame.sort_values(["siren", "commune_2022"], ignore_index=True)


def _source() -> dict:
    entry = raw_manifest()[CRTE_RAW_FILE]
    return {
        **CRTE_SOURCE,
        "fichier": CRTE_RAW_FILE,
        "millesime": entry["millesime"],
        "sha256": entry["sha256"],
        "copie": entry["copie"],
        "description": (
            "Liste ANCT des CRTE (décembre 2022) ramenée à la géographie 2025 : un EPCI "
            "apporte ses communes actuelles, un EPT les siennes, une commune signataire "
            "seule est trouvée par son SIREN ; un EPCI de 2022 disparu depuis apporte ses "
            "communes de 2022."
        ),
    }


def build_shipped_crte(geo: Geography, out_dir: Path | None = None) -> ValidationReport:
    """Build the shipped set from the raw ANCT file and write it next to the geography."""
    out_dir = Path(out_dir or geo.geo_dir)
    former = build_former_epcis(geo)
    former.to_parquet(out_dir / FORMER_EPCI_FILE, index=False, compression="zstd")
    geo.__dict__["former_epcis"] = former  # the cached property, replaced by the new table
    pset, report = load_crte(raw_path(CRTE_RAW_FILE), geo, SHIPPED_CRTE_NAME)
    membership = pset.membership.rename("perimetre").rename_axis("code").reset_index()
    membership.to_parquet(out_dir / MEMBERSHIP_FILE, index=False, compression="zstd")
    details = {
        "nom": SHIPPED_CRTE_NAME,
        "source": _source(),
        "perimetres": json.loads(pset.perimetres.to_json(orient="records", force_ascii=False)),
        "rapport": report.to_dict(),
    }
    text = json.dumps(details, ensure_ascii=False, indent=1) + "\n"
    (out_dir / DETAILS_FILE).write_text(text, encoding="utf-8")
    return report


def load_shipped_crte(geo_dir: Path) -> tuple[PerimeterSet, ValidationReport] | None:
    """The shipped CRTE set and its validation report (None if it was never built)."""
    geo_dir = Path(geo_dir)
    if not (geo_dir / MEMBERSHIP_FILE).exists():
        return None
    membership = pd.read_parquet(geo_dir / MEMBERSHIP_FILE)
    details = json.loads((geo_dir / DETAILS_FILE).read_text(encoding="utf-8"))
    series = pd.Series(
        membership["perimetre"].to_numpy(),
        index=pd.Index(membership["code"].to_numpy(), name="code"),
        name="perimetre",
        dtype="str",
    )
    pset = PerimeterSet(
        name=details["nom"],
        kind="officiel",
        membership=series,
        perimetres=pd.DataFrame(details["perimetres"]),
        source=details["source"],
    )
    fields = dict(details["rapport"])
    fields.pop("covered_population_share", None)
    return pset, ValidationReport(**fields)


def active_set_label(pset: PerimeterSet, report: ValidationReport | None) -> str:
    """One French sentence naming the active set, its vintage and its counts.

    >>> from territorial import load_geography
    >>> geo = load_geography()
    >>> active_set_label(geo.perimeters, geo.perimeters_report)[:55]
    '832 périmètres en France métropolitaine — liste ANCT de'
    """
    if report is None or not report.scopes:
        return pset.name
    metro = report.scopes.get("metropole", {})
    n = metro.get("n_perimetres", report.n_perimetres)
    text = f"{n:,}".replace(",", "\u202f") + " périmètres en France métropolitaine"
    if pset.name == SHIPPED_CRTE_NAME:
        return f"{text} — liste ANCT de décembre 2022 ({REFERENCE_NOTE})"
    return f"{text} — {pset.name}"
