"""The benchmarks' harness: a fresh home per measurement, configured without touching the process's environment."""

from __future__ import annotations

import os
from pathlib import Path

from bench.harness import bench_environ, fresh_home


def test_a_fresh_home_is_configured_by_its_own_variables_and_leaves_nothing_behind() -> None:
    def pmem_variables() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k.startswith("PMEM_")}

    before = pmem_variables()
    with fresh_home(PMEM_CHAT_MAX_TOKENS="7") as rt:
        home = rt.paths.data_dir.parent
        assert rt.settings.chat.max_tokens == 7
        assert rt.settings.distill.auto is False  # no background training under a measurement
        rt.journal.new_session("a benchmark's session")
        assert rt.paths.database.exists()
        with fresh_home() as other:
            assert other.paths.database != rt.paths.database and other.settings.chat.max_tokens != 7
    assert pmem_variables() == before  # (pmem itself sets the libraries' offline switches; those are its own)
    assert not Path(home).exists()


def test_the_environment_keeps_the_callers_pmem_variables_and_always_names_the_home(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PMEM_MEMORY_TOP_K", "3")
    monkeypatch.setenv("PMEM_HOME", "/somewhere/else")
    env = bench_environ(tmp_path, PMEM_DISTILL_AUTO="true")
    assert env["PMEM_MEMORY_TOP_K"] == "3" and env["PMEM_HOME"] == str(tmp_path) and env["PMEM_DISTILL_AUTO"] == "true"
