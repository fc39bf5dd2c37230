"""Snippet cutting: a text measured once is cut as the raw text is, and its full cost shows it whole."""

from pathlib import Path

import pytest

from tokenlean.tools.snippets import cut, measure

SOURCE = (Path(__file__).parents[1] / "tools" / "snippets.py").read_text()


@pytest.mark.parametrize("allowance", [40, 120, 400, 5000])
def test_a_measured_text_is_cut_exactly_as_the_raw_text(allowance):
    focus = ["densest"]
    assert cut(measure(SOURCE), 1, allowance, focus=focus) == cut(SOURCE, 1, allowance, focus=focus)


def test_a_place_given_its_measured_cost_is_shown_whole_and_nothing_less_is():
    measured = measure(SOURCE)
    whole = cut(measured, 10, measured.tokens)
    assert whole.complete and whole.text == "\n".join(measured.lines) and whole.tokens == measured.tokens
    assert not cut(measured, 10, measured.tokens - 1).complete
