"""Every hook in the contract is documented, with its signature and an example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from twofold import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugin_hooks.md"


def _hook_names() -> list[str]:
    functions = inspect.getmembers(hookspecs, inspect.isfunction)
    return [name for name, _ in functions if name.startswith("twofold_")]


def _sections() -> dict[str, str]:
    text = DOCS.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {part.splitlines()[0].strip(): part for part in parts}


def test_the_contract_has_hooks() -> None:
    assert "twofold_tenant_created" in _hook_names()


def test_every_hook_is_documented_with_its_signature_and_an_example() -> None:
    sections = _sections()
    for name in _hook_names():
        assert name in sections, f"{name} is not documented in {DOCS.name}"
        section = sections[name]
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({params})`" in section, f"{name}: the signature in the docs is out of date"
        assert "```python" in section and f"def {name}(" in section, f"{name}: no runnable example"


def test_every_documented_hook_exists() -> None:
    assert set(_sections()) <= set(_hook_names())


def test_every_hook_has_a_docstring() -> None:
    for name in _hook_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
