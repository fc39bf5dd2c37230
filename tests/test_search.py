import json
import os
import time

import pytest
from conftest import on_backend, sqlite_only

from tokenlean.indexers import tokens
from tokenlean.tools import render
from tokenlean.tools.query import BadQuery, plan
from tokenlean.tools.search import BadSearch, search


@pytest.fixture
def index_dir(index_dir, store_backend, request):
    """Every search test runs on both store backends (the same answers) unless marked sqlite_only."""
    return on_backend(store_backend, index_dir, request)


def paths(result):
    return [h.path for h in result.hits]


def test_identifier_query_finds_the_definition_first(workspace):
    r = search(workspace, "issue_token")
    top = r.hits[0]
    assert (top.path, top.symbol, top.kind) == ("src/app/auth.py", "issue_token", "method")
    assert top.parent == "TokenStore"
    assert ("symbol", 1) in top.why


def test_natural_language_query_finds_the_right_function(workspace):
    r = search(workspace, "compare a password with the stored digest")
    assert r.hits[0].symbol == "verify_password"
    assert r.shape == "natural"


def test_camel_case_words_match_described_in_prose(workspace):
    r = search(workspace, "total quantity of the shopping cart")
    assert r.hits[0].path == "web/cart.ts"


def test_path_query_leans_on_the_path_strategy(workspace):
    r = search(workspace, "http_server.py")
    assert r.shape == "path"
    assert r.hits[0].path == "src/app/http_server.py"
    assert any(s == "path" for s, _ in r.hits[0].why)


def test_qualified_name_prefers_the_matching_parent(workspace):
    r = search(workspace, "RequestHandler.login")
    assert (r.hits[0].parent, r.hits[0].symbol) == ("RequestHandler", "login")


def test_fuzzy_identifier_still_finds_the_symbol(workspace):
    r = search(workspace, "verify_pasword")
    assert r.hits[0].symbol == "verify_password"


def test_stack_trace_points_at_the_failing_lines(workspace):
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/srv/deploy/src/app/http_server.py", line 8, in handle_request\n'
        "    return self.login(request)\n"
        "AttributeError: 'NoneType' object has no attribute 'user'\n"
    )
    r = search(workspace, trace)
    assert r.hits[0].path == "src/app/http_server.py"
    assert any(s == "trace" for s, _ in r.hits[0].why)


def test_markdown_sections_are_searchable(workspace):
    r = search(workspace, "rate limiting quota rejected")
    assert (r.hits[0].path, r.hits[0].symbol, r.hits[0].kind) == ("docs/guide.md", "Rate limiting", "section")


def test_ignored_secret_and_vendored_files_never_appear(workspace):
    r = search(workspace, "SECRET_KEY hunter2 generated_function vendored token abc", limit=50)
    assert not {".env", "debug.log", "generated/big.py", "node_modules/pkg/index.js"} & set(paths(r))


def test_text_output_fits_the_budget_and_says_what_was_left_out(workspace):
    r = search(workspace, "token", budget_tokens=200, limit=10)
    text = render.search_text(r)
    assert tokens.count(text) <= 200
    assert r.omitted and r.cursor
    assert "cursor=" in text


def test_default_response_stays_within_1500_tokens(workspace):
    r = search(workspace, "request token password cart config guide")
    assert tokens.count(render.search_text(r)) <= 1500


def test_snippets_are_cut_at_line_boundaries_with_a_read_hint(workspace, repo):
    body = "\n".join(f"    step_{i} = compute_step({i}, payload)" for i in range(80))
    (repo / "src/app/pipeline.py").write_text(f"def run_pipeline(payload):\n{body}\n    return step_79\n")
    workspace.options.refresh_seconds = 0
    r = search(workspace, "run_pipeline", budget_tokens=300, limit=1)
    hit = r.hits[0]
    assert hit.symbol == "run_pipeline" and not hit.complete
    source = (repo / hit.rel).read_text().split("\n")
    assert hit.text.split("\n")[0] == "def run_pipeline(payload):"
    for line in hit.text.split("\n"):
        assert line in source or "omitted (read src/app/pipeline.py)" in line
    assert tokens.count(render.search_text(r)) <= 300


