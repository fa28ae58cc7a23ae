"""Crash safety, one writer at a time, and identical results in parallel."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ARTICLES, write_jsonl
from mttq_nlp.cli import cli
from mttq_nlp.errors import IndexLockedError
from mttq_nlp.index import index_corpus, open_index
from mttq_nlp.locking import IndexLock
from mttq_nlp.search import search


def stored(path):
    with open_index(path).searcher() as searcher:
        return sorted(
            (doc["id"], doc["version"], doc["segmented"], doc["topics"]) for doc in searcher.all_stored_fields()
        )


def many_articles(n):
    """ARTICLES, repeated with new ids and a line of their own."""
    out = []
    for i in range(n):
        base = ARTICLES[i % len(ARTICLES)]
        out.append(dict(base, id=f"{base['id']}-{i}", text=base["text"] + f"\nSố thứ tự {i}."))
    return out


def test_parallel_and_single_process_give_the_same_index(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", many_articles(60))
    index_corpus([source], tmp_path / "one", jobs=1, batch_size=8)
    index_corpus([source], tmp_path / "two", jobs=2, batch_size=8)
    assert stored(tmp_path / "one") == stored(tmp_path / "two")


def test_a_second_writer_is_told_who_holds_the_lock(tmp_path):
    ix = tmp_path / "ix"
    with IndexLock(ix):
        with pytest.raises(IndexLockedError, match=rf"being updated by process {os.getpid()} since \d{{4}}-"):
            index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])], ix)
        result = CliRunner().invoke(cli, ["index", str(tmp_path / "a.jsonl"), "--index-dir", str(ix)])
        assert result.exit_code == 1
        assert "Wait for it to finish, or pass --wait SECONDS" in result.stderr


def test_wait_for_the_lock(tmp_path):
    ix = tmp_path / "ix"
    lock = IndexLock(ix)
    lock.__enter__()
    start = time.monotonic()
    with pytest.raises(IndexLockedError):
        index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])], ix, wait=0.5)
    assert time.monotonic() - start >= 0.5
    lock.__exit__(None, None, None)
    assert index_corpus([tmp_path / "a.jsonl"], ix, wait=0.5).indexed == 1


def test_a_stale_lock_is_cleared(tmp_path):
    ix = tmp_path / "ix"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock_file = ix.with_name(".ix.lock")
    lock_file.write_text(json.dumps({"pid": int(dead.stdout), "since": "2020-01-01T00:00:00"}))
    stats = index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:2])], ix)
    assert stats.indexed == 2
    assert not lock_file.exists()


def test_searches_see_the_last_commit_while_writing(tmp_path):
    ix = tmp_path / "ix"
    index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:1])], ix)
    seen_during = []

    def search_while_writing(count):
        if count == 5:  # the second run is mid-way
            seen_during.append(search("phản biện", ix).total)

    index_corpus([write_jsonl(tmp_path / "b.jsonl", ARTICLES)], ix, on_progress=search_while_writing)
    assert seen_during == [1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_index_folder_is_a_clear_error(tmp_path):
    ix = tmp_path / "ix"
    index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:2])], ix)
    os.chmod(ix, 0o555)
    try:
        result = CliRunner().invoke(cli, ["index", str(write_jsonl(tmp_path / "b.jsonl", ARTICLES[2:4])),
                                          "--index-dir", str(ix)])
    finally:
        os.chmod(ix, 0o755)
    assert result.exit_code == 1 and "Cannot" in result.stderr
    assert len(stored(ix)) == 2


KILL_TRIALS = 20


def processes_running(marker: str) -> list[int]:
    """Pids of the processes (other than this one) whose command line holds ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile
                pass
    return pids


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one process", "worker processes"])
def test_kill_9_at_random_moments_loses_and_duplicates_nothing(tmp_path, jobs):
    """Real `mttq-nlp index` processes killed with SIGKILL at random moments: the
    index always opens, holds whole commits, and the next run completes it. With
    worker processes, the workers die with it and their unfinished segments are
    cleaned away."""
    articles = many_articles(200)
    source = write_jsonl(tmp_path / "a.jsonl", articles)
    expected = sorted(a["id"] for a in articles)
    rng = random.Random(1)
    command = [sys.executable, "-m", "mttq_nlp", "index", str(source), "-q", "-j", jobs,
               "--commit-every", "25", "--no-topics"]
    env = dict(os.environ, PYTHONHASHSEED="0")
    for trial in range(KILL_TRIALS):
        ix = tmp_path / f"ix{trial}"
        process = subprocess.Popen(command + ["--index-dir", str(ix)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if Path("/proc").is_dir():  # no worker outlives the indexing process
            deadline = time.monotonic() + 5
            while processes_running(str(ix)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert processes_running(str(ix)) == []
        if ix.exists() and any(ix.iterdir()):
            ids = [row[0] for row in stored(ix)]  # the index opens
            assert len(ids) == len(set(ids))  # none twice
            assert set(ids) <= set(expected)
        # the next run finishes the job
        done = subprocess.run(command + ["--index-dir", str(ix)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert [row[0] for row in stored(ix)] == expected
        assert not (ix / "incoming").exists()
        segment_files = {f.name.split(".")[0] for f in ix.glob("MAIN_*")} - {"MAIN_WRITELOCK"}
        with open_index(ix).reader() as reader:  # no segment file that the index does not name
            assert segment_files == {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one process", "worker processes"])
def test_full_disk_is_a_clear_error_and_keeps_the_last_commit(tmp_path, monkeypatch, jobs):
    import errno

    from whoosh.writing import SegmentWriter

    ix = tmp_path / "ix"
    index_corpus([write_jsonl(tmp_path / "a.jsonl", ARTICLES[:2])], ix)
    real_add = SegmentWriter.add_document
    added = []

    def add_until_full(self, **fields):
        if len(added) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        added.append(fields["id"])
        real_add(self, **fields)

    monkeypatch.setattr(SegmentWriter, "add_document", add_until_full)
    result = CliRunner().invoke(cli, ["index", str(write_jsonl(tmp_path / "b.jsonl", many_articles(20))),
                                      "--index-dir", str(ix), "--no-topics", "-j", jobs])
    assert result.exit_code == 1
    assert f"Cannot write the index at {ix}: No space left on device." in result.stderr
    assert "run the same command again to finish" in result.stderr
    assert [row[0] for row in stored(ix)] == sorted(a["id"] for a in ARTICLES[:2])
    assert not ix.with_name(".ix.lock").exists()
    assert not (ix / "incoming").exists()


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["one process", "worker processes"])
def test_ctrl_c_stops_after_the_batch_and_says_how_far_it_got(tmp_path, jobs):
    source = write_jsonl(tmp_path / "a.jsonl", many_articles(3000))
    ix = tmp_path / "ix"
    process = subprocess.Popen(
        [sys.executable, "-m", "mttq_nlp", "index", str(source), "--index-dir", str(ix), "-j", jobs,
         "--commit-every", "10", "--no-topics"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    def generation():  # of the index's table of contents: one more a commit
        return max((int(toc.stem.rsplit("_", 1)[1]) for toc in ix.glob("_MAIN_*.toc")), default=-1)

    deadline = time.monotonic() + 60
    while generation() < 3 and time.monotonic() < deadline:  # a few commits in
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("indexing finished before the interrupt")
    assert process.returncode == 130, err
    assert "Traceback" not in err
    committed = int(err.split("interrupted: ")[1].split(" article")[0])
    assert len(stored(ix)) == committed
