"""Vietnamese text analysis shared by the index, the queries and the classifier.

The pipeline, in order:

1. ``normalize``: drop zero-width and control characters, NFC, and one tone-mark
   placement (``hoà`` -> ``hòa``, ``thuỷ`` -> ``thủy``, capitals too).
2. ``segment``: word segmentation with underthesea, *before* lower-casing, with the
   Front terms of ``data/dictionary.txt`` kept whole. ALL CAPS lines are lower-cased
   first, since the segmenter was trained on mixed case.
3. ``terms``: lower-cased syllables at consecutive positions, plus each multi-syllable
   word joined with ``_`` at the position of its first syllable; ``fold`` removes the
   diacritics (``đ`` -> ``d``) for accent-insensitive matching.

A segmented text is kept as a string (``segmented``): words separated by spaces,
the syllables of a word joined by ``_``. It is what the index stores and what the
classifier's features are made of, so an article is segmented once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

__all__ = [
    "normalize",
    "fold",
    "segment",
    "segmented",
    "syllables",
    "has_diacritics",
    "kept_whole",
    "terms",
    "abbreviations",
    "expand_abbreviations",
]

# Characters that carry no text: zero-width spaces and joiners, BOMs, soft hyphens,
# bidi controls. Other control characters (but newline and tab) become spaces.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def _tone_placement_table() -> dict[str, str]:
    """Old-style open syllables 'oà', 'oè', 'uỳ' -> 'òa', 'òe', 'ùy', in every case."""
    table = {}
    for first, second in ("oa", "oe", "uy"):
        for tone in _TONES:
            for a in (first, first.upper()):
                for b in (second, second.upper()):
                    old = a + unicodedata.normalize("NFC", b + tone)
                    new = unicodedata.normalize("NFC", a + tone) + b
                    table[old] = new
    return table


_NEW_PLACEMENT = _tone_placement_table()
# Only at the end of a syllable (hoàn keeps its mark), and not after q, where u is
# part of the consonant (quý is already right).
_OLD_PLACEMENT = re.compile(r"\b(\w*?)(" + "|".join(map(re.escape, _NEW_PLACEMENT)) + r")\b")


def _place_tone(match: re.Match) -> str:
    onset, rhyme = match.group(1), match.group(2)
    if onset[-1:] in ("q", "Q"):
        return match.group(0)
    return onset + _NEW_PLACEMENT[rhyme]


def normalize(text: str) -> str:
    """Return ``text`` cleaned, in NFC, with one tone-mark placement (hòa, thủy, khỏe)."""
    text = text.translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    return _OLD_PLACEMENT.sub(_place_tone, text)


class _FoldTable(dict):
    """``str.translate`` table that works out each character's folded form the first
    time it is seen: the base letter of a letter with marks, ``đ`` -> ``d``, anything
    else unchanged."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in "đĐ":
            folded = "d" if char == "đ" else "D"
        else:
            base = unicodedata.normalize("NFD", char)[0]
            folded = base if base.isalnum() else char
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Remove diacritics, one character for one (``đ`` -> ``d``), so offsets stay valid.

    Expects NFC text (``normalize`` gives it).
    """
    if text.isascii():
        return text
    return text.translate(_FOLD)


# --- segmentation ------------------------------------------------------------------

_WORD_CHARS = re.compile(r"[^\W_]+")


def syllables(text: str) -> list[str]:
    """The syllables (runs of letters and digits) of ``text``, in order, as written."""
    return _WORD_CHARS.findall(text)


def has_diacritics(text: str, share: float = 0.2) -> bool:
    """Whether ``text`` is Vietnamese written with its marks: at least ``share`` of its
    syllables (digits aside) have a letter outside ASCII. Written with marks, most
    syllables have one; typed without, none do. A text without syllables counts as marked."""
    if text.isascii():  # no marks at all: counts as marked only with no syllable to judge by
        return all(s.isdigit() for s in _WORD_CHARS.findall(text))
    found = [s for s in _WORD_CHARS.findall(unicodedata.normalize("NFC", text)) if not s.isdigit()]
    if not found:
        return True
    return sum(1 for s in found if not s.isascii()) >= share * len(found)


def kept_whole(words: tuple[str, ...], folded: bool = False) -> bool:
    """Whether lower-cased syllables are a Front term that segmentation keeps as one
    word (``data/dictionary.txt``): ("ủy", "ban", "nhân", "dân") is, so documents hold
    ``ủy_ban_nhân_dân``. With ``folded``, compared without marks: ("uy", "ban", "nhan",
    "dan") is too."""
    if len(words) < 2:
        return False
    if folded:
        return tuple(fold(w) for w in words) in _folded_dictionary()
    return words in _dictionary().get(words[0], ())


@functools.lru_cache(maxsize=1)
def _folded_dictionary() -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(fold(w) for w in entry) for entries in _dictionary().values() for entry in entries)


@functools.lru_cache(maxsize=1)
def _dictionary() -> dict[str, list[tuple[str, ...]]]:
    """Front terms that the segmenter must keep whole, by their first syllable."""
    entries: dict[str, list[tuple[str, ...]]] = {}
    source = resources.files("mttq_nlp").joinpath("data/dictionary.txt")
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key = tuple(s.lower() for s in syllables(normalize(line)))
        if len(key) > 1:
            entries.setdefault(key[0], []).append(key)
    for candidates in entries.values():
        candidates.sort(key=len, reverse=True)
    return entries


def _is_all_caps(line: str) -> bool:
    """More than 80% of the line's letters (at least 4) are capitals: an ALL CAPS headline."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and sum(map(str.isupper, letters)) > 0.8 * len(letters)


