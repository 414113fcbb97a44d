"""Run the test suite with CPU-bound processes beside it, as on a laptop that is also compiling or indexing.

    python tests/run_under_load.py [--busy 2] [pytest arguments...]

Starts ``--busy`` processes that spin on the CPU for as long as the suite runs (each stops by itself after
``--max-seconds`` in any case), runs ``python -m pytest`` with the remaining arguments (``-q`` by default),
stops the busy processes and exits with pytest's status. Nothing in the suite may depend on the machine's speed:
tests wait for events, not for wall-clock delays, so they pass the same way here and on a quiet machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

SPIN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    sum(range(10_000))\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=2, help="CPU-bound processes to run beside the suite (default 2).")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="Each busy process stops by itself after this.")
    args, pytest_args = parser.parse_known_args()
    busy = [subprocess.Popen([sys.executable, "-c", SPIN, str(args.max_seconds)]) for _ in range(args.busy)]
    started = time.monotonic()
    try:
        status = subprocess.call([sys.executable, "-m", "pytest", *(pytest_args or ["-q"])])
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    print(f"run_under_load: pytest exited {status} after {time.monotonic() - started:.0f} s with {args.busy} busy process(es) beside it")
    return status


if __name__ == "__main__":
    sys.exit(main())
