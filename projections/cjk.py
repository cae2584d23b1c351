"""CJK text as character bigrams, the one segmentation both search backends share.

Chinese and Japanese are written without spaces (Korean puts them between phrases, its
particles attached), so a full-text index that splits on spaces and punctuation keeps
a whole run as one token: a query finds it only by repeating the run exactly. Indexing
each run as its overlapping pairs of characters (the classic CJK bigram of Lucene's
`CJKBigramFilter`) needs no dictionary and finds any word of two characters or more:
a query's run becomes the phrase of its bigrams, which matches wherever the run occurs
inside a longer one. A run of one character is kept as it is (it finds only the same
lone character). Runs are the code points of `CJK` (Han, kana, Hangul and their
compatibility blocks); everything else is left to the backend's own tokenizer.
"""

from __future__ import annotations

import re

CJK = (
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff"  # Bopomofo, Hangul Jamo compat
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK ideographs (extension A, unified)
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"  # Hangul syllables and Jamo extensions
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff66-\uff9f"  # halfwidth Katakana
    "\U00020000-\U0003134f"  # CJK ideographs, extensions B-G
)
_RUN = re.compile(f"[{CJK}]+")
_SPLIT = re.compile(f"([{CJK}]+)")


def bigrams(run: str) -> list[str]:
    """The overlapping character pairs of a CJK run (the run itself when shorter)."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


def grams(text: str) -> str:
    """The bigrams of every CJK run of `text`, space-separated, a line per run ("" when
    it has none): what `search_docs.*_grams` hold."""
    return "\n".join(" ".join(bigrams(run)) for run in _RUN.findall(text.lower()))


def has_cjk(word: str) -> bool:
    return _RUN.search(word) is not None


def split(word: str) -> list[str]:
    """`word` cut into its CJK runs and the parts between them, in order, none empty."""
    return [part for part in _SPLIT.split(word) if part]
