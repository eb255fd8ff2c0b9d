"""The Données page's sections (``views/donnees.py`` shows them as tabs)."""
