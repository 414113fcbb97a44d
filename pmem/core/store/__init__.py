"""On-disk stores, one per memory layer, sharing one SQLite database for atomic cross-layer forgetting."""
