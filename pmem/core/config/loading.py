"""Reading and writing the settings: defaults, then the TOML file, then ``PMEM_*`` variables, then overrides from
the command line; and a setting saved back to the file."""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from typing import Any, Literal, get_args, get_origin, get_type_hints

from pmem.core.config.paths import Paths, resolve_paths
from pmem.core.config.settings import ENV_PREFIX, PER_MODEL_KEYS, RESERVED_ENV, ModelSettings, Settings, setting_sections
from pmem.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib



def load_settings(paths: Paths | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then ``PMEM_*`` variables; any error is a one-line ConfigError."""
    env = os.environ if environ is None else environ
    paths = paths or resolve_paths(env)
    settings = Settings()
    if paths.config_file.exists():
        try:
            raw = paths.config_file.read_bytes().decode("utf-8")
            document = tomllib.loads(raw)
        except UnicodeDecodeError:
            raise ConfigError(f"{paths.config_file}: not valid UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{paths.config_file}: invalid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{paths.config_file}: cannot read: {exc.strerror or exc}") from None
        _apply_document(settings, document, source=str(paths.config_file))
    _apply_environment(settings, env)
    return settings


def with_overrides(settings: Settings, **dotted: Any) -> Settings:
    """A copy of ``settings`` with ``section__key=value`` overrides applied (``None`` values skipped)."""
    copy = dataclasses.replace(
        settings,
        **{f.name: dataclasses.replace(getattr(settings, f.name)) for f in setting_sections()},
        models={name: dict(table) for name, table in settings.models.items()},
    )
    for name, value in dotted.items():
        if value is None:
            continue
        section, key = name.split("__", 1)
        _set_value(copy, section, key, value, source="command line")
    return copy


def setting_keys() -> list[str]:
    """Every valid ``section.key``."""
    return [f"{s.name}.{k.name}" for s in setting_sections() for k in dataclasses.fields(s.default_factory())]  # type: ignore[misc]


def _apply_document(settings: Settings, document: dict[str, Any], source: str) -> None:
    sections = {f.name for f in dataclasses.fields(Settings)}
    for section, table in document.items():
        if section not in sections:
            raise ConfigError(f"{source}: unknown section [{section}]{_suggest(section, sorted(sections))}")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: '{section}' must be a table ([{section}])")
        if section == "models":
            _apply_model_tables(settings, table, source)
            continue
        for key, value in table.items():
            _set_value(settings, section, key, value, source=source)


def _apply_model_tables(settings: Settings, tables: dict[str, Any], source: str) -> None:
    hints = get_type_hints(ModelSettings)
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f'{source}: models."{name}" must be a table ([models."{name}"])')
        checked: dict[str, Any] = {}
        for key, value in table.items():
            if key not in PER_MODEL_KEYS:
                raise ConfigError(
                    f'{source}: unknown key \'{key}\' in [models."{name}"]{_suggest(key, list(PER_MODEL_KEYS))}; '
                    f"a model's own table may set {', '.join(PER_MODEL_KEYS)}"
                )
            checked[key] = _coerce(value, hints[key], f'models."{name}".{key}', source, from_text=False)
        settings.models[name] = checked


def _apply_environment(settings: Settings, env: dict[str, str] | os._Environ[str]) -> None:
    names = {key.replace(".", "_").upper(): key for key in setting_keys()}
    for var, raw in env.items():
        if not var.startswith(ENV_PREFIX) or var in RESERVED_ENV:
            continue
        suffix = var[len(ENV_PREFIX) :]
        if suffix not in names:
            candidates = [ENV_PREFIX + n for n in names] + sorted(RESERVED_ENV)
            raise ConfigError(f"environment: unknown variable {var}{_suggest(var, candidates)}")
        section, key = names[suffix].split(".", 1)
        _set_value(settings, section, key, raw, source=f"environment variable {var}", from_text=True)


def _set_value(settings: Settings, section: str, key: str, value: Any, source: str, from_text: bool = False) -> None:
    table = getattr(settings, section)
    hints = get_type_hints(type(table))
    if key not in hints:
        keys = [f.name for f in dataclasses.fields(table)]
        raise ConfigError(f"{source}: unknown key '{section}.{key}'{_suggest(key, keys, prefix=section + '.')}")
    setattr(table, key, _coerce(value, hints[key], f"{section}.{key}", source, from_text))


def _coerce(value: Any, hint: Any, dotted: str, source: str, from_text: bool) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{source}: {dotted} must be one of {listed}, got {value!r}")
        return value
    if hint is bool:
        if from_text and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{source}: {dotted} must be true or false, got {value!r}")
    if hint is int:
        if from_text and isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{source}: {dotted} must be an integer, got {value!r}")
    if hint is float:
        if from_text and isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{source}: {dotted} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{source}: {dotted} must be a string, got {value!r}")
    if origin is list:
        if from_text and isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ConfigError(f"{source}: {dotted} must be a list of strings")
    if origin is dict:
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        raise ConfigError(f"{source}: {dotted} must be a table of strings")
    raise ConfigError(f"{source}: {dotted} has an unsupported type")  # pragma: no cover


def _suggest(word: str, candidates: list[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return f" (did you mean '{prefix}{close[0]}'?)" if close else ""


def save_setting(paths: Paths, dotted: str, value: str | int | float | bool) -> None:
    """Write one ``section.key = value`` into the config file, keeping the rest of it (comments included)."""
    import re

    section, key = dotted.split(".", 1)
    if dotted not in setting_keys():
        raise ConfigError(f"unknown key '{dotted}'{_suggest(dotted, setting_keys())}")
    path = paths.config_file
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    line = f"{key} = {_toml_value(value)}"
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if re.match(rf"^\s*\[\s*{re.escape(section)}\s*\]", l)), None)
    if start is None:
        lines += ([""] if lines else []) + [f"[{section}]", line]
    else:
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines))
        found = next((i for i in range(start + 1, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i])), None)
        if found is None:
            lines.insert(start + 1, line)
        else:
            lines[found] = line
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)



def to_toml(settings: Settings) -> str:
    """The effective settings as a TOML document (the format of the config file)."""
    lines: list[str] = []
    for section in setting_sections():
        table = getattr(settings, section.name)
        lines.append(f"[{section.name}]")
        for item in dataclasses.fields(table):
            lines.append(f"{item.name} = {_toml_value(getattr(table, item.name))}")
        lines.append("")
    for name, overrides in settings.models.items():
        lines.append(f"[models.{_toml_value(name)}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in overrides.items()]
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    import json

    return json.dumps(str(value), ensure_ascii=False)
