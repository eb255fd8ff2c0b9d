"""The one helper that makes a user string inert wherever it is shown.

Names of perimeters, catalysts, tables, columns and files, and messages quoting them, are
shown through Streamlit's Markdown (``st.markdown``, captions, alerts, labels), in HTML
blocks and in plotly texts (hovers, legends, axes). :func:`inert` turns every character
that can start a construct in any of them into a numeric character reference:

- HTML: ``& < > " '`` (no tag, no attribute break-out);
- Markdown and its extensions in Streamlit: emphasis, links and images, code, headings,
  lists, quotes, tables, strikethrough, autolinks (``https:``, ``www.``, ``@``), colour
  and icon directives (``:red[…]``, ``:material/…:``), LaTeX (``$``), backslashes;
- plotly templates (``%{…}``).

Markdown, HTML and plotly all decode numeric references back to the character, so the
reader sees the original text, never a link, a tag or a format. Line breaks and control
characters become spaces (a line break could start a new Markdown block).

Do not use it for plain-text sinks (``st.dataframe`` cells, ``st.text``, file names of
downloads, CSV/JSON exports): they would show the references literally.
"""

from __future__ import annotations

import re

__all__ = ["inert"]

_SPECIAL = "&<>\"'`*_[](){}#+-.!|~$:=^\\@%/"
_TABLE = str.maketrans({c: f"&#{ord(c)};" for c in _SPECIAL})
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert(text: object) -> str:
    """Any text (name, message, value) made inert for Markdown, HTML and plotly.

    Parameters
    ----------
    text : object
        The text; None gives ``""``, anything else is ``str()``-ed.

    Returns
    -------
    str
        The text with every special character written as a numeric character
        reference, line breaks and control characters replaced by spaces.

    Examples
    --------
    >>> inert("**[Mise à jour requise](https://x.fr)**")
    '&#42;&#42;&#91;Mise à jour requise&#93;&#40;https&#58;&#47;&#47;x&#46;fr&#41;&#42;&#42;'
    >>> inert("<b>Saint-Étienne</b>")
    '&#60;b&#62;Saint&#45;Étienne&#60;&#47;b&#62;'
    >>> inert(None), inert(12)
    ('', '12')
    """
    if text is None:
        return ""
    return _CONTROLS.sub(" ", str(text)).translate(_TABLE)