@functools.lru_cache(maxsize=1)
def _segmenter():
    """The word tokenizer for one line: ``_FastWordTokenizer``, or underthesea's own
    ``word_tokenize`` when its internals are not what the fast one expects."""
    # Imported on first use: underthesea takes a while to load and most commands
    # (search, for one) segment only a short query.
    try:
        return _FastWordTokenizer()
    except Exception:  # another underthesea version: the slow but sure path
        from underthesea import word_tokenize

        return word_tokenize


_INT32 = re.compile(r"[+-]?[0-9]+")


def _import_word_tokenize():
    """underthesea's word segmentation modules, without ``underthesea/__init__.py``,
    which imports every pipeline of the library (POS, NER, chunking, classification,
    language detection: about 1.2 s, a fresh ``mttq-nlp search`` would wait for it).

    The package and its ``pipeline`` are stood in for by empty modules while the three
    modules load, then taken out of ``sys.modules``, so that a later ``import
    underthesea`` runs the real ``__init__`` and finds the same modules.
    """
    import importlib
    import importlib.util
    import sys
    import types

    names = ("underthesea", "underthesea.pipeline")
    stubs = []
    if names[0] not in sys.modules:
        spec = importlib.util.find_spec(names[0])
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("underthesea is not installed")
        parent = list(spec.submodule_search_locations)
        for name in names:
            stub = types.ModuleType(name)
            stub.__path__ = parent
            parent = [f"{parent[0]}/pipeline"]
            sys.modules[name] = stub
            stubs.append(name)
    try:
        # text_normalize first, as underthesea does: the two import each other
        importlib.import_module("underthesea.pipeline.text_normalize")
        wt = importlib.import_module("underthesea.pipeline.word_tokenize")
        regex_tokenize = importlib.import_module("underthesea.pipeline.word_tokenize.regex_tokenize")
        token_normalize = importlib.import_module("underthesea.pipeline.text_normalize.token_normalize")
    finally:
        for name in stubs:
            del sys.modules[name]
    return wt, regex_tokenize, token_normalize.token_normalize


