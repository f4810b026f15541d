"""Compare intent classifier backends: accuracy, macro-F1, latency, train and load time.

Reproduces the "Intent classifier" section of benchmarks/RESULTS.md:

    .venv/bin/python benchmarks/bench_classifier.py [--checkpoint DIR] [--write]

Every backend is trained on the shipped catalog's training split (stable
hash, ~80 %) after the dialect normaliser, then evaluated on the held-back
split and on tests/data/text/dev_utterances.jsonl. ``--write`` replaces the
section between the markers in RESULTS.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import models.text as text_helpers
from dialects.normaliser import DialectNormaliser
from intents import features
from intents.catalog import Catalog
from intents.classifier import load_classifier, make_classifier
from intents.dataset import catalog_split, load_jsonl
from intents.evaluation import EvalReport, evaluate

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "data" / "text" / "dev_utterances.jsonl"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- bench_classifier:begin -->", "<!-- bench_classifier:end -->"


def _clear_caches() -> None:
    features._embed_one.cache_clear()
    text_helpers.pinyin_syllables.cache_clear()
    text_helpers.phrase_pinyin.cache_clear()


def _dialect(report: EvalReport, name: str) -> str:
    for g in report.per_dialect:
        if g.name == name:
            return f"{g.accuracy:.3f} (n={g.n})"
    return "—"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="local BERT checkpoint: adds transformers")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()

    normaliser = DialectNormaliser.load()

    def preprocess(text: str) -> str:
        return normaliser.normalise(text).normalized_text

    def dialect_of(text: str) -> str:
        return normaliser.normalise(text).dialect

    catalog = Catalog.load()
    train, held = catalog_split(catalog)
    dev = load_jsonl(DEV) if DEV.exists() else ()
    texts = [preprocess(e.text) for e in train]
    labels = [e.intent for e in train]
    backends = ["sparse", "e5", "sparse+e5"] + (["transformers"] if args.checkpoint else [])

    rows = []
    for backend in backends:
        model = make_classifier(backend, args.checkpoint)
        t0 = time.perf_counter()
        model.fit(texts, labels)
        train_s = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp))
            t0 = time.perf_counter()
            loaded = load_classifier(Path(tmp), backend)
            loaded.predict("你好")  # first call pays lazy set-up (e5 engine load)
            load_s = time.perf_counter() - t0
        r_held = evaluate(loaded, held, preprocess, dialect_of)
        r_dev = evaluate(loaded, dev, preprocess, dialect_of) if dev else None
        sample = [preprocess(e.text) for e in (dev or held)]
        times, cpu = [], []
        for text in sample:
            _clear_caches()  # evaluation warmed them; a live utterance is new text
            t0, c0 = time.perf_counter(), time.process_time()
            loaded.predict(text)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        rows.append(
            [
                backend,
                f"{r_held.accuracy:.3f}",
                f"{r_held.macro_f1:.3f}",
                f"{r_dev.accuracy:.3f}" if r_dev else "—",
                f"{r_dev.macro_f1:.3f}" if r_dev else "—",
                _dialect(r_dev, "shanghainese") if r_dev else "—",
                f"{r_held.confidence.ece:.3f}",
                f"{statistics.median(times):.2f}",
                f"{statistics.median(cpu):.2f}",
                f"{sorted(times)[int(0.95 * (len(times) - 1))]:.2f}",
                f"{train_s:.1f}",
                f"{load_s:.2f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)

    header = [
        "backend",
        "held-back acc",
        "held-back macro-F1",
        "dev acc",
        "dev macro-F1",
        "dev Shanghainese acc",
        "ECE (held-back)",
        "median ms/utt",
        "median CPU ms/utt",
        "p95 ms/utt",
        "train s",
        "load s",
    ]
    table = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(r) + " |" for r in rows]
    )
    section = f"""{BEGIN}
## Intent classifier (benchmarks/bench_classifier.py)

Machine: {platform.machine()}, {platform.system()}, 2 CPU cores shared with other jobs
(load average {os.getloadavg()[0]:.1f} at the end of the run), no GPU. Wall times are
inflated by that sharing; CPU time per utterance is the steadier figure.
Catalog: {len(catalog.examples())} examples, {len(train)} for training, {len(held)} held back
(stable hash of the text, ~20 %). Dev set: {len(dev)} utterances
(tests/data/text/dev_utterances.jsonl). Text passes the dialect normaliser first.
Latency: one `predict()` per utterance on a loaded model, per-text caches cleared
(pinyin, embeddings), including drivers.

{table}
{END}"""
    print(section)
    if args.write:
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        if BEGIN in old and END in old:
            new = old[: old.index(BEGIN)] + section + old[old.index(END) + len(END) :]
        else:
            new = old.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
