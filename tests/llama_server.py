"""``python -m llama_cpp.server`` (llama-cpp-python's own OpenAI-compatible server), started the way the tests
need it: with pmem's guard for llama.cpp's AMX crash applied first (see ``pmem/core/engine/llama_compat.py``;
on other CPUs the guard changes nothing). Arguments are the server's own: ``--model``, ``--port``, …"""

from __future__ import annotations

import runpy

from pmem.core.engine.llama_compat import import_llama_cpp

if __name__ == "__main__":
    import_llama_cpp()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
