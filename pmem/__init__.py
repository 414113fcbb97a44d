"""pmem: a terminal chat assistant with a local, lifelong memory."""

from pmem.core import offline as _offline  # noqa: F401  (must run before any Hugging Face import)

__version__ = "0.1.0"