def test_cursor_continues_where_the_previous_page_stopped(workspace):
    first = search(workspace, "token request", limit=2)
    second = search(workspace, "token request", limit=2, cursor=first.cursor)
    assert second.offset == 2
    assert not {(h.path, h.start_line) for h in first.hits} & {(h.path, h.start_line) for h in second.hits}


def test_cursor_of_another_query_is_refused(workspace):
    first = search(workspace, "token", limit=1)
    with pytest.raises(BadSearch, match="different query"):
        search(workspace, "cart", cursor=first.cursor)


def test_garbage_cursor_is_refused(workspace):
    with pytest.raises(BadSearch, match="not one this server issued"):
        search(workspace, "cart", cursor="%%%")


@sqlite_only  # no index involved
def test_empty_query_is_refused_with_advice():
    with pytest.raises(BadQuery, match="empty query"):
        plan("   ")


def test_bad_limit_and_budget_are_refused(workspace):
    with pytest.raises(BadSearch, match="limit"):
        search(workspace, "cart", limit=0)
    with pytest.raises(BadSearch, match="budget_tokens"):
        search(workspace, "cart", budget_tokens=10)


def test_unknown_strategy_is_refused(workspace):
    with pytest.raises(BadSearch, match="unknown strategy 'vectors'"):
        search(workspace, "cart", use=["vectors"])


def test_single_strategy_can_be_asked_for(workspace):
    r = search(workspace, "ShoppingCart", use=["symbol"])
    assert all([s for s, _ in h.why] == ["symbol"] for h in r.hits)


def test_baseline_counts_the_whole_files_behind_the_hits(workspace):
    r = search(workspace, "verify_password", limit=1)
    whole = tokens.count((workspace.roots.roots[0] / "src/app/auth.py").read_text())
    assert r.baseline_tokens == whole


def test_edited_file_is_reindexed_before_its_snippet_is_served(workspace):
    search(workspace, "verify_password")
    path = workspace.roots.roots[0] / "src/app/auth.py"
    path.write_text(
        "def verify_password(password, digest):\n    return check_with_argon2(password, digest)\n"
    )
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    r = search(workspace, "verify_password")
    assert "argon2" in r.hits[0].text


def test_new_file_is_found_by_the_next_search(workspace, repo):
    search(workspace, "cart")
    (repo / "src/app/refunds.py").write_text("def issue_refund(order):\n    return order\n")
    workspace.options.refresh_seconds = 0
    assert search(workspace, "issue_refund").hits[0].path == "src/app/refunds.py"


def test_json_form_has_the_documented_contract(workspace):
    r = search(workspace, "verify_password", limit=3)
    data = json.loads(render.search_json(r))
    hit = data["hits"][0]
    assert set(hit) >= {"path", "start_line", "end_line", "symbol", "kind", "score", "why", "text"}
    assert hit["path"] == "src/app/auth.py" and hit["why"][0]["strategy"] in {"symbol", "bm25"}
    assert data["tokens"] > 0 and data["baseline_tokens"] > 0


def test_fields_project_the_hits(workspace):
    r = search(workspace, "verify_password", limit=2)
    data = json.loads(render.search_json(r, render.check_fields(["start_line", "symbol"])))
    assert set(data["hits"][0]) == {"path", "start_line", "symbol"}


def test_unknown_field_is_refused(workspace):
    with pytest.raises(render.BadFields, match="unknown field 'colour'"):
        render.check_fields(["colour"])


def test_output_is_deterministic(workspace):
    a = render.search_text(search(workspace, "token store issue"))
    b = render.search_text(search(workspace, "token store issue"))
    assert a == b


