"""``pmem models pull`` against a local server that speaks the hub's download protocol (tests/hub_server.py), serving
the embedded GGUF as the file to pull; the catalog and the recommendation; ``pmem models check``."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXPORTS, ROOT, assert_one_line_error, run_pmem
from hub_server import COMMIT, Hub, HubFile, HubServer

from pmem.core.catalog import catalog, lookup, recommend

REPO = "test-org/smol-gguf"
GIB = 1 << 30


@pytest.fixture(scope="module")
def served(embedded_model: Path) -> HubFile:
    return HubFile(REPO, embedded_model.name, embedded_model)


@pytest.fixture()
def hub(served: HubFile, tmp_path: Path) -> Iterator[tuple[Hub, dict[str, str]]]:
    state = Hub([served])
    with HubServer(state) as url:
        yield state, {"HF_ENDPOINT": url, "HF_HUB_CACHE": str(tmp_path / "hf-hub")}


def _repo_dir(env: dict[str, str]) -> Path:
    return Path(env["HF_HUB_CACHE"]) / ("models--" + REPO.replace("/", "--"))


def _blobs(env: dict[str, str]) -> list[Path]:
    blobs = _repo_dir(env) / "blobs"
    return sorted(blobs.iterdir()) if blobs.is_dir() else []


def _listed(home: Path, env: dict[str, str]) -> list[dict[str, object]]:
    proc = run_pmem("models", "--json", home=home, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _downloads(state: Hub) -> list[tuple[str, str, str]]:
    return [entry for entry in state.log if entry[0] == "GET" and "/resolve/" in entry[1]]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.slow
def test_a_pull_lands_in_the_hub_cache_is_listed_and_answers(hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path) -> None:
    state, env = hub
    proc = run_pmem("models", "pull", f"{REPO}/{served.name}", "--yes", home=pmem_home, env=env)
    assert proc.returncode == 0, proc.stderr
    pointer = _repo_dir(env) / "snapshots" / COMMIT / served.name
    size_mb = served.path.stat().st_size / 1e6
    assert proc.stdout.splitlines() == [
        f"model:    {REPO}/{served.name}",
        f"from:     {env['HF_ENDPOINT']}/{REPO} (revision {COMMIT[:12]})",
        f"size:     {size_mb:.1f} MB",
        f"licence:  not stated by the hub: read {env['HF_ENDPOINT']}/{REPO} before use",
        f"sha-256:  {served.sha256}",
        f"into:     {pointer}",
        f"Fetched and checked: {pointer}",
        f"Chat with it: pmem models use {pointer.stem}   (how well it uses your memory: pmem models check {pointer.stem})",
    ]
    assert pointer.is_symlink() and _sha256(pointer) == served.sha256
    assert [p.name for p in _blobs(env)] == [served.sha256], "no partial file is left beside the blob"
    listed = [m for m in _listed(pmem_home, env) if m["source"] == "hugging-face"]
    assert [(m["name"], m["path"], m["chat"]) for m in listed] == [(pointer.stem, str(pointer), True)]

    again = run_pmem("models", "pull", f"{REPO}/{served.name}", "--yes", home=pmem_home, env=env)
    assert again.returncode == 0 and "It is already here; nothing to fetch." in again.stdout
    assert len(_downloads(state)) == 1, "a second pull fetches nothing"

    answer = run_pmem("ask", "--model", pointer.stem, "--temperature", "0", "What is the capital of France?", home=pmem_home, env=env)
    assert answer.returncode == 0, answer.stderr
    assert "Paris" in answer.stdout


@pytest.mark.slow
def test_an_interrupted_pull_leaves_nothing_usable_and_the_next_one_resumes(
    hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path
) -> None:
    state, env = hub
    state.slow = True
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    full_env.update(env, PMEM_HOME=str(pmem_home), PMEM_DISTILL_AUTO="false", **{EXPORTS: os.environ[EXPORTS]})
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmem", "models", "pull", f"{REPO}/{served.name}", "--yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=str(ROOT),
    )
    partial = _repo_dir(env) / "blobs" / f"{served.sha256}.pmem-partial"
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size >= 8 << 20):
        assert proc.poll() is None and time.monotonic() < deadline, "the slow pull should still be running"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    stderr = err.decode()
    assert proc.returncode == 130, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [stderr.strip()] and "Traceback" not in stderr
    assert "run the same command again to resume" in stderr
    kept = partial.stat().st_size
    assert 8 << 20 <= kept < served.path.stat().st_size
    assert not (_repo_dir(env) / "snapshots").exists() or not any((_repo_dir(env) / "snapshots").rglob("*.gguf"))
    assert [m for m in _listed(pmem_home, env) if m["source"] == "hugging-face"] == [], "a half file is never offered"

    state.slow = False
    resumed = run_pmem("models", "pull", f"{REPO}/{served.name}", "--yes", home=pmem_home, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({kept / 1e6:.1f} MB already fetched: the pull resumes)" in resumed.stdout
    assert _downloads(state)[-1][2] == f"bytes={kept}-", "the second pull asks only for the rest"
    pointer = _repo_dir(env) / "snapshots" / COMMIT / served.name
    assert _sha256(pointer) == served.sha256
    assert [p.name for p in _blobs(env)] == [served.sha256]


def test_a_corrupted_download_is_deleted_with_one_line(hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path) -> None:
    state, env = hub
    state.corrupt = True
    proc = run_pmem("models", "pull", f"{REPO}/{served.name}", "--yes", home=pmem_home, env=env)
    assert_one_line_error(proc, "does not match its published checksum", "it was deleted, nothing was kept")
    assert _blobs(env) == []
    assert not any(_repo_dir(env).rglob("*.gguf"))


def test_no_disk_space_fails_before_writing(hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path) -> None:
    state, env = hub
    state.advertised_size = 1 << 62  # more than any disk
    proc = run_pmem("models", "pull", f"{REPO}/{served.name}", "--yes", home=pmem_home, env=env)
    assert_one_line_error(proc, "not enough disk space", "nothing was written")
    assert _downloads(state) == [] and _blobs(env) == []


def test_without_yes_a_pipe_is_refused(hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path) -> None:
    state, env = hub
    proc = run_pmem("models", "pull", f"{REPO}/{served.name}", home=pmem_home, env=env)
    assert_one_line_error(proc, "not downloading without --yes: stdin is not a terminal")
    assert proc.returncode == 2
    assert _downloads(state) == [] and _blobs(env) == []


def test_a_repo_without_a_file_pulls_its_only_gguf(hub: tuple[Hub, dict[str, str]], served: HubFile, pmem_home: Path) -> None:
    state, env = hub
    state.advertised_size = 1 << 62  # stop at the space check: this test is about choosing the file
    proc = run_pmem("models", "pull", REPO, "--yes", home=pmem_home, env=env)
    assert f"model:    {REPO}/{served.name}" in proc.stdout
    assert_one_line_error(proc, "not enough disk space")


def test_bad_names_are_one_line_errors(pmem_home: Path) -> None:
    proc = run_pmem("models", "pull", "no-such-model", "--yes", home=pmem_home, env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert_one_line_error(proc, "no model called 'no-such-model'", "qwen2.5-3b")
    proc = run_pmem("models", "pull", "org/repo/weights.bin", "--yes", home=pmem_home, env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert_one_line_error(proc, "weights.bin is not a GGUF file")
    proc = run_pmem("models", "pull", "org/repo/model.gguf", "--yes", home=pmem_home, env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert_one_line_error(proc, "cannot fetch org/repo/model.gguf from http://127.0.0.1:9")


def test_a_catalog_model_in_the_cache_goes_by_its_catalog_name(embedded_model: Path, pmem_home: Path, tmp_path: Path) -> None:
    entry = lookup("qwen2.5-1.5b")
    assert entry is not None
    hub_cache = tmp_path / "hf-hub"
    snapshot = hub_cache / ("models--" + entry.repo.replace("/", "--")) / "snapshots" / entry.revision
    snapshot.mkdir(parents=True)
    try:  # another file than the embedded one (a link to it would be listed as the embedded model)
        os.link(embedded_model, snapshot / entry.file)
    except OSError:
        import shutil

        shutil.copyfile(embedded_model, snapshot / entry.file)
    listed = _listed(pmem_home, {"HF_HUB_CACHE": str(hub_cache)})
    [found] = [m for m in listed if m["source"] == "hugging-face"]
    assert found["name"] == "qwen2.5-1.5b" and found["aliases"] == [Path(entry.file).stem]
    proc = run_pmem("models", "use", "qwen2.5-1.5b", home=pmem_home, env={"HF_HUB_CACHE": str(hub_cache)})
    assert proc.returncode == 0, proc.stderr


def test_the_catalog_pins_real_files() -> None:
    names = [m.name for m in catalog()]
    assert len(names) == len(set(names)) >= 3
    for m in catalog():
        assert len(m.sha256) == 64 and int(m.sha256, 16) >= 0, m.name
        assert len(m.revision) == 40 and int(m.revision, 16) >= 0, m.name
        assert m.file.endswith(".gguf") and m.repo.count("/") == 1 and m.licence and m.size_gb > 0
    assert {m.tier for m in catalog()} == {1, 2, 3}
    assert all(sum(m.preferred for m in catalog() if m.tier == t) == 1 for t in (1, 2, 3))


@pytest.mark.parametrize(
    ("ram_gib", "cores", "expected"),
    [(2, 8, None), (4, 2, "llama-3.2-1b"), (6, 2, "qwen2.5-1.5b"), (8, 2, "qwen2.5-1.5b"), (8, 4, "qwen2.5-3b"), (16, 8, "qwen2.5-7b"), (64, 16, "qwen2.5-7b")],
)
def test_the_recommendation_fits_ram_and_cores_with_room_to_spare(ram_gib: int, cores: int, expected: str | None) -> None:
    pick = recommend(ram_gib * GIB, cores)
    assert (pick.name if pick else None) == expected
    if pick is not None:
        assert pick.ram_gb * 1e9 <= ram_gib * GIB / 2


@pytest.mark.slow
def test_models_check_measures_the_embedded_model_and_models_shows_it(pmem_home: Path) -> None:
    proc = run_pmem("models", "check", "embedded", home=pmem_home, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len([line for line in lines if line.startswith(("ok ", "MISS"))]) == 12
    summary = lines[-1]
    assert summary.startswith("embedded: answers from memory ") and "says it does not know " in summary and "tokens/s" in summary
    stored = json.loads(next(pmem_home.rglob("model_checks.json")).read_text())
    [result] = [r for key, r in stored.items() if key.endswith("+grounding")]
    assert result["present"] == 8 and result["absent"] == 4 and result["version"] == 1
    assert f"{result['present_right']}/8" in summary and f"{result['absent_right']}/4" in summary
    assert result["present_right"] >= 5, "with the grounding adapter the embedded model answers most from memory"
    listing = run_pmem("models", home=pmem_home)
    assert f"{result['present_right']}/8 · {result['absent_right']}/4" in listing.stdout
    kept = [p for p in pmem_home.rglob("*") if p.is_file() and p.name != "model_checks.json" and b"Kluska" in p.read_bytes()]
    assert kept == [], "the check's synthetic user is imported into a throwaway home, never into the user's"


def test_doctor_names_models_pull_when_no_better_model_is_here(pmem_home: Path, tmp_path: Path) -> None:
    proc = run_pmem("doctor", home=pmem_home, env={"HOME": str(tmp_path / "bare-home"), "HF_HUB_CACHE": str(tmp_path / "no-hub")})
    text = " ".join(proc.stdout.split())
    assert "chatting with the embedded 135M fallback model; get a capable one (" in text and "): pmem models pull" in text
    assert "nothing is sent except by 'pmem models pull', which you start" in text


def test_only_the_embedded_model_is_called_a_fallback(tmp_path: Path) -> None:
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.runtime import Runtime

    paths = resolve_paths({"PMEM_HOME": str(tmp_path)})
    for override, fallback in ((None, True), ("embedded", True), ("qwen2.5-3b", False), ("/models/big.gguf", False)):
        rt = Runtime(load_settings(paths, {}), paths, model_override=override)
        assert rt.on_embedded_model is fallback, override
