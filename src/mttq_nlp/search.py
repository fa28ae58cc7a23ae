"""Vietnamese-aware ranked search over the index.

Query syntax (any string is accepted; what cannot be parsed is searched as words):

    phản biện xã hội           words: every word present ranks first, but not required
    "phản biện xã hội"         a phrase, on syllables, whatever the segmentation
    bầu cử AND hiệp thương     both required;  OR: either;  NOT: excluded
    title:covid  source:"Báo A"  topic:bau-cu    field restrictions
    (bầu cử OR hiệp thương) NOT covid

Matching folds diacritics and case, and weighs a match with the query's exact
diacritics above a folded-only one. Abbreviations (``data/abbreviations.tsv``) match
their long forms both ways.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from . import ranking
from . import text as vi
from .errors import QueryError
from .index import open_index, source_key

__all__ = ["Hit", "SearchResult", "Searcher", "parse_query", "search"]

MAX_QUERY_CHARS = 1000  # longer queries are cut: no one types more, and cost grows with length
SORTS = ("relevance", "newest", "oldest")
# --- parsing -----------------------------------------------------------------------

@dataclass
class Words:
    text: str
    field: str | None = None


@dataclass
class Phrase:
    text: str
    field: str | None = None


@dataclass
class Filter:
    field: str  # topic or source
    value: str


@dataclass
class Not:
    child: object


@dataclass
class Group:
    op: str  # "AND", "OR" or "BAG" (juxtaposed words: ranked, none required)
    children: list


_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
_FIELD = re.compile(r"^(title|source|topic):(.*)$", re.IGNORECASE | re.DOTALL)
_OPERATORS = {"AND", "OR", "NOT"}


def parse_query(query: str) -> Group:
    """Parse a query string into a tree. Never raises: odd input becomes words."""
    query = vi.normalize(query)[:MAX_QUERY_CHARS]
    tokens = _TOKEN.findall(query)
    parser = _Parser(tokens)
    return parser.parse()


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self):
        node = self.or_expr()
        while self.peek() is not None:  # a stray ")"
            self.i += 1
            node = Group("BAG", [node, self.or_expr()])
        if _empty(node) or (isinstance(node, Group) and all(_empty(c) for c in node.children)):
            # only operators and brackets: search them as words
            words = " ".join(t.strip('"()') for t in self.tokens if t.strip('"()'))
            return Words(words) if words else Group("OR", [])
        return node

    def or_expr(self) -> Group:
        children = [self.and_expr()]
        while self.peek() == "OR":
            self.i += 1
            children.append(self.and_expr())
        children = [c for c in children if not _empty(c)]
        return children[0] if len(children) == 1 else Group("OR", children)

    def and_expr(self) -> Group:
        # juxtaposed terms form a ranked bag; AND binds its two neighbours
        items: list = []
        required_next = False
        while True:
            token = self.peek()
            if token is None or token == ")" or token == "OR":
                break
            if token == "AND":
                self.i += 1
                required_next = bool(items)
                continue
            node = self.unary()
            if node is None:
                continue
            if required_next and items:
                previous = items.pop()
                if isinstance(previous, Group) and previous.op == "AND":
                    previous.children.append(node)
                    items.append(previous)
                else:
                    items.append(Group("AND", [previous, node]))
            else:
                items.append(node)
            required_next = False
        items = _merge_words([c for c in items if not _empty(c)])
        return items[0] if len(items) == 1 else Group("BAG", items)

    def unary(self):
        token = self.peek()
        if token == "NOT":
            self.i += 1
            if self.peek() in (None, ")", "OR", "AND"):
                return Words("not")  # a lone NOT is a word
            if _plain(self.peek()):  # NOT takes a whole word: "NOT phản biện"
                self.i += 1
                word = self.next_word(self.tokens[self.i - 1])
                return Not(Phrase(word) if " " in word else Words(word))
            child = self.unary()
            return Not(child) if child is not None else None
        return self.primary()

    def next_word(self, first: str) -> str:
        """``first`` and the plain tokens after it that segmentation reads as one word
        with it ("phản biện", "ủy ban nhân dân"); consumes them."""
        run = [first]
        ahead = self.i
        while ahead < len(self.tokens) and len(run) < 8 and _plain(self.tokens[ahead]):
            run.append(self.tokens[ahead])
            ahead += 1
        if len(run) == 1:
            return first
        words = vi.segment(" ".join(run))
        syllables = len(words[0]) if words else 1
        taken = [run[0]]
        counted = len(vi.syllables(run[0])) or 1
        for token in run[1:]:
            if counted >= syllables:
                break
            taken.append(token)
            counted += len(vi.syllables(token)) or 1
        self.i += len(taken) - 1
        return " ".join(taken)

    def primary(self):
        token = self.tokens[self.i]
        self.i += 1
        if token == "(":
            if self.depth > 20:
                return None
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            if self.peek() == ")":
                self.i += 1
            return node
        if token == ")":
            return None
        if token in ("AND", "OR"):
            return Words(token.lower())
        match = _FIELD.match(token)
        if match:
            name, value = match.group(1).lower(), match.group(2)
            if not value and self.peek() and self.peek().startswith('"'):
                value = self.tokens[self.i]
                self.i += 1
            quoted = value.startswith('"')
            value = value.strip('"').strip()
            if not value:
                return Words(token)
            if name in ("topic", "source"):
                return Filter(name, value)
            if quoted:
                return Phrase(value, "title")
            return Words(self.next_word(value), "title")  # a whole word: "title:phản biện"
        if token.startswith('"'):
            inner = token.strip('"').strip()
            return Phrase(inner) if inner else None
        return Words(token)


def _plain(token: str | None) -> bool:
    """A token that is a word: not an operator, a bracket, a phrase or a field."""
    return (token is not None and token not in ("AND", "OR", "NOT", "(", ")")
            and not token.startswith('"') and not _FIELD.match(token))


def _merge_words(items: list) -> list:
    """Neighbouring plain words form one query text, so that they are segmented,
    matched side by side and expanded (abbreviations) together."""
    merged: list = []
    for item in items:
        previous = merged[-1] if merged else None
        if isinstance(item, Words) and isinstance(previous, Words) and previous.field == item.field:
            merged[-1] = Words(previous.text + " " + item.text, item.field)
        else:
            merged.append(item)
    return merged


def _empty(node) -> bool:
    return node is None or (isinstance(node, Group) and not node.children)


# --- searching ---------------------------------------------------------------------

@dataclass
class Hit:
    id: str
    score: float
    title: str
    date: str | None
    source: str
    url: str
    topics: list[str]
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # spans in snippet

    def to_dict(self) -> dict:
        data = asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    limit: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] | None = None
    sort: str = "relevance"

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "limit": self.limit,
            "sort": self.sort,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": self.facets,
        }


_DATE_FORMS = [  # (pattern, what it names)
    (re.compile(r"(?P<y>\d{4})"), "year"),
    (re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})"), "month"),
    (re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"), "day"),
    (re.compile(r"(?P<m>\d{1,2})[/.-](?P<y>\d{4})"), "month"),  # 05/2021, as Vietnamese write it
    (re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"), "day"),  # 23/05/2021
]


def parse_date(value: str | None, option: str, last: bool = False) -> dt.datetime | None:
    """The first day of the year, month or day that ``value`` names (``last``: its last
    day): 2021, 2021-05, 2021-05-23, 05/2021 or 23/05/2021."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    for pattern, period in _DATE_FORMS:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        parts = found.groupdict()
        year, month, day = int(parts["y"]), int(parts.get("m") or 1), int(parts.get("d") or 1)
        try:
            date = dt.date(year, month, day)
        except ValueError:
            break
        if last and period == "year":
            date = dt.date(year, 12, 31)
        elif last and period == "month":
            date = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        return dt.datetime(date.year, date.month, date.day)
    raise QueryError(f"{option}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2021-05-23 "
                     "(also 2021, 2021-05 or 23/05/2021).")


