"""The validation report of a perimeter set: counts, anomalies, what a user must check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass
from territorial.perimeters.model import DOUBLE_COUNT_RULE
from territorial.perimeters.report_fr import _summary_fr

__all__ = ["ValidationReport"]


@dataclass
class ValidationReport:
    """What a perimeter file gives, and what is wrong with it.

    Every list holds plain dicts (JSON-safe through :meth:`to_dict`); row numbers
    (``ligne``) are the line numbers in the file, as given by
    :func:`territorial.indicators.tables.read_table`.

    Attributes
    ----------
    source_name : str
        File name.
    kind : str
        ``"officiel"`` (CRTE file) or ``"utilisateur"`` (workshop set).
    layout : str
        ``"epci_crte"``, ``"groupements"`` or ``"deux_colonnes"``.
    layout_label : str
        French name of the detected layout.
    n_rows : int
        Data rows read (blank rows excluded).
    n_rows_used : int
        Rows that brought communes to a perimeter.
    n_perimetres, n_mono_epci, n_multi_epci : int
        Perimeters with at least one commune, carried by one unit or by two or more
        (France entière; see ``scopes`` for metropole / outre-mer).
    reference : dict or None
        :data:`REFERENCE_COUNTS` for an official file, ``None`` for a user set.
    reference_differences : dict or None
        Counts minus reference (``total``, ``mono_epci``, ``multi_epci``).
    scopes : dict
        ``{"metropole": {...}, "outre_mer": {...}, "france": {...}}``: perimeters,
        mono/multi, communes and population covered, covered share, EPCIs covered.
    missing_columns : list of str
        Columns of the published layout absent from the file (not fatal).
    duplicate_rows : list of dict
        Rows repeating a unit already given to the same perimeter (ignored).
    unknown_codes : list of dict
        Rows not used: ``ligne``, ``code``, ``nature``, ``perimetre``, ``motif``.
    nature_issues : list of dict
        Rows used although their ``nature_juridique`` is unknown or does not match what
        the SIREN designates.
    counted_twice : list of dict
        Units listed in two perimeters, with the perimeter kept and the one left.
    double_count_rule : str
        The rule applied to ``counted_twice`` (:data:`DOUBLE_COUNT_RULE`).
    detached_communes : list of dict
        Communes given to another perimeter than their EPCI's (commune signing alone,
        EPT, commune listed on its own in a user set).
    remapped_codes : list of dict
        Commune codes changed to a current code (lost leading zero, arrondissement...).
    former_epcis : list of dict
        SIRENs of EPCIs of 2022 merged or split since, resolved to their 2022 communes
        (today's codes): ``ligne``, ``code``, ``nom``, ``perimetre``, ``n_communes``,
        ``epci_actuels``.
    communes_in_two : list of dict
        Communes whose unit is cited in two perimeters (``counted_twice``): ``commune``,
        ``nom``, ``perimetre_retenu``, ``perimetre_ecarte``.
    empty_perimetres : list of dict
        Perimeters of the file left without any commune.
    uncovered : dict
        Per scope (``metropole``, ``outre_mer``): EPCIs with no commune covered
        (``epcis``, with population), communes not covered in partly covered EPCIs
        (``communes``), and totals.
    inter_regional, inter_departemental : list of dict
        Perimeters whose communes span two or more régions / départements, with the
        file's ``crte_interreg`` / ``crte_interdep`` flag when present.
    file_flag_mismatches : list of dict
        Perimeters where a flag of the file (``crte_interreg``, ``crte_interdep``,
        ``type_grp_crte``) disagrees with what the geography gives.
    perimeters : list of dict
        One entry per perimeter: code, nom, n_epci, portage, n_communes, population...
    notes : list of str
        French notes (reading, layout, renamed perimeter ids).
    """

    source_name: str
    kind: str
    layout: str
    layout_label: str
    n_rows: int = 0
    n_rows_used: int = 0
    n_perimetres: int = 0
    n_mono_epci: int = 0
    n_multi_epci: int = 0
    reference: dict | None = None
    reference_differences: dict | None = None
    scopes: dict = field(default_factory=dict)
    missing_columns: list[str] = field(default_factory=list)
    duplicate_rows: list[dict] = field(default_factory=list)
    unknown_codes: list[dict] = field(default_factory=list)
    nature_issues: list[dict] = field(default_factory=list)
    counted_twice: list[dict] = field(default_factory=list)
    double_count_rule: str = DOUBLE_COUNT_RULE
    detached_communes: list[dict] = field(default_factory=list)
    remapped_codes: list[dict] = field(default_factory=list)
    former_epcis: list[dict] = field(default_factory=list)
    communes_in_two: list[dict] = field(default_factory=list)
    empty_perimetres: list[dict] = field(default_factory=list)
    uncovered: dict = field(default_factory=dict)
    inter_regional: list[dict] = field(default_factory=list)
    inter_departemental: list[dict] = field(default_factory=list)
    file_flag_mismatches: list[dict] = field(default_factory=list)
    perimeters: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def covered_population_share(self) -> float | None:
        """Share of the population of France (metropole and outre-mer) covered."""
        return self.scopes.get("france", {}).get("part_population_couverte")

    def to_dict(self) -> dict:
        """JSON-safe dict (numpy numbers become Python numbers, missing values ``None``)."""
        payload = _json_safe(asdict(self))
        payload["covered_population_share"] = self.covered_population_share
        return payload

    def summary_fr(self) -> list[str]:
        """The report as plain French sentences, most important first."""
        return _summary_fr(self)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, int)):
        return value
    return str(value)
