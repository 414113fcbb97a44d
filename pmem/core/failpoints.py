"""Named points in the write paths where a crash test can stop the process (failpoints).

The crash harness kills a child process *at* a stage (inside a write transaction, while embedding, while
the vector store or an adapter is written), not after a wall-clock delay that a slow machine may never
reach. The core calls :func:`reach` at those points; it does nothing unless a handler was installed with
:func:`install`, which only test code does. Cost when unused: one global lookup and a ``None`` check.
"""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[str], None]

_handler: Handler | None = None

POINTS = (
    "txn.commit",  # inside a write transaction, just before COMMIT
    "embed",  # episodes loaded, about to be embedded for the vector store
    "vectors.write",  # holding the vector store's write lock, about to write
    "vectors.compact",  # rewriting the vector store after a forget
    "forget.commit",  # inside the forgetting transaction, turns deleted, not yet committed
    "adapter.write",  # an adapter's temporary file written, not yet renamed into place
)


def reach(point: str) -> None:
    """Tell the installed handler (if any) that this point was reached; it may block or never return."""
    handler = _handler
    if handler is not None:
        handler(point)


def install(handler: Handler | None) -> None:
    """Install (or with ``None`` remove) the process-wide handler. For crash tests only."""
    global _handler
    _handler = handler