class _FastWordTokenizer:
    """underthesea's ``word_tokenize(line)``, the same words, about twice as fast.

    underthesea (9.x) tokenises a line with one big regular expression, normalises each
    token (NFC, ``ð`` -> ``đ``, a table of misspellings), and tags the tokens with a
    CRF. The CRF's features (43 strings a token) are made by ``underthesea_core``'s
    ``CRFFeaturizer``, which takes about 60% of the time; here they are made in
    Python, each n-gram once per line instead of once per position, and handed to the
    same ``CRFTagger``. Token normalisation is memoised. The benchmark's ``--verify``
    mode checks that the output is identical on thousands of real articles.
    """

    def __init__(self):
        from os.path import dirname, join

        import joblib
        from underthesea_core import CRFTagger

        wt, regex_tokenize, token_normalize = _import_word_tokenize()
        folder = join(dirname(wt.__file__), "models", "ws_crf_vlsp2013_20230727")
        if joblib.load(join(folder, "features.bin")) != _CRF_FEATURES:
            raise ValueError("unexpected CRF features")
        self.dictionary = frozenset(joblib.load(join(folder, "dictionary.bin")))
        if wt.word_tokenize_model is not None:
            tagger = wt.word_tokenize_model.estimator
        else:
            tagger = CRFTagger()
            tagger.load(join(folder, "models.bin"))
        self.tag = tagger.tag
        self.pattern = regex_tokenize.patterns
        self.token_normalize = token_normalize
        self.normal: dict[str, str] = {}

    def tokens(self, line: str) -> list[str]:
        line = unicodedata.normalize("NFC", line)
        if "ð" in line or "Ð" in line:
            line = line.replace("ð", "đ").replace("Ð", "Đ")
        normal = self.normal
        out = []
        for match in self.pattern.finditer(line):
            token = match.group()
            if len(token) <= 6:
                fixed = normal.get(token)
                if fixed is None:
                    fixed = normal[token] = self.token_normalize(token)
                    if len(normal) > 200_000:
                        normal.clear()
                token = fixed
            out.append(token)
        return out

    def features(self, tokens: list[str]) -> list[list[str]]:
        """What ``CRFFeaturizer(_CRF_FEATURES, dictionary).process`` gives, for one line."""
        n = len(tokens)
        if not n:
            return []
        dictionary = self.dictionary
        lower = [t.lower() for t in tokens]
        B, E = ["BOS", "BOS"], ["EOS", "EOS"]
        uni = B + tokens + E
        uni_lower = B + lower + E
        # a 32-bit integer, as underthesea_core parses it (long digit runs are not: and
        # int() of over 4,300 digits raises)
        digit = B + [str(len(t) <= 11 and bool(_INT32.fullmatch(t)) and -2147483648 <= int(t) <= 2147483647)
                     for t in tokens] + E
        title = [t[:1].upper() == t[:1] for t in tokens]
        uni_title = B + [str(t) for t in title] + E
        uni_dict = B + [str(t in dictionary) for t in lower] + E
        bi = [tokens[j] + " " + tokens[j + 1] for j in range(n - 1)]
        bi_lower = [b.lower() for b in bi]
        tri = [bi[j] + " " + tokens[j + 2] for j in range(n - 2)]
        tri_lower = [t.lower() for t in tri]
        # indexed by start + 2: BOS before the line, EOS where the n-gram runs past it
        bi_pad = B + bi + E
        bi_lower_pad = B + bi_lower + E
        bi_dict = B + [str(b in dictionary) for b in bi_lower] + E
        bi_title = B + [str(title[j] and title[j + 1]) for j in range(n - 1)] + E
        tri_eos = ["EOS"] * min(3, n + 1)
        tri_pad = B + tri + tri_eos
        tri_dict = B + [str(t in dictionary) for t in tri_lower] + tri_eos
        tri_title = B + [str(title[j] and title[j + 1] and title[j + 2]) for j in range(n - 2)] + tri_eos
        out = []
        for k in range(2, n + 2):
            out.append([
                f"T[-2]={uni[k - 2]}", f"T[-1]={uni[k - 1]}", f"T[0]={uni[k]}", f"T[1]={uni[k + 1]}",
                f"T[2]={uni[k + 2]}",
                f"T[-2,-1]={bi_pad[k - 2]}", f"T[-1,0]={bi_pad[k - 1]}", f"T[0,1]={bi_pad[k]}",
                f"T[1,2]={bi_pad[k + 1]}",
                f"T[-2,0]={tri_pad[k - 2]}", f"T[-1,1]={tri_pad[k - 1]}", f"T[0,2]={tri_pad[k]}",
                f"T[-2].lower={uni_lower[k - 2]}", f"T[-1].lower={uni_lower[k - 1]}",
                f"T[0].lower={uni_lower[k]}", f"T[1].lower={uni_lower[k + 1]}", f"T[2].lower={uni_lower[k + 2]}",
                f"T[-2,-1].lower={bi_lower_pad[k - 2]}", f"T[-1,0].lower={bi_lower_pad[k - 1]}",
                f"T[0,1].lower={bi_lower_pad[k]}", f"T[1,2].lower={bi_lower_pad[k + 1]}",
                f"T[-1].isdigit={digit[k - 1]}", f"T[0].isdigit={digit[k]}", f"T[1].isdigit={digit[k + 1]}",
                f"T[-2].istitle={uni_title[k - 2]}", f"T[-1].istitle={uni_title[k - 1]}",
                f"T[0].istitle={uni_title[k]}", f"T[1].istitle={uni_title[k + 1]}",
                f"T[2].istitle={uni_title[k + 2]}",
                f"T[0,1].istitle={bi_title[k]}", f"T[0,2].istitle={tri_title[k]}",
                f"T[-2].is_in_dict={uni_dict[k - 2]}", f"T[-1].is_in_dict={uni_dict[k - 1]}",
                f"T[0].is_in_dict={uni_dict[k]}", f"T[1].is_in_dict={uni_dict[k + 1]}",
                f"T[2].is_in_dict={uni_dict[k + 2]}",
                f"T[-2,-1].is_in_dict={bi_dict[k - 2]}", f"T[-1,0].is_in_dict={bi_dict[k - 1]}",
                f"T[0,1].is_in_dict={bi_dict[k]}", f"T[1,2].is_in_dict={bi_dict[k + 1]}",
                f"T[-2,0].is_in_dict={tri_dict[k - 2]}", f"T[-1,1].is_in_dict={tri_dict[k - 1]}",
                f"T[0,2].is_in_dict={tri_dict[k]}",
            ])
        return out

    def __call__(self, line: str) -> list[str]:
        tokens = self.tokens(line)
        if not tokens:
            return []
        tags = self.tag(self.features(tokens))
        output: list[str] = []
        for tag, token in zip(tags, tokens):
            if tag == "I-W" and output:
                output[-1] = output[-1] + " " + token
            else:
                output.append(token)
        return output


