"""Dynamiques territoriales — entry point (``python -m streamlit run app.py``).

The pages are ``main.py`` (the script Streamlit runs for every visit); this file serves it
as an ``st.App`` whose lifespan warms the server up at launch (:mod:`ui.warmup`), so that
the first visitor does not wait for the imports and the data after connecting.
"""

import streamlit as st

from ui.warmup import lifespan

app = st.App("main.py", lifespan=lifespan)
