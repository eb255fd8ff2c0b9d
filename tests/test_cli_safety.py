"""The command line never shows a traceback and always prints valid JSON."""

from __future__ import annotations

import json
import os

import pytest

from territorial.cli import main
from territorial.text.jsonout import json_text


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_unknown_scope_is_a_french_message(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("code;x\n42;1\n", encoding="utf-8")
    assert main(["join", str(path), "--scope", "xyz"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.strip() == "Périmètre d'étude inconnu : « xyz »"


def test_overflowing_sums_give_valid_json(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("code;x\n42;1e308\n69;1e308\n", encoding="utf-8")
    main(["join", str(path), "--json"])
    out, err = capsys.readouterr()
    payload = _strict(out)
    assert payload["valeurs"]["region"]["84"]["x"] is None  # inf + inf: no number
    assert "Infinity" not in out and "NaN" not in out
    assert "overflow" not in err


def test_non_utf8_file_name_gives_valid_json(tmp_path, capsys):
    name = os.fsdecode(b"tableau_\xff.csv")
    path = tmp_path / name
    path.write_text("code;x\n42;1\n", encoding="utf-8")
    main(["join", str(path), "--json"])
    out, _ = capsys.readouterr()
    out.encode("utf-8")  # no lone surrogate left
    assert "tableau_\ufffd.csv" in json.dumps(_strict(out), ensure_ascii=False)


def test_unexpected_failure_has_no_traceback(monkeypatch, capsys):
    import territorial.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom at /srv/secret")

    monkeypatch.setattr(cli, "info", broken)
    assert main(["info"]) == 3
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "/srv/secret" not in err
    assert "Erreur inattendue (RuntimeError)" in err


@pytest.mark.parametrize(
    "payload",
    [{"a": float("nan")}, [float("-inf")], {"k\udcff": "v\udcfe"}, {"n": 10**30}],
)
def test_json_text_is_standard(payload):
    text = json_text(payload)
    _strict(text)
    text.encode("utf-8")
