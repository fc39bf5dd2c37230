import os
from pathlib import Path

from tokenlean.indexers.walk import Walker


def rels(root: Path, **kw) -> list[str]:
    return [e.rel for e in Walker(root, use_global_excludes=False, **kw)]


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def test_walk_is_sorted_and_relative(tmp_path):
    make(tmp_path, {"b.py": "", "a/z.py": "", "a/b.py": ""})
    assert rels(tmp_path) == ["a/b.py", "a/z.py", "b.py"]


def test_root_gitignore_excludes_files_and_directories(tmp_path):
    make(tmp_path, {".gitignore": "*.log\nbuild_out/\n", "x.log": "", "build_out/a.py": "", "keep.py": ""})
    assert rels(tmp_path) == [".gitignore", "keep.py"]


def test_nested_gitignore_applies_relative_to_its_directory(tmp_path):
    make(
        tmp_path,
        {
            "pkg/.gitignore": "/local.py\n",
            "pkg/local.py": "",
            "pkg/sub/local.py": "",
            "local.py": "",
        },
    )
    assert rels(tmp_path) == ["local.py", "pkg/.gitignore", "pkg/sub/local.py"]


def test_deeper_negation_reincludes_a_file(tmp_path):
    make(
        tmp_path,
        {".gitignore": "*.txt\n", "docs/.gitignore": "!keep.txt\n", "docs/keep.txt": "", "a.txt": ""},
    )
    assert "docs/keep.txt" in rels(tmp_path)
    assert "a.txt" not in rels(tmp_path)


def test_dot_ignore_file_is_honoured(tmp_path):
    make(tmp_path, {".ignore": "secret_dir/\n", "secret_dir/a.py": "", "b.py": ""})
    assert rels(tmp_path) == [".ignore", "b.py"]


def test_git_info_exclude_is_honoured(tmp_path):
    make(tmp_path, {".git/info/exclude": "scratch.py\n", "scratch.py": "", "main.py": ""})
    assert rels(tmp_path) == ["main.py"]


def test_default_excludes_skip_vcs_dependencies_and_build_output(tmp_path):
    make(
        tmp_path,
        {
            ".git/config": "",
            "node_modules/x/index.js": "",
            "__pycache__/a.pyc": "",
            ".venv/lib/a.py": "",
            "dist/a.js": "",
            "app.min.js": "",
            "package-lock.json": "{}",
            "src/main.py": "",
        },
    )
    assert rels(tmp_path) == ["src/main.py"]


def test_project_can_reinclude_a_default_exclude(tmp_path):
    make(tmp_path, {".gitignore": "!build/\n", "build/gen.py": ""})
    assert "build/gen.py" in rels(tmp_path)


def test_extra_excludes_and_includes(tmp_path):
    make(tmp_path, {"a.py": "", "vendor/b.py": "", "dist/c.py": ""})
    assert rels(tmp_path, excludes=["vendor/"], includes=["dist/"]) == ["a.py", "dist/c.py"]


def test_secret_files_are_never_walked_even_if_reincluded(tmp_path):
    make(
        tmp_path,
        {
            ".env": "K=v",
            ".env.production": "K=v",
            "certs/server.pem": "x",
            "id_rsa": "x",
            ".ssh/config": "x",
            ".gitignore": "!.env\n",
            "app.py": "",
        },
    )
    walker = Walker(tmp_path, use_global_excludes=False)
    assert [e.rel for e in walker] == [".gitignore", "app.py"]
    assert walker.report.skipped["secret"] == 5


def test_binary_extensions_and_oversized_files_are_skipped(tmp_path):
    make(tmp_path, {"logo.png": b"\x89PNG", "big.py": "x = 1\n" * 1000, "small.py": "x = 1\n"})
    walker = Walker(tmp_path, max_file_bytes=1000, use_global_excludes=False)
    assert [e.rel for e in walker] == ["small.py"]
    assert walker.report.skipped == {"binary": 1, "too large": 1}


def test_symlink_leaving_the_root_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    make(outside, {"secret.py": "password = 1"})
    root = make(tmp_path / "root", {"a.py": ""})
    os.symlink(outside / "secret.py", root / "link.py")
    os.symlink(outside, root / "linkdir")
    walker = Walker(root, use_global_excludes=False)
    assert [e.rel for e in walker] == ["a.py"]
    assert walker.report.skipped["symlink outside root"] == 2


def test_symlink_to_a_file_inside_the_root_is_walked(tmp_path):
    root = make(tmp_path, {"real.py": "x = 1"})
    os.symlink(root / "real.py", root / "alias.py")
    assert rels(root) == ["alias.py", "real.py"]


def test_global_git_excludes_are_honoured(tmp_path, monkeypatch):
    xdg = make(tmp_path / "xdg", {"git/ignore": "*.scratch\n"})
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    root = make(tmp_path / "root", {"a.scratch": "", "b.py": ""})
    assert [e.rel for e in Walker(root)] == ["b.py"]


def test_entries_carry_size_and_mtime(tmp_path):
    make(tmp_path, {"a.py": "abc"})
    (entry,) = list(Walker(tmp_path, use_global_excludes=False))
    st = (tmp_path / "a.py").stat()
    assert (entry.size, entry.mtime_ns) == (3, st.st_mtime_ns)


def test_configured_secret_patterns_add_to_and_open_the_deny_list(tmp_path):
    make(tmp_path, {".env.example": "K=", ".env": "K=v", "deploy/vault.yaml": "x", "app.py": ""})
    walker = Walker(
        tmp_path,
        use_global_excludes=False,
        secret_files=["deploy/vault.yaml"],
        allow_secret_files=[".env.example"],
    )
    assert [e.rel for e in walker] == [".env.example", "app.py"]
    assert walker.report.skipped["secret"] == 2
