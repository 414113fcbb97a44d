"""Your own models: discovery in fake Ollama, LM Studio, Hugging Face, GPT4All and search-path layouts built from
the real embedded GGUF (Ollama's manifests in its real format), ``pmem models``, ``models use``, ``--model NAME``,
``/model NAME`` in a plain chat, per-model settings and the automatic context; all with real llama.cpp."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_pmem

ORIGINAL_NAME = b"Smollm2 135M 8k Lc100K Mix1 Ep2"


def _copy_named(source: Path, target: Path, label: str) -> Path:
    """A copy of the embedded GGUF whose ``general.name`` says ``label`` (same length, so nothing moves), so a
    journal row shows which copy answered."""
    data = source.read_bytes()
    name = label.encode().ljust(len(ORIGINAL_NAME), b".")[: len(ORIGINAL_NAME)]
    assert data.count(ORIGINAL_NAME) == 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.replace(ORIGINAL_NAME, name))
    return target


def _gguf(path: Path, meta: dict[str, object]) -> Path:
    """A header-only GGUF (no tensors) with string and uint32 metadata: enough for non-chat files."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta)))
    for key, value in meta.items():
        out += struct.pack("<Q", len(key.encode())) + key.encode()
        if isinstance(value, str):
            out += struct.pack("<IQ", 8, len(value.encode())) + value.encode()
        else:
            out += struct.pack("<II", 4, int(value))  # type: ignore[call-overload]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def _ollama_manifest(root: Path, name: str, tag: str, layers: list[dict[str, object]]) -> Path:
    path = root / "manifests" / "registry.ollama.ai" / "library" / name / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "c" * 64, "size": 485}
    path.write_text(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": config, "layers": layers}))
    return path


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory, embedded_model: Path) -> dict[str, Path]:
    """A home directory with models where Ollama, LM Studio, the HF cache and GPT4All keep them."""
    home = tmp_path_factory.mktemp("user-home")
    ollama = home / ".ollama" / "models"
    blob_source = _copy_named(embedded_model, home / "tmp-ollama.gguf", "Ollama copy")
    digest = hashlib.sha256(blob_source.read_bytes()).hexdigest()
    blob = ollama / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True)
    blob_source.rename(blob)
    template = ollama / "blobs" / ("sha256-" + "d" * 64)
    template.write_text("{{ .Prompt }}")
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": blob.stat().st_size},
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "d" * 64, "size": 13},
    ]
    _ollama_manifest(ollama, "smol", "135m", layers)
    _ollama_manifest(ollama, "smol", "latest", layers)  # a second tag of the same blob: listed once
    broken = ollama / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    _ollama_manifest(ollama, "gone", "7b", [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "e" * 64, "size": 1}])

    lms = _copy_named(embedded_model, home / ".lmstudio" / "models" / "HuggingFaceTB" / "SmolLM2-GGUF" / "smollm2-lms-q4_1.gguf", "LM Studio copy")
    truncated = home / ".lmstudio" / "models" / "someone" / "broken-GGUF" / "truncated-q4.gguf"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(lms.read_bytes()[:4000])

    hub = home / ".cache" / "huggingface" / "hub" / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF"
    hf_blob = _copy_named(embedded_model, hub / "blobs" / ("f" * 64), "HF cache copy")
    snapshot = hub / "snapshots" / ("1" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "smollm2-hf-q4_1.gguf").symlink_to(Path("../../blobs") / hf_blob.name)

    _copy_named(embedded_model, home / ".local" / "share" / "nomic.ai" / "GPT4All" / "smollm2-gpt4all.gguf", "GPT4All copy")

    extra = home / "models"
    _gguf(extra / "big-00001-of-00002.gguf", {"general.architecture": "llama", "split.count": 2})
    _gguf(extra / "big-00002-of-00002.gguf", {"general.architecture": "llama", "split.count": 2})
    _gguf(extra / "minilm-embed.gguf", {"general.architecture": "bert", "bert.pooling_type": 1})
    _gguf(extra / "mmproj-vision.gguf", {"general.architecture": "clip", "general.type": "mmproj"})
    return {"home": home, "extra": extra, "blob": blob, "lms": lms, "hf": snapshot / "smollm2-hf-q4_1.gguf"}


def _env(machine: dict[str, Path], **more: str) -> dict[str, str]:
    return {"HOME": str(machine["home"]), "PMEM_MODEL_SEARCH_PATHS": str(machine["extra"]), "XDG_DATA_HOME": "", **more}


