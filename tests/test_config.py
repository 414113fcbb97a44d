"""Settings: file, environment, paths, and one-line errors for bad config."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pmem.core.config import load_settings, resolve_paths, to_toml, with_overrides
from pmem.core.errors import ConfigError
from tests.conftest import assert_one_line_error, run_pmem


def test_pmem_home_moves_everything(pmem_home: Path) -> None:
    paths = resolve_paths()
    for name, location in paths.as_dict().items():
        if name == "runtime dir":
            continue  # per user account by design: one background distillation at a time across every home
        assert pmem_home in location.parents
    assert paths.config_file == pmem_home / "config.toml"


def test_file_then_environment_then_flags(pmem_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pmem_home.mkdir()
    (pmem_home / "config.toml").write_text('[model]\nn_ctx = 2048\n[chat]\ntemperature = 0.2\nmax_tokens = 64\n')
    monkeypatch.setenv("PMEM_CHAT_MAX_TOKENS", "99")
    settings = load_settings()
    assert settings.model.n_ctx == 2048
    assert settings.chat.temperature == 0.2
    assert settings.chat.max_tokens == 99
    overridden = with_overrides(settings, chat__max_tokens=7, model__path=None)
    assert overridden.chat.max_tokens == 7 and settings.chat.max_tokens == 99


def test_show_round_trips_through_toml(pmem_home: Path) -> None:
    pmem_home.mkdir()
    (pmem_home / "config.toml").write_text('[ui]\ntheme = "textual-light"\nkeys = { toggle_memory = "f2" }\n')
    settings = load_settings()
    (pmem_home / "config.toml").write_text(to_toml(settings))
    assert load_settings() == settings


@pytest.mark.parametrize(
    ("document", "fragments"),
    [
        ("[model\npath = 1", ["config.toml", "invalid TOML"]),
        ("[model]\npth = 'x'\n", ["unknown key 'model.pth'", "did you mean 'model.path'"]),
        ("[modle]\npath = 'x'\n", ["unknown section [modle]", "did you mean 'model'"]),
        ("[model]\nn_ctx = 'big'\n", ["model.n_ctx must be an integer"]),
        ("[model]\nbackend = 'ollama'\n", ["model.backend must be one of"]),
        ("[model]\ncache_type_k = 'q4_0'\n", ["model.cache_type_k must be one of 'f16', 'q8_0'"]),
    ],
)
def test_invalid_config_is_one_line_naming_file_and_key(pmem_home: Path, document: str, fragments: list[str]) -> None:
    pmem_home.mkdir()
    (pmem_home / "config.toml").write_text(document)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "\n" not in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_unknown_environment_variable_suggests_the_nearest(pmem_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMEM_MODEL_PAHT", "/x")
    with pytest.raises(ConfigError, match="PMEM_MODEL_PATH"):
        load_settings()


def test_cli_reports_corrupt_config_in_one_line(pmem_home: Path) -> None:
    pmem_home.mkdir()
    (pmem_home / "config.toml").write_bytes(b"[chat]\ntemperature = = 3\n")
    proc = run_pmem("ask", "hello", home=pmem_home)
    assert_one_line_error(proc, str(pmem_home / "config.toml"), "invalid TOML")
    assert proc.returncode == 2


def test_paths_and_config_show(pmem_home: Path) -> None:
    proc = run_pmem("paths", home=pmem_home)
    assert proc.returncode == 0
    assert f"data dir      {pmem_home / 'data'}" in proc.stdout
    assert f"database      {pmem_home / 'data' / 'pmem.sqlite3'}" in proc.stdout
    pmem_home.mkdir(exist_ok=True)
    (pmem_home / "config.toml").write_text("[chat]\nmax_tokens = 123\n")
    shown = run_pmem("config", "show", home=pmem_home, env={"PMEM_CHAT_TEMPERATURE": "0.25"})
    assert shown.returncode == 0
    assert "max_tokens = 123" in shown.stdout and "temperature = 0.25" in shown.stdout


def test_data_dir_is_private(pmem_home: Path) -> None:
    resolve_paths().ensure_data_dir()
    assert stat.S_IMODE((pmem_home / "data").stat().st_mode) == 0o700


def test_version(pmem_home: Path) -> None:
    from pmem import __version__

    proc = run_pmem("--version", home=pmem_home)
    assert proc.returncode == 0 and proc.stdout.strip() == f"pmem {__version__}"
