"""Smoke test of the benchmark: ``python bench/run.py --quick --json`` runs and keeps its contract.

Only the quick mode runs here, and only the SHAPE of its output is checked — never a timing
nor a budget: the figures depend on the machine (see bench/README.md). The browser parts of
the quick mode run when Debian's chromium is present; without it the script skips them, and
this test then only checks the other figures — unless ``REQUIRE_BROWSER=1`` (CI), where a
missing browser makes the benchmark, hence this test, fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"name", "unit", "ours", "baseline", "ratio", "budget", "met"}
QUICK_LEVELS = ("region", "departement", "perimetre", "epci", "commune_region84")

pytestmark = pytest.mark.browser  # drives headless Chromium when it is installed


def _has_browser() -> bool:
    return bool(shutil.which("chromium") or Path("/usr/bin/chromium").exists())


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--json",
        "--out",
        str(out),
    ]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"bench/run.py --quick failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout), out


def test_prints_a_list_of_figures_with_exactly_the_contract_keys(quick_run):
    figures, _ = quick_run
    assert isinstance(figures, list) and figures
    for figure in figures:
        assert set(figure) == KEYS, figure
    names = [f["name"] for f in figures]
    assert len(names) == len(set(names)), "figure names must be unique"


def test_values_have_consistent_types(quick_run):
    figures, _ = quick_run
    number = (int, float)
    for f in figures:
        assert isinstance(f["name"], str) and isinstance(f["unit"], str) and f["unit"]
        assert isinstance(f["ours"], number) and not isinstance(f["ours"], bool), f
        assert f["baseline"] is None or isinstance(f["baseline"], number), f
        assert f["budget"] is None or isinstance(f["budget"], number), f
        # ratio = baseline / ours, null without a baseline
        if f["baseline"] is None:
            assert f["ratio"] is None, f
        else:
            assert f["ratio"] is None or isinstance(f["ratio"], number), f
        # met: a bool exactly when there is a budget, and it says ours <= budget
        if f["budget"] is None:
            assert f["met"] is None, f
        else:
            assert f["met"] is (f["ours"] <= f["budget"]), f


def test_core_and_rerun_figures_are_always_there(quick_run):
    figures, _ = quick_run
    by_name = {f["name"]: f for f in figures}
    for name in (
        "core.load_display_levels_ms",
        "core.join_aggregate_35k_ms",
        "core.dissolve_833_cold_ms",
        "core.dissolve_833_cached_disk_ms",
        "core.dissolve_833_cached_memory_ms",
    ):
        assert name in by_name
    for level in QUICK_LEVELS:
        assert f"rerun_ms.median.{level}" in by_name and f"rerun_ms.p95.{level}" in by_name
    # the naive baseline is measured in the same run
    assert by_name["rerun_ms.median.epci"]["baseline"] is not None
    assert by_name["rerun_ms.median.epci"]["budget"] == 150


def test_quick_mode_skips_france_communes_and_the_ten_sessions(quick_run):
    figures, _ = quick_run
    names = " ".join(f["name"] for f in figures)
    assert "commune_france" not in names
    assert "sessions10" not in names and "per_extra_session" not in names


def test_browser_figures_when_chromium_is_there(quick_run):
    if not _has_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
        pytest.skip("no chromium: the benchmark skipped its browser parts")
    figures, _ = quick_run
    by_name = {f["name"]: f for f in figures}
    for name in ("start_to_first_map_s", "server_rss_mb.all_levels", "frontend_bundle_bytes"):
        assert name in by_name
    for level in QUICK_LEVELS:
        for prefix in ("first_load_bytes", "switch_bytes", "first_map_s", "switch_click_to_map_ms"):
            assert f"{prefix}.{level}" in by_name
    assert by_name["first_load_bytes.region"]["baseline"] is not None
    assert by_name["start_to_first_map_s"]["baseline"] is not None


def test_writes_the_same_list_and_a_meta_file(quick_run):
    figures, out = quick_run
    assert json.loads(out.read_text()) == figures
    meta = json.loads(out.with_name("latest-meta.json").read_text())
    assert meta["quick"] is True and "machine" in meta
