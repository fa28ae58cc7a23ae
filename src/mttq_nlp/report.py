"""A self-contained HTML report of an evaluation: tables, a confusion-matrix heat map
and a per-label bar chart, as inline CSS and SVG (no script, no network)."""

from __future__ import annotations

import datetime as dt
import os
from html import escape

from .errors import MttqError

__all__ = ["render_report", "write_report"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f6f6f6}
.muted{color:#777}.figures td{font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif}
"""


def _f(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def _colour(share: float, hue: int = 210) -> str:
    lightness = 97 - 55 * max(0.0, min(1.0, share))
    return f"hsl({hue},70%,{lightness:.0f}%)"


def _heat_map(row_labels, column_labels, matrix, good=None) -> str:
    """An SVG heat map, each cell coloured by its share of the row total: blue where
    ``good(i, j)`` (default: the diagonal), red elsewhere."""
    good = good or (lambda i, j: i == j)
    cell, left, top = 46, 12 + 7 * max(len(str(l)) for l in row_labels), 12 + 7 * max(len(str(l)) for l in column_labels)
    # rotated column labels run up and to the right of their column
    width = left + cell * len(column_labels) + 10 + 6 * max(len(str(l)) for l in column_labels)
    height = top + cell * len(row_labels) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
           f'aria-label="confusion heat map">']
    for j, label in enumerate(column_labels):
        x = left + j * cell + cell / 2
        out.append(f'<text x="{x:.0f}" y="{top - 6}" transform="rotate(-40 {x:.0f} {top - 6})">{escape(str(label))}</text>')
    for i, (label, row) in enumerate(zip(row_labels, matrix)):
        y = top + i * cell
        out.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">{escape(str(label))}</text>')
        total = sum(row) or 1
        for j, value in enumerate(row):
            share = value / total
            hue = 210 if good(i, j) else 10
            out.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                       f'fill="{_colour(share, hue)}"><title>{escape(str(label))} → '
                       f'{escape(str(column_labels[j]))}: {value:,}</title></rect>')
            colour = "#fff" if share > 0.6 else "#222"
            out.append(f'<text x="{left + j * cell + (cell - 2) / 2:.0f}" y="{y + cell / 2 + 3:.0f}" '
                       f'text-anchor="middle" fill="{colour}">{value:,}</text>')
    out.append("</svg>")
    return "".join(out)


def _bar_chart(per_label) -> str:
    """Grouped horizontal bars: precision, recall and F1 per label."""
    measures = (("precision", "#4e79a7"), ("recall", "#f28e2b"), ("f1", "#59a14f"))
    bar, gap, left, scale = 9, 10, 12 + 7 * max([len(r["label"]) for r in per_label] + [5]), 420
    group = bar * len(measures) + gap
    height = 30 + group * len(per_label)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + scale + 60}" height="{height}" role="img" '
           f'aria-label="per-label precision, recall and F1">']
    for k, (name, colour) in enumerate(measures):
        out.append(f'<rect x="{left + k * 110}" y="4" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + k * 110 + 14}" y="13">{name}</text>')
    for i, row in enumerate(per_label):
        y = 24 + i * group
        out.append(f'<text x="{left - 6}" y="{y + group / 2:.0f}" text-anchor="end">{escape(row["label"])}</text>')
        for k, (name, colour) in enumerate(measures):
            value = row[name]
            out.append(f'<rect x="{left}" y="{y + k * bar}" width="{value * scale:.1f}" height="{bar - 1}" '
                       f'fill="{colour}"><title>{escape(row["label"])} {name}: {value:.4f}</title></rect>')
        out.append(f'<text x="{left + row["f1"] * scale + 4:.0f}" y="{y + 3 * bar - 1}" class="muted">'
                   f'{row["f1"]:.3f}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="20" y2="{height}" stroke="#999"/></svg>')
    return "".join(out)


def render_report(metrics: dict, card: dict | None = None, title: str = "Topic model evaluation") -> str:
    """The report as one HTML string; every piece of text from the data is escaped."""
    card = card or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<p class="muted">',
        f"model {escape(str(metrics.get('model') or card.get('model_file') or '?'))}, "
        f"trained {escape(str(card.get('created', '?')))}; corpus "
        f"{escape(', '.join((metrics.get('corpus') or {}).get('sources', [])))}; "
        f"report made {escape(dt.datetime.now().replace(microsecond=0).isoformat())}</p>",
        "<h2>Summary</h2><table class=figures>",
        f"<tr><td>task</td><td>{escape(metrics['task'])}</td></tr>",
        f"<tr><td>records</td><td>{metrics['records']:,}</td></tr>",
    ]
    if metrics.get("accuracy") is not None:
        parts.append(f"<tr><td>accuracy</td><td>{_f(metrics['accuracy'])}</td></tr>")
    if metrics.get("exact_match") is not None:
        parts.append(f"<tr><td>exact match</td><td>{_f(metrics['exact_match'])}</td></tr>")
    for average in ("micro", "macro"):
        m = metrics[average]
        parts.append(f"<tr><td>{average} precision / recall / F1</td>"
                     f"<td>{_f(m['precision'])} / {_f(m['recall'])} / {_f(m['f1'])}</td></tr>")
    calibration = metrics.get("calibration") or {}
    if calibration.get("ece") is not None:
        parts.append(f"<tr><td>calibration error (ECE) / Brier</td>"
                     f"<td>{_f(calibration['ece'])} / {_f(calibration['brier'])}</td></tr>")
    parts.append("</table>")

    parts.append("<h2>Per label</h2>")
    parts.append(_bar_chart(metrics["per_label"]))
    parts.append("<table class=figures><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th>"
                 "<th>support</th></tr>")
    for row in metrics["per_label"]:
        parts.append(f"<tr><td>{escape(row['label'])}</td><td>{_f(row['precision'])}</td><td>{_f(row['recall'])}</td>"
                     f"<td>{_f(row['f1'])}</td><td>{row['support']:,}</td></tr>")
    parts.append("</table>")

    if "confusion_matrix" in metrics:
        labels = metrics["confusion_matrix"]["labels"]
        parts.append("<h2>Confusion matrix</h2><p class=muted>Rows: true label; columns: predicted label; "
                     "colour: share of the row.</p>")
        parts.append(_heat_map(labels, labels, metrics["confusion_matrix"]["matrix"]))
    else:
        confusion = metrics["per_label_confusion"]
        labels = list(confusion)
        matrix = [[confusion[label][k] for k in ("tp", "fn", "fp", "tn")] for label in labels]
        parts.append("<h2>Per-label confusion</h2><p class=muted>For each label: true positives, false "
                     "negatives (missed), false positives (wrongly given), true negatives; colour: share of "
                     "the records.</p>")
        if labels:
            parts.append(_heat_map(labels, ["TP", "FN", "FP", "TN"], matrix, good=lambda i, j: j in (0, 3)))
        parts.append("<table class=figures><tr><th>label</th><th>TP</th><th>FN</th><th>FP</th><th>TN</th></tr>")
        for label, row in zip(labels, matrix):
            parts.append(f"<tr><td>{escape(label)}</td>" + "".join(f"<td>{v:,}</td>" for v in row) + "</tr>")
        parts.append("</table>")
    bins = calibration.get("bins") or []
    if bins:
        parts.append("<h2>Calibration</h2><p class=muted>Predicted probability against how often it was right."
                     "</p><table class=figures><tr><th>probability</th><th>records</th><th>mean probability</th>"
                     "<th>observed</th></tr>")
        for b in bins:
            parts.append(f"<tr><td>{b['from']:.1f}–{b['to']:.1f}</td><td>{b['count']:,}</td>"
                         f"<td>{_f(b['mean_probability'])}</td><td>{_f(b['frequency'])}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(metrics: dict, path: str | os.PathLike, card: dict | None = None) -> None:
    page = render_report(metrics, card)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(page)
    except OSError as error:
        raise MttqError(f"Cannot write the report {path}: {error.strerror or error}.") from None
