"""Topic classification: train, save, load and apply a TF-IDF linear model.

A model is a folder with two files:

* ``model.joblib``: the fitted scikit-learn objects (a TF-IDF vectoriser and a linear
  classifier with calibrated probabilities) and, for multi-label models, one decision
  threshold per label;
* ``model.json``: the model card: labels, parameters, library versions, a fingerprint of
  the training data, the held-out metrics, the date, the exact training command and the
  sha256 of ``model.joblib``.

Loading a joblib file runs code, so ``load_model`` checks the card first (format,
scikit-learn version, sha256 of the joblib file) and unpickles only a file that matches.

Features are made from the shared analysis (``mttq_nlp.text``): a text is segmented once
(``text.segmented``) and the tokenisers below split that string into words or syllables.
What was measured to choose them is in ``benchmarks/results/classifier-choices.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import text as analysis
from .corpus import Article, Problem, read_corpus
from .errors import ModelError, MttqError, TrainingError

__all__ = [
    "Prediction",
    "TopicModel",
    "TrainingResult",
    "DEFAULT_PARAMS",
    "load_model",
    "default_model_dir",
    "train",
    "fit_model",
    "make_vectorizer",
    "tune_thresholds",
    "read_labelled",
    "segment_texts",
    "word_tokens",
    "syllable_tokens",
    "term_tokens",
]

MODEL_FILE = "model.joblib"
CARD_FILE = "model.json"
FORMAT = "mttq-nlp-topic-model/1"
DEFAULT_MODEL_NAME = "front-topics"
MODEL_ENV = "MTTQ_NLP_MODEL"

# Chosen by measurement on VNTC and on the Front corpus; see
# benchmarks/results/classifier-choices.md.
DEFAULT_PARAMS = {
    "features": "words",  # words | syllables | terms (words and syllables)
    "ngram_max": 2,  # n-grams of the tokens above, 1..ngram_max
    "sublinear_tf": True,
    "min_df": 2,
    "max_df": 0.9,
    "max_features": 1_000_000,
    "model": "svm",  # svm (LinearSVC, sigmoid-calibrated) | logreg | sgd
    "C": 0.5,
    "class_weight": "balanced",
    "calibration_folds": 3,
    "threshold_folds": 3,
    # multi-label thresholds are also tuned on held-out articles each joined with a
    # held-out article without topics: real reports are longer than the training
    # articles and often give a topic one passage (see README, "Front topics")
    "threshold_passages": True,
    # a twin model on the same articles with their marks stripped classifies articles
    # typed without diacritics, which the main model's features would not recognise
    "unaccented_twin": True,
}


# --- tokenisers (module-level so that a fitted vectoriser pickles) ----------------

_SYLLABLE = re.compile(r"[^\W_]+")


def word_tokens(segmented_text: str) -> list[str]:
    """Lower-cased words of a segmented text: ``Mặt_trận Tổ_quốc`` -> ``mặt_trận``, ``tổ_quốc``."""
    return segmented_text.lower().split()


def syllable_tokens(segmented_text: str) -> list[str]:
    """Lower-cased syllables of a (segmented or plain) text."""
    return _SYLLABLE.findall(segmented_text.lower())


def term_tokens(segmented_text: str) -> list[str]:
    """The index terms of ``text.terms``: every syllable, and every multi-syllable word."""
    return [term for _, term in analysis.terms(segmented_text)]


def unaccented_tokens(segmented_text: str) -> list[str]:
    """Lower-cased syllables without their marks: ``Mặt_trận`` -> ``mat``, ``tran``."""
    return [analysis.fold(syllable) for syllable in syllable_tokens(segmented_text)]


TOKENISERS = {"words": word_tokens, "syllables": syllable_tokens, "terms": term_tokens,
              "unaccented": unaccented_tokens}


def needs_segmentation(params: dict) -> bool:
    """Syllable features are the same on a segmented and a merely normalised text."""
    return params["features"] not in ("syllables", "unaccented")


# --- predictions and the model ----------------------------------------------------


@dataclass
class Prediction:
    """The topics of one article: the decided ``labels`` (best first), a probability
    for every label of the model in ``scores``, and whether the text was typed without
    diacritics and decided by the model's unaccented twin."""

    labels: list[str]
    scores: dict[str, float]
    unaccented: bool = False

    def top(self, k: int | None) -> dict[str, float]:
        """The ``k`` best scores, best first (all when ``k`` is None)."""
        ranked = sorted(self.scores.items(), key=lambda item: (-item[1], item[0]))
        return dict(ranked[:k] if k else ranked)


