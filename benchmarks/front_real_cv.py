"""Would real labelled articles lift the Front model? Cross-validation over the real sets.

The 421 labelled real VNTC articles (the check set and the development set of
``front_real_news.py``, read by id from ``../shared/corpora/vntc``) are split into K
folds, stratified by first topic. Each fold is predicted by a model trained on the rest:

* ``shipped``: the bundled model as it is (trained on ``corpus/`` alone; no folds needed);
* ``shipped, real thresholds``: the bundled model with each label's threshold tuned on the
  other folds' real articles (labels absent there keep theirs);
* ``real``: the other folds' real articles alone;
* ``corpus+real``: ``corpus/`` plus the other folds' real articles (``--repeat N``
  counts each real article N times).

Every prediction is of an article the model did not train on. This is an experiment to
say where the next gain is, not how the shipped model was made: the shipped model is
trained on ``corpus/`` only and never sees these articles.

Prints Markdown: macro- and micro-F1 on the check set, the development set and both,
and per-label F1 on both (over the labels that occur).

    python benchmarks/front_real_cv.py                 # about 2 minutes on 2 cores
    python benchmarks/front_real_cv.py --repeat 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from report_notes import print_or_write
from front_real_news import DEV, LABELS, VNTC, joined, read_articles, read_labels
from mttq_nlp.classify import tune_thresholds, article_text, fit_model, load_model, read_labelled, segment_texts
from mttq_nlp.topics import TOPIC_CODES

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def indicator(label_lists, codes) -> np.ndarray:
    return np.array([[code in labels for code in codes] for labels in label_lists], dtype=int)


def scores(gold: np.ndarray, predicted: np.ndarray, codes) -> dict:
    """Macro/micro F1 and per-label F1 over the labels that occur in ``gold``."""
    present = [j for j in range(len(codes)) if gold[:, j].any()]
    per_label = f1_score(gold[:, present], predicted[:, present], average=None, zero_division=0)
    return {"macro": float(per_label.mean()),
            "micro": float(f1_score(gold[:, present], predicted[:, present], average="micro", zero_division=0)),
            "per_label": {codes[j]: float(f) for j, f in zip(present, per_label)}}


def cross_validated(variant, real_texts, real_targets, corpus_texts, corpus_targets, folds, repeat, seed):
    """Out-of-fold topic lists for every real article."""
    strata = [targets[0] if targets else "none" for targets in real_targets]
    out: list[list[str]] = [[] for _ in real_texts]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(real_texts, strata):
        texts = [real_texts[i] for i in train_index] * repeat
        targets = [real_targets[i] for i in train_index] * repeat
        if variant == "corpus+real":
            texts, targets = list(corpus_texts) + texts, list(corpus_targets) + targets
        present = [code for code in TOPIC_CODES if any(code in t for t in targets)]
        model = fit_model(texts, targets, multilabel=True, labels=present, seed=seed)
        for i, prediction in zip(test_index, model.predict_segmented([real_texts[i] for i in test_index])):
            out[i] = prediction.labels
    return out


def retuned_thresholds(model, real_texts, real_targets, folds, seed):
    """Out-of-fold topic lists of the model with thresholds tuned on the other folds."""
    probabilities = model._probabilities(model.vectorizer_.transform(real_texts))
    gold = indicator(real_targets, model.labels_)
    strata = [targets[0] if targets else "none" for targets in real_targets]
    labels = np.asarray(model.labels_, dtype=object)
    out: list[list[str]] = [[] for _ in real_texts]
    for train_index, test_index in StratifiedKFold(folds, shuffle=True, random_state=seed).split(real_texts, strata):
        tuned = tune_thresholds(gold[train_index], probabilities[train_index])
        thresholds = np.where(gold[train_index].any(axis=0), tuned, model.thresholds_)
        for i in test_index:
            out[i] = [str(label) for label in labels[probabilities[i] >= thresholds]]
    return out


def main(argv=None) -> None:
    print_or_write(_report, argv)


def _report(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="count each real training article N times")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vntc", default=str(VNTC), help="folder of VNTC train/test.jsonl.gz")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE, keeping the notes written by hand "
                        "at its end (default: standard output)")
    args = parser.parse_args(argv)

    check_labels, dev_labels = read_labels(LABELS), read_labels(DEV)
    articles = read_articles(set(check_labels) | set(dev_labels), Path(args.vntc))
    real = joined(check_labels, articles) + joined(dev_labels, articles)
    in_check = np.array([record["id"] in check_labels for record in real])
    real_raw = [f"{record['title']}\n{record['text']}" for record in real]
    real_targets = [record["labels"] for record in real]
    corpus = read_labelled([CORPUS])

    started = time.perf_counter()
    segmented = segment_texts([article_text(a) for a in corpus.articles] + real_raw)
    corpus_texts, real_texts = segmented[:len(corpus.articles)], segmented[len(corpus.articles):]

    shipped = load_model()
    predicted = {"shipped (corpus/ only)": [p.labels for p in shipped.predict_segmented(real_texts)],
                 f"shipped, thresholds tuned on real articles, {args.folds}-fold":
                     retuned_thresholds(shipped, real_texts, real_targets, args.folds, args.seed)}
    for variant in ("real", "corpus+real"):
        predicted[f"{variant}, {args.folds}-fold"] = cross_validated(
            variant, real_texts, real_targets, corpus_texts, corpus.targets, args.folds, args.repeat, args.seed)
    seconds = time.perf_counter() - started

    gold = indicator(real_targets, TOPIC_CODES)
    print(f"# Front topics: would real labelled articles help? ({len(real)} real articles, "
          f"{args.folds} folds, each real training article counted {args.repeat}×, seed {args.seed})\n")
    print("| model | check set macro (micro) | development set macro (micro) | both macro (micro) |")
    print("|---|---:|---:|---:|")
    results = {}
    for name, labels in predicted.items():
        guess = indicator(labels, TOPIC_CODES)
        results[name] = [scores(gold[mask], guess[mask], TOPIC_CODES) for mask in (in_check, ~in_check, in_check | True)]
        print(f"| {name} | " + " | ".join(f"{r['macro']:.3f} ({r['micro']:.3f})" for r in results[name]) + " |")
    codes = list(next(iter(results.values()))[2]["per_label"])
    print("\nPer-label F1 on both sets:\n")
    print("| model | " + " | ".join(f"`{c}`" for c in codes) + " |")
    print("|---|" + "---:|" * len(codes))
    for name, (_, _, both) in results.items():
        print(f"| {name} | " + " | ".join(f"{both['per_label'][c]:.2f}" for c in codes) + " |")
    print(f"\n{len(real)} articles, all variants, in {seconds:.0f} s.")
    print("\nReproduce: `python benchmarks/front_real_cv.py --output benchmarks/results/front-real-cv.md` "
          "(it keeps the notes below, written by hand).")
    return args


if __name__ == "__main__":
    main()
