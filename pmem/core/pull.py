"""``pmem models pull``: the one place pmem uses the network, and only when the user runs it.

The file goes into the Hugging Face cache that ``pmem models`` already reads, in the hub's own layout (a blob named
by its hash, a snapshot link named as upstream), so other tools share it. huggingface_hub does the talking (the
hub's metadata, redirects, retries); pmem keeps the partial file under a stable name beside the blobs so that an
interrupted pull resumes where it stopped (huggingface_hub 2.x deletes its partial files), checks free space before
writing, and checks the finished file against the SHA-256 the hub and the catalog publish before it is put where
pmem would use it. Nothing is imported or opened until a pull runs: the offline switches stay on everywhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pmem.core.catalog import CatalogModel, catalog, lookup
from pmem.core.errors import InputError, Interrupted, ModelError, StorageError
from pmem.core.models import hash_file

PARTIAL_SUFFIX = ".pmem-partial"
"""A download in progress: beside the blobs, under a name no GGUF scanner picks up, kept for the next pull."""
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SPACE_MARGIN = 64 << 20
"""Free space kept beyond the file itself (a full disk breaks every other store pmem writes)."""

Progress = Callable[[str, int, int], None]
"""``(stage, done, total)``: stage is ``download`` or ``check``."""


@dataclass(frozen=True)
class Source:
    """What to fetch: a catalog entry, or any ``REPO/FILE`` on the hub."""

    repo: str
    file: str
    revision: str = "main"
    sha256: str = ""
    """The checksum the catalog pins (empty for a file named by the user: the hub's own is used)."""
    licence: str = ""
    name: str = ""
    """The catalog's short name, if any."""


@dataclass(frozen=True)
class Plan:
    source: Source
    url: str
    size: int
    sha256: str
    commit: str
    licence: str
    blob: Path
    pointer: Path
    partial: Path

    @property
    def have(self) -> int:
        """Bytes already fetched by an earlier, interrupted pull."""
        try:
            return self.partial.stat().st_size
        except OSError:
            return 0

    @property
    def present(self) -> bool:
        return self.pointer.is_file()

    def lines(self, endpoint: str) -> list[str]:
        name = f"{self.source.name} = " if self.source.name else ""
        lines = [
            f"model:    {name}{self.source.repo}/{self.source.file}",
            f"from:     {endpoint}/{self.source.repo} (revision {self.commit[:12] or self.source.revision})",
            f"size:     {_gb(self.size)}" + (f" ({_gb(self.have)} already fetched: the pull resumes)" if self.have else ""),
            f"licence:  {self.licence}",
            f"sha-256:  {self.sha256 or 'none published: the hub gives no checksum for this file'}",
            f"into:     {self.pointer}",
        ]
        return lines


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_cache() -> Path:
    """The Hugging Face cache ``pmem models`` reads (``HF_HUB_CACHE``, else ``HF_HOME/hub``)."""
    from pmem.core.discovery import hugging_face_cache

    return hugging_face_cache(os.environ, Path(os.environ.get("HOME") or Path.home()))


@contextmanager
def online() -> Iterator[Any]:
    """Lift pmem's offline switch for the hub for the duration of one pull, and put it back after."""
    import huggingface_hub
    from huggingface_hub import constants

    before_env, before_const = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = "0"
    constants.HF_HUB_OFFLINE = False
    try:
        yield huggingface_hub
    finally:
        constants.HF_HUB_OFFLINE = before_const
        if before_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before_env


# ---------------------------------------------------------------------------------------------- naming the file


def parse_spec(spec: str) -> Source:
    """A catalog name (``qwen2.5-3b``), ``REPO/FILE`` (``owner/repo/file.gguf``) or a bare ``REPO``."""
    spec = spec.strip().strip("/")
    entry = lookup(spec)
    if entry is not None:
        return from_catalog(entry)
    parts = spec.split("/")
    if len(parts) < 2 or not all(parts) or any(p in (".", "..") for p in parts):
        names = ", ".join(m.name for m in catalog())
        raise InputError(f"no model called {spec!r}: name one of {names}, or a REPO/FILE.gguf on huggingface.co")
    repo, file = "/".join(parts[:2]), "/".join(parts[2:])
    if file and not file.lower().endswith(".gguf"):
        raise InputError(f"{file} is not a GGUF file: pmem runs llama.cpp GGUF models (name a .gguf in {repo})")
    return Source(repo=repo, file=file or _choose_file(repo))


def from_catalog(entry: CatalogModel) -> Source:
    return Source(entry.repo, entry.file, entry.revision, entry.sha256, entry.licence, entry.name)


def _choose_file(repo: str) -> str:
    """The GGUF to fetch from a repo named without a file: its only one, else its Q4_K_M (a good default)."""
    try:
        with online() as hub:
            files = hub.HfApi(endpoint=endpoint()).list_repo_files(repo)
    except Exception as exc:  # noqa: BLE001 - the hub's errors, in one line
        raise ModelError(f"cannot list the files of {repo} on {endpoint()}: {_why(exc)}") from None
    ggufs = sorted(f for f in files if f.lower().endswith(".gguf") and "mmproj" not in f.lower())
    whole = [f for f in ggufs if not re.search(r"-\d{5}-of-\d{5}\.gguf$", f)]
    if len(whole) == 1:
        return whole[0]
    medium = [f for f in whole if "q4_k_m" in f.lower()]
    if len(medium) == 1:
        return medium[0]
    if not whole:
        raise ModelError(f"{repo} has no single-file GGUF to pull")
    shown = ", ".join(whole[:8]) + (" …" if len(whole) > 8 else "")
    raise InputError(f"{repo} has {len(whole)} GGUF files; name one as {repo}/FILE: {shown}")


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:240]


