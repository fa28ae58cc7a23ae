"""Retraining benchmark: the topic classifier on the VNTC news corpus (10 topics).

Trains with the project's own `mttq-nlp train` on VNTC train (33,759 articles) and
evaluates on VNTC test (50,373 articles), then prints accuracy, macro-F1, training
wall time and peak memory (ru_maxrss of the training process and its segmentation
workers). Published: SVM 93.4% (Vu et al. 2007), underthesea sen-1 92.49%.

    python benchmarks/vntc_classifier.py                 # the measurement in the README
    python benchmarks/vntc_classifier.py --choices       # the feature/model comparison

Run from the project root; the corpus is expected at ../shared/corpora/vntc/.
Timings on a shared machine are inflated by whatever else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VNTC = ROOT.parent / "shared" / "corpora" / "vntc"
RESULTS = ROOT / "benchmarks" / "results"


def _peak_rss_mb(who) -> float:
    # ru_maxrss is in KiB on Linux; for RUSAGE_CHILDREN it is the largest child
    return resource.getrusage(who).ru_maxrss / 1024


def measure(args) -> dict:
    train_file, test_file = Path(args.train), Path(args.test)
    for path in (train_file, test_file):
        if not path.is_file():
            sys.exit(f"VNTC corpus not found: {path} is absent. Put train.jsonl.gz and test.jsonl.gz "
                     f"in {VNTC} (or give --train/--test).")
    out = Path(args.out or tempfile.mkdtemp(prefix="vntc-model-")) / "model"
    command = [sys.executable, "-m", "mttq_nlp", "train", str(train_file), "--label-field", "label",
               "--eval", str(test_file), "--out", str(out), "--json", "-q"]
    if args.cache_dir:
        command += ["--cache-dir", args.cache_dir]
    else:
        command += ["--no-cache"]
    command += args.train_args
    print("$ " + shlex.join(["mttq-nlp", *command[3:]]), file=sys.stderr)
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if completed.returncode:
        sys.exit(f"training failed (exit {completed.returncode})")
    card = json.loads(completed.stdout)
    timings = card["timings_seconds"]
    metrics = card["evaluation"]["metrics"]
    training = timings["read"] + timings["segment_train"] + timings["fit"]
    return {
        "command": shlex.join(["mttq-nlp", *command[3:]]),
        "card": card,
        "metrics": metrics,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro"]["f1"],
        "training_seconds": training,
        "timings": timings,
        "wall_seconds": wall,
        "peak_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN),
        "model_dir": str(out),
        "model_mb": sum(p.stat().st_size for p in out.iterdir()) / 2**20,
        "load": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def table(result: dict) -> str:
    t = result["timings"]
    rows = [
        ("accuracy (VNTC test, 50,373 articles)", f"{result['accuracy']:.4f}", "≥ 0.94"),
        ("macro-F1", f"{result['macro_f1']:.4f}", "≥ 0.925"),
        ("micro-F1", f"{result['metrics']['micro']['f1']:.4f}", ""),
        ("top-label calibration error (ECE)", f"{result['metrics']['calibration']['ece']:.4f}", ""),
    ]
    unaccented = (result["card"]["evaluation"].get("unaccented") or {}).get("metrics")
    if unaccented:  # the same test articles with their marks stripped, classified by the twin model
        rows += [("accuracy, test typed without diacritics", f"{unaccented['accuracy']:.4f}", ""),
                 ("macro-F1, test typed without diacritics", f"{unaccented['macro']['f1']:.4f}", "")]
    rows += [
        ("training wall time (read + segment + fit)", f"{result['training_seconds'] / 60:.1f} min "
         f"({t['read']:.0f} + {t['segment_train']:.0f} + {t['fit']:.0f} s)", "< 10 min"),
        ("evaluation (segment test + predict)", f"{(t.get('segment_eval', 0) + t.get('evaluate', 0)) / 60:.1f} min", ""),
        ("whole command wall time", f"{result['wall_seconds'] / 60:.1f} min", ""),
        ("peak RSS (training process and workers)", f"{result['peak_rss_mb'] / 1024:.2f} GB", "< 8 GB"),
        ("model size on disk", f"{result['model_mb']:.1f} MB", ""),
    ]
    lines = ["| measure | result | goal |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    per_label = ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for row in result["metrics"]["per_label"]:
        per_label.append(f"| {row['label']} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
                         f"{row['support']:,} |")
    load = ", ".join(f"{x:.1f}" for x in result["load"])
    return "\n".join(lines + per_label + [
        "", f"Machine: {result['cpus']} cores, shared with other work (load average at the end: {load}).",
        f"Command: `{result['command']}`", f"Parameters: `{json.dumps(result['card']['params'])}`"])


# --- the comparison of features and models ----------------------------------------


def choices(args) -> str:
    """Compare features and linear models on an 80/20 stratified split of VNTC *train*
    (the test set is not used to choose), with plain (uncalibrated) classifiers."""
    import gzip

    import numpy as np
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.svm import LinearSVC

    from mttq_nlp import classify

    records = [json.loads(line) for line in gzip.open(args.train, "rt", encoding="utf-8")]
    raw = [f"{r.get('title') or ''}\n{r.get('text') or ''}" for r in records]
    labels = np.array([r["label"] for r in records])
    cache = args.cache_dir or str(classify.default_cache_dir())
    started = time.perf_counter()
    segmented = classify.segment_texts(raw, cache_dir=cache)
    print(f"segmented {len(raw):,} texts in {time.perf_counter() - started:.0f} s (cache {cache})", file=sys.stderr)
    started = time.perf_counter()
    normalised = classify.segment_texts(raw, segment=False)
    print(f"normalised {len(raw):,} texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    index = np.arange(len(raw))
    train_index, test_index = train_test_split(index, test_size=0.2, random_state=0, stratify=labels)
    rows = ["| features | model | terms | accuracy | macro-F1 | vectorise + fit |", "|---|---|---|---|---|---|"]

    def run(name, model="svm", C=0.5, **changes):
        params = {**classify.DEFAULT_PARAMS, **changes}
        texts = normalised if params["features"] == "syllables" else segmented
        started = time.perf_counter()
        vectorizer = classify.make_vectorizer(params)
        a = vectorizer.fit_transform([texts[i] for i in train_index])
        b = vectorizer.transform([texts[i] for i in test_index])
        vectorised = time.perf_counter() - started
        if model == "svm":
            classifier = LinearSVC(C=C)
        elif model == "logreg":
            classifier = LogisticRegression(C=C, max_iter=1000)
        else:
            classifier = SGDClassifier(loss="modified_huber", alpha=C, random_state=0)
        classifier.fit(a, labels[train_index])
        predicted = classifier.predict(b)
        row = (f"| {name} | {model} C={C:g} | {a.shape[1]:,} | {accuracy_score(labels[test_index], predicted):.4f} | "
               f"{f1_score(labels[test_index], predicted, average='macro'):.4f} | "
               f"{vectorised:.0f} + {time.perf_counter() - started - vectorised:.0f} s |")
        print(row, file=sys.stderr)
        rows.append(row)

    run("syllables 1-gram", features="syllables", ngram_max=1)
    run("syllables 1-2-gram", features="syllables", ngram_max=2)
    run("syllables 1-3-gram", features="syllables", ngram_max=3)
    run("words 1-gram", features="words", ngram_max=1)
    run("words 1-2-gram", features="words", ngram_max=2)
    run("terms (words + syllables) 1-gram", features="terms", ngram_max=1)
    best = dict(features=args.best_features, ngram_max=args.best_ngrams)
    tag = f"{args.best_features} 1-{args.best_ngrams}-gram"
    run(f"{tag}, raw tf (no sublinear)", sublinear_tf=False, **best)
    run(f"{tag}, min_df 1", min_df=1, **best)
    run(f"{tag}, min_df 5", min_df=5, **best)
    run(f"{tag}, max_features 200k", max_features=200_000, **best)
    run(f"{tag}, max_df 1.0", max_df=1.0, **best)
    for C in (0.1, 0.25, 1.0):
        run(tag, C=C, **best)
    run(tag, model="logreg", C=30, **best)
    run(tag, model="sgd", C=1e-5, **best)
    return "\n".join(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", default=str(VNTC / "train.jsonl.gz"))
    parser.add_argument("--test", default=str(VNTC / "test.jsonl.gz"))
    parser.add_argument("--out", help="Keep the model in OUT/model (default: a temporary folder).")
    parser.add_argument("--cache-dir", help="Segmentation cache (default: none, a cold measurement).")
    parser.add_argument("--choices", action="store_true", help="Compare features and models instead.")
    parser.add_argument("--best-features", default="words")
    parser.add_argument("--best-ngrams", type=int, default=2)
    parser.add_argument("--no-save", action="store_true", help="Do not write benchmarks/results/.")
    parser.add_argument("train_args", nargs="*", help="Extra `mttq-nlp train` options, after --.")
    args = parser.parse_args(argv)
    if args.choices:
        if not Path(args.train).is_file():
            sys.exit(f"VNTC corpus not found: {args.train} is absent.")
        text = choices(args)
        print(text)
        if not args.no_save:
            (RESULTS / "vntc-choices.md").write_text(text + "\n", encoding="utf-8")
        return
    result = measure(args)
    text = table(result)
    print(text)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "vntc-classifier.md").write_text(text + "\n", encoding="utf-8")
        from mttq_nlp.report import write_report

        metrics = {**result["metrics"], "model": "VNTC model (benchmark)",
                   "corpus": {"sources": ["VNTC test.jsonl.gz"]}}
        write_report(metrics, RESULTS / "vntc-report.html", result["card"])


if __name__ == "__main__":
    main()
