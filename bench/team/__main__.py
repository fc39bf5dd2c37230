"""One command for the whole team benchmark: start PostgreSQL, generate and index the corpus, query it.

python -m bench.team [--chunks 1000000] [--minutes 60] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", default="1000000")
    ap.add_argument("--minutes", default="60")  # no new root after this; 1M took 31.5 min here
    ap.add_argument("--seconds", default="20")
    args = ap.parse_args()
    py = [sys.executable, "-m"]
    subprocess.run([*py, "bench.team.build", "--fresh", "--chunks", args.chunks, "--minutes", args.minutes],
                   check=True)  # fmt: skip
    subprocess.run([*py, "bench.team.run", "--seconds", args.seconds, "--sqlite"], check=True)


if __name__ == "__main__":
    main()
