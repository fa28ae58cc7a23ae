"""Index the folder of hostile and broken input: each case is indexed correctly or
refused as FILE:LINE: reason, and the counts add up."""

import json
import shutil
from pathlib import Path

import pytest

from mttq_nlp.corpus import Problem, read_file
from mttq_nlp.index import index_corpus, open_index

BAD_INPUT = Path(__file__).parent / "bad_input"
TITLE = "Hội nghị phản biện xã hội"

# file -> what happens to it
INDEXED_TXT = [
    "utf8.txt", "utf8-bom.txt", "utf16le-bom.txt", "utf16be-bom.txt", "utf16le-nobom.txt",
    "utf16be-nobom.txt", "crlf.txt", "lone-cr.txt", "nfd.txt", "zero-width-and-control.txt",
]
REFUSED = {
    "windows-1258.txt:2": "not valid UTF-8",
    "empty.txt:1": "empty file",
    "whitespace-only.txt:1": "empty file",
    "binary.txt:2": "binary data, not text",
    "nul-bytes.jsonl:2": "NUL",
    "records.jsonl:2": "not valid JSON",
    "records.jsonl:3": "expected a JSON object, found str",
    "records.jsonl:4": "expected a JSON object, found list",
    "records.jsonl:5": "no 'text' field",
    "records.jsonl:6": "'text' must be a string, found int",
    "records.jsonl:7": "no 'text' field",
    "records.jsonl:9": "duplicate id 'dup'",
    "wrong-header.csv:1": "CSV header has no 'text' column",
    "huge.jsonl:1": "characters, over the limit",
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad") / "input"
    shutil.copytree(BAD_INPUT, folder)
    # a 20 MB article, made here rather than kept in the repository
    huge = {"id": "huge", "title": "Bài rất dài", "text": ("Mặt trận Tổ quốc " * 1_300_000)[:20_000_000]}
    (folder / "huge.jsonl").write_text(json.dumps(huge, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = []
    stats = index_corpus([folder], tmp_path_factory.mktemp("ix"), on_problem=problems.append, jobs=1)
    return folder, stats, problems


def test_counts_add_up(indexed):
    _, stats, problems = indexed
    assert stats.read == stats.indexed + stats.updated + stats.unchanged + stats.skipped
    assert stats.skipped == len([p for p in problems if p.level == "error"]) == len(REFUSED)


def test_each_refusal_names_file_line_and_reason(indexed):
    folder, _, problems = indexed
    found = {p.location.replace(f"{folder}/", ""): p.reason for p in problems if p.level == "error"}
    assert set(found) == set(REFUSED)
    for location, reason in REFUSED.items():
        assert reason in found[location], location


def test_good_files_are_indexed_whatever_the_encoding(indexed, tmp_path_factory):
    _, stats, _ = indexed
    # the txt files, nul-bytes.jsonl:1, records.jsonl ok-1 and the first dup, good.csv
    assert stats.indexed == len(INDEXED_TXT) + 4
    ix = open_index(next(p for p in tmp_path_factory.getbasetemp().glob("ix*")))
    with ix.searcher() as searcher:
        docs = list(searcher.all_stored_fields())
    for name in INDEXED_TXT:
        marker = "Mã tệp " + name.removesuffix(".txt").replace("-", " ") + "."
        (doc,) = [d for d in docs if marker in d["text"]]
        assert doc["title_text"] == TITLE, name
        assert doc["text"].startswith("Ủy ban Mặt trận Tổ quốc tỉnh góp ý"), name


def test_zero_width_and_control_characters_are_removed(indexed, tmp_path_factory):
    ix = open_index(next(p for p in tmp_path_factory.getbasetemp().glob("ix*")))
    with ix.searcher() as searcher:
        texts = [doc["text"] for doc in searcher.all_stored_fields() if "đỏ" in doc["text"]]
    assert texts and all("\u200b" not in t and "\x1b" not in t and "\x07" not in t for t in texts)


def test_a_file_that_vanishes_is_reported(tmp_path):
    (problem,) = list(read_file(str(tmp_path / "gone.txt")))
    assert isinstance(problem, Problem)
    assert str(problem) == f"{tmp_path / 'gone.txt'}:0: cannot read the file: No such file or directory"
