"""Paths and settings: the one place that knows where pmem keeps things and how it is configured.

Settings come from, in rising priority: defaults below, the TOML config file, ``PMEM_<SECTION>_<KEY>``
environment variables, then command-line flags (applied by the faces with :func:`with_overrides`).
``PMEM_HOME`` moves everything (config, data, cache, logs) under one directory; tests rely on it.
"""

from __future__ import annotations

from pmem.core.config.loading import load_settings, save_setting, setting_keys, to_toml, with_overrides
from pmem.core.config.paths import Paths, resolve_paths, user_runtime_dir
from pmem.core.config.settings import (
    APP_NAME, ENV_PREFIX, PER_MODEL_KEYS, RESERVED_ENV, BackupSettings, ChatSettings, DistillSettings, EmbedderSettings,
    MemorySettings, ModelSettings, ProfileSettings, ServeSettings, Settings, UISettings, model_settings, physical_cores,
    resolved_threads,
)

__all__ = [
    "APP_NAME", "ENV_PREFIX", "PER_MODEL_KEYS", "RESERVED_ENV", "BackupSettings", "ChatSettings", "DistillSettings",
    "EmbedderSettings", "MemorySettings", "ModelSettings", "Paths", "ProfileSettings", "ServeSettings", "Settings",
    "UISettings", "load_settings", "model_settings", "physical_cores", "resolve_paths", "resolved_threads", "save_setting",
    "setting_keys", "to_toml", "user_runtime_dir", "with_overrides",
]
