"""Build the notebooks: notebooks/src/NN_name.py (percent format) -> notebooks/NN_name.ipynb,
executed with nbclient so the stored outputs are exactly what a re-run prints (nbval compares
them strictly in scripts/test).

    python notebooks/_build.py                 # every notebook: write + execute
    python notebooks/_build.py 03 05           # only those (by number or name prefix)
    python notebooks/_build.py --check         # also execute a second time and compare outputs
    python notebooks/_build.py --no-execute    # write the cells only (outputs empty)

The sources are the files to edit: ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown
cell whose lines are comments (``# `` is stripped). Everything before the first marker is
ignored. Run with the project's Python (.venv/bin/python) so the kernel imports line_idlink.
"""

import argparse
import pathlib
import re
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE / "src"
MARKER = re.compile(r"^# %%(?:\s*\[(\w+)\])?\s*$")


def parse(text):
    """Cells ``[(kind, source)]`` of a percent-format file."""
    cells, kind, lines = [], None, []

    def close():
        if kind is None:
            return
        body = lines
        if kind == "markdown":
            body = [re.sub(r"^# ?", "", line) if line.startswith("#") else line
                    for line in lines]
        source = "\n".join(body).strip("\n")
        if source.strip():
            cells.append((kind, source))

    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            close()
            kind, lines = ("markdown" if match.group(1) == "markdown" else "code"), []
        else:
            lines.append(line)
    close()
    return cells


def to_notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    for index, cell in enumerate(nb.cells):  # stable ids: no random churn in diffs
        cell["id"] = f"cell-{index:02d}"
    return nb


def execute(nb):
    client = NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # kernel timing metadata: never stored
        if cell.cell_type == "code":
            cell.outputs = join_streams(cell.outputs)
    return nb


def join_streams(cell_outputs):
    """One stream output where the kernel sent several in a row: the kernel splits a cell's
    prints at arbitrary points, and the stored file should not change from build to build."""
    joined = []
    for out in cell_outputs:
        if (out.get("output_type") == "stream" and joined
                and joined[-1].get("output_type") == "stream"
                and joined[-1].get("name") == out.get("name")):
            joined[-1]["text"] += out["text"]
        else:
            joined.append(out)
    return joined


def outputs(nb):
    """What nbval compares, per cell: streams joined (the kernel splits them at random points,
    nbval joins them too), without the PNG bytes nbval skips anyway."""
    result = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        items = []
        for out in cell.get("outputs", []):
            if (out.get("output_type") == "stream" and items and items[-1][0] == "stream"
                    and items[-1][1] == out.get("name")):
                items[-1] = ("stream", out["name"], items[-1][2] + out["text"], {}, None)
                continue
            data = dict(out.get("data", {}))
            data.pop("image/png", None)
            items.append((out.get("output_type"), out.get("name"), out.get("text"),
                          data, out.get("ename")))
        result.extend(items)
    return result


def select(names):
    sources = sorted(SRC.glob("[0-9][0-9]_*.py"))
    if not names:
        return sources
    chosen = [p for p in sources if any(p.stem.startswith(n) for n in names)]
    missing = [n for n in names if not any(p.stem.startswith(n) for p in sources)]
    if missing:
        sys.exit(f"no notebook source matches {missing}")
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook numbers or name prefixes")
    parser.add_argument("--no-execute", action="store_true")
    parser.add_argument("--check", action="store_true", help="run twice, compare the outputs")
    args = parser.parse_args(argv)
    failed = False
    for source in select(args.names):
        target = HERE / f"{source.stem}.ipynb"
        nb = to_notebook(parse(source.read_text(encoding="utf-8")))
        started = time.monotonic()
        if not args.no_execute:
            execute(nb)
        took = time.monotonic() - started
        errors = [o for o in outputs(nb) if o[0] == "error" or o[1] == "stderr"]
        if errors:
            failed = True
            print(f"{target.name}: output has errors or stderr: {errors}", file=sys.stderr)
        nbformat.write(nb, target)
        line = f"{target.name}: {len(nb.cells)} cells, executed in {took:.1f} s"
        if args.check and not args.no_execute:
            again = execute(nbformat.read(target, as_version=4))
            same = outputs(again) == outputs(nb)
            failed |= not same
            line += ", re-run identical" if same else ", RE-RUN DIFFERS"
        print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