class TopicModel:
    """A fitted topic model. Get one from ``load_model`` or ``train``.

    ``labels_``: the label codes; ``multilabel``: an article may get several (or none)
    when True, exactly one when False; ``thresholds_``: the per-label decision
    thresholds of a multi-label model; ``card``: the model card (model.json);
    ``unaccented_``: the twin model (features without marks) that classifies texts
    typed without diacritics, or None.
    """

    def __init__(self, vectorizer, classifier, labels, multilabel, thresholds=None, card=None, path=None,
                 unaccented=None):
        self.vectorizer_ = vectorizer
        self.classifier_ = classifier
        self.labels_ = list(labels)
        self.multilabel = bool(multilabel)
        self.thresholds_ = None if thresholds is None else np.asarray(thresholds, dtype=float)
        self.card = card or {}
        self.path = path
        self.unaccented_ = unaccented

    def model_for(self, segmented_text: str) -> "TopicModel":
        """The model that decides a segmented text: the unaccented twin for a text typed
        without diacritics (when the model has one), else this model."""
        if self.unaccented_ is not None and not analysis.has_diacritics(segmented_text):
            return self.unaccented_
        return self

    def __repr__(self) -> str:
        kind = "multi-label" if self.multilabel else "single-label"
        return f"<TopicModel {kind} {len(self.labels_)} labels{f' at {self.path}' if self.path else ''}>"

    @property
    def params(self) -> dict:
        return self.card.get("params", DEFAULT_PARAMS)

    # probabilities ------------------------------------------------------------

    def _probabilities(self, matrix) -> np.ndarray:
        """(n_articles, n_labels) probabilities, columns in ``labels_`` order."""
        if matrix.shape[0] == 0:
            return np.zeros((0, len(self.labels_)))
        with warnings.catch_warnings():
            # an article with no known term has an all-zero row: that is fine
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(self.classifier_.predict_proba(matrix), dtype=float)

    def _decide(self, probabilities: np.ndarray) -> list[list[str]]:
        labels = np.asarray(self.labels_, dtype=object)
        decided = []
        for row in probabilities:
            if self.multilabel:
                chosen = np.flatnonzero(row >= self.thresholds_)
                chosen = chosen[np.argsort(-row[chosen], kind="stable")]
            else:
                chosen = [int(np.argmax(row))]
            decided.append([str(label) for label in labels[chosen]])
        return decided

    def predict_segmented(self, segmented_texts: Sequence[str]) -> list[Prediction]:
        """Predict the topics of a batch of texts segmented by ``text.segmented``
        (``title + "\\n" + text``), vectorised in one go."""
        if not segmented_texts:
            return []
        texts = list(segmented_texts)
        deciders = [self.model_for(text) for text in texts]
        if all(model is self for model in deciders):
            return self._predict(texts)
        out = [None] * len(texts)
        for model in (self, self.unaccented_):  # each model's texts in one batch, order kept
            indices = [i for i, decider in enumerate(deciders) if decider is model]
            for i, prediction in zip(indices, model._predict([texts[i] for i in indices])):
                prediction.unaccented = model is not self
                out[i] = prediction
        return out

    def _predict(self, segmented_texts: list[str]) -> list[Prediction]:
        if not segmented_texts:
            return []
        matrix = self.vectorizer_.transform(segmented_texts)
        probabilities = self._probabilities(matrix)
        return [
            Prediction(labels, {label: round(float(p), 6) for label, p in zip(self.labels_, row)})
            for labels, row in zip(self._decide(probabilities), probabilities)
        ]

    def predict_texts(self, texts: Sequence[str], **segment_options) -> list[Prediction]:
        """Predict the topics of raw texts (``title + "\\n" + text``), segmenting them first."""
        prepared = prepare_texts(texts, self.params, **segment_options)
        return self.predict_segmented(prepared)

    # explanations -------------------------------------------------------------

    def _coefficients(self, label_index: int) -> np.ndarray:
        """The linear weights of the features toward one label."""
        if self.multilabel:
            return _coef_of(self.classifier_.estimators_[label_index])[0]
        coef = _coef_of(self.classifier_)
        if coef.shape[0] == 1:  # binary: the row is for the second class
            return coef[0] if label_index == 1 else -coef[0]
        return coef[label_index]

    def explain_segmented(self, segmented_text: str, labels: Iterable[str], top: int = 10) -> dict[str, list[tuple[str, float]]]:
        """For each label, the terms of the text that weighed most toward it:
        coefficient × tf-idf value, largest first, only terms that occur in the text.
        Terms are shown with spaces between syllables (``mặt trận``)."""
        if self.model_for(segmented_text) is not self:
            return self.unaccented_.explain_segmented(segmented_text, labels, top)
        row = self.vectorizer_.transform([segmented_text]).tocsr()
        names = self._feature_names()
        out = {}
        for label in labels:
            index = self.labels_.index(label)
            coef = self._coefficients(index)
            contributions = coef[row.indices] * row.data
            order = np.argsort(-contributions, kind="stable")
            out[label] = [
                (names[row.indices[i]].replace("_", " "), round(float(contributions[i]), 4))
                for i in order[:top] if contributions[i] > 0
            ]
        return out

    def _feature_names(self):
        if not hasattr(self, "_names"):
            self._names = self.vectorizer_.get_feature_names_out()
        return self._names


def _coef_of(estimator) -> np.ndarray:
    if hasattr(estimator, "coef_"):
        return np.asarray(estimator.coef_)
    # CalibratedClassifierCV(ensemble=False) keeps one estimator fitted on all data
    calibrated = getattr(estimator, "calibrated_classifiers_", None)
    if calibrated:
        return np.mean([np.asarray(c.estimator.coef_) for c in calibrated], axis=0)
    raise ModelError("This model has no linear coefficients to explain its decisions.")


# --- building estimators ----------------------------------------------------------


def make_vectorizer(params: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        tokenizer=TOKENISERS[params["features"]],
        lowercase=False,
        token_pattern=None,
        ngram_range=(1, int(params["ngram_max"])),
        sublinear_tf=bool(params["sublinear_tf"]),
        min_df=params["min_df"],
        max_df=params["max_df"],
        max_features=params["max_features"],
        dtype=np.float32,
    )


