import os

import pytest

from tokenlean.indexers import tokens
from tokenlean.tools.paths import PathRefused
from tokenlean.tools.read import BadRead, read, read_text


def test_read_a_method_by_qualified_name(workspace):
    r = read(workspace, "src/app/auth.py", symbol="TokenStore.issue_token")
    assert (r.kind, r.symbol, r.start_line) == ("method", "TokenStore.issue_token", 13)
    assert r.text.splitlines()[0].strip() == "def issue_token(self, user_id: str) -> str:"
    assert r.complete


def test_read_a_symbol_without_a_path_finds_its_file(workspace):
    r = read(workspace, symbol="ListenAndServe")
    assert r.path == "cmd/server/main.go"
    assert "func (c *Config) ListenAndServe() error" in r.text


def test_read_a_line_range(workspace):
    r = read(workspace, "docs/guide.md", lines="5-7")
    assert r.text == "## Installing\n\nRun the installer and configure the cache directory."
    assert (r.start_line, r.end_line) == (5, 7)


def test_open_ended_range_runs_to_the_end(workspace):
    r = read(workspace, "docs/guide.md", lines="9-")
    assert r.text.endswith("status 429.")


def test_range_past_the_end_is_refused(workspace):
    with pytest.raises(BadRead, match="only 11 lines"):
        read(workspace, "docs/guide.md", lines="50-60")


def test_malformed_range_is_refused(workspace):
    with pytest.raises(BadRead, match="not a range"):
        read(workspace, "docs/guide.md", lines="ten")


def test_unknown_symbol_lists_what_is_there(workspace):
    with pytest.raises(BadRead, match=r"Symbols there: .*TokenStore.*verify_password"):
        read(workspace, "src/app/auth.py", symbol="nope")


def test_long_read_is_cut_with_a_continuation(workspace, repo):
    body = "\n".join(f"    value_{i} = {i}" for i in range(400))
    (repo / "big.py").write_text(f"def big():\n{body}\n    return value_0\n")
    r = read(workspace, "big.py", symbol="big", budget_tokens=300)
    text = read_text(r)
    assert not r.complete and r.next_lines
    assert tokens.count(text) <= 300
    start = int(r.next_lines.split("-")[0])
    rest = read(workspace, "big.py", lines=r.next_lines, budget_tokens=300)
    assert rest.start_line == start == r.end_line + 1


def test_path_outside_the_root_is_refused(workspace):
    for bad in (
        "../outside.py",
        "/etc/passwd",
        "src/../../x",
        "..%2f..%2fetc%2fpasswd",
        "..\\..\\etc\\passwd",
    ):
        with pytest.raises(PathRefused, match="outside the configured roots"):
            read(workspace, bad)


def test_symlink_escaping_the_root_is_refused(workspace, repo, tmp_path):
    (tmp_path / "private.txt").write_text("secret")
    os.symlink(tmp_path / "private.txt", repo / "escape.txt")
    with pytest.raises(PathRefused, match="outside the configured roots"):
        read(workspace, "escape.txt")


def test_nul_byte_in_path_is_refused(workspace):
    with pytest.raises(PathRefused, match="NUL"):
        read(workspace, "src/app/auth.py\x00.txt")


def test_secret_files_are_never_returned(workspace):
    with pytest.raises(PathRefused, match="secrets file"):
        read(workspace, ".env")


def test_missing_file_says_so(workspace):
    with pytest.raises(PathRefused, match="no such file"):
        read(workspace, "src/app/missing.py")


def test_binary_file_is_refused(workspace, repo):
    (repo / "blob.bin2").write_bytes(b"\x00\x01\x02" * 50)
    with pytest.raises(Exception, match="binary"):
        read(workspace, "blob.bin2")


def test_non_utf8_file_reads_with_replacement_characters(workspace, repo):
    (repo / "latin.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    assert read(workspace, "latin.txt").text == "caf\ufffd au lait"


def test_symbol_and_lines_together_are_refused(workspace):
    with pytest.raises(BadRead, match="either symbol or lines"):
        read(workspace, "docs/guide.md", symbol="Guide", lines="1-2")


def test_read_reports_the_whole_file_cost_as_baseline(workspace, repo):
    r = read(workspace, "src/app/auth.py", symbol="verify_password")
    assert r.file_tokens == tokens.count((repo / "src/app/auth.py").read_text())


def test_edited_file_symbol_lines_follow_the_new_content(workspace, repo):
    read(workspace, "src/app/auth.py", symbol="verify_password")
    path = repo / "src/app/auth.py"
    path.write_text("\n\n\n" + path.read_text())
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    r = read(workspace, "src/app/auth.py", symbol="verify_password")
    assert r.text.startswith("def verify_password")


def test_read_a_nested_section_by_the_name_search_shows(workspace):
    from tokenlean.tools.search import search

    hit = search(workspace, "rate limiting quota").hits[0]
    assert hit.qualified == "Guide > Rate limiting"
    r = read(workspace, hit.path, symbol=hit.qualified)
    assert r.text.startswith("## Rate limiting")


def test_read_a_section_whose_title_has_dots(workspace, repo):
    (repo / "CHANGES.md").write_text("# Changes\n\n## Release 1.0rc2 (2024)\n\nFixed the cache.\n")
    r = read(workspace, "CHANGES.md", symbol="Release 1.0rc2 (2024)")
    assert "Fixed the cache." in r.text
    assert "Fixed the cache." in read(workspace, symbol="Changes > Release 1.0rc2 (2024)").text
