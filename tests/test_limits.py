"""Inputs past each limit of the benchmark of limits are refused with a French message.

The timings are the benchmark's (``python bench/limits.py``); here only the outcome.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import limits  # noqa: E402

PAST_THE_LIMIT = [name for name in limits.cases(quick=True) if "au-delà" in name or "bombe" in name]


@pytest.fixture(scope="module")
def codes():
    return limits._commune_codes()


@pytest.mark.parametrize("case", PAST_THE_LIMIT)
def test_past_the_limit_a_french_refusal(case, codes):
    importer, build = limits.cases(quick=True)[case]
    data = build(codes)
    outcome = limits.run_case(importer, data, "limite" + limits._suffix(data))
    message = outcome.get("message", "")
    assert any(word in message for word in ("limite", "au plus", "dépasse")), outcome
    assert "Traceback" not in message and "Error" not in message


def test_every_limit_has_a_case_past_it():
    assert len(PAST_THE_LIMIT) >= 6
