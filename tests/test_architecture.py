"""Layering and import hygiene: the core is headless, and startup does not pay for heavy libraries."""

from __future__ import annotations

import ast
import re
import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pmem.core

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "pmem" / "core"
FACES_AND_TOOLKITS = ("pmem.cli", "pmem.tui", "textual", "typer", "click")
HEAVY = ["torch", "sentence_transformers", "chromadb", "llama_cpp", "textual", "transformers"]


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_source_never_imports_a_face() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for name in _imported_names(path):
            if any(name == f or name.startswith(f + ".") for f in FACES_AND_TOOLKITS):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_importing_every_core_module_loads_no_face() -> None:
    modules = [m.name for m in pkgutil.walk_packages(pmem.core.__path__, "pmem.core.")]
    assert len(modules) >= 8
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {('textual', 'typer', 'click')!r} "
        "or n.startswith(('pmem.cli', 'pmem.tui')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("import-linter is part of the test extras; install with pip install -e '.[test]'")
    proc = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 4 kept, 0 broken" in proc.stdout


def _modules_after(argv: list[str], tmp_path: Path) -> list[str]:
    code = (
        "import json, sys\n"
        "from pmem.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"sys.stderr.write('MODULES=' + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {"PMEM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    marker = proc.stderr.rsplit("MODULES=", 1)
    assert len(marker) == 2, proc.stderr
    return json.loads(marker[1])


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    assert _modules_after(["--help"], tmp_path) == []


def test_paths_config_and_profile_show_import_no_heavy_library(tmp_path: Path) -> None:
    assert _modules_after(["paths"], tmp_path) == []
    assert _modules_after(["config", "show"], tmp_path) == []
    assert _modules_after(["profile", "set", "location.city", "Utrecht"], tmp_path) == []
    assert _modules_after(["profile", "show"], tmp_path) == []
    assert _modules_after(["profile", "show", "--history", "--json"], tmp_path) == []
    assert _modules_after(["models", "--json"], tmp_path) == []  # reads GGUF headers, loads no model


def test_no_module_imports_its_way_back_to_itself() -> None:
    """No import circle anywhere in pmem, counting imports made only for type checking and deferred imports."""
    import grimp

    graph = grimp.build_graph("pmem", cache_dir=None, exclude_type_checking_imports=False)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while (top := stack.pop()) != module:
                component.append(top)
            if component:
                circles.append(sorted([module, *component]))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert circles == []


#: Each table and the one module that writes it (the schema's own modules create and migrate them all).
TABLE_OWNERS = {
    "pmem/core/store/journal.py": {"sessions", "turns"},
    "pmem/core/store/fts.py": {"turns_fts", "sqlite_master"},
    "pmem/core/store/meta.py": {"meta"},
    "pmem/core/store/feedback.py": {"feedback", "preference_pairs", "preference_tombstones"},
    "pmem/core/profile/store.py": {"facts", "fact_sources", "fact_endings", "fact_tombstones", "ending_tombstones", "{table}"},
    "pmem/core/memory/episodes.py": {"episodes"},
    "pmem/core/distill/store.py": {"adapters", "adapter_sources", "adapter_pairs"},
    "pmem/core/store/db.py": {"_migrations"},
}
SCHEMA = {"pmem/core/store/migrations.py"}
WRITES = re.compile(r"\b(?:INSERT(?:\s+OR\s+[A-Z]+)?\s+INTO|REPLACE\s+INTO|DELETE\s+FROM)\s+([A-Za-z_{][\w{}]*)|\bUPDATE\s+([A-Za-z_]\w*)\s+SET\b")


def test_sql_that_writes_is_only_in_the_store_that_owns_the_table() -> None:
    """An import, a forget or a reindex goes through the stores' methods; the rule that a newer fact supersedes an
    older one, say, is written once."""
    strays = []
    for path in sorted((ROOT / "pmem").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name in SCHEMA:
            continue
        for match in WRITES.finditer(path.read_text()):
            table = match.group(1) or match.group(2)
            if table not in TABLE_OWNERS.get(name, set()):
                strays.append(f"{name} writes {table}")
    assert strays == []
    assert WRITES.search('conn.execute("UPDATE facts SET value = ?")') and WRITES.search("INSERT OR IGNORE INTO meta (k) VALUES (1)")


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def test_no_module_over_500_lines_and_no_function_over_80() -> None:
    modules, functions = {}, {}
    for path in sorted((ROOT / "pmem").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
            modules[name] = lines
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                if (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                    functions[f"{name}:{node.name}"] = length
    assert modules == {}, "modules over 500 lines: split them by what they hold"
    assert functions == {}, "functions over 80 lines: split them into steps"
