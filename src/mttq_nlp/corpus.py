"""Corpus readers: .txt, .jsonl, .jsonl.gz and .csv files, folders of them, and stdin.

``read_corpus(sources)`` yields one ``Article`` per good record and one ``Problem``
per record or file that cannot be read, in file order, so the caller counts both and
nothing is lost silently. Problems carry ``FILE:LINE`` and a reason that says how to
fix the input.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import CorpusError
from .text import normalize

__all__ = ["Article", "Problem", "read_corpus", "find_files", "content_id", "text_lines", "SUFFIXES"]

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".csv")
STDIN = "-"
MAX_RECORD_CHARS = 5_000_000  # 100 times a long news article; guards time and memory


@dataclass
class Article:
    """One news article, as read from a corpus."""

    id: str
    text: str
    title: str = ""
    date: str | None = None  # ISO 8601 date, YYYY-MM-DD
    source: str = ""
    url: str = ""
    labels: list[str] | None = None  # topic codes given in the data, if any
    fields: dict = field(default_factory=dict, repr=False)  # the record as read
    location: str = ""  # FILE:LINE

    def content_hash(self) -> str:
        """A fingerprint of everything indexed, to tell changed articles from unchanged."""
        payload = json.dumps(
            [self.title, self.text, self.date, self.source, self.url, self.labels],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass
class Problem:
    """A record or file that could not be read (``level="error"``: it was skipped),
    or a record read with a caveat (``level="warning"``: it was kept)."""

    location: str  # FILE:LINE
    reason: str
    level: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.level == "warning" else ""
        return f"{self.location}: {prefix}{self.reason}"


def content_id(title: str, text: str) -> str:
    """A stable id for a record without one, derived from its normalised content
    (so an NFD copy or one in the other tone placement gets the same id)."""
    digest = hashlib.sha1(normalize(f"{title.strip()}\n{text.strip()}").encode("utf-8")).hexdigest()
    return f"doc-{digest[:16]}"


def find_files(sources: Iterable[str | os.PathLike]) -> list[str]:
    """The corpus files named by ``sources``: files as given, folders searched recursively.

    Raises ``CorpusError`` for a path that does not exist or a file of another kind.
    """
    files: list[str] = []
    for source in sources:
        source = os.fspath(source)
        if source == STDIN:
            files.append(STDIN)
            continue
        if not source.strip():  # Path("") is the current folder: an unset shell variable, most likely
            raise CorpusError(f"{source!r} is not a file or folder: give a corpus path ('.' for the current folder).")
        path = Path(source)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*")
                if p.is_file() and _has_corpus_suffix(p.name)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)  # .git, .venv, ...
            )
            if not found:
                raise CorpusError(
                    f"{source}: no corpus files in this folder "
                    f"(looked for {', '.join(SUFFIXES)} files, recursively)."
                )
            files.extend(found)
        elif path.is_file():
            if not _has_corpus_suffix(path.name):
                raise CorpusError(
                    f"{source}: unsupported file type. Use {', '.join(SUFFIXES)}, "
                    "or '-' for JSONL on standard input."
                )
            files.append(str(path))
        else:
            raise CorpusError(f"{source}: no such file or folder.")
    return files


def _has_corpus_suffix(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def read_corpus(sources: Iterable[str | os.PathLike]) -> Iterator[Article | Problem]:
    """Yield the articles of every source, and a ``Problem`` for whatever cannot be read."""
    for path in find_files(sources):
        yield from read_file(path)


def read_file(path: str) -> Iterator[Article | Problem]:
    """Yield the articles (and problems) of one corpus file, or of stdin for ``-``."""
    name = "<stdin>" if path == STDIN else path
    lower = path.lower()
    try:
        if path == STDIN:
            yield from _read_jsonl_lines(name, _binary_lines(sys.stdin.buffer))
        elif lower.endswith(".jsonl.gz"):
            with gzip.open(path, "rb") as handle:
                yield from _read_jsonl_lines(name, _binary_lines(handle))
        elif lower.endswith(".jsonl"):
            with open(path, "rb") as handle:
                yield from _read_jsonl_lines(name, _binary_lines(handle))
        elif lower.endswith(".csv"):
            yield from _read_csv(name, _decode_file(name, _read_bytes(path)))
        else:
            yield from _read_txt(name, _decode_file(name, _read_bytes(path)))
    except _Unreadable as problem:
        yield Problem(f"{name}:{problem.line}", problem.reason)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        yield Problem(f"{name}:0", f"cannot read the file: {reason}")


class _Unreadable(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line, self.reason = line, reason


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(MAX_RECORD_CHARS * 4 + 1)
    if len(data) > MAX_RECORD_CHARS * 4:
        raise _Unreadable(0, f"file too large for one .txt or .csv (over {MAX_RECORD_CHARS * 4:,} bytes); split it or use JSONL")
    return data


# --- decoding ----------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _guess_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as a NUL in every other byte of mostly-ASCII text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _encoding_of(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return _guess_utf16(data) or "utf-8"


def _decode_file(name: str, data: bytes) -> str:
    """Decode a whole .txt or .csv file; newlines become ``\\n`` (CRLF and lone CR too)."""
    encoding = _encoding_of(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _Unreadable(line, _decode_hint(data, error)) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _Unreadable(line, "NUL bytes in the text: this looks like a binary file, not UTF-8 text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_hint(data: bytes, error: UnicodeDecodeError) -> str:
    byte = data[error.start : error.start + 1].hex()
    if b"\x00" in data[:1024]:
        return "binary data, not text"
    return (
        f"not valid UTF-8 (byte 0x{byte} at offset {error.start}); "
        "it may be in a legacy Vietnamese encoding (Windows-1258, TCVN3, VNI): "
        "convert it to UTF-8 and run the command again"
    )


def _binary_lines(handle) -> Iterator[tuple[int, str | _Unreadable]]:
    """Numbered text lines of a binary stream; a line that cannot be decoded becomes
    an ``_Unreadable`` so the rest of the file is still read."""
    head, cut = _head(handle)
    encoding = _encoding_of(head)
    if cut is not None and encoding in ("utf-8", "utf-8-sig"):  # a short .gz cut short: its whole lines
        handle = _Raising(cut)
    elif cut is not None:
        raise cut
    if encoding != "utf-8" and encoding != "utf-8-sig":
        # UTF-16 lines are not split on b"\n"; decode the whole stream as text
        stream = io.TextIOWrapper(_Prefixed(head, handle), encoding=encoding, newline=None)
        try:
            for number, line in enumerate(stream, 1):
                yield number, line
        except UnicodeDecodeError as error:
            raise _Unreadable(0, f"not valid {encoding}: {error.reason}") from None
        return
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8):]
    number = 0
    try:
        for raw in _Prefixed(head, handle):
            # a lone CR also ends a line
            for piece in raw.replace(b"\r\n", b"\n").split(b"\r") if b"\r" in raw else (raw,):
                number += 1
                try:
                    yield number, piece.decode("utf-8")
                except UnicodeDecodeError as error:
                    yield number, _Unreadable(number, _decode_hint(piece, error))
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:  # a damaged .gz: say where it stops
        raise _Unreadable(number + 1, f"the compressed file is cut short or damaged here ({error}); "
                                      f"the {number:,} lines before were read. Get a whole copy of the file "
                                      "or compress it again") from None


def text_lines(handle, name: str) -> Iterator[str]:
    """The lines of a binary stream, decoded as corpus files are (UTF-8 with or without a
    BOM, UTF-16); raises ``CorpusError`` naming ``name`` and the line that cannot be decoded."""
    try:
        for number, line in _binary_lines(handle):
            if isinstance(line, _Unreadable):
                raise CorpusError(f"{name}:{number}: {line.reason}")
            yield line
    except _Unreadable as problem:
        raise CorpusError(f"{name}:{problem.line}: {problem.reason}") from None


def _head(handle, size: int = 4096) -> tuple[bytes, Exception | None]:
    """The first ``size`` bytes of a stream, or as many as a damaged .gz gives, and the
    error that stopped it."""
    chunks, got = [], 0
    read = getattr(handle, "read1", handle.read)
    try:
        while got < size:
            chunk = read(size - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        return b"".join(chunks), error
    return b"".join(chunks), None


class _Raising:
    """A stream whose next read raises ``error``: the rest of a damaged file."""

    def __init__(self, error: Exception):
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


class _Prefixed(io.RawIOBase):
    """A binary stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, rest):
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def __iter__(self):
        return iter(io.BufferedReader(self, buffer_size=1 << 16))