@sqlite_only  # no index involved
def test_query_plan_reads_identifiers_paths_and_frames():
    p = plan('KeyError in parse_config (src/conf/loader.py) File "a/b.py", line 3, in load')
    assert "parse_config" in p.identifiers and "load" in p.identifiers
    assert "src/conf/loader.py" in p.paths and "a/b.py" in p.paths
    assert p.frames[0].line == 3


@sqlite_only  # no index involved
def test_urls_give_their_path_words_and_opaque_runs_give_none():
    text = (
        "Broken in https://play.vuejs.org/#eNqFU8Fu2zAMvfcrBJ9SoHa2tKc2 see "
        "https://github.com/pallets/werkzeug/blob/main/src/werkzeug/formparser.py#L336 "
        "since d4b77a8d8967ce1bf701ec65ceb9a75e85e5f2e0 in test_get_host_validate_trusted_hosts2"
    )
    p = plan(text)
    assert "formpars" in p.terms  # the path's words count (stemmed)
    # Neither the host, the fragment nor the hash gives terms.
    assert not any(t.startswith(("enqfu", "d4b77", "vuej", "github")) for t in p.terms)
    assert "formparser.py" in p.paths
    assert "test_get_host_validate_trusted_hosts2" in p.identifiers  # a long name is not an opaque run


@sqlite_only  # no index involved
def test_go_and_rust_locations_are_frames_without_a_function():
    # `path.go:123` as Go panics and Rust errors print it: the pattern has no function group.
    p = plan("panic: runtime error at gin/context.go:173 and crates/core/flags/hiargs.rs:774")
    assert [(f.path, f.line, f.func) for f in p.frames] == [
        ("gin/context.go", 173, ""),
        ("crates/core/flags/hiargs.rs", 774, ""),
    ]


def test_a_go_location_in_a_query_is_searched(workspace):
    r = search(workspace, "the server panics at cmd/server/main.go:3 on start")
    assert r.hits and r.hits[0].path == "cmd/server/main.go"


@sqlite_only  # no index involved
def test_query_plan_reads_backticked_code_and_spelled_names():
    p = plan("fix `no-unused-vars` false positive when `--stepwise` is given to the known_args parser")
    assert "stepwise" in p.identifiers and "no-unused-vars" not in p.identifiers
    assert p.names == ["no-unused-vars", "stepwise", "known_args"]
    assert p.shape == "natural"


@sqlite_only  # no index involved
def test_a_short_query_naming_a_file_is_a_path_query():
    assert plan("Update src/app/http_server.py").shape == "path"
    assert plan("RequestHandler.login").shape == "identifier"
    assert plan("why does src/app/http_server.py drop the session").shape == "natural"


def test_a_file_named_in_the_query_leads_the_path_strategy(workspace):
    r = search(workspace, "a crash in `auth` when the http server handles a login request", use=["path"])
    assert r.hits[0].path == "src/app/auth.py"
    assert r.hits[0].why == (("path", 1),)


def test_path_words_of_a_text_with_a_title_come_from_its_title(workspace):
    # A commit message or an issue: the body's words ("http server") name files only by accident.
    text = "Shopping cart total is off by one\n\nSeen in the http server logs after a main deploy."
    assert plan(text).title_terms == plan("Shopping cart total is off by one").terms
    assert paths(search(workspace, text, use=["path"])) == ["web/cart.ts"]
    # One line is all title.
    one_line = "shopping cart total seen in the http server logs"
    assert "src/app/http_server.py" in paths(search(workspace, one_line, use=["path"]))


@sqlite_only  # no index involved
def test_only_short_queries_ask_for_tests_by_naming_them():
    from tokenlean.tools.prior import PRIORS, priors

    assert "test" not in priors("natural", {"tests", "parser"}, length=4)
    long = "the parser drops the last token; the test for it still passes on CI".split()
    assert priors("natural", set(long), length=len(long)) == PRIORS["natural"]


