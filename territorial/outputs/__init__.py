"""What leaves the app: the fiche territoire (HTML) and CSV exports."""

import lazy_loader as lazy

_EXPORTS = {
    "export": ["SOURCE_COLUMN", "attribution", "neutralise", "to_csv_bytes"],
    "fiche": [
        "cell_text",
        "date_fr",
        "fiche_data",
        "fiche_table",
        "programmes",
        "render_html",
        "typology_shares",
    ],
}
__getattr__, __dir__, __all__ = lazy.attach(__name__, submod_attrs=_EXPORTS)