def _make_classifier(params: dict, y, seed: int):
    """A linear classifier with probabilities. ``svm`` and ``sgd`` are sigmoid (Platt)
    calibrated on cross-validated folds, with one final model fitted on all the data
    (``ensemble=False``) whose coefficients explain the decisions; fewer folds when a
    class has fewer records than ``calibration_folds``."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    kind = params["model"]
    if kind == "logreg":
        return LogisticRegression(C=params["C"], class_weight=params["class_weight"], max_iter=2000,
                                  solver="liblinear" if _n_classes(y) == 2 else "lbfgs", random_state=seed)
    if kind == "svm":
        base = LinearSVC(C=params["C"], class_weight=params["class_weight"], random_state=seed)
    elif kind == "sgd":
        base = SGDClassifier(loss="modified_huber", alpha=params.get("alpha", 1e-5),
                             class_weight=params["class_weight"], random_state=seed)
    else:
        raise TrainingError(f"Unknown model {kind!r}: use svm, logreg or sgd.")
    folds = min(int(params["calibration_folds"]), _smallest_class(y))
    if folds < 2:
        raise TrainingError("A label needs at least 2 training records for calibrated probabilities.")
    return CalibratedClassifierCV(
        base, method="sigmoid", ensemble=False,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
    )


def _n_classes(y) -> int:
    return len(np.unique(y))


def _smallest_class(y) -> int:
    _, counts = np.unique(y, return_counts=True)
    return int(counts.min())


def _fit_estimators(texts, y, params, seed, multilabel):
    """Fit a vectoriser and a classifier; ``y`` is a 0/1 matrix (multi-label) or labels."""
    from sklearn.multiclass import OneVsRestClassifier

    vectorizer = make_vectorizer(params)
    matrix = vectorizer.fit_transform(texts)
    if multilabel:
        # one binary calibrated classifier per label; folds follow the rarest label
        smallest = min(min(int(column.sum()), len(column) - int(column.sum())) for column in y.T)
        classifier = OneVsRestClassifier(_make_classifier(params, np.r_[np.zeros(smallest), np.ones(smallest)], seed))
    else:
        classifier = _make_classifier(params, y, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        classifier.fit(matrix, y)
    return vectorizer, classifier


def tune_thresholds(y: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per label, the probability cut-off with the best F1 on out-of-fold predictions;
    the midpoint between the lowest accepted and the highest rejected probability."""
    thresholds = np.empty(y.shape[1])
    for j in range(y.shape[1]):
        truth, scores = y[:, j].astype(bool), probabilities[:, j]
        order = np.argsort(-scores, kind="stable")
        sorted_scores, sorted_truth = scores[order], truth[order]
        true_pos = np.cumsum(sorted_truth)
        predicted = np.arange(1, len(scores) + 1)
        f1 = 2 * true_pos / (predicted + truth.sum())
        # only cut between distinct scores
        distinct = np.r_[sorted_scores[:-1] > sorted_scores[1:], True]
        f1 = np.where(distinct, f1, -1)
        best = int(np.argmax(f1))
        upper = sorted_scores[best]
        lower = sorted_scores[best + 1] if best + 1 < len(sorted_scores) else 0.0
        thresholds[j] = float(np.clip((upper + lower) / 2, 0.01, 0.99))
    return thresholds


def _stratify_keys(y: np.ndarray, multilabel: bool, labels: list[str]) -> np.ndarray:
    """A key per record for stratified splitting: its label, or (multi-label) its rarest
    label or "-" for none; keys seen once are merged so every key has two records."""
    if not multilabel:
        keys = np.asarray(y, dtype=object)
    else:
        counts = y.sum(axis=0)
        keys = np.empty(len(y), dtype=object)
        for i, row in enumerate(y):
            present = np.flatnonzero(row)
            keys[i] = labels[present[np.argmin(counts[present])]] if len(present) else "-"
    values, counts = np.unique(keys.astype(str), return_counts=True)
    rare = set(values[counts < 2])
    if rare:
        keys = np.asarray(["~rare" if str(k) in rare else str(k) for k in keys], dtype=object)
    return keys.astype(str)


def fit_model(segmented_texts: Sequence[str], targets: Sequence, *, multilabel: bool, labels: Sequence[str],
              params: dict | None = None, seed: int = 0) -> TopicModel:
    """Fit a TopicModel on prepared texts.

    ``targets``: for multi-label, one list of label codes per text (possibly empty);
    for single-label, one label code per text. For multi-label models the per-label
    thresholds are tuned on out-of-fold probabilities (``threshold_folds`` folds).
    """
    params = {**DEFAULT_PARAMS, **(params or {})}
    labels = list(labels)
    texts = list(segmented_texts)
    if multilabel:
        y = _binarize(targets, labels)
        constant = [code for code, column in zip(labels, y.T) if column.min() == column.max()]
        if constant:
            raise ValueError(f"labels {constant} are on all or none of the {len(texts)} texts; "
                             "each label needs texts with it and texts without it")
    twin = None
    if params.get("unaccented_twin"):
        twin_params = {**params, "features": "unaccented", "unaccented_twin": False}
        twin = fit_model(texts, targets, multilabel=multilabel, labels=labels, params=twin_params, seed=seed)
        twin.card = {"params": twin_params}
    if multilabel:
        folds = int(params["threshold_folds"])
        keys = _stratify_keys(y, True, labels)
        folds = max(2, min(folds, int(np.unique(keys, return_counts=True)[1].min())))
        oof, joined = _out_of_fold_probabilities(texts, y, params, seed, folds, keys)
        if params.get("threshold_passages") and joined is not None:
            thresholds = tune_thresholds(np.vstack([y, y]), np.vstack([oof, joined]))
        else:
            thresholds = tune_thresholds(y, oof)
        vectorizer, classifier = _fit_estimators(texts, y, params, seed, True)
        return TopicModel(vectorizer, classifier, labels, True, thresholds, unaccented=twin)
    y = np.asarray(targets, dtype=object).astype(str)
    vectorizer, classifier = _fit_estimators(texts, y, params, seed, False)
    # the probability columns follow the classifier's (sorted) classes
    return TopicModel(vectorizer, classifier, [str(c) for c in classifier.classes_], False, unaccented=twin)


