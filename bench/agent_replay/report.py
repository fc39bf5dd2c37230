"""Metrics, tables and the figure of the agent replay benchmark."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from shared import FAMILIES

from tokenlean.tools.ledger import Ledger

LANGUAGES = (*FAMILIES, "all")
BASE = "naive"  # the baseline the bar is measured against
BASELINES = (BASE, "naive-window")  # and the strongest baseline without tokenlean
TOOL_POLICIES = ("tool", "injected")
BAR_REDUCTION = 0.70
COLORS = {
    "naive": "#c0504d",
    "naive-code": "#e3a05b",
    "naive-window": "#8064a2",
    "tool": "#2e75b6",
    "injected": "#4a9e5c",
}


def _pct(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of `values`; inf counts as a value (a miss)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[k]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def reached(record: dict, policy: str, level: str, cap: int) -> int | None:
    """Tokens at which `policy` reached `level` on a task, if within the cap."""
    m = record["policies"][policy]["reached"].get(level)
    return m["tokens"] if m is not None and m["tokens"] <= cap else None


def schema_tokens(policy: str, surface: dict) -> int:
    """Tool-schema tokens a policy pays per task beyond the client's built-in tools."""
    return 0 if policy.startswith("naive") else surface.get("all", 0)


def summarise_rows(records: list[dict], policy: str, cap: int, surface: dict) -> dict:
    n = len(records)
    out: dict = {"n": n}
    schema = schema_tokens(policy, surface)
    for level in ("file", "fn", "full"):
        got = [reached(r, policy, level, cap) for r in records]
        hits = [t for t in got if t is not None]
        out[f"{level}_rate"] = len(hits) / n if n else 0.0
        out[f"{level}_p50"] = _median(hits)
        out[f"{level}_p90"] = _pct(hits, 0.9)
        out[f"{level}_p50_all"] = _median([t if t is not None else math.inf for t in got])
    fn_hits = [r for r in records if reached(r, policy, "fn", cap) is not None]
    out["calls_p50"] = _median([r["policies"][policy]["reached"]["fn"]["calls"] for r in fn_hits])
    out["schema"] = schema
    out["fn_p50_schema"] = _median([reached(r, policy, "fn", cap) + schema for r in fn_hits])
    return out


def compare(records: list[dict], policy: str, base: str, per: dict, cap: int) -> dict:
    """`policy` against a baseline on the same tasks: the bar's terms and a paired check."""
    m, b = per[policy], per[base]
    out: dict = {"base": base, "rate": m["fn_rate"], "base_rate": b["fn_rate"]}
    out["reduction"] = 1 - m["fn_p50"] / b["fn_p50"] if m["fn_p50"] is not None and b["fn_p50"] else None
    out["reduction_schema"] = (
        1 - m["fn_p50_schema"] / b["fn_p50_schema"]
        if m["fn_p50_schema"] is not None and b["fn_p50_schema"]
        else None
    )
    both = [
        (reached(r, policy, "fn", cap), reached(r, base, "fn", cap))
        for r in records
        if reached(r, policy, "fn", cap) is not None and reached(r, base, "fn", cap) is not None
    ]
    out["paired_n"] = len(both)
    out["paired_reduction"] = _median([1 - a / c for a, c in both])
    out["base_solved_none"] = b["fn_p50"] is None
    if out["base_solved_none"]:
        out["bar"] = m["fn_rate"] > 0  # the baseline reached no gold function within the cap
    else:
        enough = out["reduction"] is not None and out["reduction"] >= BAR_REDUCTION
        out["bar"] = bool(enough and m["fn_rate"] >= b["fn_rate"])
    return out


def summarise(records: list[dict], policies: tuple[str, ...], cap: int, surface: dict) -> dict:
    out: dict = {}
    for lang in LANGUAGES:
        rows = [r for r in records if lang == "all" or r["language"] == lang]
        if not rows:
            continue
        per = {p: summarise_rows(rows, p, cap, surface) for p in policies}
        per["compare"] = {
            f"{p}/{base}": compare(rows, p, base, per, cap)
            for p in TOOL_POLICIES
            for base in BASELINES
            if p in per and base in per
        }
        out[lang] = per
    return out


