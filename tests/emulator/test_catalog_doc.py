"""The endpoint reference in docs/ is generated from the route table and must not drift."""

from pathlib import Path

from line_emulator import Emulator, catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "emulator-endpoints.md"


def test_endpoint_reference_matches_the_routes():
    Emulator().app  # registers every route
    assert DOC.read_text(encoding="utf-8") == catalog.endpoints_markdown(), (
        "docs/emulator-endpoints.md is stale: run "
        "`python -m line_emulator.catalog > docs/emulator-endpoints.md`")