def _out_of_fold_probabilities(texts, y, params, seed, folds, keys):
    """Out-of-fold probabilities of each record, and of each record joined with another
    held-out record of the same fold that has no label (``None`` when a fold has none):
    the same topics as one passage of a longer text."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(y.shape, dtype=float)
    joined = np.zeros(y.shape, dtype=float)
    rng = np.random.default_rng(seed)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    texts = np.asarray(texts, dtype=object)
    for train_index, test_index in splitter.split(texts, keys):
        y_train = y[train_index]
        if y_train.sum(axis=0).min() < 2 or (len(train_index) - y_train.sum(axis=0)).min() < 2:
            # a label too rare to be learnt without this fold's records: fall back to
            # in-sample probabilities for the fold (optimistic, but only for tiny corpora)
            train_index = np.arange(len(texts))
        vectorizer, classifier = _fit_estimators(list(texts[train_index]), y[train_index], params, seed, True)
        out[test_index] = classifier.predict_proba(vectorizer.transform(list(texts[test_index])))
        no_topic = test_index[y[test_index].sum(axis=1) == 0]
        if joined is not None and len(no_topic) >= 2:
            partners = _partners(test_index, no_topic, rng)
            longer = [f"{texts[i]} {texts[j]}" for i, j in zip(test_index, partners)]
            joined[test_index] = classifier.predict_proba(vectorizer.transform(longer))
        else:
            joined = None
    return out, joined


def _partners(records: np.ndarray, no_topic: np.ndarray, rng) -> np.ndarray:
    """For each record, another record (not itself) drawn from ``no_topic``."""
    partners = rng.choice(no_topic, size=len(records))
    for k in np.flatnonzero(partners == records):
        partners[k] = no_topic[(np.searchsorted(no_topic, records[k]) + 1) % len(no_topic)]
    return partners


def _binarize(targets, labels) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    y = np.zeros((len(targets), len(labels)), dtype=int)
    for row, codes in enumerate(targets):
        for code in codes:
            if code in index:
                y[row, index[code]] = 1
    return y


# --- segmentation, with a pool and a cache ----------------------------------------

POOL_MIN = 400  # fewer texts than this are segmented in-process
BATCH = 2048


def _segment_one(raw: str) -> str:
    return analysis.segmented(raw)


def _normalize_one(raw: str) -> str:
    return analysis.normalize(raw)


def _analysis_version() -> str:
    """What the segmentation depends on: the analysis code, its dictionary, underthesea."""
    from importlib import metadata, resources

    digest = hashlib.sha256()
    digest.update(Path(analysis.__file__).read_bytes())
    digest.update(resources.files("mttq_nlp").joinpath("data/dictionary.txt").read_bytes())
    try:
        digest.update(metadata.version("underthesea").encode())
    except metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()[:16]


class SegmentationCache:
    """Segmented texts keyed by the sha256 of the text and of the analysis version,
    in an SQLite file, so that retraining on the same corpus skips segmentation."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(self.folder / "segmented.sqlite", timeout=60)
            self.connection.execute("CREATE TABLE IF NOT EXISTS segmented (key TEXT PRIMARY KEY, value TEXT)")
        except (OSError, sqlite3.Error) as error:
            raise MttqError(f"The segmentation cache {self.folder / 'segmented.sqlite'} cannot be used "
                            f"({getattr(error, 'strerror', None) or error}): delete it (it is only a cache), "
                            "give another --cache-dir, or use --no-cache.") from None
        self.version = _analysis_version()

    def key(self, raw: str) -> str:
        return hashlib.sha256(f"{self.version}\0{raw}".encode("utf-8", "surrogatepass")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.connection.execute(f"SELECT key, value FROM segmented WHERE key IN ({marks})", chunk))
        return found

    def put_many(self, items: list[tuple[str, str]]) -> None:
        with self.connection:
            self.connection.executemany("INSERT OR REPLACE INTO segmented VALUES (?, ?)", items)

    def close(self) -> None:
        self.connection.close()


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mttq-nlp"


