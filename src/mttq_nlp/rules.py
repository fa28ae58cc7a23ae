"""Provisional topic labels from keyword and phrase rules, for unlabelled corpora.

A rules file is TOML (the shipped default is ``data/rules.toml``)::

    [settings]                 # optional; defaults for every topic
    min_hits = 3               # score needed for the label
    phrase_weight = 2          # an occurrence of a phrase scores this much, of a keyword 1
    title_weight = 2           # an occurrence in the title counts this many times

    [topics.bau-cu]
    keywords = ["bầu cử", "cử tri", "ứng cử viên"]
    phrases = ["hội nghị hiệp thương", "danh sách cử tri"]
    exclude = ["bầu cử Tổng thống"]   # any match: no label for this topic
    min_hits = 3                       # optional, overrides [settings]

Matching goes through the shared analysis (``mttq_nlp.text``): text and rules are
normalised (NFC, one tone-mark placement), lower-cased and split into syllables, and a
term matches a run of whole syllables, within a line. Accents matter only when both
sides have them: a term written without diacritics ("phan bien") matches with or
without them, and a line of text written without diacritics ("PHAN BIEN XA HOI")
matches the accented terms, while in accented text "bão" (storm) does not match
"bao". Abbreviations of ``data/abbreviations.tsv`` match both ways (a rule on "Mặt
trận Tổ quốc" also finds "MTTQ").

``label_records`` labels a corpus record by record (the input fields, plus ``labels``
and ``rule_hits``); ``evaluate_rules`` compares such labels with gold labels.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import text as analysis
from .corpus import Problem, find_files, read_corpus
from .errors import MttqError
from .topics import TOPICS

__all__ = [
    "RulesError",
    "Rule",
    "RuleSet",
    "RuleResult",
    "LabelStats",
    "default_rules_path",
    "load_rules",
    "parse_rules",
    "label_records",
    "label_corpus",
    "evaluate_rules",
    "format_report",
]

DEFAULTS = {"min_hits": 3, "phrase_weight": 2, "title_weight": 2}
TOPIC_KEYS = {"name", "keywords", "phrases", "exclude", "min_hits", "phrase_weight", "title_weight"}


class RulesError(MttqError):
    """A rules file that cannot be used: bad TOML, an unknown topic or key, a bad value."""


# --- matching ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    """One way of writing a term: its lower-cased syllables, and their folded forms."""

    exact: tuple[str, ...]
    folded: tuple[str, ...]
    plain: bool  # written without diacritics: matches on folded forms only


def _syllables(value: str) -> list[str]:
    return [s.lower() for s in analysis.syllables(analysis.normalize(value))]


def _patterns(term: str) -> list[_Pattern]:
    """The term and its variants with abbreviations replaced by long forms and back."""
    base = _syllables(term)
    variants = {tuple(base)}
    for start, end, alternative in analysis.expand_abbreviations(base):
        variants.add(tuple(base[:start] + list(alternative) + base[end:]))
    out = []
    for syllables in sorted(variants):
        folded = tuple(analysis.fold(s) for s in syllables)
        out.append(_Pattern(syllables, folded, folded == syllables))
    return out


@dataclass
class _Line:
    exact: list[str]
    folded: list[str]
    plain: bool  # the line has no diacritics at all


def _lines(value: str) -> list[_Line]:
    lines = []
    for line in analysis.normalize(value).split("\n"):
        exact = [s.lower() for s in analysis.syllables(line)]
        if not exact:
            continue
        folded = [analysis.fold(s) for s in exact]
        lines.append(_Line(exact, folded, folded == exact))
    return lines


def _count(pattern: _Pattern, lines: list[_Line]) -> int:
    n = len(pattern.exact)
    count = 0
    for line in lines:
        if pattern.plain or line.plain:
            tokens, wanted = line.folded, pattern.folded
        else:
            tokens, wanted = line.exact, pattern.exact
        first = wanted[0]
        for i in range(len(tokens) - n + 1):
            if tokens[i] == first and tuple(tokens[i:i + n]) == wanted:
                count += 1
    return count


@dataclass
class Rule:
    """The rules of one topic. ``keywords`` score 1 an occurrence, ``phrases``
    ``phrase_weight``; occurrences in the title count ``title_weight`` times; the
    topic is assigned when the score reaches ``min_hits`` and no ``exclude`` term occurs."""

    code: str
    keywords: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    min_hits: float = DEFAULTS["min_hits"]
    phrase_weight: float = DEFAULTS["phrase_weight"]
    title_weight: float = DEFAULTS["title_weight"]
    name: str = ""

    def __post_init__(self):
        self._terms = [(term, 1.0, _patterns(term)) for term in self.keywords]
        self._terms += [(term, float(self.phrase_weight), _patterns(term)) for term in self.phrases]
        self._exclude = [(term, _patterns(term)) for term in self.exclude]

    def score(self, title_lines: list[_Line], body_lines: list[_Line]) -> tuple[float, dict[str, int], str | None]:
        """(score, {term: occurrences}, the first exclusion term found or None)."""
        score, found = 0.0, {}
        for term, weight, patterns in self._terms:
            in_title = sum(_count(p, title_lines) for p in patterns)
            in_body = sum(_count(p, body_lines) for p in patterns)
            if in_title or in_body:
                found[term] = in_title + in_body
                score += weight * (in_title * float(self.title_weight) + in_body)
        excluded = None
        for term, patterns in self._exclude:
            if any(_count(p, title_lines) or _count(p, body_lines) for p in patterns):
                excluded = term
                break
        return score, found, excluded


@dataclass
class RuleResult:
    """What the rules say of one article: the provisional ``labels`` (best score first)
    and, per topic with any match, its score, the terms found and any exclusion."""

    labels: list[str]
    hits: dict[str, dict]


@dataclass
class RuleSet:
    """The rules of every topic, and where they were read from."""

    rules: list[Rule]
    source: str = ""

    @property
    def codes(self) -> list[str]:
        return [rule.code for rule in self.rules]

    def apply(self, title: str, text: str) -> RuleResult:
        """Label one article from its title and text."""
        title_lines, body_lines = _lines(title), _lines(text)
        scored, hits = [], {}
        for rule in self.rules:
            score, found, excluded = rule.score(title_lines, body_lines)
            if not found:
                continue
            entry = {"score": _number(score), "min_hits": _number(rule.min_hits), "terms": found}
            if excluded is not None:
                entry["excluded_by"] = excluded
            hits[rule.code] = entry
            if score >= rule.min_hits and excluded is None:
                scored.append((-score, rule.code))
        return RuleResult([code for _, code in sorted(scored)], hits)


def _number(value: float):
    return int(value) if float(value).is_integer() else round(float(value), 3)


# --- reading rules files ---------------------------------------------------------------


def default_rules_path() -> Path:
    """The rules shipped with mttq-nlp for the 8 topics of the taxonomy."""
    return Path(str(resources.files("mttq_nlp").joinpath("data/rules.toml")))


def load_rules(path: str | os.PathLike | None = None) -> RuleSet:
    """Read a rules file (default: the shipped ``data/rules.toml``).

    Raises ``RulesError`` with ``FILE:LINE`` for bad TOML, an unknown topic code or key,
    or a value of the wrong kind.
    """
    path = Path(path) if path is not None else default_rules_path()
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RulesError(f"{path}: no such rules file.") from None
    except IsADirectoryError:
        raise RulesError(f"{path} is a folder: give a rules file (TOML).") from None
    except UnicodeDecodeError as error:
        raise RulesError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}).") from None
    except OSError as error:
        raise RulesError(f"{path}: cannot read the rules file ({error.strerror or error}).") from None
    return parse_rules(content, str(path))


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def parse_rules(content: str, source: str = "<rules>") -> RuleSet:
    """Parse the TOML text of a rules file; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        if match:
            message = _TOML_POSITION.sub("", message)
            raise RulesError(f"{source}:{match.group(1)}: {message} (column {match.group(2)}); "
                             "the rules file is not valid TOML.") from None
        if message.endswith("(at end of document)"):
            message = message[: -len("(at end of document)")].rstrip()
            last = max(len(content.splitlines()), 1)
            raise RulesError(f"{source}:{last}: {message} at the end of the file; "
                             "the rules file is not valid TOML.") from None
        raise RulesError(f"{source}: {message}; the rules file is not valid TOML.") from None

    lines = content.splitlines()

    def where(pattern: str, after: str = "") -> str:
        """FILE:LINE of the first line matching ``pattern`` (below the location
        ``after``, when given), or FILE."""
        start = int(after.rpartition(":")[2]) if after.rpartition(":")[2].isdigit() else 0
        for number, line in enumerate(lines[start:], start + 1):
            if re.search(pattern, line):
                return f"{source}:{number}"
        return after or source

    unknown = set(data) - {"settings", "topics"}
    if unknown:
        key = sorted(unknown)[0]
        location = where(r"^\s*\[?\s*" + re.escape(key) + r"\b")
        raise RulesError(f"{location}: unknown table or key {key!r}; "
                         "a rules file has [settings] and [topics.CODE] tables.")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise RulesError(f"{where(r'^.*settings')}: 'settings' must be a table: [settings].")
    for key in settings:
        if key not in DEFAULTS:
            raise RulesError(f"{where(_assignment(key))}: unknown setting {key!r} in [settings]; "
                             f"use {', '.join(DEFAULTS)}.")
    defaults = dict(DEFAULTS)
    for key, value in settings.items():
        defaults[key] = _positive(value, key, where(_assignment(key)))
    topics = data.get("topics")
    if not isinstance(topics, dict) or not topics:
        raise RulesError(f"{source}: no topics: add a table per topic, e.g. [topics.bau-cu] "
                         "with keywords = [\"bầu cử\", \"cử tri\"].")
    rules = []
    for code, table in topics.items():
        here = where(r'^\s*\[\s*topics\s*\.\s*"?' + re.escape(code) + r'"?\s*\]')
        if code not in TOPICS:
            raise RulesError(f"{here}: unknown topic code {code!r}; the codes are {', '.join(TOPICS)}.")
        if not isinstance(table, dict):
            raise RulesError(f"{here}: topics.{code} must be a table: [topics.{code}].")
        for key in table:
            if key not in TOPIC_KEYS:
                location = where(_assignment(key), here)
                raise RulesError(f"{location}: unknown key {key!r} in [topics.{code}]; "
                                 f"use {', '.join(sorted(TOPIC_KEYS))}.")
        lists = {}
        for key in ("keywords", "phrases", "exclude"):
            value = table.get(key, [])
            line = where(_assignment(key), here) if key in table else here
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RulesError(f"{line}: {key} of [topics.{code}] must be a list of strings.")
            for term in value:
                if not _syllables(term):
                    raise RulesError(f"{line}: {key} of [topics.{code}] has a term with no letters or digits: {term!r}.")
            lists[key] = list(dict.fromkeys(value))
        if not lists["keywords"] and not lists["phrases"]:
            raise RulesError(f"{here}: [topics.{code}] has no keywords and no phrases.")
        numbers = {key: _positive(table[key], key, where(_assignment(key), here))
                   if key in table else defaults[key] for key in DEFAULTS}
        name = table.get("name", TOPICS[code])
        if not isinstance(name, str):
            raise RulesError(f"{here}: name of [topics.{code}] must be a string.")
        rules.append(Rule(code, lists["keywords"], lists["phrases"], lists["exclude"], name=name, **numbers))
    return RuleSet(rules, source)


