"""Write an EvalReport as files: JSON, two charts, and one self-contained HTML page.

The HTML embeds its images, so it can be mailed or attached to a review as
one file. report.json is byte-identical for identical inputs (sorted keys,
rounded floats); the PNGs carry no timestamp.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np

from intents.evaluation import EvalReport

_PNG_META = {"Software": None}  # keep the files free of version stamps


def _confusion_png(report: EvalReport, path: Path) -> None:
    m = np.asarray(report.confusion, dtype=float)
    n = len(report.labels)
    size = max(5.0, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), report.labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), report.labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                color = "white" if share[i, j] > 0.5 else "black"
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7, color=color)
    ax.set_title(f"confusion (n={report.n}, accuracy {report.accuracy:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=_PNG_META)
    plt.close(fig)


def _confidence_png(report: EvalReport, path: Path) -> None:
    h = report.confidence
    edges = np.asarray(h.edges)
    centers = (edges[:-1] + edges[1:]) / 2
    width = float(edges[1] - edges[0]) * 0.9
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(centers, h.correct, width=width, label="correct", color="#4c9a2a")
    ax.bar(centers, h.wrong, width=width, bottom=h.correct, label="wrong", color="#c0392b")
    ax.set_xlabel("confidence")
    ax.set_ylabel("utterances")
    ax.set_title(f"confidence (ECE {h.ece:.3f})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=_PNG_META)
    plt.close(fig)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{path.stem}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(report: EvalReport, confusion: Path, confidence: Path) -> str:
    slot = "—" if report.slot_accuracy is None else f"{report.slot_accuracy:.3f}"
    headline = _table(
        ["utterances", "accuracy", "macro-F1", "slot accuracy", "ECE", "model"],
        [
            [
                report.n,
                f"{report.accuracy:.3f}",
                f"{report.macro_f1:.3f}",
                f"{slot} (n={report.slot_support})",
                f"{report.confidence.ece:.3f}",
                report.model_version or "—",
            ]
        ],
    )
    intents = _table(
        ["intent", "precision", "recall", "F1", "support"],
        [
            [m.code, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", m.support]
            for m in report.per_intent
        ],
    )
    dialects = _table(
        ["dialect", "utterances", "accuracy"],
        [[g.name, g.n, f"{g.accuracy:.3f}"] for g in report.per_dialect],
    )
    worst = _table(
        ["gold", "predicted", "count", "examples"],
        [[c.gold, c.predicted, c.count, " / ".join(c.examples)] for c in report.worst_confusions],
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Intent evaluation</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; }}
th {{ background: #f0f0f0; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Intent classifier evaluation</h1>
{headline}
<h2>Per intent</h2>
{intents}
<h2>Per dialect</h2>
{dialects}
<h2>Worst confusions</h2>
{worst}
<h2>Confusion matrix</h2>
{_img(confusion)}
<h2>Confidence</h2>
{_img(confidence)}
</body></html>
"""


def write_report(report: EvalReport, out_dir: Path) -> Path:
    """Write report.json, confusion.png, confidence.png and report.html.

    Returns:
        The path of report.html.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(
        json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True, indent=1) + "\n",
        encoding="utf-8",
    )
    confusion = out_dir / "confusion.png"
    confidence = out_dir / "confidence.png"
    _confusion_png(report, confusion)
    _confidence_png(report, confidence)
    page = out_dir / "report.html"
    page.write_text(_html(report, confusion, confidence), encoding="utf-8")
    return page
