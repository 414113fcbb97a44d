"""TUI start-up: time from launching a fresh process to the first paint, and to the first token of a
first question typed immediately (the model loads in the background meanwhile). Median of N runs.

Each run is a new Python process running the real app headless (Textual's run_test) on the embedded
model, in an empty PMEM_HOME; times are wall-clock from just before the process is spawned.

    python -m bench.tui_startup [--runs 5] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from bench.harness import RESULTS, machine, write_json

CHILD = r"""
import asyncio, json, sys
from pmem.core.runtime import Runtime
from pmem.tui.app import PmemApp

async def main():
    rt = Runtime.load()
    rt.settings.chat.max_tokens = 16
    app = PmemApp(rt)
    async with app.run_test(size=(110, 32)) as pilot:
        while "first_paint" not in app.timeline_at:
            await pilot.pause(0.001)
        prompt = app.query_one("#prompt")
        prompt.value = "What is the capital of France?"
        await pilot.press("enter")
        while "first_token" not in app.timeline_at:
            await pilot.pause(0.001)
        while app.chat._bubble is not None:
            await pilot.pause(0.01)
    rt.close()
    print(json.dumps(app.timeline_at))

asyncio.run(main())
"""


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pmem-tui-") as home:
        env = {**os.environ, "PMEM_HOME": home}
        started = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300, check=True)
        at = json.loads(out.stdout.strip().splitlines()[-1])
        return {k: round(v - started, 3) for k, v in at.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "tui_startup.json")
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    result = {
        "first_paint_s": statistics.median(r["first_paint"] for r in runs),
        "model_ready_s": statistics.median(r["model_ready"] for r in runs),
        "first_token_s": statistics.median(r["first_token"] for r in runs),
        "runs": runs,
        "machine": machine(),
    }
    write_json(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_s")}))


if __name__ == "__main__":
    main()