def test_models_lists_each_model_once_with_its_metadata(pmem_home: Path, machine: dict[str, Path], embedded_model: Path) -> None:
    proc = run_pmem("models", "--json", home=pmem_home, env=_env(machine))
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert sorted(rows) == sorted([
        "embedded", "smol:135m", "broken:latest", "gone:7b", "smollm2-lms-q4_1", "truncated-q4",
        "smollm2-hf-q4_1", "smollm2-gpt4all", "big-00001-of-00002", "minilm-embed", "mmproj-vision",
    ])
    chat = {name: row for name, row in rows.items() if row["chat"]}
    assert sorted(chat) == ["embedded", "smol:135m", "smollm2-gpt4all", "smollm2-hf-q4_1", "smollm2-lms-q4_1"]
    for row in chat.values():
        assert (row["architecture"], row["parameters"], row["quantization"], row["context_length"]) == ("llama", 134515008, "Q4_1", 8192)
        assert row["chat_template"] and row["trainable"] and row["note"] == ""
    assert rows["smol:135m"]["aliases"] == ["smol:latest"]
    assert rows["smol:135m"]["source"] == "ollama" and rows["smol:135m"]["path"] == str(machine["blob"])
    assert rows["smollm2-hf-q4_1"]["source"] == "hugging-face" and rows["smollm2-lms-q4_1"]["source"] == "lm-studio"
    assert rows["embedded"]["current"] and not any(r["current"] for n, r in rows.items() if n != "embedded")
    assert "broken manifest" in rows["broken:latest"]["note"]
    assert "blob" in rows["gone:7b"]["note"] and "missing" in rows["gone:7b"]["note"]
    assert "truncated" in rows["truncated-q4"]["note"]
    assert "split over 2 files" in rows["big-00001-of-00002"]["note"]
    assert "embedding model" in rows["minilm-embed"]["note"] and "vision projector" in rows["mmproj-vision"]["note"]
    assert all("\n" not in row["note"] for row in rows.values())

    table = run_pmem("models", home=pmem_home, env=_env(machine))
    assert table.returncode == 0 and "Traceback" not in table.stderr
    line = next(l for l in table.stdout.splitlines() if "smol:135m" in l)
    assert all(part in line for part in ("llama", "135M", "Q4_1", "8192", "98 MB", "ollama", "adapters"))


def test_a_found_model_is_used_by_name_for_one_run_and_by_models_use(pmem_home: Path, machine: dict[str, Path]) -> None:
    env = _env(machine, PMEM_CHAT_TEMPERATURE="0", PMEM_CHAT_MAX_TOKENS="6")
    asked = run_pmem("ask", "--model", "smol", "Say hello.", home=pmem_home, env=env)  # Ollama's smol = smol:latest
    assert asked.returncode == 0 and asked.stdout.strip(), asked.stderr
    used = run_pmem("models", "use", "smollm2-lms-q4_1", home=pmem_home, env=env)
    assert used.returncode == 0, used.stderr
    assert used.stdout.splitlines()[0].startswith(f"chat model: smollm2-lms-q4_1 ({machine['lms']}; llama, 0.13B parameters, Q4_1)")
    assert f'path = "{machine["lms"]}"' in (pmem_home / "config.toml").read_text()
    again = run_pmem("ask", "Say goodbye.", home=pmem_home, env=env)
    assert again.returncode == 0, again.stderr
    listed = json.loads(run_pmem("models", "--json", home=pmem_home, env=env).stdout)
    assert [row["name"] for row in listed if row["current"]] == ["smollm2-lms-q4_1"]

    import sqlite3

    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    models = [row[0] for row in conn.execute("SELECT model FROM turns WHERE role = 'assistant' ORDER BY id")]
    conn.close()
    assert [m.rstrip(".") for m in models] == ["Ollama copy", "LM Studio copy"]

    back = run_pmem("models", "use", "embedded", home=pmem_home, env=env)
    assert back.returncode == 0 and 'path = ""' in (pmem_home / "config.toml").read_text()


def test_unknown_model_names_and_broken_files_are_one_line_errors(pmem_home: Path, machine: dict[str, Path]) -> None:
    env = _env(machine)
    assert_one_line_error(run_pmem("ask", "--model", "smol:13b", "hi", home=pmem_home, env=env), "no model named 'smol:13b'", "did you mean 'smol:135m'")
    assert_one_line_error(run_pmem("models", "use", "truncated-q4", home=pmem_home, env=env), "cannot be used for chat", "truncated")
    assert_one_line_error(run_pmem("models", "use", "minilm-embed", home=pmem_home, env=env), "embedding model")
    assert_one_line_error(run_pmem("chat", "--plain", "--model", "./nowhere.gguf", home=pmem_home, env=env), "model file not found")
    assert not (pmem_home / "config.toml").exists()  # nothing was changed by the failures
    # A configured model that has gone missing is mended by choosing another.
    pmem_home.mkdir(parents=True, exist_ok=True)  # the failures above need not have created the home
    (pmem_home / "config.toml").write_text('[model]\npath = "/nowhere/gone.gguf"\n')
    mended = run_pmem("models", "use", "smollm2-lms-q4_1", home=pmem_home, env=env)
    assert mended.returncode == 0, mended.stderr
    assert "was: a model that could not be found or read" in mended.stdout
    assert f'path = "{machine["lms"]}"' in (pmem_home / "config.toml").read_text()


