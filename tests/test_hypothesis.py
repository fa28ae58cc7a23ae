"""Property tests: the analyser, the query parser and the readers never raise on
arbitrary text, and finish quickly."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mttq_nlp import text as vi
from mttq_nlp.corpus import read_corpus
from mttq_nlp.search import Searcher, parse_query

# Vietnamese letters and marks, combining characters, RTL, emoji, controls, operators
ALPHABET = st.sampled_from(
    list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĐÔƯ àáảãạằắẳẵặầấẩẫậ") +
    ["\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u200b", "\ufeff", "\x00", "\x07", "\r", "\n", "\t",
     "ب", "א", "🙂", "🇻🇳", '"', "(", ")", ":", "-", "_", "AND", "OR", "NOT", "title:", "topic:"]
)
texts = st.one_of(st.text(), st.lists(ALPHABET, max_size=60).map("".join))
SETTINGS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(texts)
def test_analysis_never_raises(value):
    normalized = vi.normalize(value)
    assert vi.normalize(normalized) == normalized  # idempotent
    assert len(vi.fold(normalized)) == len(normalized)
    for _, term in vi.terms(vi.segmented(value)):
        assert term and " " not in term


@SETTINGS
@given(texts)
def test_query_parser_never_raises(value):
    parse_query(value)


@SETTINGS
@given(texts, st.sampled_from(["relevance", "newest", "oldest"]))
def test_search_never_raises(index_dir, value, sort):
    with Searcher(index_dir) as searcher:
        ranked = searcher.search(value, limit=1000).total
        assert 0 <= searcher.search(value, sort=sort).total <= ranked  # a date sort keeps fewer, never more


@SETTINGS
@given(st.lists(st.one_of(texts, st.binary(max_size=200)), max_size=5))
def test_jsonl_reader_never_raises(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("h") / "x.jsonl"
    with open(path, "wb") as handle:
        for line in lines:
            data = line if isinstance(line, bytes) else json.dumps({"text": line}, ensure_ascii=False).encode()
            handle.write(data + b"\n")
    list(read_corpus([path]))


@settings(max_examples=10, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["a", "đ", "ệ", "🙂", "\u0301", "ب", "1"]), st.integers(1_000, 100_000))
def test_very_long_tokens_finish(index_dir, char, length):
    token = char * length
    vi.terms(vi.segmented(token))
    with Searcher(index_dir) as searcher:
        assert searcher.search(token).total >= 0
