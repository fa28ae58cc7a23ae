"""How well the default Front topic model (and the shipped rules) do on REAL news.

The check set is ``benchmarks/vntc_front_labels.jsonl``: ids of real VNTC articles that
mention the Front, labelled by the guideline (``shared/docs/taxonomy.md``), with no text.
The texts are read by id from ``../shared/corpora/vntc/{train,test}.jsonl.gz``; they are
never copied into the project, and the shipped model is not trained on them.

Prints Markdown: micro- and macro-F1 and per-label precision, recall, F1 and support,
on the labels that occur in the check set (macro-F1 averages those), for the model and
for the rules.

    python benchmarks/front_real_news.py                       # the bundled model
    python benchmarks/front_real_news.py --model DIR --rules FILE
    python benchmarks/front_real_news.py > benchmarks/results/front-real-news.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

from mttq_nlp.classify import load_model
from mttq_nlp.rules import evaluate_rules, load_rules
from mttq_nlp.topics import TOPIC_CODES

HERE = Path(__file__).resolve().parent
LABELS = HERE / "vntc_front_labels.jsonl"
VNTC = HERE.parent.parent / "shared" / "corpora" / "vntc"


def read_check_set(labels_path: Path, vntc_dir: Path) -> list[dict]:
    """The labelled ids joined with their VNTC title and text (in the labels file's order)."""
    wanted = {}
    for line in labels_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            wanted[record["id"]] = record["labels"]
    found = {}
    for part in ("train", "test"):
        path = vntc_dir / f"{part}.jsonl.gz"
        if not path.exists():
            sys.exit(f"{path} is missing: this benchmark needs the VNTC corpus of ../shared/corpora/vntc.")
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record["id"] in wanted:
                    found[record["id"]] = record
    missing = sorted(set(wanted) - set(found))
    if missing:
        sys.exit(f"{len(missing)} labelled ids are not in VNTC, e.g. {missing[:3]}")
    return [{"id": i, "title": found[i].get("title") or "", "text": found[i]["text"], "labels": labels}
            for i, labels in wanted.items()]


def table(report: dict) -> list[str]:
    rows = ["| label | precision | recall | F1 | support | predicted |", "|---|---:|---:|---:|---:|---:|"]
    for row in report["per_label"]:
        if row["support"]:
            rows.append(f"| `{row['label']}` | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} "
                        f"| {row['support']} | {row['predicted']} |")
    absent = [row for row in report["per_label"] if not row["support"]]
    for row in absent:
        rows.append(f"| `{row['label']}` (not in the set) | – | – | – | 0 | {row['predicted']} |")
    for average in ("micro", "macro"):
        m = report[average]
        rows.append(f"| **{average}** | {m['precision']:.3f} | {m['recall']:.3f} | **{m['f1']:.3f}** | | |")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--rules", default=None, help="rules file (default: the shipped rules)")
    parser.add_argument("--labels", default=str(LABELS), help="the labelled ids (JSONL)")
    parser.add_argument("--vntc", default=str(VNTC), help="folder of VNTC train/test.jsonl.gz")
    args = parser.parse_args(argv)

    records = read_check_set(Path(args.labels), Path(args.vntc))
    gold = [r["labels"] for r in records]
    model = load_model(args.model)
    started = time.perf_counter()
    predictions = model.predict_texts([f"{r['title']}\n{r['text']}" for r in records])
    seconds = time.perf_counter() - started
    model_report = evaluate_rules(gold, [p.labels for p in predictions], TOPIC_CODES)
    rules = load_rules(args.rules)
    rules_report = evaluate_rules(gold, [rules.apply(r["title"], r["text"]).labels for r in records], TOPIC_CODES)

    present = [row["label"] for row in model_report["per_label"] if row["support"]]
    none = sum(1 for g in gold if not g)
    card = model.card
    print("# Front topics on real news (VNTC)\n")
    print(f"{len(records)} real VNTC articles that mention the Front, labelled by the guideline "
          f"(`benchmarks/vntc_front_labels.jsonl`: ids and labels only); {none} have no topic, "
          f"{sum(1 for g in gold if len(g) > 1)} have two or more. Labels that occur: "
          f"{', '.join(f'`{c}`' for c in present)}; macro averages are over these. "
          "The model was not trained on these articles.\n")
    shown = model.path
    try:
        shown = Path(model.path).resolve().relative_to(HERE.parent)
    except ValueError:
        pass
    print(f"Model: `{shown}` ({card.get('params', {}).get('model')}, "
          f"{card.get('params', {}).get('features')} features), trained with "
          f"`{card.get('command')}`; predicted in {seconds:.1f} s.\n")
    print("## The default model\n")
    print("\n".join(table(model_report)))
    print(f"\nExact match (all topics right, including none): {model_report['exact_match']:.3f}\n")
    print(f"## The shipped rules (`{Path(rules.source).name}`)\n")
    print("\n".join(table(rules_report)))
    print(f"\nExact match: {rules_report['exact_match']:.3f}")
    low = [row["label"] for row in model_report["per_label"] if row["support"] and row["f1"] < 0.6]
    goal = model_report["macro"]["f1"] >= 0.80 and not low
    print(f"\nGoal (model macro-F1 ≥ 0.80 on the labels that occur, none below 0.6): "
          f"{'met' if goal else 'not met'}" + (f"; below 0.6: {', '.join(low)}" if low else "") + ".")


if __name__ == "__main__":
    main()