def test_results_do_not_depend_on_the_order_files_were_indexed_in(tmp_path, index_dir):
    from tokenlean.indexers.indexer import Indexer, IndexOptions
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    files = {
        f"pkg/mod_{i}.py": f"def handler_{i}(request):\n    return shared_helper(request)\n"
        for i in range(30)
    }
    orders = {"forward": sorted(files), "backward": sorted(files, reverse=True)}
    results = {}
    for name, order in orders.items():
        root = tmp_path / name / "repo"
        location = index_dir if isinstance(index_dir, str) else tmp_path / name / "ix"
        for rel in order:  # indexing order follows creation order of the rows, not the paths
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(files[rel])
            Indexer(root, location, IndexOptions(workers=1)).run(only=[rel])
        ws = Workspace([root], WorkspaceOptions(index_dir=location))
        results[name] = [(h.path, h.start_line) for h in search(ws, "shared_helper request", limit=20).hits]
        ws.close()
    assert results["forward"] == results["backward"]


def test_a_name_a_text_spells_as_code_points_at_its_definition(workspace):
    text = "Users are logged out at once: after `issue_token` the expiry seems to be read wrong somewhere"
    r = search(workspace, text)
    assert r.shape == "natural"
    top = r.hits[0]
    assert (top.path, top.symbol) == ("src/app/auth.py", "issue_token")
    assert any(s == "defined" for s, _ in top.why)


def test_a_name_with_many_definitions_points_at_none(tmp_path, index_dir):
    from tokenlean.indexers.indexer import IndexOptions
    from tokenlean.tools import strategies
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    for i in range(strategies.MAX_DEFINITIONS + 1):  # one name defined too often to say which
        (root / "pkg" / f"m{i}.py").write_text("def run_step(x):\n    return x\n")
    (root / "pkg" / "one.py").write_text("def load_plan(x):\n    return x\n")
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    try:
        ws.update(root)
        store = ws.store(root)
        found = strategies.definitions(store, plan("after `run_step` the `load_plan` result is empty"), 10)
        rows = store.chunks(found, text=False)
        assert [store.files([rows[c].file_id])[rows[c].file_id].path for c in found] == ["pkg/one.py"]
    finally:
        ws.close()


def test_a_file_gives_at_most_max_per_file_places(tmp_path, index_dir):
    from tokenlean.indexers.indexer import IndexOptions
    from tokenlean.tools.search import MAX_PER_FILE
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    # Eight functions about invoices in one file (apart, so none merge), one in another.
    body = "\n\n\n".join(
        f"def step_{i}(ledger):\n"
        + "".join(f"    x{k} = 1\n" for k in range(12))
        + "    return invoice_total(ledger)\n"
        for i in range(8)
    )
    (root / "pkg" / "billing.py").write_text(body + "\n")
    (root / "pkg" / "other.py").write_text("def refund(ledger):\n    return invoice_total(ledger)\n")
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    try:
        r = search(ws, "invoice_total ledger", limit=20, budget_tokens=5000)
        places = [h.path for h in r.hits + r.omitted]
        assert places.count("pkg/billing.py") == MAX_PER_FILE >= 5
        assert "pkg/other.py" in places
    finally:
        ws.close()


def test_tests_and_docs_rank_below_code_unless_asked_for(workspace, repo):
    (repo / "tests").mkdir()
    (repo / "tests/test_auth.py").write_text(
        "def test_verify_password_digest():\n    assert verify_password('pw', digest_of('pw'))\n"
    )
    workspace.options.refresh_seconds = 0
    plain = search(workspace, "how is the password digest verified")
    assert plain.hits[0].path == "src/app/auth.py"
    asked = search(workspace, "which tests cover the password digest")
    assert asked.hits[0].path == "tests/test_auth.py"


