"""The example notebook runs top to bottom in a real kernel and finds the demo attack (its last
cell asserts the hosts where the payload ran)."""

import pathlib

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "hunt-the-axios-compromise.ipynb"


def test_the_example_notebook_finds_the_demo_attack():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, when one fails

    outputs = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells if cell.cell_type == "code"]
    assert "payload ran on: ['ci-runner-3', 'dev-laptop-07', 'win-build-2']" in outputs[-1]
    assert "known-bad packages seen: ['axios@0.30.4', 'axios@1.14.1', 'plain-crypto-js@4.2.1']" in outputs[-1]
    rich = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if "data" in o]
    # Results render as HTML in Jupyter, process trees included.
    assert any("└─" in o["data"].get("text/html", "") for o in rich)
