"""Try a search change on the benchmark without editing tokenlean: patch it in memory, under a tag.

    python bench/retrieval/experiment.py TAG PATCH.py [run.py arguments...]
    python bench/retrieval/experiment.py path1 /tmp/path1.py --split dev --keep-indexes

PATCH.py is executed after tokenlean is imported and before anything is searched, e.g.

    import tokenlean.tools.search as S
    S.WEIGHTS["natural"]["path"] = 1.0

Per-task results are cached under the code fingerprint plus TAG, so they never mix with the results
of the unpatched code. Patches that change indexing are not supported (indexes are reused): change
the indexer for real and let the fingerprint rebuild them. Pass `-` as PATCH.py for no patch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import run


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    tag, patch, rest = argv[0], argv[1], argv[2:]
    original = run.fingerprints
    index_fp, search_fp = original()
    run.fingerprints = lambda: (index_fp, f"{search_fp}-{tag}")
    if patch != "-":
        exec(compile(Path(patch).read_text(), patch, "exec"), {"__name__": "patch"})
    if "--out" not in rest:
        rest += ["--out", str(run.RESULTS_DIR / f"experiment-{tag}.json")]
    return run.main(rest)


if __name__ == "__main__":  # the indexer's worker processes import this module too
    raise SystemExit(main(sys.argv[1:]))