# ---------------------------------------------------------------------------------------------- planning


def plan(source: Source, cache: Path | None = None) -> Plan:
    """Ask the hub what the file is (size, checksum, commit): one HEAD request, nothing written."""
    cache = cache or hub_cache()
    try:
        with online() as hub:
            url = hub.hf_hub_url(source.repo, source.file, revision=source.revision, endpoint=endpoint())
            meta = hub.get_hf_file_metadata(url, timeout=30)
    except Exception as exc:  # noqa: BLE001 - not found, no network, a proxy: one line each
        raise ModelError(f"cannot fetch {source.repo}/{source.file} from {endpoint()}: {_why(exc)}") from None
    if not meta.etag or meta.size is None:
        raise ModelError(f"{endpoint()} did not say how big {source.file} is or what it hashes to; nothing was fetched")
    hub_sha = meta.etag if SHA256.match(meta.etag) else ""
    if source.sha256 and hub_sha and hub_sha != source.sha256:
        raise ModelError(
            f"the hub's {source.file} (sha-256 {hub_sha[:12]}…) is not the file pmem's catalog names ({source.sha256[:12]}…); "
            "nothing was fetched"
        )
    commit = meta.commit_hash or source.revision
    folder = cache / ("models--" + source.repo.replace("/", "--"))
    blob = folder / "blobs" / meta.etag
    return Plan(
        source=source, url=meta.location, size=int(meta.size), sha256=source.sha256 or hub_sha, commit=commit,
        licence=source.licence or _licence(source.repo), blob=blob, pointer=folder / "snapshots" / commit / source.file,
        partial=blob.with_name(blob.name + PARTIAL_SUFFIX),
    )


def _licence(repo: str) -> str:
    try:
        with online() as hub:
            info = hub.HfApi(endpoint=endpoint()).model_info(repo, timeout=15)
        card = getattr(info, "card_data", None)
        licence = getattr(card, "license", None) if card is not None else None
        if licence:
            return str(licence)
    except Exception:  # noqa: BLE001 - the licence is shown, never required
        pass
    return f"not stated by the hub: read {endpoint()}/{repo} before use"


def check_space(p: Plan) -> None:
    """Refuse before writing a byte when the file cannot fit."""
    need = p.size - p.have + SPACE_MARGIN
    where = p.blob.parent
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if free < need:
        raise StorageError(
            f"not enough disk space for {p.source.file}: it needs {_gb(p.size - p.have)} and {where} has {_gb(free)} free; "
            "nothing was written"
        )


# ---------------------------------------------------------------------------------------------- fetching


