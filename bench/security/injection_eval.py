"""Precision and recall of the prompt-injection detector on a hand-labelled corpus.

    python bench/security/injection_eval.py [--corpus tests/security/injection_corpus.jsonl] [-v]

The corpus holds malicious samples (label 1) and benign look-alikes (label 0): docs that discuss
prompts, code with `assistant` roles, AGENTS.md/CLAUDE.md directives where they belong, RTL text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tokenlean.tools.guard import detect

DEFAULT = Path(__file__).resolve().parents[2] / "tests" / "security" / "injection_corpus.jsonl"


def evaluate(path: Path, verbose: bool = False) -> dict:
    tp = fp = fn = tn = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        flags = detect(item["text"], item["path"])
        flagged = bool(flags)
        if item["label"] and flagged:
            tp += 1
        elif item["label"]:
            fn += 1
            if verbose:
                print(f"MISSED     {item['path']}: {item['text'][:90]!r}")
        elif flagged:
            fp += 1
            if verbose:
                print(f"FALSE HIT  {item['path']}: {item['text'][:90]!r} -> {[f.reason for f in flags]}")
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "malicious": tp + fn,
        "benign": tn + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    r = evaluate(args.corpus, args.verbose)
    print(f"samples: {r['malicious']} malicious, {r['benign']} benign")
    counts = f"tp {r['tp']}, fp {r['fp']}, fn {r['fn']}"
    print(f"precision {r['precision']:.2f}  recall {r['recall']:.2f}  ({counts})")


if __name__ == "__main__":
    main()
