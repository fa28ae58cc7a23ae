import json

import pytest

from conftest import ARTICLES, write_jsonl
from mttq_nlp.errors import IndexMissingError, MttqError
from mttq_nlp.index import index_corpus, open_index, remove_articles, resolve_index_dir
from mttq_nlp.search import search


def ids_in(path):
    with open_index(path).searcher() as searcher:
        return sorted(doc["id"] for doc in searcher.all_stored_fields())


def test_incremental_add_update_unchanged(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES[:3])
    stats = index_corpus([source], tmp_path / "ix")
    assert (stats.read, stats.indexed, stats.updated, stats.unchanged, stats.skipped) == (3, 3, 0, 0, 0)

    changed = dict(ARTICLES[0], text="Nội dung mới về phản biện chính sách.")
    write_jsonl(source, [changed] + ARTICLES[1:4])
    stats = index_corpus([source], tmp_path / "ix")
    assert (stats.read, stats.indexed, stats.updated, stats.unchanged) == (4, 1, 1, 2)
    assert stats.summary() == "read 4 = indexed 1 + updated 1 + unchanged 2 + skipped 0"
    assert ids_in(tmp_path / "ix") == sorted(a["id"] for a in ARTICLES[:4])
    assert search("chính sách", tmp_path / "ix").hits[0].id == ARTICLES[0]["id"]


def test_rebuild_starts_empty(tmp_path):
    index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:3])], tmp_path / "ix")
    stats = index_corpus([write_jsonl(tmp_path / "b.jsonl", ARTICLES[3:4])], tmp_path / "ix", rebuild=True)
    assert stats.indexed == 1
    assert ids_in(tmp_path / "ix") == [ARTICLES[3]["id"]]


@pytest.mark.parametrize("rebuild", [False, True], ids=["add", "rebuild"])
def test_a_folder_with_other_files_is_not_made_an_index(tmp_path, rebuild):
    folder = tmp_path / "documents"
    (folder / "photos").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MttqError, match=f"^{folder} is a folder with other files in it, not an index: mttq-nlp "
                                         "does not write an index there or replace it, so as not to delete them. "
                                         "Give --index-dir a new or empty folder, or move that one away.$"):
        index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])], folder, rebuild=rebuild, jobs=1)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "photos"]


def test_rebuild_keeps_a_folder_of_the_users_named_like_the_retired_index(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])
    index_corpus([source], tmp_path / "ix", jobs=1)
    (tmp_path / "ix.old").mkdir()
    (tmp_path / "ix.old" / "mine.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MttqError, match="ix.old is a folder with other files in it"):
        index_corpus([source], tmp_path / "ix", rebuild=True, jobs=1)
    assert (tmp_path / "ix.old" / "mine.txt").read_text(encoding="utf-8") == "mine"
    assert ids_in(tmp_path / "ix") == [ARTICLES[0]["id"]]


def test_the_current_folder_as_index_dir(tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES[:2])
    (tmp_path / "ix").mkdir()
    monkeypatch.chdir(tmp_path / "ix")
    assert index_corpus([source], ".", jobs=1).indexed == 2
    assert index_corpus([source], ".", rebuild=True, jobs=1).indexed == 2
    assert ids_in(tmp_path / "ix") == sorted(a["id"] for a in ARTICLES[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "ix"]


def test_an_index_made_by_another_version_is_refused_until_rebuilt(tmp_path):
    from whoosh import fields, index as whoosh_index

    (tmp_path / "ix").mkdir()
    old = whoosh_index.create_in(str(tmp_path / "ix"), fields.Schema(id=fields.ID(stored=True, unique=True),
                                                                     body=fields.TEXT, title=fields.TEXT))
    with old.writer() as writer:
        writer.add_document(id="old-1", body="mặt trận tổ quốc")
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])
    message = (f"The index at {tmp_path / 'ix'} was made by another version of mttq-nlp (it has no date, segmented, "
               "source, source_key, text, title_text, topic_scores, topics, topics_given, url, version, year fields): "
               "rebuild it with 'mttq-nlp index --rebuild SOURCES', SOURCES being your corpus.")
    with pytest.raises(IndexMissingError) as searching:
        search("mặt trận", tmp_path / "ix")
    with pytest.raises(IndexMissingError) as indexing:
        index_corpus([source], tmp_path / "ix", jobs=1)
    assert str(searching.value) == str(indexing.value) == message
    assert index_corpus([source], tmp_path / "ix", rebuild=True, jobs=1).indexed == 1
    assert ids_in(tmp_path / "ix") == [ARTICLES[0]["id"]]