_CRF_FEATURES = [
    "T[-2]", "T[-1]", "T[0]", "T[1]", "T[2]",
    "T[-2,-1]", "T[-1,0]", "T[0,1]", "T[1,2]", "T[-2,0]", "T[-1,1]", "T[0,2]",
    "T[-2].lower", "T[-1].lower", "T[0].lower", "T[1].lower", "T[2].lower",
    "T[-2,-1].lower", "T[-1,0].lower", "T[0,1].lower", "T[1,2].lower",
    "T[-1].isdigit", "T[0].isdigit", "T[1].isdigit",
    "T[-2].istitle", "T[-1].istitle", "T[0].istitle", "T[1].istitle", "T[2].istitle",
    "T[0,1].istitle", "T[0,2].istitle",
    "T[-2].is_in_dict", "T[-1].is_in_dict", "T[0].is_in_dict", "T[1].is_in_dict", "T[2].is_in_dict",
    "T[-2,-1].is_in_dict", "T[-1,0].is_in_dict", "T[0,1].is_in_dict", "T[1,2].is_in_dict",
    "T[-2,0].is_in_dict", "T[-1,1].is_in_dict", "T[0,2].is_in_dict",
]


def segment(text: str) -> list[list[str]]:
    """Split ``text`` into words, each a list of syllables in their original case.

    >>> segment("Hội nghị phản biện xã hội")
    [['Hội', 'nghị'], ['phản', 'biện'], ['xã', 'hội']]
    """
    return _segment_normalized(normalize(text))


