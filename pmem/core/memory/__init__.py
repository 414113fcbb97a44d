"""Episodic memory: exchanges from the journal, embedded into Chroma, retrieved by a hybrid of dense and lexical search."""