class _Counted:
    """The partial file as huggingface_hub's ``http_get`` writes it, reporting progress as bytes land."""

    def __init__(self, handle: BinaryIO, done: int, total: int, progress: Progress | None) -> None:
        self.handle, self.done, self.total, self.progress = handle, done, total, progress

    def write(self, data: bytes) -> int:
        written = self.handle.write(data)
        self.done += len(data)
        if self.progress is not None:
            self.progress("download", self.done, self.total)
        return written

    def seek(self, *args: int) -> int:
        return self.handle.seek(*args)

    def tell(self) -> int:
        return self.handle.tell()

    def truncate(self, *args: int) -> int:
        self.done = self.handle.truncate(*args)
        return self.done

    def flush(self) -> None:
        self.handle.flush()


def download(p: Plan, progress: Progress | None = None) -> Path:
    """Fetch (or resume) the file, check it, and put it in the cache; returns the path pmem will load."""
    if p.present:
        return p.pointer
    from filelock import FileLock, Timeout

    p.blob.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(p.partial) + ".lock", timeout=0)
        lock.acquire()
    except Timeout:
        raise StorageError(f"another pmem models pull is fetching {p.source.file}; wait for it to finish") from None
    try:
        if not p.blob.exists():
            check_space(p)
            _fetch(p, progress)
            _verify(p, progress)
            os.replace(p.partial, p.blob)
        _link(p)
    finally:
        lock.release()
        Path(str(p.partial) + ".lock").unlink(missing_ok=True)
    return p.pointer


def _fetch(p: Plan, progress: Progress | None) -> None:
    have = p.have
    if have > p.size:  # not this file's bytes (the upstream file changed): start again
        p.partial.unlink()
        have = 0
    if have == p.size:
        return
    try:
        with online() as hub, p.partial.open("ab") as handle:
            from huggingface_hub.file_download import http_get

            http_get(p.url, _Counted(handle, have, p.size, progress), resume_size=have,  # type: ignore[arg-type]
                     headers=hub.utils.build_hf_headers(), expected_size=p.size, displayed_filename=p.source.file)
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped: {_gb(p.have)} of {_gb(p.size)} kept (not usable yet); run the same command again to resume"
        ) from None
    except OSError as exc:
        if exc.errno == 28:
            raise StorageError(f"the disk filled up while fetching {p.source.file}; free some space and pull again to resume") from None
        raise ModelError(f"the download of {p.source.file} failed: {_why(exc)}; pull again to resume") from None
    except Exception as exc:  # noqa: BLE001 - the connection dropped past the hub's own retries
        raise ModelError(f"the download of {p.source.file} failed: {_why(exc)}; pull again to resume") from None


def _verify(p: Plan, progress: Progress | None) -> None:
    """The finished file against the published checksum (SHA-256; a git blob hash for a small non-LFS file)."""
    size = p.partial.stat().st_size
    if size != p.size:
        p.partial.unlink(missing_ok=True)
        raise ModelError(f"{p.source.file} arrived with {size} bytes instead of {p.size}; it was deleted, nothing was kept")
    if p.sha256:
        digest, want = hashlib.sha256(), p.sha256
    else:  # the etag of a file kept in git itself is its git blob id
        digest, want = hashlib.sha1(f"blob {size}\0".encode()), p.blob.name
    got = hash_file(p.partial, digest, (lambda done, total: progress("check", done, total)) if progress is not None else None)
    if got != want:
        p.partial.unlink(missing_ok=True)
        raise ModelError(
            f"{p.source.file} does not match its published checksum (got {got[:12]}…, expected {want[:12]}…): "
            "it was deleted, nothing was kept"
        )


def _link(p: Plan) -> None:
    """The snapshot entry, through huggingface_hub itself (it finds the blob in place and only links it)."""
    try:
        with online() as hub:
            path = hub.hf_hub_download(p.source.repo, p.source.file, revision=p.commit, cache_dir=str(p.blob.parents[2]),
                                       endpoint=endpoint())
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"{p.source.file} was fetched and checked, but linking it into the cache failed: {_why(exc)}") from None
    if not Path(path).is_file():
        raise ModelError(f"{p.source.file} was fetched and checked, but the cache did not link it ({path})")