def _segment_normalized(text: str) -> list[list[str]]:
    """``segment`` of a text that ``normalize`` already gave."""
    word_tokenize = _segmenter()
    words: list[list[str]] = []
    findall = _WORD_CHARS.findall
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        if _is_all_caps(line):
            line = line.lower()
        for piece in _pieces(line):
            for token in word_tokenize(piece):
                parts = findall(token)
                if parts:
                    words.append(parts)
    return _regroup(words)


LONG_LINE = 5_000  # characters: a longer line is segmented a few sentences at a time
_SENTENCE_END = re.compile(r"[.!?;:…]\s")


def _pieces(line: str):
    """``line``, or for a long one, pieces of at most ``LONG_LINE`` characters cut after
    a sentence (else at a space): the segmenter's memory grows with its input."""
    start = 0
    while len(line) - start > LONG_LINE:
        window = line[start + LONG_LINE // 2:start + LONG_LINE]
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else window.rfind(" ") + 1 or len(window)
        yield line[start:start + LONG_LINE // 2 + cut]
        start += LONG_LINE // 2 + cut
    yield line[start:]


def _regroup(words: list[list[str]]) -> list[list[str]]:
    """Keep the dictionary's terms whole: split and join segmenter words around them."""
    dictionary = _dictionary()
    flat = [s for word in words for s in word]
    lower = [s.lower() for s in flat]
    if not any(s in dictionary for s in lower):  # the common case: nothing to regroup
        return words
    starts = set()  # indexes of syllables that begin a segmenter word
    n = 0
    for word in words:
        starts.add(n)
        n += len(word)
    out: list[list[str]] = []
    i = 0
    while i < len(flat):
        term = None
        if lower[i] in dictionary:
            term = next(
                (t for t in dictionary[lower[i]] if tuple(lower[i:i + len(t)]) == t),
                None,
            )
        if term:
            out.append(flat[i:i + len(term)])
            i += len(term)
            # the rest of a segmenter word cut by the term starts a word of its own
            starts.add(i)
            continue
        if i in starts or not out:
            out.append([flat[i]])
        else:
            out[-1].append(flat[i])
        i += 1
    return out


def segmented(text: str) -> str:
    """``text`` segmented into a string: words separated by spaces, syllables by ``_``.

    >>> segmented("Ủy ban Mặt trận Tổ quốc")
    'Ủy_ban Mặt_trận_Tổ_quốc'
    """
    return " ".join("_".join(word) for word in segment(text))


def normalized_and_segmented(text: str) -> tuple[str, str]:
    """``(normalize(text), segmented(text))``, normalising once."""
    text = normalize(text)
    return text, " ".join("_".join(word) for word in _segment_normalized(text))


def terms(segmented_text: str, *, folded: bool = False) -> list[tuple[int, str]]:
    """Index terms of a segmented text as (position, term), lower-cased.

    Every syllable gets the next position; a word of several syllables is also a term,
    joined by ``_``, at the position of its first syllable. So "phản biện" matches
    whether or not a query is segmented the same way, and phrases match on syllables.
    """
    out = []
    pos = 0
    text = segmented_text.lower()
    if folded:
        text = fold(text)
    for word in text.split():
        parts = word.split("_")
        if len(parts) > 1:
            out.append((pos, word))
        for part in parts:
            if part:
                out.append((pos, part))
                pos += 1
    return out


# --- abbreviations -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """The abbreviation table, lower-cased: {"mttq": "mặt trận tổ quốc", ...}.

    Read from ``data/abbreviations.tsv``: one ``ABBREVIATION<TAB>long form`` a line.
    """
    table = {}
    source = resources.files("mttq_nlp").joinpath("data/abbreviations.tsv")
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        short, _, long = line.partition("\t")
        short, long = normalize(short).strip().lower(), normalize(long).strip().lower()
        if short and long:
            table[short] = " ".join(syllables(long))
    return table


def expand_abbreviations(words: list[str], parts: bool = False) -> list[tuple[int, int, list[str]]]:
    """Other ways of writing spans of a list of lower-cased syllables.

    Returns (start, end, alternative) triples: ``words[start:end]`` may also be
    written as the syllables of ``alternative``. A span is an abbreviation, a long
    form, or a mix of both that reads as a long form ("ủy ban mttq"). Its
    alternatives are its other writings (``mttq`` <-> ``mặt trận tổ quốc``,
    ``ubmttq`` -> ``ủy ban mttq``) and the abbreviations whose long form contains it
    (``mttq`` -> ``ubmttq``, ``mttqvn``). With ``parts``, the first or last two
    syllables of a long form stand for the abbreviations whose long form contains
    them (``mặt trận`` -> ``mttq``, ``ubmttq``, ``mttqvn``). Syllables compare
    folded, so unmarked text expands too.
    """
    forms = _abbreviation_forms()
    # the words read with abbreviations written out: folded syllables and, for each,
    # the index of the word it comes from
    reading, origin = [], []
    for i, word in enumerate(words):
        short = word if word in forms.long else forms.folded_short.get(fold(word))
        syllables = forms.folded_long[short] if short else (fold(word),)
        reading.extend(syllables)
        origin.extend([i] * len(syllables))
    direct: dict[tuple[int, int], list[list[str]]] = {}
    for start in range(len(reading)):
        if start and origin[start] == origin[start - 1]:
            continue  # inside a written-out abbreviation
        for end in range(start + 1, min(len(reading), start + forms.longest) + 1):
            if end < len(reading) and origin[end] == origin[end - 1]:
                continue  # would cut one
            alternatives = forms.alternatives(tuple(reading[start:end]), parts)
            if alternatives:
                direct[origin[start], origin[end - 1] + 1] = alternatives
    return [(start, end, alternative)
            for (start, end), alternatives in direct.items()
            for alternative in _unique(alternatives) if alternative != words[start:end]]


def _unique(lists: list[list[str]]) -> list[list[str]]:
    return [list(t) for t in dict.fromkeys(tuple(x) for x in lists)]


class _AbbreviationForms:
    """The abbreviation table arranged for ``expand_abbreviations``."""

    def __init__(self, table: dict[str, str]):
        self.long = {short: tuple(long.split()) for short, long in table.items()}
        self.folded_long = {short: tuple(fold(s) for s in long) for short, long in self.long.items()}
        self.folded_short = {fold(short): short for short in table}
        self.longest = max((len(long) for long in self.long.values()), default=1)
        # what a query may shorten a long form to: its first or its last two syllables
        self.pieces = {piece for long in self.folded_long.values() if len(long) > 2
                       for piece in (long[:2], long[-2:])}

    def alternatives(self, reading: tuple[str, ...], parts: bool) -> list[list[str]]:
        """Writings of a folded reading: the abbreviations and long forms it is, those
        long forms with an inner long form abbreviated, and the abbreviations whose
        long form contains it (with ``parts``, also when it is a piece of a long form)."""
        whole = [short for short, long in self.folded_long.items() if long == reading]
        out = []
        for short in whole:
            long = list(self.long[short])
            out += [[short], long]
            for inner, inner_long in self.folded_long.items():
                at = _find(reading, inner_long)
                if at is not None and len(inner_long) < len(reading):
                    out.append(long[:at] + [inner] + long[at + len(inner_long):])
        if whole or (parts and reading in self.pieces):
            out += [[short] for short, long in self.folded_long.items()
                    if len(long) > len(reading) and _find(long, reading) is not None]
        return out


def _find(sequence: tuple, part: tuple) -> int | None:
    """Where ``part`` first occurs in ``sequence``, contiguously."""
    for i in range(len(sequence) - len(part) + 1):
        if sequence[i:i + len(part)] == part:
            return i
    return None


@functools.lru_cache(maxsize=1)
def _abbreviation_forms() -> _AbbreviationForms:
    return _AbbreviationForms(abbreviations())