def _assignment(key: str) -> str:
    """A pattern for the line that sets ``key``."""
    return r"^\s*" + re.escape(key) + r"\s*="


def _positive(value, key: str, location: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:  # nan too
        raise RulesError(f"{location}: {key} must be a positive number, found {value!r}.")
    return value


# --- labelling corpora -----------------------------------------------------------------


@dataclass
class LabelStats:
    """``read == labelled + skipped``; ``with_labels``: records that got a topic;
    ``per_topic``: records per provisional topic; ``gold``: records with given labels."""

    read: int = 0
    labelled: int = 0
    skipped: int = 0
    with_labels: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    gold: int = 0

    def summary(self) -> str:
        return (f"read {self.read} = labelled {self.labelled} + skipped {self.skipped}; "
                f"{self.with_labels} with a topic, {self.labelled - self.with_labels} with none")


def label_records(
    sources: Iterable[str | os.PathLike],
    rules: RuleSet | str | os.PathLike | None = None,
    *,
    on_problem: Callable[[Problem], None] | None = None,
    stats: LabelStats | None = None,
) -> Iterator[dict]:
    """Yield one record per readable article of ``sources``: its fields as read, with
    ``id``, ``title`` and ``text``, then ``labels`` (the rules' provisional topics),
    ``rule_hits`` (per topic: score, min_hits, terms found) and, when the input had
    ``labels``, those as ``given_labels``.

    ``rules``: a ``RuleSet``, a rules file, or None for the shipped rules. Records that
    cannot be read go to ``on_problem`` and are counted in ``stats`` as skipped.
    """
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    stats = stats if stats is not None else LabelStats()
    for item in read_corpus(sources):
        if isinstance(item, Problem):
            if item.level != "warning":
                stats.read += 1
                stats.skipped += 1
            if on_problem:
                on_problem(item)
            continue
        stats.read += 1
        result = ruleset.apply(item.title, item.text)
        record = {"id": item.id, "title": item.title, "text": item.text}
        record.update({k: v for k, v in item.fields.items() if k not in ("labels", "rule_hits", "given_labels")})
        record["id"], record["title"], record["text"] = item.id, item.title, item.text
        if item.labels is not None:
            record["given_labels"] = item.labels
            stats.gold += 1
        record["labels"] = result.labels
        record["rule_hits"] = result.hits
        stats.labelled += 1
        if result.labels:
            stats.with_labels += 1
        for code in result.labels:
            stats.per_topic[code] = stats.per_topic.get(code, 0) + 1
        yield record


def label_corpus(
    sources: Iterable[str | os.PathLike],
    out: str | os.PathLike,
    rules: RuleSet | str | os.PathLike | None = None,
    *,
    evaluate: bool = False,
    on_problem: Callable[[Problem], None] | None = None,
) -> tuple[LabelStats, dict | None]:
    """Label ``sources`` with ``rules`` and write the records as JSONL to ``out``
    (``-``: standard output). With ``evaluate``, also return ``evaluate_rules`` on the
    records that had gold ``labels`` (None when there were none).

    This is what ``mttq-nlp label`` runs, and what ``train --rules`` needs: train on
    the file written here, whose ``labels`` are the provisional ones.
    """
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    stats = LabelStats()
    gold, predicted = [], []
    files = find_files(sources)  # listed before ``out`` is opened, so it is never read as an input
    handle = sys.stdout if os.fspath(out) == "-" else _open_output(out, files)
    try:
        for record in label_records(files, ruleset, on_problem=on_problem, stats=stats):
            if evaluate and "given_labels" in record:
                gold.append(record["given_labels"])
                predicted.append(record["labels"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if handle is not sys.stdout:
            handle.close()
        else:
            handle.flush()
    report = evaluate_rules(gold, predicted, ruleset.codes) if evaluate and gold else None
    return stats, report


def _open_output(out: str | os.PathLike, inputs: list[str]):
    """``out`` opened for writing, unless it is one of the ``inputs`` (it would be erased unread)."""
    for path in inputs:
        if path != "-" and os.path.exists(out) and os.path.samefile(path, out):
            raise MttqError(f"{out} is both an input and the output: writing it would erase it before it is "
                            "read. Write the labelled records to another file.")
    try:
        return open(out, "w", encoding="utf-8")
    except OSError as error:
        raise MttqError(f"Cannot write {out}: {error.strerror or error}.") from None


def evaluate_rules(gold: list[list[str]], predicted: list[list[str]], codes: Iterable[str] | None = None) -> dict:
    """Per-topic precision, recall, F1 and support of ``predicted`` against ``gold``
    (one list of codes per record), with micro and macro averages over ``codes``
    (default: every code seen). Topics with no gold record are listed, outside the
    macro average."""
    codes = list(codes) if codes is not None else sorted({c for g in gold for c in g} | {c for p in predicted for c in p})
    rows, totals = [], [0, 0, 0]
    for code in codes:
        tp = sum(1 for g, p in zip(gold, predicted) if code in g and code in p)
        fp = sum(1 for g, p in zip(gold, predicted) if code not in g and code in p)
        fn = sum(1 for g, p in zip(gold, predicted) if code in g and code not in p)
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
        rows.append({"label": code, **_prf(tp, fp, fn), "support": tp + fn, "predicted": tp + fp})
    present = [row for row in rows if row["support"]]
    macro = {key: (sum(row[key] for row in present) / len(present) if present else 0.0)
             for key in ("precision", "recall", "f1")}
    return {"records": len(gold), "micro": _prf(*totals), "macro": macro, "per_label": rows,
            "exact_match": (sum(set(g) == set(p) for g, p in zip(gold, predicted)) / len(gold)) if gold else 0.0}


def _prf(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def format_report(report: dict) -> str:
    """A plain-text table of ``evaluate_rules``."""
    lines = [f"{'topic':<10} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8} {'labelled':>9}"]
    for row in report["per_label"]:
        lines.append(f"{row['label']:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
                     f"{row['support']:>8} {row['predicted']:>9}")
    for average in ("micro", "macro"):
        m = report[average]
        lines.append(f"{average:<10} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f}")
    lines.append(f"{report['records']} records with gold labels; exact match {report['exact_match']:.3f}"
                 " (macro over the topics with gold records)")
    return "\n".join(lines)
