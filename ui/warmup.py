"""Warm the server up while the first visitor's browser loads Streamlit's code.

Streamlit runs the page script only when a browser connects: on a fresh server the first
visitor would wait for the imports (pandas, geopandas, SQLAlchemy…) and the geography after
connecting. ``app.py`` serves ``main.py`` as an ``st.App`` whose lifespan starts
:func:`warm_up` in a background thread at launch. It loads the geography first (what the
first run waits for longest: :func:`ui.state.base_geography` takes it from
:func:`ui.preloaded.preloaded_geography`), then imports the pages' modules, opens the database and
writes the map files of the default view, and last the national commune map file, the one
slow to write (simplification of 35 000 communes), so that its first visitor does not wait
for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future

from ui import preloaded

__all__ = ["lifespan", "warm_up"]

LOG = logging.getLogger(__name__)


def warm_up(geography: Future) -> None:
    """Load the geography into ``geography``, import the pages' modules, write the default
    map files."""
    from territorial.timeline import mark

    mark("warm-up starts")
    try:
        from territorial.geo.geography import load_geography

        geography.set_result(load_geography())
        mark("warm-up: geography loaded")
    except Exception as error:  # noqa: BLE001 - the first run loads it itself
        geography.set_exception(error)
        LOG.warning("warm-up: the geography could not be loaded", exc_info=True)
        return
    try:
        from ui.fastmap import map_file
        from ui.state import database

        mark("warm-up: modules imported")
        database()  # opened, its schema checked, old private spaces purged
        for level, scope in [
            ("departement", "metropole"),  # the default view and its outlines
            ("region", "france"),
            ("departement", "france"),
            ("commune", "metropole"),  # the heavy one, last
        ]:
            map_file(level, scope)
        mark("warm-up done")
    except Exception:  # noqa: BLE001 - a failed warm-up only costs the first visitor time
        LOG.warning("warm-up failed", exc_info=True)


@contextlib.asynccontextmanager
async def lifespan(_app):
    """``st.App`` lifespan: start :func:`warm_up` without delaying the server's start."""
    preloaded.started()
    thread = threading.Thread(
        target=warm_up, args=(preloaded.GEOGRAPHY,), name="warm-up", daemon=True
    )
    thread.start()
    yield