def test_plain_chat_switches_model_and_keeps_the_conversation(pmem_home: Path, machine: dict[str, Path]) -> None:
    script = b"My cat is called Miso.\n/model smollm2-hf-q4_1\n/model no-such-model\nWhat is my cat called?\n"
    proc = run_pmem("chat", "--plain", "--model", "smol:135m", home=pmem_home, input=script,
                    env=_env(machine, PMEM_CHAT_TEMPERATURE="0", PMEM_CHAT_MAX_TOKENS="8"))
    assert proc.returncode == 0, proc.stderr
    assert "Now chatting with HF cache copy" in proc.stdout and "the conversation goes on" in proc.stdout
    assert "error: no model named 'no-such-model'" in proc.stdout
    import sqlite3

    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    rows = conn.execute("SELECT session_id, role, model FROM turns ORDER BY id").fetchall()
    conn.close()
    assert len({r[0] for r in rows}) == 1 and [r[1] for r in rows] == ["user", "assistant", "user", "assistant"]
    assert [r[2].rstrip(".") for r in rows if r[1] == "assistant"] == ["Ollama copy", "HF cache copy"]


def test_doctor_names_the_best_model_found_instead_of_the_fallback(pmem_home: Path, machine: dict[str, Path]) -> None:
    proc = run_pmem("doctor", home=pmem_home, env=_env(machine))
    assert proc.returncode == 0, proc.stdout
    warning = [l for l in proc.stdout.splitlines() if "warn" in l]
    assert len(warning) == 1 and "135M fallback" in warning[0]
    assert "pmem models use" in proc.stdout.replace("\n", " ")


def test_per_model_settings_and_the_automatic_context(tmp_path: Path, machine: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.engine import create_engine
    from pmem.core.models import context_size, read_gguf_info

    monkeypatch.setenv("HOME", str(machine["home"]))
    (tmp_path / "config.toml").write_text('[model]\nn_ctx = 0\n[models."smol:135m"]\nn_ctx = 1024\nn_batch = 64\n')
    settings = load_settings(resolve_paths({"PMEM_HOME": str(tmp_path)}), environ={})
    by_name = create_engine(settings, "smol:latest")  # another tag of the same blob: its settings too
    assert (by_name.n_ctx, by_name.n_batch) == (1024, 64)
    assert create_engine(settings, str(machine["blob"])).n_ctx == 1024
    assert create_engine(settings, "smollm2-hf-q4_1").n_ctx == 4096  # trained on 8192; KV no larger than the 98 MB of weights
    info = read_gguf_info(machine["lms"])
    assert info.kv_bytes_per_token() == 2 * 30 * 64 * 3 * 2
    assert context_size(info, 0, ram_bytes=1 << 30) == 2816  # 64 MiB of KV at 23,040 bytes a token, in 256s
    assert context_size(info, 0, ram_bytes=256 << 20) == 2048  # never below 2048
    assert context_size(info, 3000) == 3000
    from pmem.core.models import GGUFInfo

    llama_3b = GGUFInfo("llama", "3B", None, 131072, block_count=28, embedding_length=3072, head_count=24, head_count_kv=8, file_size=2_000_000_000)
    assert context_size(llama_3b, 0, ram_bytes=24 << 30) == 9216  # 1 GiB of KV at 112 KiB a token
    assert context_size(llama_3b, 0, ram_bytes=8 << 30) == 4608  # 512 MiB on an 8 GiB laptop


def test_model_settings_in_the_config_are_checked(tmp_path: Path) -> None:
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.errors import ConfigError

    paths = resolve_paths({"PMEM_HOME": str(tmp_path)})
    (tmp_path / "config.toml").write_text('[models."qwen2.5:3b"]\nn_ctxx = 8192\n')
    with pytest.raises(ConfigError, match=r"unknown key 'n_ctxx' in \[models.\"qwen2.5:3b\"\] \(did you mean 'n_ctx'\?\)"):
        load_settings(paths, environ={})
    (tmp_path / "config.toml").write_text('[models."qwen2.5:3b"]\nn_ctx = "big"\n')
    with pytest.raises(ConfigError, match="must be an integer"):
        load_settings(paths, environ={})
    (tmp_path / "config.toml").unlink()
    settings = load_settings(paths, environ={"PMEM_MODEL_SEARCH_PATHS": f"/a{__import__('os').pathsep}/b"})
    assert settings.model.search_paths == ["/a", "/b"]


def test_listing_survives_unreadable_folders(tmp_path: Path) -> None:
    from pmem.core.discovery import discover

    home = tmp_path / "home"
    locked = home / ".lmstudio" / "models" / "locked"
    locked.mkdir(parents=True)
    (locked / "x.gguf").write_bytes(b"GGUF")
    locked.chmod(0)
    try:
        found = discover(environ={"HOME": str(home)})
    finally:
        locked.chmod(0o700)
    assert [m.name for m in found if m.source != "pmem"] in ([], ["x"])  # unreadable: skipped (root reads it anyway)
    shutil.rmtree(home)