def segment_texts(texts: Sequence[str], *, processes: int | None = None, cache_dir: str | os.PathLike | None = None,
                  on_progress: Callable[[int, int], None] | None = None, segment: bool = True) -> list[str]:
    """Segment many texts (``text.segmented``), in a pool of ``processes`` workers
    (default: up to 2) for large batches, with an optional on-disk cache.

    With ``segment=False`` the texts are only normalised (enough for syllable features).
    """
    texts = list(texts)
    total = len(texts)
    work = _segment_one if segment else _normalize_one
    results: list[str | None] = [None] * total
    cache = SegmentationCache(cache_dir) if (cache_dir is not None and segment) else None
    try:
        keys = [cache.key(t) for t in texts] if cache else []
        if cache:
            found = cache.get_many(keys)
            for i, key in enumerate(keys):
                results[i] = found.get(key)
        todo = [i for i, r in enumerate(results) if r is None]
        done = total - len(todo)
        if on_progress:
            on_progress(done, total)
        workers = processes or min(2, os.cpu_count() or 1)
        pool = None
        if len(todo) >= POOL_MIN and workers > 1:
            import multiprocessing

            pool = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None).Pool(workers)
        try:
            for start in range(0, len(todo), BATCH):
                batch = todo[start:start + BATCH]
                raw = [texts[i] for i in batch]
                out = pool.map(work, raw, chunksize=16) if pool else [work(t) for t in raw]
                for i, value in zip(batch, out):
                    results[i] = value
                if cache:
                    cache.put_many([(keys[i], results[i]) for i in batch])
                done += len(batch)
                if on_progress:
                    on_progress(done, total)
        finally:
            if pool:
                pool.close()
                pool.join()
    finally:
        if cache:
            cache.close()
    return results  # type: ignore[return-value]


def prepare_texts(texts: Sequence[str], params: dict, **options) -> list[str]:
    """The texts as the model's features expect them: segmented, or only normalised for
    syllable features (the same syllables, without the slow segmenter)."""
    return segment_texts(texts, segment=needs_segmentation(params), **options)


def article_text(article: Article) -> str:
    """The text an article is classified on: its title, a newline, its text."""
    return f"{article.title}\n{article.text}"


# --- labelled corpora -------------------------------------------------------------


@dataclass
class LabelledData:
    articles: list[Article]
    targets: list  # list[str] per article (multi-label) or str (single-label)
    multilabel: bool
    labels: list[str]
    read: int = 0
    skipped: int = 0
    unlabelled: int = 0


def _label_value(article: Article, label_field: str):
    if label_field == "labels":
        return article.labels
    value = article.fields.get(label_field)
    if isinstance(value, str):
        value = value.strip() or None
    elif isinstance(value, list):
        value = [v.strip() for v in value if isinstance(v, str) and v.strip()]
    elif value is not None:
        value = str(value)
    return value


def read_labelled(sources, label_field: str = "labels", *, on_problem: Callable[[Problem], None] | None = None,
                  role: str = "training") -> LabelledData:
    """Read the labelled records of a corpus: multi-label when the field holds lists,
    single-label when it holds strings. Raises ``TrainingError`` when nothing usable."""
    articles, targets = [], []
    read = skipped = unlabelled = 0
    seen_field = False
    field_names: dict[str, None] = {}
    kinds = set()
    for item in read_corpus(sources):
        if isinstance(item, Problem):
            if item.level != "warning":
                read += 1
                skipped += 1
            if on_problem:
                on_problem(item)
            continue
        read += 1
        field_names.update(dict.fromkeys(item.fields))
        if label_field in item.fields:
            seen_field = True
        value = _label_value(item, label_field)
        if value is None:
            unlabelled += 1
            continue
        kinds.add(type(value))
        articles.append(item)
        targets.append(value)
    if read == 0:
        raise TrainingError(f"No records in the {role} corpus.")
    if not seen_field:
        found = ", ".join(field_names) or "none"
        raise TrainingError(
            f"No record has a {label_field!r} field (fields found: {found}). "
            "Name the field that holds the topics with --label-field."
        )
    multilabel = list in kinds
    if multilabel:
        targets = [t if isinstance(t, list) else [t] for t in targets]
        labels = sorted({code for codes in targets for code in codes})
    else:
        labels = sorted(set(targets))
    if not articles or not labels:
        raise TrainingError(
            f"No labelled records: none of the {read} records has a topic in {label_field!r}. "
            "Label some records (e.g. \"labels\": [\"bau-cu\"]) or name another field with --label-field."
        )
    return LabelledData(articles, targets, multilabel, labels, read, skipped, unlabelled)


def _check_trainable(data: LabelledData, split: bool = False) -> None:
    """Refuse data that cannot give a model, saying why."""
    counts: dict[str, int] = dict.fromkeys(data.labels, 0) if split else {}
    where: dict[str, str] = {}
    for article, target in zip(data.articles, data.targets):
        for code in (target if data.multilabel else [target]):
            counts[code] = counts.get(code, 0) + 1
            where.setdefault(code, article.location)
    if not data.multilabel and len(counts) < 2:
        (only,) = counts
        raise TrainingError(
            f"Only one label in the training data ({only!r} on all {len(data.articles)} records): "
            "a classifier needs at least two. Add records of other labels."
        )
    if data.multilabel:
        n = len(data.articles)
        for code, count in counts.items():
            if count == n:
                raise TrainingError(
                    f"Label {code!r} is on every one of the {n} records, so nothing tells it apart: "
                    "add records without it (an article may have no label: \"labels\": [])."
                )
    once = sorted(code for code, count in counts.items() if count < 2)
    if once and split:
        raise TrainingError(
            f"After holding out records for evaluation, {', '.join(map(repr, once))} "
            f"{'has' if len(once) == 1 else 'have'} fewer than 2 training records. "
            "Add records of these labels, or evaluate on a separate corpus with --eval."
        )
    if once:
        shown = ", ".join(f"{code!r} ({where[code]})" for code in once[:5])
        more = f" and {len(once) - 5} more" if len(once) > 5 else ""
        raise TrainingError(
            f"Label{'s' if len(once) > 1 else ''} seen only once: {shown}{more}. "
            "Each label needs at least 2 records (10 or more for useful figures): add records or remove the label."
        )


