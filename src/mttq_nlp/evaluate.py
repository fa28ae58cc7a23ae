"""Evaluation of a topic model on labelled data: accuracy, precision, recall, F1,
per-label figures with support, confusion, and calibration.

``compute_metrics`` works on predictions already made (``train`` uses it on its held-out
records); ``evaluate_model`` reads a corpus, predicts and computes them.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from .corpus import Problem

__all__ = ["compute_metrics", "evaluate_model"]


def _prf(tp: float, fp: float, fn: float) -> dict:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _calibration(probabilities: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error over equal-width bins, and the Brier score."""
    if probabilities.size == 0:
        return {"ece": None, "brier": None, "bins": []}
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        confidence, frequency = float(probabilities[mask].mean()), float(outcomes[mask].mean())
        ece += mask.mean() * abs(confidence - frequency)
        table.append({"from": float(edges[b]), "to": float(edges[b + 1]), "count": int(mask.sum()),
                      "mean_probability": confidence, "frequency": frequency})
    return {"ece": float(ece), "brier": float(np.mean((probabilities - outcomes) ** 2)), "bins": table}


def compute_metrics(gold: Sequence, predictions: Sequence, labels: Sequence[str], multilabel: bool) -> dict:
    """Metrics of ``predictions`` (``Prediction`` objects) against ``gold`` (a list of
    codes per record for multi-label, one code per record for single-label).

    Single-label: accuracy and the confusion matrix (rows: true label, columns:
    predicted). Multi-label: exact-match ratio and per-label TP/FP/FN/TN. Both: micro
    and macro precision/recall/F1, a per-label table with support, and calibration
    (expected calibration error, Brier score) of the probabilities.
    """
    model_labels = list(labels)
    gold_sets = [set(g) if multilabel else {g} for g in gold]
    extra = sorted({code for codes in gold_sets for code in codes} - set(model_labels))
    all_labels = model_labels + extra
    n = len(gold_sets)
    per_label, confusion = [], {}
    totals = np.zeros(3)
    for label in all_labels:
        tp = sum(1 for g, p in zip(gold_sets, predictions) if label in g and label in p.labels)
        fp = sum(1 for g, p in zip(gold_sets, predictions) if label not in g and label in p.labels)
        fn = sum(1 for g, p in zip(gold_sets, predictions) if label in g and label not in p.labels)
        totals += (tp, fp, fn)
        per_label.append({"label": label, **_prf(tp, fp, fn), "support": tp + fn})
        confusion[label] = {"tp": tp, "fp": fp, "fn": fn, "tn": n - tp - fp - fn}
    macro = {key: float(np.mean([row[key] for row in per_label])) if per_label else 0.0
             for key in ("precision", "recall", "f1")}
    result = {
        "records": n,
        "task": "multi-label" if multilabel else "single-label",
        "labels": all_labels,
        "accuracy": None,
        "micro": _prf(*totals),
        "macro": macro,
        "per_label": per_label,
    }
    if multilabel:
        result["exact_match"] = (sum(g == set(p.labels) for g, p in zip(gold_sets, predictions)) / n) if n else 0.0
        result["per_label_confusion"] = confusion
        probabilities = np.array([[p.scores.get(label, 0.0) for label in model_labels] for p in predictions])
        outcomes = np.array([[label in g for label in model_labels] for g in gold_sets], dtype=float)
        result["calibration"] = _calibration(probabilities.ravel(), outcomes.ravel())
    else:
        index = {label: i for i, label in enumerate(all_labels)}
        matrix = np.zeros((len(all_labels), len(all_labels)), dtype=int)
        for g, p in zip(gold, predictions):
            matrix[index[g], index[p.labels[0]]] += 1
        result["accuracy"] = float(np.trace(matrix) / n) if n else 0.0
        result["confusion_matrix"] = {"labels": all_labels, "matrix": matrix.tolist()}
        top = np.array([max(p.scores.values()) for p in predictions]) if predictions else np.zeros(0)
        hits = np.array([g == p.labels[0] for g, p in zip(gold, predictions)], dtype=float)
        result["calibration"] = _calibration(top, hits)
    return result


def evaluate_model(model, sources, label_field: str | None = None, *, cache_dir: str | os.PathLike | None = None,
                   processes: int | None = None, on_problem: Callable[[Problem], None] | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Read a labelled corpus, predict with ``model``, and return ``compute_metrics``.

    ``label_field`` defaults to the field the model was trained on.
    """
    from .classify import _predict_batched, article_text, prepare_texts, read_labelled
    from .errors import TrainingError

    label_field = label_field or model.card.get("label_field") or "labels"
    data = read_labelled(sources, label_field, on_problem=on_problem, role="evaluation")
    if data.multilabel != model.multilabel:
        raise TrainingError(
            f"The corpus is {'multi' if data.multilabel else 'single'}-label in {label_field!r} but the model is "
            f"{'multi' if model.multilabel else 'single'}-label: use --label-field to name the right field."
        )
    texts = prepare_texts([article_text(a) for a in data.articles], model.params,
                          processes=processes, cache_dir=cache_dir, on_progress=on_progress)
    predictions = _predict_batched(model, texts)
    metrics = compute_metrics(data.targets, predictions, model.labels_, model.multilabel)
    metrics["corpus"] = {"sources": [os.fspath(s) for s in sources], "read": data.read,
                         "skipped": data.skipped, "unlabelled": data.unlabelled}
    metrics["model"] = str(model.path) if model.path else None
    return metrics
