"""A search's text as terms (`projections.search`): words and quoted phrases of any
script, lower-cased, stop words left out, bounded in number and length; CJK runs also as
character bigrams (`projections.cjk`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from projections.cjk import bigrams, has_cjk, split

MAX_TERMS = 16
MAX_TERM_CHARS = 64
PHRASE_WORDS = 8  # words of a phrase that count (a CJK run: its first 9 characters)
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True, slots=True)
class Terms:
    """A query read as words and phrases (each a tuple of words)."""

    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases


def parse(text: str, max_terms: int = MAX_TERMS) -> Terms:
    """`text` as words and "phrases" (see the module docstring)."""
    text = _CONTROL.sub(" ", text[: max_terms * (MAX_TERM_CHARS + 8)])
    phrases: list[tuple[str, ...]] = []
    words_all: list[str] = []
    for found in _PHRASE.findall(text):
        found_words = _WORD.findall(found.lower())
        if len(found_words) <= 1:
            continue
        latin = [w[:MAX_TERM_CHARS] for w in found_words if not has_cjk(w)]
        if len(latin) > 1:
            phrases.append(tuple(latin[:PHRASE_WORDS]))
        else:
            words_all += latin
        _cjk_terms(" ".join(w for w in found_words if has_cjk(w)), words_all, phrases)
    rest = _PHRASE.sub(lambda m: m.group(0) if len(_WORD.findall(m.group(1))) <= 1 else " ", text)
    for word in _WORD.findall(rest.lower()):
        if has_cjk(word):
            _cjk_terms(word, words_all, phrases)
        else:
            words_all.append(word[:MAX_TERM_CHARS])
    words = [w for w in dict.fromkeys(words_all) if w not in STOPWORDS] or list(
        dict.fromkeys(words_all)
    )
    phrases = list(dict.fromkeys(phrases))
    room = max(0, max_terms - len(phrases))
    return Terms(tuple(words[:room]), tuple(phrases[:max_terms]))


def loose(terms: Terms, most: int = MAX_TERMS) -> Terms:
    """`terms` with each CJK phrase broken into its bigrams, as words (for a search that
    wants any term: an open case's text, where a run is rarely repeated whole)."""
    words = list(terms.words)
    phrases = []
    for phrase in terms.phrases:
        if has_cjk(phrase[0]):
            words += phrase
        else:
            phrases.append(phrase)
    words = list(dict.fromkeys(words))
    return Terms(tuple(words[: max(0, most - len(phrases))]), tuple(phrases))


def _cjk_terms(text: str, words: list[str], phrases: list[tuple[str, ...]]) -> None:
    """The terms of the CJK runs of `text` (`projections.cjk`): a run of two characters
    is one bigram (a word), a longer one the phrase of its bigrams; the parts between
    runs are words."""
    for word in _WORD.findall(text):
        for part in split(word):
            if not has_cjk(part):
                words.append(part[:MAX_TERM_CHARS])
                continue
            grams = bigrams(part)[:PHRASE_WORDS]
            if len(grams) == 1:
                words.append(grams[0])
            else:
                phrases.append(tuple(grams))