# --- training ---------------------------------------------------------------------


@dataclass
class TrainingResult:
    model: TopicModel
    path: Path
    card: dict = field(default_factory=dict)


def _fingerprint(data: LabelledData) -> dict:
    digest = hashlib.sha256()
    for article, target in zip(data.articles, data.targets):
        digest.update(json.dumps([article.title, article.text, target], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return {"count": len(data.articles), "sha256": digest.hexdigest()}


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("mttq-nlp", "scikit-learn", "numpy", "scipy", "joblib", "underthesea"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _split(data: LabelledData, eval_split: float, seed: int):
    from sklearn.model_selection import train_test_split

    n = len(data.articles)
    if data.multilabel:
        y = _binarize(data.targets, data.labels)
        keys = _stratify_keys(y, True, data.labels)
    else:
        keys = _stratify_keys(np.asarray(data.targets, dtype=object), False, data.labels)
    indices = np.arange(n)
    try:
        train_index, test_index = train_test_split(indices, test_size=eval_split, random_state=seed, stratify=keys)
    except ValueError:
        train_index, test_index = train_test_split(indices, test_size=eval_split, random_state=seed)
    return sorted(train_index), sorted(test_index)


def _subset(data: LabelledData, index) -> LabelledData:
    return LabelledData([data.articles[i] for i in index], [data.targets[i] for i in index],
                        data.multilabel, data.labels)


def train(
    sources,
    out_dir: str | os.PathLike,
    *,
    label_field: str = "labels",
    eval_sources=None,
    eval_split: float = 0.2,
    cv: int | None = None,
    seed: int = 0,
    params: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
    processes: int | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: str | None = None,
) -> TrainingResult:
    """Train a topic model on labelled corpora, evaluate it on held-out data, save it.

    ``eval_sources``: evaluate on this corpus; otherwise on a stratified hold-out of
    ``eval_split`` of the records (0: no hold-out, then ``cv`` is required).
    ``cv``: also give k-fold cross-validated figures on the training records.
    The model folder ``out_dir`` is replaced atomically once the new model is complete.
    """
    from .evaluate import compute_metrics

    params = {**DEFAULT_PARAMS, **(params or {})}
    stage = on_stage or (lambda message: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if not 0 <= eval_split < 1:
        raise TrainingError(f"--eval-split must be at least 0 and below 1, got {eval_split}.")
    if cv is not None and cv < 2:
        raise TrainingError(f"--cv must be 2 or more, got {cv}.")
    if eval_sources is None and eval_split == 0 and not cv:
        raise TrainingError("Nothing to evaluate the model on: use --eval-split (e.g. 0.2), --eval CORPUS or --cv K.")

    clock = time.perf_counter()
    data = read_labelled(sources, label_field, on_problem=on_problem)
    _check_trainable(data)
    held_out = None
    if eval_sources is not None:
        held_out = read_labelled(eval_sources, label_field, on_problem=on_problem, role="evaluation")
        if held_out.multilabel != data.multilabel:
            raise TrainingError(f"The evaluation corpus has {'lists' if held_out.multilabel else 'strings'} "
                                f"in {label_field!r} and the training corpus does not.")
        training = data
    elif eval_split > 0:
        train_index, test_index = _split(data, eval_split, seed)
        training, held_out = _subset(data, train_index), _subset(data, test_index)
        _check_trainable(training, split=True)
    else:
        training = data
    timings["read"] = time.perf_counter() - clock
    stage(f"read {data.read:,} records: {len(data.articles):,} labelled, {data.unlabelled:,} without labels, "
          f"{data.skipped:,} skipped; {len(data.labels)} labels, "
          f"{'multi' if data.multilabel else 'single'}-label")

    clock = time.perf_counter()
    what = "segmenting" if needs_segmentation(params) else "normalising"
    stage(f"{what} {len(training.articles):,} training records")
    train_texts = prepare_texts([article_text(a) for a in training.articles], params,
                                processes=processes, cache_dir=cache_dir, on_progress=on_progress)
    timings["segment_train"] = time.perf_counter() - clock

    cv_metrics = cv_unaccented = None
    if cv:
        clock = time.perf_counter()
        stage(f"cross-validating ({cv} folds)")
        cv_metrics = _cross_validate(train_texts, training, params, seed, cv)
        cv_unaccented = cv_metrics.pop("unaccented", None)
        timings["cross_validate"] = time.perf_counter() - clock

    clock = time.perf_counter()
    stage(f"fitting on {len(train_texts):,} records")
    model = fit_model(train_texts, training.targets, multilabel=training.multilabel,
                      labels=data.labels, params=params, seed=seed)
    timings["fit"] = time.perf_counter() - clock

    metrics = unaccented_metrics = None
    if held_out is not None:
        clock = time.perf_counter()
        stage(f"{what} {len(held_out.articles):,} held-out records")
        eval_texts = prepare_texts([article_text(a) for a in held_out.articles], params,
                                   processes=processes, cache_dir=cache_dir, on_progress=on_progress)
        timings["segment_eval"] = time.perf_counter() - clock
        clock = time.perf_counter()
        predictions = _predict_batched(model, eval_texts)
        metrics = compute_metrics(held_out.targets, predictions, model.labels_, model.multilabel)
        timings["evaluate"] = time.perf_counter() - clock
        stage(_metrics_line(metrics))
        if model.unaccented_ is not None:
            predictions = _predict_batched(model, [analysis.fold(text) for text in eval_texts])
            unaccented_metrics = compute_metrics(held_out.targets, predictions, model.labels_, model.multilabel)
            stage(_metrics_line(unaccented_metrics, "the same, typed without diacritics"))
    timings["total"] = time.perf_counter() - started

    card = {
        "format": FORMAT,
        "task": "multi-label" if model.multilabel else "single-label",
        "labels": model.labels_,
        "thresholds": None if model.thresholds_ is None else dict(zip(model.labels_, map(float, model.thresholds_))),
        "label_field": label_field,
        "params": params,
        "seed": seed,
        "training_data": {
            **_fingerprint(data),
            "sources": [os.fspath(s) for s in sources],
            "trained_on": len(training.articles),
        },
        "evaluation": {
            "method": ("corpus" if eval_sources is not None else
                       f"stratified hold-out {eval_split:g}" if eval_split > 0 else None),
            "sources": [os.fspath(s) for s in eval_sources] if eval_sources is not None else None,
            "records": len(held_out.articles) if held_out is not None else 0,
            "metrics": metrics,
            "cross_validation": cv_metrics,
            # the same held-out records with their marks stripped (the twin model's figures)
            "unaccented": {"metrics": unaccented_metrics,
                           "cross_validation": cv_unaccented},
        },
        "versions": _versions(),
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": command,
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
    }
    path = save_model(model, out_dir, card)
    return TrainingResult(model, path, model.card)


def _metrics_line(metrics: dict, what: str = "held-out") -> str:
    parts = []
    if metrics.get("accuracy") is not None:
        parts.append(f"accuracy {metrics['accuracy']:.4f}")
    parts.append(f"micro-F1 {metrics['micro']['f1']:.4f}")
    parts.append(f"macro-F1 {metrics['macro']['f1']:.4f}")
    return f"{what}: " + ", ".join(parts)


def _predict_batched(model: TopicModel, texts: Sequence[str], batch: int = 1024) -> list[Prediction]:
    out: list[Prediction] = []
    for start in range(0, len(texts), batch):
        out.extend(model.predict_segmented(texts[start:start + batch]))
    return out


def _cross_validate(texts, data: LabelledData, params, seed, k) -> dict:
    from sklearn.model_selection import StratifiedKFold

    from .evaluate import compute_metrics

    targets = data.targets
    if data.multilabel:
        keys = _stratify_keys(_binarize(targets, data.labels), True, data.labels)
    else:
        keys = _stratify_keys(np.asarray(targets, dtype=object), False, data.labels)
    smallest = int(np.unique(keys, return_counts=True)[1].min())
    if smallest < k:
        raise TrainingError(
            f"--cv {k} needs at least {k} records of every label; the rarest has {smallest}. Use a smaller --cv."
        )
    texts = np.asarray(texts, dtype=object)
    folds, unaccented_folds = [], []
    for train_index, test_index in StratifiedKFold(k, shuffle=True, random_state=seed).split(texts, keys):
        fold_targets = [targets[i] for i in train_index]
        fold = LabelledData([data.articles[i] for i in train_index], fold_targets, data.multilabel, data.labels)
        _check_trainable(fold)
        if data.multilabel:
            absent = [code for code in data.labels if not any(code in t for t in fold_targets)]
            if absent:
                raise TrainingError(f"--cv {k}: one fold's training part has no record of {', '.join(absent)}. "
                                    "Use a smaller --cv, or add records of these labels.")
        model = fit_model(list(texts[train_index]), fold_targets, multilabel=data.multilabel,
                          labels=data.labels, params=params, seed=seed)
        fold_gold = [targets[i] for i in test_index]
        predictions = _predict_batched(model, list(texts[test_index]))
        folds.append(compute_metrics(fold_gold, predictions, model.labels_, model.multilabel))
        if model.unaccented_ is not None:
            predictions = _predict_batched(model, [analysis.fold(texts[i]) for i in test_index])
            unaccented_folds.append(compute_metrics(fold_gold, predictions, model.labels_, model.multilabel))
    summary = _summarise_folds(folds)
    if unaccented_folds:
        summary["unaccented"] = _summarise_folds(unaccented_folds)
    return summary


def _summarise_folds(folds: list[dict]) -> dict:
    """Mean and standard deviation over folds of accuracy and micro/macro P, R, F1."""
    summary = {"folds": len(folds)}
    for name in ("accuracy",):
        values = [f[name] for f in folds if f.get(name) is not None]
        if values:
            summary[name] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
    for average in ("micro", "macro"):
        for measure in ("precision", "recall", "f1"):
            values = [f[average][measure] for f in folds]
            summary[f"{average}_{measure}"] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
    return summary


# --- saving and loading -----------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(model: TopicModel, out_dir: str | os.PathLike, card: dict) -> Path:
    """Write the model folder atomically: a temporary folder beside it, then a rename.
    The old model stays in place until the new one is complete."""
    import joblib

    out = Path(out_dir).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise ModelError(f"{out_dir} exists and is not a folder: choose another --out.")
    if out.is_dir() and any(out.iterdir()) and not (out / CARD_FILE).exists():
        raise ModelError(f"{out_dir} is a folder that holds something other than a model: choose another --out.")
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        payload = {"format": FORMAT, **_components(model)}
        if model.unaccented_ is not None:
            payload["unaccented"] = {**_components(model.unaccented_), "params": model.unaccented_.params}
        joblib.dump(payload, temporary / MODEL_FILE, compress=3)
        card = {**card, "model_file": MODEL_FILE, "model_sha256": _sha256_file(temporary / MODEL_FILE)}
        (temporary / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        for name in (MODEL_FILE, CARD_FILE):
            with open(temporary / name, "rb") as handle:
                os.fsync(handle.fileno())
        os.chmod(temporary, 0o755)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}-{int(time.time())}"
            os.rename(out, old)
        os.rename(temporary, out)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    model.card, model.path = card, out
    return out


def _components(model: TopicModel) -> dict:
    """What is saved of a model: its fitted estimators, labels and thresholds."""
    # Two identical trainings should give identical files. Two attributes of the
    # vectoriser stand in the way: the terms cut by min_df/max_df (a set, pickled in
    # hash order, and large; kept for inspection only) and the id() of the stop-word
    # list (a cache key that scikit-learn checks again when it is missing).
    if getattr(model.vectorizer_, "stop_words_", None) is not None:
        model.vectorizer_.stop_words_ = None
    if hasattr(model.vectorizer_, "_stop_words_id"):
        model.vectorizer_._stop_words_id = None
    return {
        "vectorizer": model.vectorizer_,
        "classifier": model.classifier_,
        "labels": model.labels_,
        "multilabel": model.multilabel,
        "thresholds": None if model.thresholds_ is None else model.thresholds_.tolist(),
    }


def default_model_dir() -> Path:
    """$MTTQ_NLP_MODEL, else the bundled ``front-topics`` model folder."""
    if os.environ.get(MODEL_ENV):
        return Path(os.environ[MODEL_ENV])
    from importlib import util

    spec = util.find_spec("mttq_nlp.bundled_models")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelError("The bundled models are not installed; give a model folder with --model.")
    return Path(locations[0]) / DEFAULT_MODEL_NAME


def _retrain_hint(card: dict | None, model_dir) -> str:
    command = (card or {}).get("command")
    if command:
        return f"Retrain it with: {command}"
    return f"Retrain it with: mttq-nlp train CORPUS --out {model_dir}"


def load_model(model_dir: str | os.PathLike | None = None) -> TopicModel:
    """Load a model folder written by ``train`` (default: ``default_model_dir()``).

    The card is checked before anything is unpickled: the format, the scikit-learn
    version (same major.minor) and the sha256 of the joblib file. Raises ``ModelError``
    with what to do otherwise.
    """
    from importlib import metadata

    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    card_path, model_path = folder / CARD_FILE, folder / MODEL_FILE
    if not card_path.is_file():
        if not folder.exists():
            raise ModelError(f"No topic model at {folder}. Train one: mttq-nlp train CORPUS --out {folder}")
        raise ModelError(f"No {CARD_FILE} in {folder}: this is not a topic model. "
                         f"Train one: mttq-nlp train CORPUS --out {folder}")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if not isinstance(card, dict):
            raise ValueError("not an object")
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelError(f"{card_path} is corrupted ({error}). {_retrain_hint(None, folder)}") from None
    hint = _retrain_hint(card, folder)
    if card.get("format") != FORMAT:
        raise ModelError(f"{folder} holds a model of format {card.get('format')!r}, expected {FORMAT!r}. {hint}")
    if not model_path.is_file():
        raise ModelError(f"{model_path} is missing. {hint}")
    made_with = (card.get("versions") or {}).get("scikit-learn") or "?"
    running = metadata.version("scikit-learn")
    if made_with.split(".")[:2] != running.split(".")[:2]:
        raise ModelError(
            f"{folder} was made with scikit-learn {made_with} and this is scikit-learn {running}: "
            f"models do not load safely across versions. {hint} "
            f"(or install scikit-learn=={made_with})"
        )
    expected = card.get("model_sha256")
    if not expected or _sha256_file(model_path) != expected:
        raise ModelError(
            f"{model_path} does not match the sha256 in {CARD_FILE}: the file is corrupted or was changed, "
            f"and it is not loaded (model files run code when loaded). {hint}"
        )
    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    try:
        with warnings.catch_warnings():
            # another patch release of the same minor version (checked above) loads fine
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            payload = joblib.load(model_path)
    except Exception as error:  # a file with the right checksum that still fails
        raise ModelError(f"{model_path} cannot be loaded ({type(error).__name__}: {error}). {hint}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{model_path} is not a mttq-nlp topic model. {hint}")
    twin = payload.get("unaccented")  # absent from models made before the twin existed
    if twin is not None:
        twin = TopicModel(twin["vectorizer"], twin["classifier"], twin["labels"], twin["multilabel"],
                          twin["thresholds"], {"params": twin["params"]}, folder)
    return TopicModel(payload["vectorizer"], payload["classifier"], payload["labels"], payload["multilabel"],
                      payload["thresholds"], card, folder, unaccented=twin)
