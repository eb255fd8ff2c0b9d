"""Production settings of the Streamlit server (``.streamlit/config.toml``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from territorial.indicators.table_base import MAX_BYTES

CONFIG = Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml"


def test_production_settings():
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"  # no traceback for visitors
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_BYTES
    assert config["server"]["address"] == "127.0.0.1"  # not every interface by default
    assert config["server"]["enableXsrfProtection"] is True


def test_streamlit_reads_them():
    from streamlit import config as st_config

    st_config.get_config_options(force_reparse=True, options_from_flags={})
    assert st_config.get_option("client.showErrorDetails") == "none"
    assert st_config.get_option("server.maxUploadSize") == MAX_BYTES // (1024 * 1024)
