"""Every path an agent gives resolves inside the roots or is refused; fuzzed with hypothesis."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenlean.indexers.errors import TokenleanError
from tokenlean.tools.paths import PathRefused
from tokenlean.tools.read import read
from tokenlean.tools.search import search

TRAVERSALS = [
    "../outside.txt",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "src/../../outside.txt",
    "src/app/../../../outside.txt",
    "..\\outside.txt",
    "src\\..\\..\\outside.txt",
    "..%2foutside.txt",
    "..%2Foutside.txt",
    "%2e%2e/outside.txt",
    "%2E%2E%2Foutside.txt",
    "%252e%252e/outside.txt",
    "file:///etc/passwd",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "//etc/passwd",
    "~/.ssh/id_rsa",
    "src/app/auth.py\x00../../outside.txt",
    "escape_link/outside.txt",
    "escape_file.txt",
]


@pytest.fixture
def hostile_repo(repo, tmp_path):
    (tmp_path / "outside.txt").write_text("SECRET OUTSIDE THE ROOT\n")
    os.symlink(tmp_path, repo / "escape_link")
    os.symlink(tmp_path / "outside.txt", repo / "escape_file.txt")
    return repo


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_corpus_is_refused(hostile_repo, workspace, path):
    with pytest.raises(TokenleanError):
        result = read(workspace, path)
        assert "SECRET OUTSIDE" not in result.text  # never reached: reading must raise


def test_absolute_path_inside_the_root_is_fine(workspace, repo):
    assert "verify_password" in read(workspace, str(repo / "src/app/auth.py")).text


def test_symlinked_escape_is_not_indexed(hostile_repo, workspace):
    r = search(workspace, "SECRET OUTSIDE THE ROOT", limit=20)
    assert all("outside" not in h.path for h in r.hits)


PATH_ALPHABET = st.sampled_from(
    [
        "..",
        ".",
        "/",
        "\\",
        "%2e",
        "%2f",
        "%00",
        "\x00",
        "src",
        "app",
        "auth.py",
        "~",
        ":",
        "C:",
        "escape_link",
        "outside.txt",
        "é",
        "\u202e",
        " ",
        "*",
        "?",
        "//",
        "file://",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(PATH_ALPHABET, min_size=1, max_size=8))
def test_fuzzed_paths_never_escape_the_root(hostile_repo, workspace, parts):
    path = "".join(parts)
    root = Path(workspace.roots.roots[0])
    try:
        resolved_root, rel = workspace.roots.resolve(path)
    except PathRefused:
        return
    target = Path(os.path.realpath(resolved_root / rel))
    assert target.is_relative_to(root) and target != root
    try:
        result = read(workspace, path)
    except TokenleanError:
        return  # refused (a directory, a secret, a binary): with a message, never a crash
    assert "SECRET OUTSIDE" not in result.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=0, max_size=300))
def test_fuzzed_queries_answer_or_refuse_clearly(workspace, query):
    try:
        result = search(workspace, query, limit=5, budget_tokens=400)
    except TokenleanError as exc:
        assert str(exc)  # an actionable message
        return
    assert result.total >= 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    symbol=st.one_of(st.none(), st.text(max_size=40)),
    lines=st.one_of(st.none(), st.text(max_size=20)),
    budget=st.integers(min_value=-10, max_value=50_000),
)
def test_fuzzed_read_arguments_never_crash(workspace, symbol, lines, budget):
    try:
        read(workspace, "src/app/auth.py", symbol=symbol, lines=lines, budget_tokens=budget)
    except TokenleanError as exc:
        assert str(exc)