def test_a_stub_ranks_below_the_implementation_beside_it(workspace, repo):
    (repo / "src/app/auth.pyi").write_text(
        "def verify_password(password: str, digest: str) -> bool:\n"
        '    """Compare a password against its stored digest."""\n'
    )
    (repo / "web/money.d.ts").write_text(
        "/** Format a price in cents as a currency string. */\n"
        "export declare function formatPrice(cents: number): string;\n"
    )
    workspace.options.refresh_seconds = 0
    r = search(workspace, "compare a password with the stored digest")
    ranked = paths(r)
    assert ranked.index("src/app/auth.py") < ranked.index("src/app/auth.pyi")
    assert paths(search(workspace, "format a price in cents as a currency string"))[0] == "web/money.d.ts"


@sqlite_only  # no index involved
def test_file_kinds():
    from tokenlean.tools.prior import file_kind

    assert [
        file_kind(p)
        for p in (
            "src/app.py",
            "tests/test_app.py",
            "pkg/app_test.go",
            "web/app.spec.ts",
            "docs/guide.md",
            "CHANGELOG.md",
            "examples/demo.rs",
            "config/app.yaml",
        )
    ] == ["code", "test", "test", "test", "doc", "doc", "example", "data"]


def test_deps_strategy_adds_what_the_strongest_hit_imports(tmp_path, index_dir, monkeypatch):
    from tokenlean.indexers.indexer import IndexOptions
    from tokenlean.tools import search as search_mod
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    root = tmp_path / "r"
    root.mkdir()
    (root / "archive.py").write_text(
        "from checksums import crc_of\n\n\ndef upload_archive(blob):\n    return crc_of(blob)\n"
    )
    (root / "checksums.py").write_text("def crc_of(data):\n    return sum(data) % 255\n")
    monkeypatch.setitem(search_mod.WEIGHTS["natural"], "deps", 0.5)
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    r = search(ws, "upload the archive to storage")
    ws.close()
    found = {h.path: dict(h.why) for h in r.hits}
    assert "bm25" in found["archive.py"]
    assert found["checksums.py"] == {"deps": 1}  # no word of the query, imported by the best hit
    assert next(h for h in r.hits if h.path == "checksums.py").symbol == "crc_of"


def test_deps_strategy_alone_gives_the_neighbours_of_a_named_symbol(tmp_path, index_dir):
    from tokenlean.indexers.indexer import IndexOptions
    from tokenlean.tools.workspace import Workspace, WorkspaceOptions

    root = tmp_path / "r"
    root.mkdir()
    (root / "archive.py").write_text(
        "from checksums import crc_of\n\n\ndef upload_archive(blob):\n    pass\n"
    )
    (root / "checksums.py").write_text("def crc_of(data):\n    return sum(data) % 255\n")
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    r = search(ws, "crc_of", use=["deps"])
    ws.close()
    assert [(h.path, h.why) for h in r.hits] == [("archive.py", (("deps", 1),))]


def test_exact_symbol_lookups_of_several_names_match_one_lookup_per_name(index_dir, tmp_path):
    """The symbol strategy asks for every name at once; the answer must be what one lookup per name
    gives, also when one name's matches alone fill the shared cap."""
    from tokenlean.indexers.catalog import open_store
    from tokenlean.indexers.indexer import Indexer, IndexOptions
    from tokenlean.tools.strategies import _exact_each

    root = tmp_path / "many"
    (root / "pkg").mkdir(parents=True)
    for i in range(6):
        (root / f"pkg/m{i}.py").write_text(
            f"def parse():\n    return {i}\n\n\nclass Parse{i}:\n    def render(self):\n        return {i}\n"
        )
    (root / "pkg/one.py").write_text("def tokenize():\n    return 1\n")
    Indexer(root, index_dir, IndexOptions(workers=1, vectors="off")).run()
    store = open_store(root, index_dir)
    try:
        names = ["parse", "render", "tokenize", "missing"]
        for limit in (2, 4, 50):
            each = _exact_each(store, ["parse", "Render", "tokenize", "missing"], limit)
            assert each == {n: store.symbols_exact([n], limit) for n in names}
        assert [len(v) for v in _exact_each(store, ["parse", "tokenize"], 50).values()] == [6, 1]
        assert [len(v) for v in _exact_each(store, ["parse", "tokenize"], 3).values()] == [3, 1]  # cap filled
    finally:
        store.close()


