"""Build ``data/places/lieux.parquet``: the ANCT places with a point, and their manifest.

Run ``python -m territorial.analysis.places_build`` (two runs give identical bytes). It reads the raw
ANCT programme file of ``data/raw/`` through :func:`territorial.raw.raw_path` (sha256
checked), keeps the members of the Fabriques de territoire, Manufactures de proximité and
France services programmes (one row per place: rows of the source that join several places
with « ; » are split, see :func:`territorial.socio_build.programme_members`), resolves their
commune codes to the current geography and puts each place at the representative point of
its commune's detailed contour (the source gives no coordinates). Places whose commune is
not in the geography (Saint-Martin, 97801) are listed in the manifest, never dropped
silently.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import shapely

from territorial.analysis.places import LAYERS, PLACES_DIR, PLACES_FILE, POSITION_NOTE
from territorial.geo.census import PROGRAMMES_FILE, programme_members
from territorial.geo.geography import Geography, load_geography
from territorial.sources.raw import raw_manifest, raw_path

__all__ = ["build", "build_places"]

COORDINATE_DECIMALS = 5  # about 1 m


def build_places(geo: Geography) -> tuple[pd.DataFrame, dict]:
    """One row per place (``couche``, ``id``, ``nom``, ``commune``, ``nom_commune``,
    ``longitude``, ``latitude``, ``position``) and the build report."""
    by_programme = {layer.programme: key for key, layer in LAYERS.items()}
    members = programme_members(by_programme)
    members = members[members["code_type"] == "insee_com"].reset_index(drop=True)
    resolved = geo.resolve_communes(members["code"])
    members = members.assign(commune=resolved["code"].to_numpy())
    unknown = members[members["commune"].isna()]
    members = members.dropna(subset=["commune"]).reset_index(drop=True)
    detail = geo.detail_geometry.reindex(members["commune"]).to_numpy()
    points = shapely.point_on_surface(detail)
    names = geo.communes.set_index("code")["nom"]
    key = members["programme"].map(by_programme)
    unnamed = members["lib"].isna() | (members["lib"].fillna("") == "")
    label = key.map({k: layer.singular for k, layer in LAYERS.items()})
    places = pd.DataFrame(
        {
            "couche": key,
            "id": members["id"],
            "nom": members["lib"].where(
                ~unnamed, label + " sans nom dans la source (" + members["id"] + ")"
            ),
            "commune": members["commune"],
            "nom_commune": members["commune"].map(names),
            "longitude": shapely.get_x(points).round(COORDINATE_DECIMALS),
            "latitude": shapely.get_y(points).round(COORDINATE_DECIMALS),
            "position": "commune",
        }
    )
    order = {k: i for i, k in enumerate(LAYERS)}
    places = places.sort_values(
        ["couche", "commune", "id"], key=lambda s: s.map(order) if s.name == "couche" else s
    ).reset_index(drop=True)
    source_rows = pd.read_csv(raw_path(PROGRAMMES_FILE), dtype=str, usecols=["programme"])
    report = {
        "lignes_de_la_source": {
            k: int((source_rows["programme"] == layer.programme).sum())
            for k, layer in LAYERS.items()
        },
        "lieux": {k: int((places["couche"] == k).sum()) for k in LAYERS},
        "lieux_sans_nom_dans_la_source": sorted(members.loc[unnamed, "id"]),
        "lieux_hors_geographie": [
            {"id": row.id, "nom": row.lib, "code_commune": row.code} for row in unknown.itertuples()
        ],
        "codes_commune_ramenes": int((resolved["how"] != "exact").sum()),
    }
    return places, report


def build(out_dir: Path = PLACES_DIR, geo: Geography | None = None) -> dict:
    """Write ``lieux.parquet`` and ``manifest.json`` in ``out_dir``; return the manifest."""
    geo = geo or load_geography()
    places, report = build_places(geo)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PLACES_FILE
    places.to_parquet(path, compression="zstd", index=False)
    source = raw_manifest()[PROGRAMMES_FILE]
    manifest = {
        "description": (
            "Lieux réels de coopération (Fabriques de territoire, Manufactures de proximité) "
            "et d'accès aux services publics (France services), d'après la liste des membres "
            "des programmes de l'ANCT ; construit par python -m territorial.places_build."
        ),
        "source": {
            "fichier": f"data/raw/{PROGRAMMES_FILE}",
            **{
                k: source[k]
                for k in ("producteur", "jeu_de_donnees", "millesime", "licence", "sha256")
            },
        },
        "couches": {
            key: {
                "programme": layer.programme,
                "nom": layer.label,
                "description": layer.description,
            }
            for key, layer in LAYERS.items()
        },
        "position": POSITION_NOTE,
        "geographie": {
            k: v["sha256"] for k, v in geo.manifest["files"].items() if k.startswith("commune")
        },
        "rapport": report,
        "fichiers": {PLACES_FILE: hashlib.sha256(path.read_bytes()).hexdigest()},
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


if __name__ == "__main__":
    result = build()
    print(json.dumps(result["rapport"], ensure_ascii=False, indent=2))
