import json

from click.testing import CliRunner

from tokenlean.server.cli import main


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def test_help_lists_the_commands():
    r = invoke("--help")
    assert r.exit_code == 0
    for command in ("index", "search", "read", "deps", "outline", "slice", "prune", "serve", "status"):
        assert command in r.output


def test_index_prints_a_summary_then_says_up_to_date(repo):
    first = invoke("index", repo, "-q")
    assert first.exit_code == 0
    assert "Indexed" in first.output and "6 files" in first.output and "Languages:" in first.output
    assert "Index:" in first.output and "MB" in first.output
    second = invoke("index", repo, "-q")
    assert second.output.startswith("Up to date")


def test_index_json_summary(repo):
    data = json.loads(invoke("index", repo, "--json").output)
    assert data["files"] == 6 and data["chunks"] > 0 and data["languages"]["python"] == 2


def test_search_builds_the_index_on_first_use_and_prints_json(repo):
    r = invoke("search", "verify_password", "--root", repo, "--format", "json", "--limit", "3")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    hit = data["hits"][0]
    assert hit["path"] == "src/app/auth.py"
    assert {"path", "start_line", "end_line", "symbol", "kind", "score", "why", "text"} <= set(hit)
    assert data["tokens"] > 0


def test_search_reads_the_query_from_stdin(repo):
    issue = "Login fails: handle_request never reaches login() when the path is /login\n"
    r = invoke("search", "-", "--root", repo, "--format", "json", input=issue)
    paths = [h["path"] for h in json.loads(r.stdout)["hits"]]
    assert paths[0] == "src/app/http_server.py"


def test_search_text_output_with_budget(repo):
    r = invoke("search", "token", "--root", repo, "--budget-tokens", "300")
    assert r.exit_code == 0
    assert r.stdout.startswith('search "token"')
    assert "tokens (o200k)" in r.stderr


def test_search_of_a_missing_root_fails_clearly(tmp_path):
    r = invoke("search", "x", "--root", tmp_path / "nope")
    assert r.exit_code == 1
    assert "error: root" in r.stderr and "does not exist" in r.stderr


def test_empty_query_fails_clearly(repo):
    r = invoke("search", "  ", "--root", repo)
    assert r.exit_code == 1 and "empty query" in r.stderr


def test_read_prints_a_symbol(repo):
    r = invoke("read", "src/app/auth.py", "--symbol", "verify_password", "--root", repo)
    assert r.exit_code == 0
    assert "def verify_password(password: str, digest: str) -> bool:" in r.stdout


def test_read_outside_the_root_fails_clearly(repo):
    r = invoke("read", "../../etc/passwd", "--root", repo)
    assert r.exit_code == 1 and "outside the configured roots" in r.stderr


def test_status_reports_the_index(repo):
    assert "not indexed yet" in invoke("status", "--root", repo).output
    invoke("index", repo, "-q")
    data = json.loads(invoke("status", "--root", repo, "--json").output)
    assert data[0]["files"] == 6


def test_config_file_adds_excludes(repo, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('exclude = ["web/"]\nsearch_limit = 2\n')
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(cfg))
    data = json.loads(invoke("index", repo, "--json").output)
    assert data["files"] == 5


def test_slice_vectors_sets_what_slice_ranks_with_apart_from_the_index(tmp_path, monkeypatch):
    from tokenlean.server.config import load_config

    cfg = tmp_path / "config.toml"
    cfg.write_text('vectors = "fast"\nslice_vectors = "quality"\n')
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(cfg))
    loaded = load_config(roots=[tmp_path])
    assert loaded.vectors == "fast" and loaded.slicing_vectors == "quality"
    cfg.write_text('vectors = "off"\n')
    assert load_config(roots=[tmp_path]).slicing_vectors == "off"  # unset: follows vectors
    cfg.write_text('slice_vectors = "best"\n')
    doc = tmp_path / "guide.md"
    doc.write_text(GUIDE)
    bad = invoke("slice", doc, "--role", "security reviewer")
    assert bad.exit_code == 1 and "slice_vectors must be auto, fast, quality or off" in bad.stderr


def test_bad_config_file_is_reported(repo, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text("colour = 'blue'\n")
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(cfg))
    r = invoke("index", repo)
    assert r.exit_code == 1 and "unknown key 'colour'" in r.stderr


def test_doctor_reports_each_check_and_starts_the_server(repo):
    invoke("index", repo, "-q")
    r = invoke("doctor", "--root", repo, "--json")
    checks = {c["name"]: c for c in json.loads(r.output)}
    assert checks["grammars"]["status"] == "ok" and checks["tokenizer"]["status"] == "ok"
    assert checks["sqlite"]["status"] == "ok"
    assert checks["embeddings"]["status"] == "ok" and "static-minilm" in checks["embeddings"]["detail"]
    assert checks[f"index {repo.name}"]["detail"].startswith("6 files")
    assert (
        checks["server"]["status"] == "ok"
        and "search, read, deps, outline, slice, prune, stash, ledger" in checks["server"]["detail"]
    )


def test_doctor_says_what_slice_ranks_with_when_slice_vectors_differs(repo, tmp_path, monkeypatch):
    from tokenlean.indexers.vectors import available

    cfg = tmp_path / "config.toml"
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(cfg))
    cfg.write_text('slice_vectors = "quality"\n')
    checks = {
        c["name"]: c for c in json.loads(invoke("doctor", "--root", repo, "--no-server", "--json").output)
    }
    check = checks["slice embeddings"]
    if available("quality"):  # no torch here: slicing falls back to the static model, and says so
        assert check["status"] == "warn" and "slicing ranks with the fast model" in check["detail"]
    else:
        assert check["status"] == "ok" and "all-minilm-l6-v2-int8 loads offline" in check["detail"]
    cfg.write_text('slice_vectors = "off"\n')
    checks = {
        c["name"]: c for c in json.loads(invoke("doctor", "--root", repo, "--no-server", "--json").output)
    }
    assert "ranks by words" in checks["slice embeddings"]["detail"]
    cfg.write_text('vectors = "fast"\nslice_vectors = "fast"\n')
    checks = {
        c["name"]: c for c in json.loads(invoke("doctor", "--root", repo, "--no-server", "--json").output)
    }
    assert "slice embeddings" not in checks  # the embeddings check covers slicing then


