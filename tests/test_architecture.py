"""Layering and import hygiene: the core is headless, and startup does not pay for heavy libraries."""

from __future__ import annotations

import ast
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