def test_bad_records_are_counted_and_duplicates_skipped(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text(
        json.dumps(ARTICLES[0], ensure_ascii=False) + "\nnot json\n" + json.dumps(ARTICLES[0], ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    problems = []
    stats = index_corpus([source], tmp_path / "ix", on_problem=problems.append)
    assert (stats.read, stats.indexed, stats.skipped) == (3, 1, 2)
    assert [str(p) for p in problems] == [
        f"{source}:2: not valid JSON (Expecting value at column 1)",
        f"{source}:3: duplicate id 'pb-1' (first at {source}:1); skipped",
    ]


def test_a_truncated_record_is_reported_in_plain_words(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "x", "title": "bad\n', encoding="utf-8")
    problems = []
    index_corpus([source], tmp_path / "ix", on_problem=problems.append)
    assert [str(p) for p in problems] == [f"{source}:1: not valid JSON (Unterminated string starting at column 22)"]


def test_remove(tmp_path):
    index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:3])], tmp_path / "ix")
    removed, missing = remove_articles(["pb-1", "nope"], tmp_path / "ix")
    assert (removed, missing) == (["pb-1"], ["nope"])
    assert "pb-1" not in ids_in(tmp_path / "ix")


def test_index_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MTTQ_NLP_INDEX", str(tmp_path / "env-ix"))
    assert resolve_index_dir(None) == tmp_path / "env-ix"
    assert resolve_index_dir(tmp_path / "given") == tmp_path / "given"


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissingError, match=r"No index at .*nowhere\. Run 'mttq-nlp index' first"):
        open_index(tmp_path / "nowhere")


def test_stored_text_is_normalised(index_dir):
    with open_index(index_dir).searcher() as searcher:
        doc = searcher.document(id="nfd-1")
    assert doc["title_text"] == "Hòa giải ở cơ sở"  # NFC again


# Segmented text where the fast field indexing could part from Whoosh's token path:
# compound words, repeats, underscores without syllables, case that changes length.
ODD_SEGMENTED = [
    "", "x", "phản_biện xã_hội phản_biện phản biện", "Mặt_trận Tổ_quốc MẶT_TRẬN mặt_trận",
    "a__b _ __ c_ _d", "İstanbul ΑΣ ß Đà_Nẵng đà_nẵng", "1.000 COVID-19 2023 ½ ²", "thuỷ_lợi thủy_lợi thuỷ",
]


def whoosh_postings(value):
    """(term, frequency, weight, encoded positions) as Whoosh's own TEXT field gives them."""
    from whoosh.fields import TEXT

    from mttq_nlp.index import SegmentedTokenizer

    return sorted(TEXT(analyzer=SegmentedTokenizer(), phrase=True).index(value))


@pytest.mark.parametrize("value", ODD_SEGMENTED + [a["title"] + " " + a["text"] for a in ARTICLES],
                         ids=lambda value: value[:20])
def test_fast_field_indexing_gives_whoosh_postings(value):
    from mttq_nlp import text as vi
    from mttq_nlp.index import SegmentedText, schema

    field = schema()["body"]
    assert type(field) is SegmentedText
    for text in (value, vi.segmented(value)):
        assert sorted(field.index(text)) == whoosh_postings(text)


def all_postings(path):
    """Every title and body posting of an index, by article id: (field, term, id, weight,
    positions), sorted."""
    with open_index(path).searcher() as searcher:
        reader = searcher.reader()
        ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
        out = []
        for field in ("title", "body"):
            for term in reader.lexicon(field):
                matcher = reader.postings(field, term)
                while matcher.is_active():
                    out.append((field, term, ids[matcher.id()], matcher.weight(), tuple(matcher.value_as("positions"))))
                    matcher.next()
        return sorted(out)


def test_fast_field_indexing_gives_the_same_index(tmp_path, monkeypatch):
    from whoosh.fields import TEXT

    from mttq_nlp import index as index_module

    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    index_corpus([source], tmp_path / "fast", jobs=1)
    whoosh_schema = index_module.schema

    def plain_schema():
        made = whoosh_schema()
        for name in ("title", "body"):
            analyzer = made[name].analyzer
            made.remove(name)
            made.add(name, TEXT(analyzer=analyzer, phrase=True))
        return made

    monkeypatch.setattr(index_module, "schema", plain_schema)
    index_corpus([source], tmp_path / "plain", jobs=1)
    with open_index(tmp_path / "plain").searcher() as searcher:
        assert type(searcher.schema["body"]) is TEXT  # the token path was used
    fast = all_postings(tmp_path / "fast")
    assert len(fast) > 500
    assert fast == all_postings(tmp_path / "plain")
