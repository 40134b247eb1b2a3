"""The integrator notebooks are committed in a state nbval can check strictly: built from their
sources, executed (every code cell run, in order, without errors or stderr), explained in prose,
and asserting their outcomes. The outputs themselves are compared by nbval (scripts/test)."""

import importlib.util
import pathlib
import re

import nbformat
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = ["01_line_login_link", "02_messaging_api_account_link", "03_webhook_security",
            "04_per_user_rich_menus", "05_segmented_campaign", "06_campaign_ab_tracking"]


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build_module()


def load(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def test_every_flow_has_a_notebook_and_a_source():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED
    assert sorted(p.stem for p in (NOTEBOOKS / "src").glob("*.py")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_built_from_its_source(name):
    """Editing the .ipynb by hand would be lost at the next build: the two must agree."""
    cells = build.parse((NOTEBOOKS / "src" / f"{name}.py").read_text(encoding="utf-8"))
    nb = load(name)
    assert [(c.cell_type, c.source) for c in nb.cells] == cells


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_executed_in_order(name):
    code = [c for c in load(name).cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), "run every cell once, top to bottom"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {cell.execution_count} raised"
            assert out.output_type != "execute_result", (
                f"cell {cell.execution_count} ends with a value: print what matters instead")
            assert out.get("name") != "stderr", (
                f"cell {cell.execution_count} wrote to stderr: {out.get('text', '')[:200]}")


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_explains_and_asserts(name):
    nb = load(name)
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert prose[0].startswith("# "), "the first cell is the title"
    assert "Why LINE designed it this way" in prose[0] and "What can go wrong" in prose[0]
    assert len(prose) >= 8 and sum(len(p) for p in prose) > 3000
    assert sum(len(re.findall(r"^\s*assert ", c, re.M)) for c in code) >= 8
    assert max(len(c.splitlines()) for c in code) <= 60, "keep cells short"


@pytest.mark.parametrize("name", EXPECTED)
def test_outputs_hold_nothing_that_changes_between_runs(name):
    """Ports, wall-clock times and latencies would break nbval's strict comparison."""
    text = "\n".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
                     for c in load(name).cells if c.cell_type == "code" for out in c.outputs)
    assert not re.search(r"127\.0\.0\.1:\d+|localhost:\d+", text)
    assert not re.search(r"latencyMs|\d+\.\d+ ?ms\b", text)
