import codecs
import gzip
import json

import pytest

from mttq_nlp.corpus import Article, Problem, content_id, find_files, read_corpus
from mttq_nlp.errors import CorpusError


def read(path):
    items = list(read_corpus([str(path)]))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Problem)]


def test_txt_first_non_empty_line_is_the_title(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("\n\n  Tiêu đề bài viết  \nDòng một.\nDòng hai.\n", encoding="utf-8")
    (article,), problems = read(path)
    assert problems == []
    assert article.title == "Tiêu đề bài viết"
    assert article.text == "Dòng một.\nDòng hai."
    assert article.id == content_id("Tiêu đề bài viết", "Dòng một.\nDòng hai.")


@pytest.mark.parametrize(
    "encoding, bom",
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom"],
)
def test_txt_encodings_and_crlf(tmp_path, encoding, bom):
    path = tmp_path / "a.txt"
    path.write_bytes(bom + "Hòa giải\r\nThủy lợi\r\nnội đồng\r\n".encode(encoding))
    (article,), problems = read(path)
    assert problems == []
    assert (article.title, article.text) == ("Hòa giải", "Thủy lợi\nnội đồng")


def test_jsonl_fields_and_problems_with_line_numbers(tmp_path):
    path = tmp_path / "news.jsonl"
    lines = [
        json.dumps({"id": "a", "title": "T", "text": "Nội dung", "date": "2021-05-23", "source": "S",
                    "url": "http://x", "labels": ["bau-cu"]}, ensure_ascii=False),
        "{not json",
        "[1, 2]",
        json.dumps({"title": "no text"}),
        json.dumps({"text": 5}),
        "",
        json.dumps({"text": "Không có id", "date": "23/05/2021"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = read(path)
    assert [a.id for a in articles] == ["a", content_id("", "Không có id")]
    first = articles[0]
    assert (first.date, first.source, first.url, first.labels) == ("2021-05-23", "S", "http://x", ["bau-cu"])
    assert articles[1].date is None
    assert [str(p) for p in problems] == [
        f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{path}:3: expected a JSON object, found list",
        f"{path}:4: no 'text' field",
        f"{path}:5: 'text' must be a string, found int",
        f"{path}:7: warning: date '23/05/2021' is not an ISO 8601 date (YYYY-MM-DD); kept without a date",
    ]


def test_jsonl_gz_and_invalid_utf8_line(tmp_path):
    path = tmp_path / "news.jsonl.gz"
    good = json.dumps({"id": "g", "text": "Đoàn kết"}, ensure_ascii=False).encode()
    with gzip.open(path, "wb") as handle:
        handle.write(good + b"\n" + b'{"text": "\xe0\xff"}\n' + good.replace(b'"g"', b'"h"') + b"\n")
    articles, problems = read(path)
    assert [a.id for a in articles] == ["g", "h"]
    assert len(problems) == 1 and problems[0].location == f"{path}:2"
    assert "not valid UTF-8" in problems[0].reason


@pytest.mark.parametrize("count, text", [(2000, "Mặt trận " * 40), (40, "Tin ngắn")],
                         ids=["long", "under-4-kb"])
def test_truncated_jsonl_gz_keeps_the_records_before_and_says_where(tmp_path, count, text):
    path = tmp_path / "news.jsonl.gz"
    records = [json.dumps({"id": str(i), "text": f"Bài {i}: {text} {i * 7919}"}, ensure_ascii=False)
               for i in range(count)]
    data = gzip.compress(("\n".join(records) + "\n").encode())
    path.write_bytes(data[: len(data) * 3 // 4])
    articles, problems = read(path)
    assert 0 < len(articles) < count
    assert [a.id for a in articles] == [str(i) for i in range(len(articles))]
    assert len(problems) == 1 and problems[0].location == f"{path}:{len(articles) + 1}"
    assert "cut short or damaged" in problems[0].reason
    assert f"the {len(articles):,} lines before were read" in problems[0].reason


def test_csv_with_header(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text('id,title,text,labels\n1,Tiêu đề,"Nội dung, có dấu phẩy",bau-cu;giam-sat\n2,,\n', encoding="utf-8")
    articles, problems = read(path)
    assert [(a.id, a.text, a.labels) for a in articles] == [("1", "Nội dung, có dấu phẩy", ["bau-cu", "giam-sat"])]
    assert [str(p) for p in problems] == [f"{path}:3: empty 'text'"]


def test_csv_problems_name_the_line_where_the_row_starts_and_nothing_is_swallowed(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text('id,title,text\n\nr1,T1,"Một\nhai"\n\nr2,T2\nr3,T3,ba,bốn\nr4,"T4"x,năm\nr5,T5,sáu\n'
                    'r6,T6,"không đóng\nr7,T7,bảy\n', encoding="utf-8")
    articles, problems = read(path)
    assert [(a.id, a.location) for a in articles] == [("r1", f"{path}:3"), ("r5", f"{path}:9")]
    assert [str(p) for p in problems] == [
        f"{path}:6: 2 cells for 3 columns",
        f"{path}:7: 4 cells for 3 columns",
        f"{path}:8: malformed CSV: ',' expected after '\"' (a quote inside a cell is written twice: \"\")",
        f"{path}:10: a quoted cell opened on this line is never closed, so lines 10-11 were read as one cell; "
        'close the quote (a quote inside a cell is written twice: "")',
    ]


def test_lone_surrogate_escapes_are_replaced_with_a_warning(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "s1", "title": "\\ud83d\\ude00 Mặt trận", "text": "Tổ quốc \\ud800 x", "tags": ["\\uDC00"]}\n'
                    '{"id": "s2", "text": "cả cặp \\ud83d\\ude00"}\n', encoding="utf-8")
    articles, problems = read(path)
    assert [(a.title, a.text) for a in articles] == [("😀 Mặt trận", "Tổ quốc \ufffd x"), ("", "cả cặp 😀")]
    assert articles[0].fields["tags"] == ["\ufffd"]
    assert [str(p) for p in problems] == [
        f"{path}:1: warning: 2 lone surrogate escapes (\\ud800-\\udfff, half of a UTF-16 pair: the exporter cut a "
        "character in two) replaced by U+FFFD"]
    articles[0].content_hash()  # was a UnicodeEncodeError


def test_csv_cell_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("mttq_nlp.corpus.MAX_RECORD_CHARS", 100)
    path = tmp_path / "news.csv"
    path.write_text(f'id,text\nb1,{"x" * 101}\nb2,ok\n', encoding="utf-8")
    articles, problems = read(path)
    assert [a.id for a in articles] == ["b2"]
    assert [str(p) for p in problems] == [
        f"{path}:2: a cell has over 100 characters: split the article, or check that it is one article"]


def test_ids_that_are_not_strings_or_whole_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 7, "text": "a"}\n{"id": 1.5, "text": "b"}\n{"id": true, "text": "c"}\n', encoding="utf-8")
    articles, problems = read(path)
    assert [a.id for a in articles] == ["7"]
    assert [str(p) for p in problems] == [f"{path}:2: 'id' must be a string or a whole number, found float 1.5",
                                          f"{path}:3: 'id' must be a string or a whole number, found bool True"]


def test_csv_without_text_column_is_refused_by_name(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("tieu_de,noi_dung\nA,B\n", encoding="utf-8")
    articles, problems = read(path)
    assert articles == []
    assert str(problems[0]).startswith(f"{path}:1: CSV header has no 'text' column (found: tieu_de, noi_dung)")


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    articles, problems = read(path)
    assert articles == [] and len(problems) == 1
    assert "binary" in problems[0].reason


def test_folders_are_searched_recursively(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("B\nbody", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    assert find_files([tmp_path]) == [str(tmp_path / "a.jsonl"), str(tmp_path / "sub" / "b.txt")]


def test_hidden_files_and_folders_are_skipped(tmp_path):
    (tmp_path / "news" / ".venv" / "pkg").mkdir(parents=True)
    (tmp_path / "news" / ".venv" / "pkg" / "LICENSE.txt").write_text("MIT\nlicence", encoding="utf-8")
    (tmp_path / "news" / ".draft.txt").write_text("D\nbody", encoding="utf-8")
    (tmp_path / "news" / "a.txt").write_text("A\nbody", encoding="utf-8")
    assert find_files([tmp_path / "news"]) == [str(tmp_path / "news" / "a.txt")]
    (tmp_path / ".hidden-corpus").mkdir()  # a hidden folder given by name is read
    (tmp_path / ".hidden-corpus" / "b.txt").write_text("B\nbody", encoding="utf-8")
    assert find_files([tmp_path / ".hidden-corpus"]) == [str(tmp_path / ".hidden-corpus" / "b.txt")]


def test_missing_and_unsupported_sources_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match=r"^'' is not a file or folder: give a corpus path \('\.' for the current"):
        find_files([""])  # not the current folder
    with pytest.raises(CorpusError, match="no such file or folder"):
        find_files([tmp_path / "missing.jsonl"])
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match="unsupported file type"):
        find_files([tmp_path / "a.pdf"])


def test_content_id_is_stable():
    assert content_id("T", "x") == content_id("T", "x") != content_id("T", "y")


def test_content_id_ignores_normalisation_differences():
    import unicodedata

    assert content_id("Hoà giải", "thuỷ lợi") == content_id("Hòa giải", unicodedata.normalize("NFD", "thủy lợi"))


def test_csv_empty_text_cell_and_a_column_named_twice(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("id,title,text\n1,Tiêu đề một,\n2,,\n", encoding="utf-8")
    articles, problems = read(path)
    assert [a.id for a in articles] == ["1"]  # a title alone is an article, as in JSONL
    assert [(p.location, p.reason) for p in problems] == [(f"{path}:3", "empty 'text'")]
    path.write_text("id,text,title,TEXT\n1,a,b,c\n", encoding="utf-8")
    articles, problems = read(path)
    assert not articles and problems[0].location == f"{path}:1"
    assert "CSV header names 'text' more than once" in problems[0].reason
