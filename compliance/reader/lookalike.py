"""Fold header text that looks right but is spelled with other characters.

A header typed or pasted as ``bаttery_id`` with a Cyrillic ``а``, or with a zero-width space,
looks identical in Excel but does not match. :func:`fold` maps such text to what a person sees:
NFKC compatibility forms (full-width letters, ligatures), common Cyrillic and Greek letters that
look like Latin ones, and invisible characters removed. The reader uses it only after an exact
match fails, and says when it did.
"""

from __future__ import annotations

import unicodedata

_LOOKALIKES = str.maketrans({
    # Cyrillic
    "\u0430": "a", "\u0410": "A", "\u0432": "b", "\u0412": "B", "\u0441": "c", "\u0421": "C",
    "\u0435": "e", "\u0415": "E", "\u043d": "h", "\u041d": "H", "\u0456": "i", "\u0406": "I",
    "\u0458": "j", "\u0408": "J", "\u043a": "k", "\u041a": "K", "\u043c": "m", "\u041c": "M",
    "\u043e": "o", "\u041e": "O", "\u0440": "p", "\u0420": "P", "\u0455": "s", "\u0405": "S",
    "\u0442": "t", "\u0422": "T", "\u0445": "x", "\u0425": "X", "\u0443": "y", "\u0423": "Y",
    "\u04bb": "h",
    # Greek
    "\u03b1": "a", "\u0391": "A", "\u0392": "B", "\u03b5": "e", "\u0395": "E", "\u0397": "H",
    "\u03b9": "i", "\u0399": "I", "\u039a": "K", "\u03ba": "k", "\u039c": "M", "\u039d": "N",
    "\u03bf": "o", "\u039f": "O", "\u03c1": "p", "\u03a1": "P", "\u03a4": "T", "\u03c4": "t",
    "\u03c5": "u", "\u03a5": "Y", "\u03a7": "X", "\u03c7": "x", "\u0396": "Z",
    # Dashes and underscores that look alike
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\uff3f": "_",
    # Invisible characters
    "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None,
    "\u00ad": None,
})


def fold(text: str) -> str:
    """``text`` as a person reads it: compatibility forms, look-alike letters, no invisibles."""
    return unicodedata.normalize("NFKC", str(text)).translate(_LOOKALIKES)