def _one_at_a_time(method):
    """Run a ``Searcher`` method under its lock: the index files are read with seek and
    read, so two threads must not read them at once."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class Searcher:
    """An open index and searcher, reused across queries (batch mode, the web server).

    Queries are evaluated by ``ranking`` on the index's posting lists; the tables it
    reads and the posting lists it decodes stay cached while the searcher is open.
    Threads may share a searcher: it answers one call at a time.
    """

    def __init__(self, index_dir=None):
        self._lock = threading.RLock()
        self.index_dir = index_dir
        self._open()

    def _open(self) -> None:
        self.index = open_index(self.index_dir)
        self.searcher = self.index.searcher()
        self.collection = ranking.Collection(self.searcher, self.index.storage.folder)

    @_one_at_a_time
    def close(self) -> None:
        self.searcher.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @_one_at_a_time
    def up_to_date(self) -> bool:
        """Whether the searcher sees the last committed state of the index."""
        try:
            return self.searcher.up_to_date()
        except Exception:  # the index vanished or is being replaced
            return False

    @_one_at_a_time
    def refresh(self) -> None:
        """See the last committed state of the index. (A new Whoosh searcher, not
        Whoosh's own refresh, which reuses segment readers the new state may not hold.)"""
        if self.up_to_date():
            return
        old = self.searcher
        self._open()  # raises, keeping the old state, when the index cannot be opened
        old.close()

    @_one_at_a_time
    def search(
        self,
        query: str,
        *,
        topics: tuple[str, ...] | list[str] = (),
        sources: tuple[str, ...] | list[str] = (),
        since: str | None = None,
        until: str | None = None,
        limit: int = 10,
        page: int = 1,
        facets: bool = False,
        sort: str = "relevance",
    ) -> SearchResult:
        """One page of results. ``sort``: "relevance" (the default), or "newest" or
        "oldest" first among the articles that hold every word of the query (undated
        ones last). A query of filters alone lists its articles newest first."""
        if limit < 1 or page < 1:
            raise QueryError("--limit and --page must be 1 or more.")
        if sort not in SORTS:
            raise QueryError(f"--sort {sort!r} is not one of {', '.join(SORTS)}.")
        start, end = parse_date(since, "--since"), parse_date(until, "--until", last=True)
        if start and end and start > end:
            raise QueryError(f"--since {since} is after --until {until}.")
        collection = self.collection
        tree = parse_query(query)
        filters = _filters(tree)
        topics = list(topics) + [f.value for f in filters if f.field == "topic"]
        sources = list(sources) + [f.value for f in filters if f.field == "source"]
        match = ranking.evaluate(collection, tree, Words, Phrase, Not, Group, strict=sort != "relevance")
        if match is None:
            if not (topics or sources or start or end):
                return SearchResult(query, 0, page, limit, [], _empty_facets() if facets else None, sort)
            # filters alone: every article that passes them; nothing to rank by but dates
            zeros = np.zeros(collection.size, dtype=np.float32)
            match = ranking.Match(collection.live.copy(), zeros, np.zeros(collection.size, np.int32), 0)
            if sort == "relevance":
                sort = "newest"
        allowed = collection.live.copy()
        if topics:
            allowed &= np.logical_or.reduce([collection.mask_of("topics", t.strip().lower()) for t in topics])
        if sources:
            allowed &= np.logical_or.reduce([collection.mask_of("source_key", source_key(s)) for s in sources])
        if start or end:
            end_of_day = end + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else None
            allowed &= collection.date_mask(start, end_of_day)
        rerank = first = None
        if sort == "relevance":
            pairs = _adjacent_pairs(tree)
            if pairs:
                def rerank(candidates):
                    leads = collection.leads(candidates, self.searcher.stored_fields)
                    return ranking.adjacency_bonus(collection, pairs, leads)
        else:
            order = collection.date_order()
            # undated articles last either way
            first = order if sort == "newest" else np.where(order >= 0, -order, -len(order) - 1)
        docs, mask, total, scores = ranking.rank(match, allowed, (page - 1) * limit, page * limit, rerank, first)
        snippet_terms = _snippet_terms(tree)
        hits = [self._hit(int(d), float(sc), snippet_terms) for d, sc in zip(docs, scores)]
        facet_counts = None
        if facets:
            facet_counts = {
                name: collection.facet_counts(field, mask)
                for name, field in (("topic", "topics"), ("source", "source"), ("year", "year"))
            }
        return SearchResult(query, total, page, limit, hits, facet_counts, sort)

    def _hit(self, docnum: int, score: float, snippet_terms) -> Hit:
        stored = self.searcher.stored_fields(docnum)
        body = stored.get("text", "")
        snippet, spans = make_snippet(body, snippet_terms)
        date = stored.get("date")
        return Hit(
            id=stored["id"],
            score=round(score, 4),
            title=stored.get("title_text", ""),
            date=date.date().isoformat() if date else None,
            source=stored.get("source", ""),
            url=stored.get("url", ""),
            topics=[t for t in stored.get("topics", "").split(",") if t],
            snippet=snippet,
            highlights=spans,
        )

    @_one_at_a_time
    def unknown_filters(self, query: str = "", topics=(), sources=()) -> list[tuple[str, str]]:
        """The topic codes and sources, given or in ``query``, that no article has, as
        ``("topic", code)`` and ``("source", name)``."""
        filters = _filters(parse_query(query))
        topics = list(topics) + [f.value for f in filters if f.field == "topic"]
        sources = list(sources) + [f.value for f in filters if f.field == "source"]
        known_topics = set(self.collection.values("topics")[0])
        known_sources = set(self.collection.values("source_key")[0])
        return ([("topic", t) for t in topics if t.strip().lower() not in known_topics]
                + [("source", s) for s in sources if source_key(s) not in known_sources])

    @_one_at_a_time
    def article(self, article_id: str) -> dict | None:
        """The stored fields of one article, or None."""
        stored = self.searcher.document(id=article_id)
        if stored is None:
            return None
        date = stored.get("date")
        return {
            "id": stored["id"],
            "title": stored.get("title_text", ""),
            "text": stored.get("text", ""),
            "date": date.date().isoformat() if date else None,
            "source": stored.get("source", ""),
            "url": stored.get("url", ""),
            "topics": [t for t in stored.get("topics", "").split(",") if t],
            "topic_scores": json.loads(stored.get("topic_scores") or "{}"),
            "topics_given": bool(stored.get("topics_given")),
        }


def _adjacent_pairs(tree) -> list[tuple[tuple[str, ...], ...]]:
    """Runs of query syllables to look for side by side, folded, in groups whose runs
    count as one: each pair of neighbouring plain words; a whole name and its other
    writings ("ủy ban nhân dân" or "ubnd"); a name's edges with its neighbours in every
    writing ("ubmttq huyện": "ubmttq huyen" or "uy ban mttq huyen"); and each quoted
    phrase whole, in any of its writings."""
    groups = []

    def walk(node):
        if isinstance(node, Words):
            syllables = ranking.query_syllables(node.text)
            folded = [vi.fold(s) for s in syllables]
            spans = ranking.name_spans(syllables)
            names = ranking.whole_names(syllables) + ranking.split_names(syllables)
            whole = {(start, end) for start, end, _ in names}
            covered = set()  # pairs a name's groups stand for
            for start, end, alternatives in spans:
                writings = [folded[start:end]] + [[vi.fold(w) for w in a] for a in alternatives]
                if (start, end) in whole and end - start > 1:
                    groups.append(tuple(dict.fromkeys(tuple(w) for w in writings)))
                    covered.update(range(start, end - 1))
                if start > 0:
                    groups.append(tuple(dict.fromkeys((folded[start - 1], *w) for w in writings)))
                    covered.add(start - 1)
                if end < len(folded):
                    groups.append(tuple(dict.fromkeys((*w, folded[end]) for w in writings)))
                    covered.add(end - 1)
            groups.extend([pair] for i, pair in enumerate(zip(folded, folded[1:])) if i not in covered)
        elif isinstance(node, Phrase):  # the whole phrase, in any of its writings
            writings = ranking.phrase_writings(ranking.query_syllables(node.text))
            if len(writings) > 1 or len(writings[0]) > 1:
                groups.append(tuple(tuple(vi.fold(w) for w in writing) for writing in writings))
        elif isinstance(node, Group):
            for child in node.children:
                walk(child)

    walk(tree)
    return list(dict.fromkeys(tuple(g) for g in groups))[:16]


def _filters(tree) -> list[Filter]:
    """The topic: and source: restrictions anywhere in a parsed query."""
    found = []

    def walk(node):
        if isinstance(node, Filter):
            found.append(node)
        elif isinstance(node, Not):
            walk(node.child)
        elif isinstance(node, Group):
            for child in node.children:
                walk(child)

    walk(tree)
    return found


def _empty_facets() -> dict:
    return {"topic": {}, "source": {}, "year": {}}


def search(query: str, index_dir=None, **options) -> SearchResult:
    """Search the index at ``index_dir`` once. See ``Searcher.search`` for the options."""
    with Searcher(index_dir) as searcher:
        return searcher.search(query, **options)


# --- snippets ----------------------------------------------------------------------

SNIPPET_CHARS = 240


def _snippet_terms(tree) -> list[list[str]]:
    """Folded syllable sequences to highlight: each word, each phrase whole in each of
    its writings, and the other writings of abbreviations and long forms among the
    words."""
    out: list[list[str]] = []

    def walk(node):
        if isinstance(node, Phrase):
            syllables = ranking.query_syllables(node.text)
            out.extend([vi.fold(w) for w in writing] for writing in ranking.phrase_writings(syllables))
        elif isinstance(node, Words):
            syllables = ranking.query_syllables(node.text)
            words = [vi.fold(w) for w in syllables]
            out.append(words)
            if len(words) > 1:
                out.extend([w] for w in words)
            for _, _, alternatives in ranking.name_spans(syllables):
                out.extend([vi.fold(w) for w in alternative] for alternative in alternatives)
        elif isinstance(node, Group):
            for child in node.children:
                walk(child)

    walk(tree)
    return [t for t in out if t]


def make_snippet(body: str, term_sequences: list[list[str]], width: int = SNIPPET_CHARS):
    """A window of ``body`` around the densest matches, and the matched spans in it."""
    if not body:
        return "", []
    lowered = vi.fold(body).lower()
    if len(lowered) != len(body):  # a few characters lower-case to two: keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in vi.fold(body))
    spans = []  # (start, end, weight): a longer sequence found weighs more
    for sequence in term_sequences:
        pattern = r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, sequence)) + r"(?![^\W_])"
        for count, match in enumerate(re.finditer(pattern, lowered)):
            if count >= 200:
                break
            spans.append((match.start(), match.end(), len(sequence) ** 2))
    spans.sort()
    if not spans:
        cut = body[:width]
        return (cut.rsplit(" ", 1)[0] + " …") if len(body) > width else cut, []
    # the window holding the most matches
    best_start, best_weight, weight = spans[0][0], 0, 0
    j = 0
    for start, _, w in spans:
        weight += w
        while spans[j][0] < start - width * 3 // 4:
            weight -= spans[j][2]
            j += 1
        if weight > best_weight:
            best_weight, best_start = weight, spans[j][0]
    start = max(0, best_start - width // 4)
    if start > 0:
        space = body.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(body), start + width)
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    window = body[start:end].replace("\n", " ")
    inside = sorted((a - start, b - start) for a, b, _ in spans if a >= start and b <= end)
    merged: list[tuple[int, int]] = []
    for a, b in inside:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(body) else ""
    shifted = [(a + len(prefix), b + len(prefix)) for a, b in merged]
    return prefix + window + suffix, shifted
