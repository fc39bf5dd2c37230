"""Regenerate tools/data/prices.json from LiteLLM's price table (MIT) and tokencost's (MIT).

    pip download --no-deps litellm tokencost -d /tmp/prices
    python scripts/update_prices.py /tmp/prices/litellm-*.whl /tmp/prices/tokencost-*.whl

Keeps Anthropic and OpenAI chat/coding models and the cost fields the ledger needs. Rows only
tokencost still has (retired Claude 4.0/4.1 ids) are kept so that old transcripts still price.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from datetime import date
from pathlib import Path

FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "cache_read_input_token_cost": "cache_read",
    "input_cost_per_token_above_200k_tokens": "input_above_200k",
    "output_cost_per_token_above_200k_tokens": "output_above_200k",
    "cache_creation_input_token_cost_above_200k_tokens": "cache_write_5m_above_200k",
    "cache_read_input_token_cost_above_200k_tokens": "cache_read_above_200k",
}
KEEP = re.compile(r"^(claude-|gpt-5|gpt-4\.1|gpt-4o(-mini)?(-20\d\d-\d\d-\d\d)?$|o1|o3|o4|codex)")


def table(wheel: Path) -> tuple[dict, str]:
    with zipfile.ZipFile(wheel) as z:
        name = next(
            n
            for n in z.namelist()
            if n.endswith(("model_prices_and_context_window_backup.json", "model_prices.json"))
        )
        return json.loads(z.read(name)), f"{wheel.name}:{name}"


def pick(rows: dict) -> dict:
    out = {}
    for model, row in rows.items():
        if not isinstance(row, dict) or "/" in model or not KEEP.match(model):
            continue
        if row.get("litellm_provider") not in ("anthropic", "openai", "text-completion-openai"):
            continue
        if row.get("mode") not in ("chat", "responses", None) or row.get("input_cost_per_token") is None:
            continue
        out[model] = {short: row[long] for long, short in FIELDS.items() if row.get(long) is not None}
    return out


def main() -> None:
    litellm, tokencost = (Path(p) for p in sys.argv[1:3])
    current, source = table(litellm)
    legacy, legacy_source = table(tokencost)
    models = pick(legacy)
    models.update(pick(current))  # current prices win where both have a model
    payload = {
        "source": [source, legacy_source],
        "license": "MIT (LiteLLM, tokencost)",
        "generated": date.today().isoformat(),
        "unit": "USD per token",
        "models": dict(sorted(models.items())),
    }
    target = Path(__file__).resolve().parents[1] / "tools" / "data" / "prices.json"
    target.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"{len(models)} models -> {target}")


if __name__ == "__main__":
    main()
