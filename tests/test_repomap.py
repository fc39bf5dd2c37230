"""The repo map (`outline`): PageRank over the import graph, personalised by a query, fitted to a budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenlean.indexers.indexer import IndexOptions
from tokenlean.tools import repomap
from tokenlean.tools.workspace import Workspace, WorkspaceOptions

FILES = {
    "core/engine.py": (
        "class Engine:\n    def start(self):\n        pass\n\n    def stop(self):\n        pass\n\n\n"
        "def make_engine():\n    return Engine()\n"
    ),
    "core/config.py": "def load_config(path):\n    return {}\n",
    "plugins/audio.py": "from core.engine import Engine\n\ndef play_sound(name):\n    pass\n",
    "plugins/video.py": (
        "from core.engine import Engine\nfrom core.config import load_config\n\n"
        "def render_frame():\n    pass\n"
    ),
    "plugins/net.py": "from core.engine import make_engine\n\ndef open_socket(host):\n    pass\n",
    "billing/invoice.py": "def send_invoice(customer):\n    '''Email an invoice to a customer.'''\n",
}


@pytest.fixture
def ws(tmp_path: Path, index_dir: Path):
    root = tmp_path / "r"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    workspace = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    yield workspace
    workspace.close()


def test_pagerank_sums_to_one_and_ranks_the_most_imported_node_first():
    scores = repomap.pagerank([1, 2, 3, 4], [(1, 4, 1), (2, 4, 1), (3, 4, 2), (4, 2, 1)])
    assert sum(scores.values()) == pytest.approx(1.0)
    assert max(scores, key=scores.__getitem__) == 4
    assert scores[2] > scores[1] == pytest.approx(scores[3])


def test_pagerank_personalisation_moves_rank_towards_the_given_nodes():
    edges = [(1, 2, 1), (3, 2, 1)]
    plain = repomap.pagerank([1, 2, 3], edges)
    towards_3 = repomap.pagerank([1, 2, 3], edges, {3: 1.0})
    assert towards_3[3] > plain[3] and towards_3[1] < plain[1]


def test_outline_of_the_repository_starts_with_the_most_imported_file(ws):
    result = repomap.outline(ws)
    text = repomap.outline_text(result)
    lines = text.splitlines()
    assert lines[0].startswith("outline of the whole repository · 6 of 6 files")
    assert lines[1] == "core/engine.py"
    assert "  class Engine:" in lines and "    def start(self):" in lines
    assert "  def send_invoice(customer):" in lines


def test_outline_fits_its_budget_by_leaving_out_the_least_important_definitions(ws):
    result = repomap.outline(ws, budget_tokens=100)
    text = repomap.outline_text(result)
    assert result.tokens <= 100
    assert 0 < result.shown_definitions < sum(len(f.symbols) for f in result.files)
    assert "core/engine.py" in text
    assert text.splitlines()[-1].startswith("… ") and "raise budget_tokens" in text


def test_outline_for_a_query_puts_the_files_it_finds_first(ws):
    result = repomap.outline(ws, "email an invoice to the customer")
    text = repomap.outline_text(result)
    assert text.splitlines()[1] == "billing/invoice.py"


def test_outline_of_a_folder_lists_only_its_files(ws):
    text = repomap.outline_text(repomap.outline(ws, path="plugins"))
    files = [ln for ln in text.splitlines()[1:] if ln and not ln.startswith(" ")]
    assert sorted(files) == ["plugins/audio.py", "plugins/net.py", "plugins/video.py"]


def test_outline_budget_out_of_range_is_an_error(ws):
    with pytest.raises(repomap.BadOutline, match="budget_tokens must be between 100 and 20000"):
        repomap.outline(ws, budget_tokens=5)


def test_a_hub_with_many_definitions_does_not_fill_a_small_map_alone(tmp_path: Path, index_dir: Path):
    root = tmp_path / "hub"
    (root / "core").mkdir(parents=True)
    (root / "core" / "hub.py").write_text(
        "".join(f"def helper_{i}(value, other, third):\n    return value + {i}\n\n" for i in range(150))
    )
    for i in range(12):
        text = f"from core.hub import helper_{i}\n\ndef feature_{i}():\n    pass\n"
        (root / f"user_{i}.py").write_text(text)
    ws = Workspace([root], WorkspaceOptions(index_dir=index_dir, index=IndexOptions(vectors="off")))
    try:
        result = repomap.outline(ws, budget_tokens=300)
        text = repomap.outline_text(result)
    finally:
        ws.close()
    assert text.splitlines()[1] == "core/hub.py"  # still ranked first
    assert result.shown_files >= 4, text
    assert result.tokens <= 300
