"""Accent-, case- and hyphen-insensitive search over territory names and codes.

Examples
--------
>>> fold("Saint-Étienne")
'saint etienne'
>>> fold("ST-ETIENNE")
'saint etienne'
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["fold", "SearchIndex"]

_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
_SEPARATORS = re.compile(r"[\s\-'’_.,/()]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, turn hyphens and apostrophes into spaces, expand St/Ste."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").lower()
    words = [w for w in _SEPARATORS.split(bare) if w]
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


class SearchIndex:
    """Search over a table of territories.

    Parameters
    ----------
    entries : DataFrame
        Columns ``level``, ``code``, ``nom``, ``label`` (what the user sees, e.g.
        ``"Saint-Étienne (42)"``) and ``population`` (ranks equally good matches).
    """

    def __init__(self, entries: pd.DataFrame):
        self.entries = entries.reset_index(drop=True)
        self._folded = self.entries["nom"].map(fold).to_numpy()
        self._codes = self.entries["code"].str.upper().to_numpy()

    def search(
        self, text: str, limit: int = 10, levels: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """Best matches first: exact code, exact name, name prefix, all words contained."""
        query = fold(text)
        code = str(text).strip().upper()
        if not query and not code:
            return self.entries.iloc[0:0]
        score = pd.Series(0, index=self.entries.index)
        folded = pd.Series(self._folded)
        words = query.split()
        contains_all = pd.Series(True, index=self.entries.index)
        for word in words:
            contains_all &= folded.str.contains(rf"(?:^| ){re.escape(word)}", regex=True)
        score[contains_all] = 1
        score[folded.str.startswith(query)] = 2
        score[folded == query] = 3
        score[pd.Series(self._codes) == code] = 4
        if levels is not None:
            score[~self.entries["level"].isin(levels)] = 0
        found = self.entries.assign(_score=score)[score > 0]
        found = found.sort_values(["_score", "population"], ascending=[False, False], kind="stable")
        return found.drop(columns="_score").head(limit)
