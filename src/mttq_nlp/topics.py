"""The Front topic taxonomy (``shared/docs/taxonomy.md``) and topic counts in an index.

The eight codes are stable identifiers, used as they are in data, models, rules and
output. ``TOPICS`` maps each code to its Vietnamese name, in the taxonomy's order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["TOPICS", "TOPIC_CODES", "TopicCount", "topic_name", "count_topics"]

TOPICS: dict[str, str] = {
    "bau-cu": "Bầu cử",
    "covid-19": "Phòng, chống COVID-19",
    "thi-dua": "Thi đua, khen thưởng, cuộc vận động",
    "phan-bien": "Phản biện xã hội, góp ý",
    "giam-sat": "Giám sát, kiến nghị cử tri",
    "an-sinh": "An sinh xã hội, cứu trợ",
    "doan-ket": "Đại đoàn kết, tôn giáo, dân tộc",
    "to-chuc": "Tổ chức, đại hội, nhân sự",
}
TOPIC_CODES: tuple[str, ...] = tuple(TOPICS)


def topic_name(code: str) -> str:
    """The Vietnamese name of a topic code, or "" for a code outside the taxonomy."""
    return TOPICS.get(code, "")


@dataclass
class TopicCount:
    """How many articles of an index carry a topic: ``count`` in all, of which
    ``given`` had it in their data (``labels``) and ``predicted`` got it from the model."""

    code: str
    name: str
    count: int
    given: int
    predicted: int

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "count": self.count,
                "given": self.given, "predicted": self.predicted}


@dataclass
class TopicSummary:
    """The topic counts of an index: one ``TopicCount`` per taxonomy code (then any
    other code found in the index), the number of articles, and of those with no topic."""

    topics: list[TopicCount]
    articles: int
    without_topic: int

    def to_dict(self) -> dict:
        return {"articles": self.articles, "without_topic": self.without_topic,
                "topics": [t.to_dict() for t in self.topics]}


def count_topics(index_dir: str | os.PathLike | None = None) -> TopicSummary:
    """Count the articles of each topic in the index at ``index_dir``.

    The codes come from the taxonomy and the ``topics`` field's lexicon; the counts from
    the postings of each code (``doc_frequency`` alone would also count articles deleted
    or replaced since the last merge), the split into given and predicted from the
    postings of the ``topics_given`` flag: no stored field is read. Raises
    ``IndexMissingError`` when there is no index.
    """
    from .index import open_index

    ix = open_index(index_dir)
    try:
        with ix.reader() as reader:
            articles = reader.doc_count()  # live documents, deletions excluded
            has_topics = "topics" in reader.schema
            codes = list(TOPIC_CODES)
            if has_topics:
                found = {term.decode("utf-8") if isinstance(term, bytes) else term
                         for term in reader.lexicon("topics")}
                codes += sorted(found - set(codes))
            given_docs = _docs(reader, "topics_given", True) if "topics_given" in reader.schema else set()
            counts, given, with_topic = {}, {}, set()
            for code in codes:
                # doc_frequency also counts articles deleted or replaced since the last
                # merge: it only tells which postings to read
                docs = _docs(reader, "topics", code) if has_topics and reader.doc_frequency("topics", code) else set()
                counts[code], given[code] = len(docs), len(docs & given_docs)
                with_topic |= docs
    finally:
        ix.close()
    topics = [TopicCount(code, topic_name(code), counts[code], given[code], counts[code] - given[code])
              for code in codes if code in TOPICS or counts[code]]
    return TopicSummary(topics, articles, articles - len(with_topic))


def _docs(reader, fieldname: str, value) -> set[int]:
    """The live documents with ``value`` in ``fieldname`` (deleted ones filtered out)."""
    from whoosh.reading import TermNotFound

    try:
        return set(reader.postings(fieldname, value).all_ids())
    except TermNotFound:
        return set()