# --- formats -----------------------------------------------------------------------


def _read_jsonl_lines(name: str, lines) -> Iterator[Article | Problem]:
    for number, line in lines:
        where = f"{name}:{number}"
        if isinstance(line, _Unreadable):
            yield Problem(where, line.reason)
            continue
        line = line.strip()
        if not line:
            continue
        if "\x00" in line:
            yield Problem(where, "NUL bytes in the line: binary data, not JSON text")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield Problem(where, f"not valid JSON ({error.msg.removesuffix(' at')} at column {error.colno})")
            continue
        except RecursionError:
            yield Problem(where, "not valid JSON (nested too deeply)")
            continue
        if "\\ud" in line.lower():  # a surrogate escape; one without its pair is not text
            record, replaced = _without_lone_surrogates(record)
            if replaced:
                yield Problem(where, f"{replaced} lone surrogate escape{'s' if replaced > 1 else ''} (\\ud800-\\udfff, "
                                     "half of a UTF-16 pair: the exporter cut a character in two) replaced by U+FFFD",
                              level="warning")
        yield from _article(where, record)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value) -> tuple[object, int]:
    """``value`` (a decoded JSON value) with lone surrogates replaced by U+FFFD, and how many."""
    if isinstance(value, str):
        return _LONE_SURROGATE.subn("\ufffd", value)
    if isinstance(value, list):
        pairs = [_without_lone_surrogates(item) for item in value]
        return [item for item, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        items = [(_without_lone_surrogates(key), _without_lone_surrogates(item)) for key, item in value.items()]
        return {key: item for (key, _), (item, _) in items}, sum(m + n for (_, m), (_, n) in items)
    return value, 0


def _read_csv(name: str, text: str) -> Iterator[Article | Problem]:
    csv.field_size_limit(MAX_RECORD_CHARS)
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)  # strict: a quote left open is an error
    header, line = None, 0  # line: the last line read
    while True:
        where = f"{name}:{line + 1}"  # the line where the next row starts
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            if header is None:
                raise _Unreadable(line + 1, f"malformed CSV header: {error}") from None
            yield Problem(where, _csv_problem(str(error), line + 1, rows.line_num))
            line = rows.line_num
            continue
        line = rows.line_num
        if not row:  # a blank line
            continue
        if header is None:
            header = [column.strip().lower() for column in row]
            if "text" not in header:
                raise _Unreadable(
                    line,
                    f"CSV header has no 'text' column (found: {', '.join(header)}); the first row must name "
                    "the columns: text, and optionally id, title, date, source, url, labels",
                )
            twice = sorted({c for c in header if header.count(c) > 1 and c in CSV_COLUMNS})
            if twice:
                raise _Unreadable(line, f"CSV header names {', '.join(repr(c) for c in twice)} more than once: "
                                        "which one to read is unclear; rename or remove the extra column")
            continue
        if len(row) > len(header) or len(row) <= header.index("text"):
            yield Problem(where, f"{len(row)} cell{'s' if len(row) != 1 else ''} for {len(header)} columns")
            continue
        record = {key: value for key, value in zip(header, row) if value != "" or key == "text"}
        if "labels" in record:
            record["labels"] = [code.strip() for code in re.split(r"[;,|]", record["labels"]) if code.strip()]
        yield from _article(where, record)
    if header is None:
        raise _Unreadable(1, "empty CSV file: it needs a header row with at least a 'text' column")