def test_doctor_says_what_to_do_about_a_missing_index(repo):
    r = invoke("doctor", "--root", repo, "--no-server")
    assert "not indexed yet" in r.output and f"fix: tokenlean index {repo}" in r.output


def test_deps_prints_who_imports_a_file(repo):
    r = invoke("deps", "src/app/auth.py", "--root", repo, "--direction", "used_by")
    assert r.exit_code == 0
    assert "src/app/http_server.py L1 TokenStore" in r.stdout


def test_outline_prints_a_repo_map_within_the_budget(repo):
    r = invoke("outline", "--root", repo, "--budget-tokens", "150")
    assert r.exit_code == 0
    assert r.stdout.startswith("outline of the whole repository")
    assert "src/app/auth.py" in r.stdout


def test_secret_patterns_from_config_and_a_repository_cannot_allow_secrets(repo, tmp_path, monkeypatch):
    (repo / ".env.example").write_text("API_URL=\n")
    (repo / "deploy.vault").write_text("token: x\n")
    (repo / ".tokenlean.toml").write_text('secret_files = ["*.vault"]\n')
    cfg = tmp_path / "config.toml"
    cfg.write_text('allow_secret_files = [".env.example"]\n')
    monkeypatch.setenv("TOKENLEAN_CONFIG", str(cfg))
    data = json.loads(invoke("index", repo, "--json").output)
    assert data["skipped"].get("secret") == 2  # .env and deploy.vault; .env.example let through
    assert "API_URL" in invoke("search", "API_URL", "--root", repo).output

    (repo / ".tokenlean.toml").write_text('allow_secret_files = [".env"]\n')
    r = invoke("index", repo)
    assert r.exit_code == 1 and "a repository cannot let files through the secret deny-list" in r.stderr


GUIDE = (
    """# Widget

Widget runs services on a small cluster.

## Installation

Install with `pip install widget`.

## Security

Tokens are signed with HMAC-SHA256 and rotated every 24 hours; secrets never reach the logs.

## Caching

Responses are cached for 60 seconds.

## Operations

"""
    + "Nodes are drained one at a time before an upgrade; the scheduler moves their services. " * 12
    + "\n"
)


def test_slice_prints_the_sections_a_role_needs_and_what_it_saved(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text(GUIDE)
    r = invoke("slice", doc, "--role", "security reviewer")
    assert r.exit_code == 0
    assert "== s3 Security" in r.stdout and "HMAC-SHA256" in r.stdout
    assert "== s4 Caching" not in r.stdout  # in the outline only
    assert "the whole document" in r.stderr
    # stdin, with a name that gives the format; several roles in one call
    both = invoke(
        "slice", "-", "--name", "guide.md", "-r", "security reviewer", "-r", "new user", input=GUIDE
    )
    assert both.exit_code == 0 and "HMAC-SHA256" in both.stdout and "pip install widget" in both.stdout
    whole = invoke("slice", doc, "--sections", "s4")
    assert "cached for 60 seconds" in whole.stdout and "HMAC" not in whole.stdout
    # the embeddings are chosen per call: quality (the fast model where the transformer cannot run)
    # or none; this short guide's sections are found by their words either way
    for vectors in ("quality", "off"):
        chosen = invoke("slice", doc, "--role", "security reviewer", "--vectors", vectors)
        assert chosen.exit_code == 0 and "== s3 Security" in chosen.stdout


def test_slice_errors_are_clear(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text(GUIDE)
    no_role = invoke("slice", doc)
    assert no_role.exit_code == 1 and "--role" in no_role.stderr
    both = invoke("slice", doc, "--role", "ops", "--sections", "s2")
    assert both.exit_code == 1 and "not both" in both.stderr
    unknown = invoke("slice", doc, "--sections", "s9")
    assert unknown.exit_code == 1 and "unknown section id 's9'" in unknown.stderr
    missing = invoke("slice", tmp_path / "nope.md", "--role", "ops")
    assert missing.exit_code == 1 and "cannot read the document" in missing.stderr
    empty = invoke("slice", "-", "--role", "ops", input="  \n")
    assert empty.exit_code == 1 and "empty" in empty.stderr


def test_prune_keeps_the_fields_asked_for_and_pipes_its_data(tmp_path):
    issues = [
        {"id": i, "title": f"Bug {i}", "user": {"login": f"dev{i}", "id": i}, "body": "x" * 300}
        for i in range(25)
    ]
    payload = tmp_path / "issues.json"
    payload.write_text(json.dumps(issues))
    r = invoke("prune", payload, "-f", "[*].{id,user.login}")
    assert r.exit_code == 0 and "dropped" in r.stdout and "dev24" in r.stdout and "xxxx" not in r.stdout
    assert "% less" in r.stderr
    piped = invoke(
        "prune", "-", "-f", "[*].{id,user.login}", "--encoding", "json", "--data", input=json.dumps(issues)
    )
    assert json.loads(piped.stdout) == [{"id": i, "user": {"login": f"dev{i}"}} for i in range(25)]
    assert "pruned JSON" in piped.stderr
    bad = invoke("prune", "-", "-f", "id", input="{bad")
    assert bad.exit_code == 1 and "invalid JSON" in bad.stderr
