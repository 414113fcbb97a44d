"""Parametric memory: LoRA adapters distilled from the profile and memories (the heavy parts need ``pmem[distill]``)."""