CSV_COLUMNS = ("id", "title", "text", "date", "source", "url", "labels")


def _csv_problem(error: str, first: int, last: int) -> str:
    if error == "unexpected end of data":
        return (f"a quoted cell opened on this line is never closed, so lines {first}-{last} were read as one "
                "cell; close the quote (a quote inside a cell is written twice: \"\")")
    if error.startswith("field larger than field limit"):
        return f"a cell has over {MAX_RECORD_CHARS:,} characters: split the article, or check that it is one article"
    return f"malformed CSV: {error} (a quote inside a cell is written twice: \"\")"


def _read_txt(name: str, text: str) -> Iterator[Article | Problem]:
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if line.strip():
            body = "\n".join(lines[number:]).strip()
            yield from _article(f"{name}:{number}", {"title": line.strip(), "text": body})
            return
    yield Problem(f"{name}:1", "empty file: a .txt article needs a title line and text")


def _article(where: str, record) -> Iterator[Article | Problem]:
    """Check one record and turn it into an Article (or a Problem)."""
    if not isinstance(record, dict):
        yield Problem(where, f"expected a JSON object, found {type(record).__name__}")
        return
    text = record.get("text")
    if text is None:
        yield Problem(where, "no 'text' field")
        return
    if not isinstance(text, str):
        yield Problem(where, f"'text' must be a string, found {type(text).__name__}")
        return
    title = record.get("title") or ""
    if not isinstance(title, str):
        yield Problem(where, f"'title' must be a string, found {type(title).__name__}")
        return
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip() and not title.strip():
        yield Problem(where, "empty 'text'")
        return
    if len(text) > MAX_RECORD_CHARS:
        yield Problem(where, f"'text' has {len(text):,} characters, over the limit of {MAX_RECORD_CHARS:,}: "
                      "split the article, or check that it is one article")
        return

    warnings = []
    date = _iso_date(record.get("date"))
    if record.get("date") not in (None, "") and date is None:
        warnings.append(f"date {record.get('date')!r} is not an ISO 8601 date (YYYY-MM-DD); kept without a date")
    labels = record.get("labels")
    if labels is not None:
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list) or not all(isinstance(code, str) for code in labels):
            yield Problem(where, "'labels' must be a list of topic codes, e.g. [\"bau-cu\", \"covid-19\"]")
            return
        labels = list(dict.fromkeys(code.strip() for code in labels if code.strip()))

    raw_id = record.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        article_id = content_id(title, text)
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
        article_id = str(raw_id).strip()
    else:
        yield Problem(where, f"'id' must be a string or a whole number, found {type(raw_id).__name__} {raw_id!r}")
        return

    for warning in warnings:
        yield Problem(where, warning, level="warning")
    yield Article(
        id=article_id,
        text=text,
        title=title.strip(),
        date=date,
        source=_string(record.get("source")),
        url=_string(record.get("url")),
        labels=labels,
        fields=record,
        location=where,
    )


def _string(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _iso_date(value) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10]).isoformat() if len(value) >= 10 else None
    except ValueError:
        return None


def bundled_corpus() -> Path:
    """The folder of the sample corpus installed with mttq-nlp (``corpus/`` in the repository)."""
    from importlib import util

    spec = util.find_spec("mttq_nlp.sample_corpus")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise CorpusError("The bundled sample corpus is not installed; give a SOURCE to index.")
    return Path(locations[0])