@sqlite_only  # no index involved
def test_plain_words_beside_others_are_not_names():
    p = plan("multipart boundary parsing")
    assert (p.shape, p.identifiers) == ("natural", [])
    assert plan("stepwise").shape == "identifier"
    assert plan("WalkBuilder filter_entry").identifiers == ["WalkBuilder", "filter_entry"]
    assert plan("WalkBuilder filter_entry").shape == "identifier"


def test_short_plain_query_finds_the_code_it_describes_not_a_definition_named_by_one_word(workspace, repo):
    (repo / "src/app/style.py").write_text("class Style:\n    pass\n\n\ndef default():\n    return Style()\n")
    (repo / "src/app/help.py").write_text(
        "def render_help(options):\n"
        '    """Show each option with its default values in the help text."""\n'
        "    return [f'{o.name} [default: {o.default}]' for o in options]\n"
    )
    r = search(workspace, "help default values")
    assert r.shape == "natural"
    assert (r.hits[0].path, r.hits[0].symbol) == ("src/app/help.py", "render_help")


def test_a_name_spelled_exactly_ranks_before_the_same_name_in_another_case(workspace, repo):
    # Go: an unexported helper and an exported function of another package differ only in case.
    (repo / "aaa").mkdir()
    (repo / "aaa/repo.go").write_text(
        "package aaa\n\nfunc FormatRemoteURL(owner string) string {\n\treturn owner\n}\n"
    )
    (repo / "zzz").mkdir()
    (repo / "zzz/clone.go").write_text(
        "package zzz\n\nfunc formatRemoteURL(owner string) string {\n\treturn owner\n}\n"
    )
    r = search(workspace, "formatRemoteURL")
    assert (r.hits[0].path, r.hits[0].symbol) == ("zzz/clone.go", "formatRemoteURL")
    assert r.hits[1].path == "aaa/repo.go"


def test_a_file_named_by_a_compound_word_of_the_query_outranks_word_matches(workspace, repo):
    (repo / "lib/rules").mkdir(parents=True)
    (repo / "lib/rules/no-constructor-return.js").write_text(
        "module.exports = {\n  create(context) {\n"
        "    return { ReturnStatement(node) { context.report(node); } };\n"
        "  },\n};\n"
    )
    (repo / "lib/rules/coercion.js").write_text(
        "// Reports implicit coercion: an implicit undefined return, implicit conversions.\n"
        "function checkImplicit(node) {\n  // implicit undefined return is allowed\n"
        "  return node.implicit === undefined ? undefined : node.implicit;\n}\n"
    )
    r = search(workspace, "allow implicit undefined return in `no-constructor-return`")
    assert r.shape == "natural"
    assert r.hits[0].path == "lib/rules/no-constructor-return.js"
    assert ("name", 1) in r.hits[0].why


@sqlite_only  # no index involved
def test_repository_plumbing_is_its_own_kind_and_ranks_low_unless_asked_for():
    from tokenlean.tools.prior import file_kind, priors

    assert file_kind(".github/ISSUE_TEMPLATE/bug_report.yml") == "meta"
    assert file_kind(".github/workflows/test.yml") == "meta"
    assert file_kind("src/github/client.py") == "code"
    assert priors("natural", {"parser", "crash"}, length=2)["meta"] < priors("natural", set())["data"]
    assert "meta" not in priors("natural", {"ci", "workflow", "fails"}, length=3)
