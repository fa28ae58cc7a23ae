"""Query evaluation and BM25 ranking in NumPy, over the postings of the Whoosh index.

Whoosh keeps the index (segments, postings, stored fields, commits and locks); a query
is evaluated here on whole posting lists at once instead of one posting at a time
through Whoosh's matchers, which made a query over 10,000 articles take a second.

Per open searcher, the collection's tables (live documents, field lengths, topics,
sources, years, dates) are read once, and posting lists are kept in an LRU cache, so
the common syllables of Vietnamese (của, và, việt, nam) are decoded once.

A parsed query node evaluates to a ``Match``: a boolean mask over documents, a score
per document, and per document the number of query words it has, out of
``clauses``. Results rank by the number of words present, then by score: an article
with every word of the query comes before one missing a word, and one missing a word
is still found. Sorted by date instead, results are the articles that satisfy the
query as written (``Match.strict``: every word, as if joined by AND).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from . import postings as decoded
from . import text as vi

K1, B = 1.2, 0.75
TITLE_BOOST = 2.5
EXACT_BOOST = 1.0  # a match with the query's own diacritics counts this much again
ADJACENT_BOOST = 3.0  # two query syllables found as one word of the document
FIELDS = ("title", "body")
CACHE_POSTINGS = 20_000_000  # postings kept decoded (8 bytes each)
CACHE_PHRASES = 256  # phrase checks kept (a byte per document each)
EDGE_CANDIDATES = 200  # documents checked for a name beside a query word


@dataclass
class Match:
    mask: np.ndarray  # bool per document
    score: np.ndarray  # float per document
    matched: np.ndarray  # query words present, per document
    clauses: int  # query words in all
    strict: np.ndarray | None = None  # satisfies the query with every word required (None: mask)

    @property
    def required(self) -> np.ndarray:
        return self.mask if self.strict is None else self.strict


class Collection:
    """One open index as NumPy tables, and a cache of decoded posting lists."""

    def __init__(self, searcher, index_dir=None):
        self.searcher = searcher
        reader = searcher.reader()
        self.reader = reader
        self.index_dir = index_dir
        self.size = reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        self.live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
        self.count = int(self.live.sum())
        self.lengths = {}
        self.average = {}
        for name in FIELDS:
            parts = []
            for (leaf, _), arrays in zip(self._leaves(), self._decoded()):
                lengths = arrays.lengths(name) if arrays is not None else None
                if lengths is None:
                    lengths = field_lengths(leaf, name)
                parts.append(np.asarray(lengths, dtype=np.float32))
            lengths = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
            self.lengths[name] = lengths
            self.average[name] = max(float(lengths[self.live].mean()), 1.0) if self.count else 1.0
        self._cache: OrderedDict = OrderedDict()
        self._cached = 0
        self._lock = threading.Lock()  # the web server shares one searcher between threads
        self._values: dict[str, tuple[list[str], np.ndarray]] = {}
        self._date_order: np.ndarray | None = None
        self._phrases: OrderedDict = OrderedDict()  # the last CACHE_PHRASES phrase checks

    # -- postings --------------------------------------------------------------------

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (sorted) and term frequencies of a term in a field."""
        key = (field, term)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            ids, tfs = self._read(field, term)
            self._cache[key] = (ids, tfs)
            self._cached += len(ids)
            while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
                _, (old, _) = self._cache.popitem(last=False)
                self._cached -= len(old)
            return ids, tfs

    def _read(self, field: str, term: str):
        ids_parts, tf_parts = [], []
        for (leaf, offset), arrays in zip(self._leaves(), self._decoded()):
            found = arrays.lookup(field, term) if arrays is not None else None
            if found is not None:
                ids, tfs = found
                ids = ids.astype(np.int64) + offset
                if len(ids) and leaf.has_deletions():  # Whoosh leaves deleted documents out
                    live = self.live[ids]
                    ids, tfs = ids[live], tfs[live]
            else:  # no decoded arrays: ask Whoosh
                try:
                    matcher = leaf.postings(field, term)
                except Exception:  # TermNotFound, or a field the segment does not have
                    continue
                ids, tfs = decoded.read_matcher(matcher)
                ids = ids + offset
            if len(ids):
                ids_parts.append(ids)
                tf_parts.append(tfs.astype(np.float32))
        if not ids_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(ids_parts) == 1:
            return ids_parts[0], tf_parts[0]
        return np.concatenate(ids_parts), np.concatenate(tf_parts)

    def _leaves(self):
        leaves = getattr(self, "_leaf_list", None)
        if leaves is None:
            leaves = self._leaf_list = list(self.reader.leaf_readers())
        return leaves

    def _decoded(self):
        """Per segment, its decoded posting arrays (``postings.py``) or None."""
        arrays = getattr(self, "_decoded_list", None)
        if arrays is None:
            leaves = self._leaves()
            arrays = decoded.open_all(self.index_dir, leaves) if self.index_dir else [None] * len(leaves)
            self._decoded_list = arrays
        return arrays

    def leads(self, docs, stored_fields) -> list[tuple[str, str]]:
        """``folded_lead`` of each document: from the decoded arrays where a segment
        has them, else from ``stored_fields(docnum)``."""
        leaves, arrays = self._leaves(), self._decoded()
        offsets = np.asarray([offset for _, offset in leaves])
        found = []
        for doc in docs:
            i = int(np.searchsorted(offsets, doc, side="right")) - 1
            lead = arrays[i].lead(int(doc) - leaves[i][1]) if arrays[i] is not None else None
            if lead is None:
                fields = stored_fields(int(doc))
                lead = folded_lead(fields.get("title_text", ""), fields.get("text", ""))
            found.append(lead)
        return found

    def mask_of(self, field: str, term: str) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[self.postings(field, term)[0]] = True
        return mask

    # -- scoring ---------------------------------------------------------------------

    def saturation(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, BM25's term-frequency part) of one term in one field:
        how strongly each document holds the term, before its IDF."""
        ids, tfs = self.postings(field, term)
        if not len(ids):
            return ids, tfs
        norm = K1 * (1.0 - B + B * self.lengths[field][ids] / self.average[field])
        return ids, (K1 + 1.0) * tfs / (tfs + norm)

    def idf(self, df: int) -> float:
        return math.log(1.0 + (self.count - df + 0.5) / (df + 0.5))

    def bm25(self, field: str, term: str, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, BM25 scores) of one term in one field."""
        ids, strength = self.saturation(field, term)
        if not len(ids):
            return ids, strength
        return ids, (boost * self.idf(len(ids))) * strength

    def name_match(self, writings: list[list[str]], fields=FIELDS) -> Match:
        """A name written any of several ways, each one term (an abbreviation, or a word
        the segmentation keeps whole), scored in each field as one term whose documents
        are those with any writing, ``ADJACENT_BOOST`` times: "UBND" counts as much as
        "ủy ban nhân dân"."""
        score = np.zeros(self.size, dtype=np.float32)
        for name in fields:
            strength = np.zeros(self.size, dtype=np.float32)
            for writing in writings:
                ids, s = self.saturation(name, vi.fold("_".join(writing)))
                strength[ids] = np.maximum(strength[ids], s)
            df = int(np.count_nonzero(strength[self.live]))
            if df:
                weight = ADJACENT_BOOST * (TITLE_BOOST if name == "title" else 1.0) * self.idf(df)
                score += weight * strength
        mask = score > 0
        return Match(mask, score, mask.astype(np.int32), 1)

    def holds(self, writing) -> bool:
        """Whether some document has the syllables of ``writing`` as one word."""
        term = vi.fold("_".join(writing))
        return any(len(self.postings(name, term)[0]) for name in FIELDS)

    def term_match(self, term: str, fields=FIELDS, boost: float = 1.0) -> Match:
        """One query syllable (or word joined by ``_``): its folded form in any of
        ``fields``, plus, when the query has diacritics, its exact form as a bonus."""
        folded = vi.fold(term)
        score = np.zeros(self.size, dtype=np.float32)
        mask = np.zeros(self.size, dtype=bool)
        for name in fields:
            weight = boost * (TITLE_BOOST if name == "title" else 1.0)
            ids, s = self.bm25(name, folded, weight)
            mask[ids] = True
            score[ids] += s
            if term != folded:
                ids, s = self.bm25(name, term, weight * EXACT_BOOST)
                score[ids] += s
        return Match(mask, score, mask.astype(np.int32), 1)

    def phrase_match(self, phrases: list[list[str]], fields, candidates: np.ndarray) -> Match:
        """The ``candidates`` (sorted document numbers) with any of ``phrases``, scored
        in each field as one term (without its frequency) ``ADJACENT_BOOST`` times, its
        IDF taken from the candidates."""
        score = np.zeros(self.size, dtype=np.float32)
        for name in fields:
            found = self.phrase_among(phrases, name, candidates)
            df = int(np.count_nonzero(found))
            if df:
                score[found] += ADJACENT_BOOST * (TITLE_BOOST if name == "title" else 1.0) * self.idf(df)
        mask = score > 0
        return Match(mask, score, mask.astype(np.int32), 1)

    def phrase_among(self, phrases: list[list[str]], field: str, candidates: np.ndarray) -> np.ndarray:
        """Of ``candidates`` (sorted document numbers), those with the folded syllables
        of any of ``phrases`` side by side in ``field``: the positions are read for
        these documents alone, so the cost does not grow with the collection."""
        folded = _folded(phrases)

        def check():
            return np.logical_or.reduce([self._side_by_side(words, field, candidates) for words in folded])

        return self._kept((field, folded, candidates.tobytes()), check)

    def phrase_mask(self, phrases: list[list[str]], fields=FIELDS) -> np.ndarray:
        """Documents with the folded syllables of any of ``phrases`` side by side. A
        document that holds them as one word ("thành_phố") has them; the positions are
        read for the others that hold every syllable (slow: the last ``CACHE_PHRASES``
        answers are kept)."""
        folded = _folded(phrases)

        def check():
            mask = np.zeros(self.size, dtype=bool)
            for words in folded:
                for name in fields:
                    mask[self.postings(name, "_".join(words))[0]] = True  # one word: side by side
                    if len(words) > 1:
                        rest = np.logical_and.reduce([self.mask_of(name, w) for w in words]) & ~mask
                        mask |= self._side_by_side(words, name, np.flatnonzero(rest))
            return mask

        return self._kept((tuple(fields), folded), check)

    def _side_by_side(self, words: tuple[str, ...], field: str, candidates: np.ndarray) -> np.ndarray:
        """Of ``candidates`` (sorted document numbers), those with the folded syllables
        ``words`` at consecutive positions of ``field``."""
        mask = np.zeros(self.size, dtype=bool)
        for leaf, offset in self._leaves() if len(candidates) else []:
            local = candidates[(candidates >= offset) & (candidates < offset + leaf.doc_count_all())] - offset
            if not len(local):
                continue
            try:
                matchers = [leaf.postings(field, w) for w in words]
            except Exception:  # TermNotFound, or a field the segment does not have
                continue
            for doc in map(int, local):
                positions = []
                for matcher in matchers:
                    if matcher.is_active() and matcher.id() < doc:
                        matcher.skip_to(doc)
                    if not matcher.is_active() or matcher.id() != doc:
                        break
                    positions.append(matcher.value_as("positions"))
                else:
                    later = [set(p) for p in positions[1:]]
                    if any(all(at + i in found for i, found in enumerate(later, 1)) for at in positions[0]):
                        mask[doc + offset] = True
        return mask

    def _kept(self, key, check) -> np.ndarray:
        """A copy of ``check()``'s mask, kept under ``key`` with the last ``CACHE_PHRASES``."""
        mask = self._phrases.get(key)
        if mask is None:
            mask = self._phrases[key] = check()
            while len(self._phrases) > CACHE_PHRASES:
                self._phrases.popitem(last=False)
        else:
            self._phrases.move_to_end(key)
        return mask.copy()

    # -- per-document values, for filters and facets -----------------------------------

    def values(self, field: str) -> tuple[list[str], np.ndarray]:
        """The terms of a field and, per document, a bit set (up to 63 terms) or an
        index into the terms (-1 for none): topics are several, sources and years one."""
        cached = self._values.get(field)
        if cached is not None:
            return cached
        # (two threads may build the same table at once: both results are equal)
        terms = [t.decode("utf-8") if isinstance(t, bytes) else t for t in self.reader.lexicon(field)]
        multi = field == "topics"
        table = np.zeros(self.size, dtype=np.int64) if multi else np.full(self.size, -1, dtype=np.int64)
        for i, term in enumerate(terms):
            ids, _ = self.postings(field, term)
            if multi and i < 63:
                table[ids] |= 1 << i
            elif not multi:
                table[ids] = i
        self._values[field] = (terms, table)
        return terms, table

    def date_mask(self, start, end) -> np.ndarray:
        """Documents dated within [start, end] (datetimes; None for open)."""
        mask = np.zeros(self.size, dtype=bool)
        docs = np.fromiter(self.searcher.docs_for_query(Q.DateRange("date", start, end)), dtype=np.int64)
        mask[docs] = True
        return mask

    def date_order(self) -> np.ndarray:
        """Per document, the rank of its date among the index's dates, earliest 0
        (-1 for undated): sorts documents by date."""
        order = self._date_order
        if order is None:
            # a date field's full-precision terms sort as its dates do
            field = self.searcher.schema["date"]
            order = np.full(self.size, -1, dtype=np.int64)
            for i, term in enumerate(field.sortable_terms(self.reader, "date")):
                ids = np.fromiter(self.reader.postings("date", term).all_ids(), dtype=np.int64)
                order[ids] = i
            self._date_order = order
        return order

    def facet_counts(self, field: str, mask: np.ndarray) -> dict[str, int]:
        terms, table = self.values(field)
        selected = table[mask]
        counts = {}
        if field == "topics":
            for i, term in enumerate(terms[:63]):
                n = int(np.count_nonzero(selected & (1 << i)))
                if n:
                    counts[term] = n
        else:
            for i, n in enumerate(np.bincount(selected[selected >= 0], minlength=len(terms))):
                if n:
                    counts[terms[i]] = int(n)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _folded(phrases: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(vi.fold(w) for w in words) for words in phrases)


def field_lengths(leaf, field: str) -> np.ndarray:
    """The length of ``field`` in each document of a leaf reader, as Whoosh keeps it."""
    return np.fromiter(
        # (Whoosh answers None, not the default, for a document without the field)
        (leaf.doc_field_length(d, field, 0) or 0 for d in range(leaf.doc_count_all())),
        dtype=np.float32, count=leaf.doc_count_all())


# --- evaluating a parsed query ---------------------------------------------------------

def evaluate(collection: Collection, node, words_node, phrase_node, not_node, group_node,
             strict: bool = False) -> Match | None:
    """A ``Match`` for a parsed query node (the node classes are passed in by
    ``search.py``, which defines them). None for a node that matches nothing to rank.
    ``strict``: also find the documents that hold every word whole (``Match.strict``)."""

    def walk(node):
        if isinstance(node, words_node):
            return words(collection, node.text, (node.field,) if node.field else FIELDS, strict=strict)
        if isinstance(node, phrase_node):
            syllables = query_syllables(node.text)
            if not syllables:
                return None
            fields = (node.field,) if node.field else FIELDS
            part = words(collection, node.text, fields, pairs=False)
            phrases = phrase_writings(syllables)
            mask = part.mask & collection.phrase_mask(phrases, fields) if len(phrases) > 1 or len(syllables) > 1 else part.mask
            return Match(mask, np.where(mask, part.score, 0), mask.astype(np.int32), 1)
        if isinstance(node, group_node):
            children = [(c, walk(c.child) if isinstance(c, not_node) else walk(c)) for c in node.children]
            positives = [m for c, m in children if m is not None and not isinstance(c, not_node)]
            negatives = [m for c, m in children if m is not None and isinstance(c, not_node)]
            if positives:
                if node.op == "AND":
                    mask = np.logical_and.reduce([m.mask for m in positives])
                else:
                    mask = np.logical_or.reduce([m.mask for m in positives])
                combine = np.logical_or if node.op == "OR" else np.logical_and
                required = combine.reduce([m.required for m in positives])
                score = np.sum([m.score for m in positives], axis=0)
                matched = np.sum([m.matched for m in positives], axis=0)
                clauses = sum(m.clauses for m in positives)
            elif negatives:  # only NOT ...: everything else
                mask = collection.live.copy()
                required = mask
                score = np.zeros(collection.size, dtype=np.float32)
                matched, clauses = np.zeros(collection.size, dtype=np.int32), 0
            else:
                return None
            for negative in negatives:
                mask = mask & ~negative.mask
                required = required & ~negative.mask
            return Match(mask, score, matched, clauses, required)
        if isinstance(node, not_node):  # a NOT on its own
            inner = walk(node.child)
            if inner is None:
                return None
            mask = collection.live & ~inner.mask
            return Match(mask, np.zeros(collection.size, dtype=np.float32), np.zeros(collection.size, np.int32), 0)
        return None

    return walk(node)


MAX_QUERY_TERMS = 64


def query_syllables(text: str) -> list[str]:
    """Lower-cased query syllables, as the documents' were indexed."""
    return [s.lower() for s in vi.syllables(vi.normalize(text))][:MAX_QUERY_TERMS]


MAX_PHRASE_WRITINGS = 16


def phrase_writings(syllables: list[str]) -> list[list[str]]:
    """A quoted phrase and its other writings, its names written every other way:
    "ủy ban nhân dân xã" and "ubnd xã" (at most ``MAX_PHRASE_WRITINGS``)."""
    writings = [[]]
    position = 0
    for start, end, alternatives in name_spans(syllables) + [(len(syllables), len(syllables), [])]:
        between = syllables[position:start]
        choices = [syllables[start:end]] + alternatives if end > start else [[]]
        writings = [w + between + c for w in writings for c in choices][:MAX_PHRASE_WRITINGS]
        position = end
    return writings


def words(collection: Collection, text: str, fields=FIELDS, pairs: bool = True, strict: bool = False) -> Match | None:
    """Plain words: one clause a syllable, which another writing of its span also
    satisfies (``mttq`` for each of ``mặt trận``); two syllables side by side in the
    query score more where the document has them as one word, and a name (``ủy ban
    nhân dân``) where the document has it in any writing (``UBND``).

    ``strict``: ``Match.strict`` is the documents with every word of the query, each
    word's syllables side by side in some writing ("bầu cử", not "bầu ... cử")."""
    syllables = query_syllables(text)
    if not syllables:
        return None
    clauses = [collection.term_match(s, fields) for s in syllables]
    syllable_scores = [c.score for c in clauses]
    score = np.sum(syllable_scores, axis=0)
    spans = name_spans(syllables)
    # names of two syllables or more, in any writing, are one more clause (below)
    names = [name for name in whole_names(syllables) if name[1] - name[0] > 1] if pairs else []
    split = split_names(syllables) if pairs else []
    for start, end, alternatives in spans:
        written = np.zeros(len(score), dtype=bool)
        best = np.zeros(len(score), dtype=np.float32)
        for alternative in alternatives:
            parts = [collection.term_match(w, fields) for w in alternative]
            # a long form is a name: it counts where its syllables stand side by side,
            # not where they are scattered about ("bảo ... hiểm ... y tế" is not BHYT);
            # the segmentation keeps the dictionary's names as one word ("ủy_ban_nhân_dân")
            if vi.kept_whole(tuple(alternative)):
                alt_mask = collection.term_match("_".join(alternative), fields).mask
            elif len(alternative) > 1:
                alt_mask = collection.phrase_mask([alternative], fields)
            else:
                alt_mask = parts[0].mask
            written |= alt_mask
            # and it weighs no more than the span it stands for: the four syllables of
            # "mặt trận tổ quốc" count as one for the query "mttq"
            alt_score = np.sum([p.score for p in parts], axis=0) * min(1.0, (end - start) / len(alternative))
            best = np.maximum(best, np.where(alt_mask, alt_score, 0))
        if not any(name[:2] == (start, end) for name in names):
            score = score + best
        for j in range(start, end):  # the other writing stands in for each syllable
            mask = clauses[j].mask | written
            clauses[j] = Match(mask, np.zeros(0), mask.astype(np.int32), 1)
    mask = np.logical_or.reduce([c.mask for c in clauses])
    required = None
    if strict:
        required = np.logical_and.reduce([c.mask for c in clauses])  # every syllable, in some writing
        for writings in query_words(syllables, collection):
            if any(len(w) > 1 for w in writings):
                required &= collection.phrase_mask(writings, fields)
    if pairs:
        # a whole name in any writing, instead of the pairs inside it: "Ủy ban MTTQ ...
        # nhân dân" is not "ủy ban nhân dân", "UBND" is
        inside, named = {}, set()  # pair index -> documents with the name around it
        for start, end, writings in names:
            # its syllables scattered about count together as one word
            scattered = np.sum(syllable_scores[start:end], axis=0)
            clauses.append(collection.name_match(writings, fields))
            score = score - scattered * (1 - 1 / (end - start)) + clauses[-1].score
            inside.update((i, clauses[-1].mask) for i in range(start, end - 1))
            named.add(vi.fold("_".join(syllables[start:end])))
        for start, end, writings in split:
            # a name the segmentation splits ("Liên đoàn Lao_động"): found where its
            # syllables stand side by side, or where a one-term writing (LĐLĐ) is
            terms = [w for w in writings if _one_term(tuple(w))]
            found = collection.phrase_mask([w for w in writings if w not in terms], fields)
            named_docs = collection.name_match(terms, fields) if terms else None
            if named_docs is not None:
                found |= named_docs.mask
            name_score = named_docs.score if named_docs is not None else np.zeros(len(score), dtype=np.float32)
            clauses.append(Match(found, name_score, found.astype(np.int32), 1))
            score = score + name_score
        for start, end, writings in _full_names(tuple(syllables)):
            # a name beside another word of the query ("UBND xã"), side by side in some
            # writing ("Ủy ban nhân dân xã"), is one more query word, looked for in the
            # best EDGE_CANDIDATES documents with both
            for edge in [i for i in (start - 1, end) if 0 <= i < len(syllables)]:
                runs = [[syllables[edge], *w] if edge < start else [*w, syllables[edge]] for w in writings]
                both = np.logical_and.reduce([clauses[j].mask for j in range(min(start, edge), max(end, edge + 1))])
                candidates = np.flatnonzero(both)
                if len(candidates) > EDGE_CANDIDATES:
                    best = np.argpartition(-score[candidates], EDGE_CANDIDATES - 1)[:EDGE_CANDIDATES]
                    candidates = np.sort(candidates[best])
                clauses.append(collection.phrase_match(runs[:MAX_PHRASE_WRITINGS], fields, candidates))
                score = score + clauses[-1].score
        for i, (first, second) in enumerate(zip(syllables, syllables[1:])):
            bonus = collection.term_match(f"{first}_{second}", fields, boost=ADJACENT_BOOST).score
            # where the name is not found (segmented otherwise), its pairs count as before
            score = score + (np.where(inside[i], 0, bonus) if i in inside else bonus)
        if len(syllables) > 2:  # longer words the query's segmentation finds
            for word in vi.segment(" ".join(syllables)):
                term = "_".join(w.lower() for w in word)
                if len(word) > 2 and vi.fold(term) not in named:
                    score = score + collection.term_match(term, fields).score
    matched = np.sum([c.matched for c in clauses], axis=0)
    return Match(mask, np.where(mask, score, 0).astype(np.float32), matched, len(clauses), required)


LONGEST_WORD = 4  # syllables


def query_words(syllables: list[str], collection: Collection) -> list[list[list[str]]]:
    """The words of a query, each with its writings: a name or abbreviation with its
    other writings, else the longest run of syllables that the collection holds as one
    word (with or without marks: "bau cu" is "bầu cử"), else a syllable."""
    out = []
    position = 0
    for start, end, alternatives in name_spans(syllables) + [(len(syllables), len(syllables), [])]:
        i = position
        while i < start:
            j = next((j for j in range(min(start, i + LONGEST_WORD), i + 1, -1) if collection.holds(syllables[i:j])),
                     i + 1)
            out.append([syllables[i:j]])
            i = j
        if end > start:
            out.append([syllables[start:end]] + alternatives)
        position = end
    return out


@functools.lru_cache(maxsize=256)
def _name_spans(syllables: tuple[str, ...]) -> tuple[tuple[int, int, tuple[tuple[str, ...], ...]], ...]:
    alternatives: dict[tuple[int, int], list[tuple[str, ...]]] = {}
    for start, end, alternative in vi.expand_abbreviations(list(syllables), parts=True):
        alternatives.setdefault((start, end), []).append(tuple(alternative))
    used = [False] * len(syllables)
    spans = []
    for start, end in sorted(alternatives, key=lambda span: (span[0], span[0] - span[1])):
        if any(used[start:end]):  # overlaps a span already taken
            continue
        used[start:end] = [True] * (end - start)
        spans.append((start, end, tuple(alternatives[start, end])))
    return tuple(spans)


def name_spans(syllables: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """The spans of query syllables that have other writings, with those writings:
    from the left, the longest first, not overlapping. ``[(0, 2, [["mttq"], ...])]``
    for ``["mặt", "trận", ...]``."""
    return [(start, end, [list(a) for a in alternatives])
            for start, end, alternatives in _name_spans(tuple(syllables))]


def whole_names(syllables: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """Of ``name_spans``, those whose own writing is a whole name written as one term,
    with the writings that are one term too, the query's own first. A writing is one
    term when it is an abbreviation, a word the segmentation keeps whole, or a
    two-syllable word. Pieces of a name ("mặt trận", "nhân dân") are words of their
    own, not names."""
    out = []
    for start, end, writings in _full_names(tuple(syllables)):
        one_term = [w for w in writings if _one_term(w)]
        if one_term and one_term[0] == writings[0]:
            out.append((start, end, [list(w) for w in one_term]))
    return out


def split_names(syllables: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """Of ``name_spans``, the whole names whose own writing is not one term: three
    syllables or more that the segmentation may split ("liên đoàn lao động"), with
    all their writings, the query's own first."""
    return [(start, end, [list(w) for w in writings]) for start, end, writings in _full_names(tuple(syllables))
            if not _one_term(writings[0])]


@functools.lru_cache(maxsize=256)
def _full_names(syllables: tuple[str, ...]):
    """The spans of ``_name_spans`` that are whole names, with their writings, own first."""
    full = {(start, end) for start, end, _ in vi.expand_abbreviations(list(syllables))}
    return tuple((start, end, (syllables[start:end],) + alternatives)
                 for start, end, alternatives in _name_spans(syllables) if (start, end) in full)


def _one_term(writing: tuple[str, ...]) -> bool:
    return len(writing) <= 2 or vi.kept_whole(writing, folded=True)


RERANK = 50  # how many of the best candidates the adjacency check looks at
LEAD_CHARS = 600  # of the text, the adjacency check reads the lead


def rank(match: Match, allowed: np.ndarray, start: int, stop: int, rerank=None, first=None):
    """Document numbers and scores of ranks [start, stop), the final mask and its size.

    Order: more query words present first, then higher score, then index order.
    ``rerank(docs) -> bonus`` may add to the scores of the best ``RERANK`` candidates
    (at least ``stop``) before the page is cut.

    ``first``, a number per document (``Collection.date_order``), sorts by it instead,
    highest first, over the documents that satisfy the query strictly; relevance
    only breaks its ties."""
    mask = (match.mask if first is None else match.required) & allowed
    docs = np.flatnonzero(mask)
    total = len(docs)
    if not total or start >= total:
        return np.zeros(0, dtype=np.int64), mask, total, np.zeros(0)
    scores = match.score[docs].astype(np.float64)
    # one sortable key: words present dominate, then the score
    key = match.matched[docs].astype(np.float64) * 1e9 + scores
    if first is not None:
        chosen = np.lexsort((docs, -key, -first[docs]))[start:min(stop, total)]
        return docs[chosen], mask, total, scores[chosen]
    depth = min(total, max(stop, RERANK) if rerank else stop)
    top = np.argpartition(-key, depth - 1)[:depth] if depth < total else np.arange(total)
    if rerank is not None:
        bonus = rerank(docs[top])
        key[top] += bonus
        scores[top] += bonus
    order = top[np.lexsort((docs[top], -key[top]))]
    chosen = order[start:min(stop, total)]
    return docs[chosen], mask, total, scores[chosen]


def folded_lead(title: str, body: str) -> tuple[str, str]:
    """What the adjacency check reads of a document: its title and the first
    ``LEAD_CHARS`` of its text as folded, lower-cased syllables, space-separated and
    padded with a space on each side."""
    return (" " + " ".join(vi.syllables(vi.fold(title).lower())) + " ",
            " " + " ".join(vi.syllables(vi.fold(body[:LEAD_CHARS]).lower())) + " ")


def adjacency_bonus(collection: Collection, groups: list[tuple[tuple[str, ...], ...]], leads) -> np.ndarray:
    """Per document, a bonus for each group of runs of query syllables (pairs, or a name
    in its several writings) of which one is found side by side in its title (weighing
    ``TITLE_BOOST``) or its lead: ``leads`` gives ``folded_lead(title, body)`` per
    document. A group's bonus is ``ADJACENT_BOOST`` times the mean IDF of the syllables
    of its first run, the query's own writing."""
    weights = []
    for runs in groups:
        idf = []
        for syllable in runs[0]:
            df = len(collection.postings("body", syllable)[0]) + len(collection.postings("title", syllable)[0])
            idf.append(collection.idf(min(df, collection.count)))
        weights.append(([" " + " ".join(run) + " " for run in runs], ADJACENT_BOOST * sum(idf) / len(idf)))
    bonus = []
    for title, body in leads:
        total = 0.0
        for runs, weight in weights:
            if any(run in title for run in runs):
                total += TITLE_BOOST * weight
            if any(run in body for run in runs):
                total += weight
        bonus.append(total)
    return np.asarray(bonus, dtype=np.float64)
