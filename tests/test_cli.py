import json

import pytest
from click.testing import CliRunner

from conftest import ARTICLES, write_jsonl
from mttq_nlp.cli import cli


def run(*args, input=None, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False, **kwargs)


def test_every_command_has_help_with_an_example():
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert command.help and command.help.strip(), name
        assert "mttq-nlp " + name in result.output or "Example" in result.output, name


def test_index_then_search_human(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES)
    result = run("index", source, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0
    assert f"read {len(ARTICLES)} = indexed {len(ARTICLES)} + updated 0 + unchanged 0 + skipped 0" in result.stderr

    result = run("search", "phan bien", "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0
    assert "Hội nghị phản biện xã hội dự thảo Luật Đất đai" in result.output
    assert "2023-03-14 · Bản tin Mặt trận · topics: phan-bien" in result.output


def test_search_json_and_jsonl(index_dir):
    result = run("search", "bàn", "--index-dir", index_dir, "--json", "--facets")
    data = json.loads(result.output)
    assert data["query"] == "bàn" and data["total"] == len(data["hits"])
    assert set(data) == {"query", "total", "page", "limit", "sort", "hits", "facets"}
    assert {"id", "score", "title", "date", "source", "url", "topics", "snippet"} <= set(data["hits"][0])
    assert set(data["facets"]) == {"topic", "source", "year"}

    lines = run("search", "bàn", "--index-dir", index_dir, "--jsonl", "-n", "2").output.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [hit["id"] for hit in data["hits"][:2]]
    assert "Vietnamese" not in lines[0] and "bàn" in lines[0]  # ensure_ascii=False


def test_batch_queries_in_order(index_dir, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("phan bien\n\nthủy lợi\nkhông có gì xyzzy\n", encoding="utf-8")
    result = run("search", "--queries", queries, "--jsonl", "--index-dir", index_dir)
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [row["query"] for row in rows] == ["phan bien", "thủy lợi", "không có gì xyzzy"]
    assert rows[0]["hits"][0]["id"] == "pb-1" and rows[1]["hits"][0]["id"] == "old-tone"
    assert {"id", "score"} <= set(rows[0]["hits"][0])


def test_batch_queries_file_in_another_encoding(index_dir, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("phan bien\r\nthủy lợi\r\n", encoding="utf-16")
    result = run("search", "--queries", queries, "--jsonl", "--index-dir", index_dir)
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["phan bien", "thủy lợi"]

    queries.write_bytes(b"phan bien\nTr\xe0 Vinh\n")  # the second line in Windows-1258
    result = run("search", "--queries", queries, "--jsonl", "--index-dir", index_dir)
    assert result.exit_code == 1
    assert [json.loads(line)["query"] for line in result.stdout.splitlines()] == ["phan bien"]
    assert result.stderr.startswith(f"Error: {queries}:2: not valid UTF-8 (byte 0xe0 at offset 2); it may be in "
                                    "a legacy Vietnamese encoding")


def test_stdin_source_and_remove(tmp_path):
    data = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES[:2])
    result = run("index", "-", "--index-dir", tmp_path / "ix", input=data)
    assert "indexed 2" in result.stderr
    result = run("remove", "pb-1", "missing-id", "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0
    assert "removed 1 article" in result.stderr and "not in the index: missing-id" in result.stderr
    assert run("remove", "missing-id", "--index-dir", tmp_path / "ix").exit_code == 1


def test_bad_records_reported_with_file_and_line(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps(ARTICLES[0], ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    result = run("index", source, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0
    assert f"{source}:2: not valid JSON" in result.stderr
    assert "read 2 = indexed 1 + updated 0 + unchanged 0 + skipped 1" in result.stderr

    result = run("index", source, "--index-dir", tmp_path / "ix2", "--strict")
    assert result.exit_code == 1
    assert f"{source}:2: not valid JSON" in result.stderr and "--strict" in result.stderr


def test_nothing_indexable_fails(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text("{oops\n[1]\n", encoding="utf-8")
    result = run("index", source, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1
    assert "nothing could be indexed" in result.stderr


def test_an_empty_source_says_so(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text("\n\n", encoding="utf-8")
    result = run("index", source, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1
    assert f"Error: nothing to index: {source} held no records" in result.stderr
    result = run("label", source, "--out", tmp_path / "out.jsonl")
    assert result.exit_code == 1
    assert f"Error: nothing to label: {source} held no records" in result.stderr


def test_a_lone_surrogate_escape_is_a_warning_not_a_traceback(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "s1", "text": "Mặt trận \\ud800 tổ quốc"}\n', encoding="utf-8")
    result = run("index", source, "--index-dir", tmp_path / "ix", "--no-topics", "-j", "1")
    assert result.exit_code == 0
    assert f"{source}:1: warning: 1 lone surrogate escape (" in result.stderr
    assert "read 1 = indexed 1 + updated 0 + unchanged 0 + skipped 0 (1 warning)" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "x", "--index-dir", "nowhere"], "No index at nowhere. Run 'mttq-nlp index' first"),
        (["index", "missing.jsonl"], "missing.jsonl: no such file or folder."),
        (["search", "x", "--since", "hôm qua"], "--since: 'hôm qua' is not a date; use YYYY-MM-DD"),
    ],
)
def test_errors_are_messages_not_tracebacks(args, message, index_dir):
    if "nowhere" not in args and "--since" in args:
        args = args + ["--index-dir", str(index_dir)]
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(index_dir):
    assert run("search", "--index-dir", index_dir).exit_code == 2
    assert run("search", "x", "--json", "--jsonl", "--index-dir", index_dir).exit_code == 2
    assert run("search", "x", "--sort", "date", "--index-dir", index_dir).exit_code == 2


def test_search_sorted_by_date(index_dir):
    dates = [hit["date"] for hit in json.loads(run("search", "bàn", "--sort", "newest", "--json",
                                                     "--index-dir", index_dir).output)["hits"]]
    assert len(dates) > 2 and dates == sorted(dates, reverse=True)
    result = run("search", "bàn", "--sort", "oldest", "--index-dir", index_dir)
    assert "oldest first):" in result.output
    result = run("search", "bàn zzzq", "--sort", "oldest", "--index-dir", index_dir)
    assert "No article holds every word of 'bàn zzzq'; without --sort" in result.output


def test_search_with_filters_alone(index_dir):
    result = run("search", "--topic", "an-sinh", "--index-dir", index_dir)
    assert result.exit_code == 0
    assert "3 results (showing 1-3, newest first):" in result.output
    assert result.output.index("2021-06-10") < result.output.index("2020-08-01") < result.output.index("2018-05-20")


def test_public_api_is_importable_from_the_package():
    import mttq_nlp

    for name in mttq_nlp.__all__:
        assert getattr(mttq_nlp, name) is not None, name


def test_cli_defaults_are_the_library_defaults():
    # the CLI keeps its own copy so that other commands do not import Whoosh
    from mttq_nlp.index import DEFAULT_COMMIT_EVERY

    option = next(p for p in cli.commands["index"].params if p.name == "commit_every")
    assert option.default == DEFAULT_COMMIT_EVERY


def test_index_with_a_missing_model_named_in_the_environment_is_an_error(tmp_path, monkeypatch):
    # asked for by $MTTQ_NLP_MODEL, a model must be there; only the bundled default may be absent
    monkeypatch.setenv("MTTQ_NLP_MODEL", str(tmp_path / "nowhere"))
    source = write_jsonl(tmp_path / "a.jsonl", ARTICLES[:2])
    result = run("index", source, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1
    assert "nowhere" in result.stderr and "Traceback" not in result.output


def test_search_says_when_a_filter_matches_no_article(index_dir):
    result = run("search", "bàn topic:an_sinh", "--source", "Báo Không Có", "--index-dir", index_dir)
    assert "No results" in result.output
    assert "note: no article in the index has the topic 'an_sinh'; 'mttq-nlp topics' lists the codes." in result.stderr
    assert "note: no article in the index has the source 'Báo Không Có'; --facets counts" in result.stderr
    result = run("search", "bàn", "--topic", "AN-SINH", "--source", "bao tinh", "--index-dir", index_dir)
    assert result.exit_code == 0 and "note:" not in result.stderr  # case and marks do not matter


@pytest.mark.parametrize("args", [
    ["search", "x", "--index-dir", ""],
    ["index", "--index-dir", " "],
    ["classify", "--text", "x", "--model", ""],
    ["train", "corpus", "--out", ""],
    ["label", "corpus", "--out", ""],
    ["evaluate", "corpus", "--report", ""],
])
def test_an_empty_path_option_is_a_usage_error(args, tmp_path, monkeypatch):
    # "" is what an unset shell variable gives; it must not mean the current folder
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2
    assert "is empty: give a path (is a shell variable unset?)" in result.stderr


def test_an_index_variable_naming_a_file_says_so(tmp_path, monkeypatch):
    afile = tmp_path / "notes.txt"
    afile.write_text("x", encoding="utf-8")
    monkeypatch.setenv("MTTQ_NLP_INDEX", str(afile))
    for args in (["search", "x"], ["index", write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])], ["topics"]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert f"{afile} (from $MTTQ_NLP_INDEX) is a file, not an index folder" in result.stderr


def test_index_notes_given_labels_that_are_not_topic_codes(tmp_path):
    records = [dict(ARTICLES[0], labels=["bau_cu", "an-sinh"]), dict(ARTICLES[1], labels=["an-sinh"])]
    result = run("index", write_jsonl(tmp_path / "a.jsonl", records), "--index-dir", tmp_path / "ix", "--no-topics")
    assert result.exit_code == 0
    assert "note: labels given in the data that are not Front topic codes, kept as given: bau_cu" in result.stderr
    result = run("index", write_jsonl(tmp_path / "b.jsonl", records[1:]), "--index-dir", tmp_path / "ix2", "--no-topics")
    assert "note: labels" not in result.stderr


def test_show_prints_whole_articles(index_dir):
    result = run("show", "pb-1", "nope", "--index-dir", index_dir)
    assert result.exit_code == 0
    assert result.output.startswith("Hội nghị phản biện xã hội dự thảo Luật Đất đai\n2023-03-14 · Bản tin Mặt trận · id pb-1")
    assert "topics (given in the data): phan-bien" in result.output
    assert ARTICLES[0]["text"] in result.output
    assert "not in the index: nope" in result.stderr
    data = json.loads(run("show", "pb-1", "--json", "--index-dir", index_dir).output)
    assert {"id", "title", "text", "date", "source", "url", "topics", "topic_scores", "topics_given"} == set(data)
    result = run("show", "nope", "--index-dir", index_dir)
    assert result.exit_code == 1 and "none of the given ids is in the index" in result.stderr
