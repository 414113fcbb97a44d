"""The command-line face: thin Typer commands over ``pmem.core``."""