def ledger_totals(ledger: Ledger) -> dict[str, dict]:
    """Per ledger task: calls, tokens and the whole-file baseline the ledger recorded."""
    return {
        a.key: {"calls": a.calls, "tokens": a.tokens, "baseline": a.baseline, "errors": a.errors}
        for a in ledger.report("task")
    }


def _fmt(value, kind: str = "int") -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.0f}%"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return f"{value:,.0f}"


def tables(
    summary: dict, records: list[dict], policies: tuple[str, ...], cap: int, surface: dict, split: str
) -> str:
    lines = [
        f"**Tokens to reach the code, split {split} ({len(records)} tasks), cap {cap:,} tokens**",
        "",
        "| lang | policy | n | fn ✓ | file ✓ | full ✓ | fn p50 | fn p90 | fn p50 (miss=∞) | calls p50 "
        "| schema/task | fn p50 + schema | file p50 | full p50 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, per in summary.items():
        for p in policies:
            m = per[p]
            cells = [
                lang,
                p,
                str(m["n"]),
                _fmt(m["fn_rate"], "pct"),
                _fmt(m["file_rate"], "pct"),
                _fmt(m["full_rate"], "pct"),
                _fmt(m["fn_p50"]),
                _fmt(m["fn_p90"]),
                _fmt(m["fn_p50_all"]),
                _fmt(m["calls_p50"]),
                _fmt(m["schema"]),
                _fmt(m["fn_p50_schema"]),
                _fmt(m["file_p50"]),
                _fmt(m["full_p50"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "**The bar: ≥ 70% fewer median tokens to fn success than the baseline, at an equal or higher fn "
        "success rate** (against `naive` as the issue defines it, and against `naive-window`, the "
        "strongest policy without tokenlean)",
        "",
        "| lang | policy | baseline | fn ✓ (policy vs baseline) | fn p50 change | incl. schemas "
        "| paired change (tasks both solved) | bar |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def change(x):
        return f"{-100 * x:+.0f}%" if x is not None else "-"

    for lang, per in summary.items():
        for key, c in per["compare"].items():
            p, base = key.split("/")
            verdict = "met" if c["bar"] else "not met"
            if c["base_solved_none"]:
                verdict += " (baseline solved none)"
            lines.append(
                f"| {lang} | {p} | {base} | {100 * c['rate']:.0f}% vs {100 * c['base_rate']:.0f}% "
                f"| {change(c['reduction'])} | {change(c['reduction_schema'])} "
                f"| {change(c['paired_reduction'])} (n={c['paired_n']}) | {verdict} |"
            )
    lines.append("")
    for key in next(iter(summary.values()))["compare"]:
        met = [lang for lang in FAMILIES if summary.get(lang, {}).get("compare", {}).get(key, {}).get("bar")]
        p, base = key.split("/")
        verdict = "HOLDS" if len(met) >= 2 else "DOES NOT HOLD"
        lines.append(
            f"- {p} vs {base}: bar met in {len(met)} of {len(FAMILIES)} languages "
            f"({', '.join(met) or 'none'}) -> {verdict} (needs 2)"
        )
    lines += ["", ledger_table(records, policies), "", surface_line(surface), "", LEGEND.format(cap=cap)]
    return "\n".join(lines)


def ledger_table(records: list[dict], policies: tuple[str, ...]) -> str:
    """What the ledger recorded per (policy, task) against the benchmark's own count of the same calls."""
    lines = [
        "**What the ledger recorded** (all calls of each run, to success and after; tokens of tool results)",
        "",
        "| policy | tasks | benchmark tokens | ledger tokens | tasks equal | max abs diff | ledger calls "
        "| ledger whole-file baseline | saved vs baseline | per-task saved p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in policies:
        own = led = base = calls = equal = 0
        worst = 0
        saved = []
        n = 0
        for r in records:
            row = (r.get("ledger") or {}).get(p)
            mine = r["policies"][p]["results"]
            n += 1
            own += mine
            if row is None:
                worst = max(worst, mine)
                continue
            led += row["tokens"]
            base += row["baseline"]
            calls += row["calls"]
            equal += row["tokens"] == mine
            worst = max(worst, abs(row["tokens"] - mine))
            if row["baseline"]:
                saved.append(1 - row["tokens"] / row["baseline"])
        share = 1 - led / base if base else 0.0
        lines.append(
            f"| {p} | {n} | {own:,} | {led:,} | {equal} | {worst} | {calls:,} | {base:,} "
            f"| {100 * share:.0f}% | {_fmt(_median(saved), 'pct')} |"
        )
    return "\n".join(lines)


def surface_line(surface: dict) -> str:
    if not surface:
        return ""
    per = ", ".join(f"{k} {v:,}" for k, v in surface["tools"].items())
    return (
        f"Tool schemas (tokens/list as the model gets them: name, description, input schema): {per}; "
        f"server instructions {surface['instructions']:,}; all {surface['all']:,} (charged per task to tool "
        f"and injected); search + read + instructions only {surface['code']:,}."
    )


LEGEND = (
    "fn ✓ / file ✓ / full ✓: share of tasks where, within {cap:,} tokens, some line of a gold function / "
    "some line of a gold file / every line of a gold function was in context. fn p50 / p90: tokens in "
    "context (call arguments + results) when a gold function first came into context, over the tasks "
    "solved within the cap; miss=∞: the median over all tasks with unsolved ones as infinite; calls: agent "
    "tool calls by then (an injected context is not a call); schema/task: tool-schema and instruction "
    "tokens beyond the client's built-in tools; file p50 / full p50: tokens when the file / full level was "
    "reached (tasks solved within the cap). Bar table: fn p50 change of the policy against the "
    "baseline (incl. schemas: both sides with their schema tokens added); paired: the median per-task "
    "change on the tasks both solved within the cap."
)


# -- the figure


def plot(records: list[dict], policies: tuple[str, ...], cap: int, path: Path, split: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    panels = [*FAMILIES, "all"]
    horizon = max((r["policies"][p]["tokens"] for r in records for p in policies), default=cap)
    for ax, lang in zip(axes.flat, panels, strict=False):
        rows = [r for r in records if lang == "all" or r["language"] == lang]
        for p in policies:
            got = sorted(
                m["tokens"] for r in rows if (m := r["policies"][p]["reached"].get("fn")) is not None
            )
            xs = [got[0] if got else 1, *got]
            ys = [0.0, *((i + 1) / len(rows) for i in range(len(got)))]
            within = sum(1 for t in got if t <= cap) / len(rows) if rows else 0
            ax.step(xs, ys, where="post", color=COLORS.get(p), lw=2, label=f"{p} ({100 * within:.0f}% ≤ cap)")
        ax.axvline(cap, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(100, max(horizon, cap * 2))
        ax.set_ylim(0, 1)
        ax.set_title(f"{lang} ({len(rows)} tasks)")
        ax.set_xlabel("tokens in context until a gold function is in view (log)")
        ax.set_ylabel("share of tasks reached")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="upper left", fontsize=8)
    ax = axes.flat[len(panels)]
    data, labels = [], []
    for p in policies:
        got = [reached(r, p, "fn", cap) for r in records]
        data.append([t for t in got if t is not None])
        labels.append(p)
    parts = ax.boxplot(data, showfliers=False, patch_artist=True)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    for patch, p in zip(parts["boxes"], policies, strict=True):
        patch.set_facecolor(COLORS.get(p, "white"))
        patch.set_alpha(0.6)
    ax.set_yscale("log")
    ax.set_title(f"all: tokens to a gold function (tasks solved ≤ {cap:,})")
    ax.set_ylabel("tokens (log)")
    ax.grid(alpha=0.3, axis="y", which="both")
    fig.suptitle(
        f"Tokens an agent spends until a function the commit changed is in its context (split {split}, "
        f"{len(records)} tasks; dashed: cap {cap:,}; tool schemas not included)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
