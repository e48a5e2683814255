"""The core does not depend on storage engines: `store` imports `core`, never the reverse.

The storage interface lives in `core.storage`; a core module that needs a store
takes one as a parameter. Parsing (not importing) keeps this check exact: a lazy
import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numberpool.core

CORE = Path(numberpool.core.__file__).parent


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # relative: from ..store import x  (core is one level below the package)
                base = "numberpool" if node.level == 2 else "numberpool.core"
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _is_store(module: str) -> bool:
    return module == "numberpool.store" or module.startswith("numberpool.store.")


def test_no_core_module_imports_the_store_package() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 10
    offenders = [
        f"{path.relative_to(CORE.parent)}:{line}: {module}"
        for path in modules
        for line, module in _imported_modules(ast.parse(path.read_text(), str(path)))
        if _is_store(module)
    ]
    assert offenders == []


def test_the_check_sees_each_import_form() -> None:
    source = "import numberpool.store\nfrom numberpool import store\nfrom ..store.sqlite import X\ndef f():\n    from numberpool.store import open_store\n"
    lines = {line for line, m in _imported_modules(ast.parse(source)) if _is_store(m)}
    assert lines == {1, 2, 3, 5}
