"""Where a database lives: a local folder or a prefix on an object store, behind one small interface.

LanceDB speaks both natively (`lancedb.connect("s3://bucket/prefix", storage_options=...)`); this
module covers everything else a database holds beside its tables: the model files
(`models/`, content-addressed), the encoding checkpoints (`checkpoints/`), `eval.json`, and the
writer's lock. The tables and these files take the same location and the same storage options.

- `LocalStorage`: a folder, through pathlib. Files are written under a temporary name and renamed
  (a reader or a crash never sees half a file); the write lock is an `fcntl` lock on `<db>/.lock`,
  which the kernel releases the moment its holder dies.
- `ObjectStorage`: `s3://`, `gs://` or `az://`, through obstore (Python bindings of the Rust
  `object_store` crate that Lance itself uses: the same configuration keys as Lance's
  `storage_options`, the same environment variables, and conditional writes on all three clouds).
  A put is atomic by itself. Object stores have no `fcntl`; the write lock is a lease object
  written with conditional puts (`catalog/store/lease.py`, docs/object-storage.md).

Storage options are the keys LanceDB documents (`aws_endpoint`, `aws_access_key_id`, `region`,
`allow_http`, ...); without them both Lance and obstore read the standard environment variables
(`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`...).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from catalog.core.errors import CatalogError

OBJECT_STORE_SCHEMES = ("s3", "s3a", "gs", "az", "abfs", "abfss", "azure", "adl")
# Lance storage options that configure the HTTP client; obstore takes them apart from the store's own keys.
CLIENT_OPTIONS = {
    "allow_http",
    "allow_invalid_certificates",
    "connect_timeout",
    "default_content_type",
    "http1_only",
    "http2_keep_alive_interval",
    "http2_keep_alive_timeout",
    "http2_keep_alive_while_idle",
    "http2_only",
    "pool_idle_timeout",
    "pool_max_idle_per_host",
    "proxy_url",
    "proxy_ca_certificate",
    "proxy_excludes",
    "randomize_addresses",
    "read_timeout",
    "timeout",
    "user_agent",
}
# Lance-only tuning keys (retries, Lance's own caches): meaningful to LanceDB, unknown to obstore.
LANCE_ONLY_OPTIONS = {"download_retry_count", "client_max_retries", "client_retry_timeout", "use_opendal"}


@dataclass(frozen=True)
class DbLocation:
    """A database location with its storage options, as one value (what `--db` plus
    `--storage-option` make): `Store`, the ingest functions and `Catalog` accept it wherever they
    accept a path."""

    where: str | Path
    storage_options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return str(self.where)

    def __repr__(self) -> str:  # the dataclass's own would print the credentials
        return f"DbLocation({str(self.where)!r}, storage_options={redacted(self.storage_options)!r})"


# Storage options whose values may be shown (in a repr, a log line): where and how to connect, never
# who connects. Every other key (access keys, secrets, session tokens, SAS tokens, service-account
# keys, and any key this list does not know) prints as REDACTED: an allowlist, so a new credential
# key is hidden by default.
SHOWN_OPTIONS = (
    CLIENT_OPTIONS
    | LANCE_ONLY_OPTIONS
    | {
        "region",
        "aws_region",
        "aws_default_region",
        "endpoint",
        "aws_endpoint",
        "aws_endpoint_url",
        "aws_virtual_hosted_style_request",
        "virtual_hosted_style_request",
        "aws_s3_express",
        "aws_unsigned_payload",
        "aws_skip_signature",
        "skip_signature",
        "azure_storage_account_name",
        "account_name",
        "azure_use_emulator",
        "use_emulator",
        "azure_endpoint",
    }
)
REDACTED = "REDACTED"


def redacted(storage_options: dict[str, str] | None) -> dict[str, str]:
    """The options with every value not in `SHOWN_OPTIONS` replaced: safe to print or log."""
    return {key: value if key.lower() in SHOWN_OPTIONS else REDACTED for key, value in (storage_options or {}).items()}


def split_location(db, storage_options: dict[str, str] | None = None) -> tuple[str | Path, dict[str, str]]:
    """(path or URI, storage options) from a path, a URI or a DbLocation; explicit options win."""
    if isinstance(db, DbLocation):
        return db_location(db.where), {**db.storage_options, **(storage_options or {})}
    return db_location(db), dict(storage_options or {})


def is_object_store(db: str | Path) -> bool:
    """True for `s3://...`, `gs://...`, `az://...` (and their aliases)."""
    text = str(db)
    return "://" in text and text.split("://", 1)[0].lower() in OBJECT_STORE_SCHEMES


def db_location(value: str | Path) -> str | Path:
    """A --db value as given: object-store URIs stay strings (`Path` would fold `s3://` into `s3:/`)."""
    if isinstance(value, Path):
        return value
    return value.rstrip("/") if is_object_store(value) else Path(value)


def parse_storage_options(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`--storage-option key=value` pairs -> a dict; a malformed pair is a one-line error."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CatalogError(f"--storage-option takes key=value, not {pair!r}")
        options[key.strip().lower()] = value
    return options


def open_storage(db, storage_options: dict[str, str] | None = None) -> "LocalStorage | ObjectStorage":
    """The location of a database: a path, a URI or a DbLocation (with `storage_options` on top)."""
    where, options = split_location(db, storage_options)
    if is_object_store(where):
        return ObjectStorage(str(where), options)
    if options:
        raise CatalogError(f"--storage-option applies to s3://, gs:// and az:// databases, not the folder {where}")
    return LocalStorage(Path(where))


def _content_name(prefix: str, data: bytes, suffix: str) -> str:
    return f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"


# The files `put_content_addressed` writes (ingest/pipeline.py: the linker), whose names hold the
# hash of their bytes. The encoder's head (`head-<hash>.weights.h5`) and runtime model
# (`encoder-<hash>.ov`) look alike but are named by a hash of their weights or id, not of the file.
CONTENT_NAMED = re.compile(r"^(?:linker)-([0-9a-f]{16})\.[A-Za-z0-9.]+$")


def _content_digest(key: str) -> str | None:
    """The hash prefix a content-addressed key (`models/linker-0123456789abcdef.npz`) names, or None."""
    found = CONTENT_NAMED.match(key.rsplit("/", 1)[-1])
    return found.group(1) if found else None


def checked(key: str, data: bytes, where) -> bytes:
    """`data` read for `key`, refused if the key is content-addressed and the bytes are not what its
    name hashes (the linker is read this way, straight into memory: a changed file is refused
    before its weights rank anything)."""
    named = _content_digest(key)
    if named is not None and not hashlib.sha256(data).hexdigest().startswith(named):
        raise CatalogError(f"{key} in {where} does not match the hash in its name; refusing to load it")
    return data


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def cache_folder() -> Path:
    """Where copies of remote files are kept: `$XDG_CACHE_HOME/catalog`, by default `~/.cache/catalog`.

    The user's own folder, not the shared temporary folder: there another user could plant a
    file under the name a loader will open (and model files are loaded with pickle and h5py)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "catalog"


class LocalStorage:
    """A database folder on this machine."""

    is_local = True

    def __init__(self, root: Path):
        self.root = Path(root)
        self.lance_uri = str(self.root)
        self.storage_options: dict[str, str] = {}

    def __str__(self) -> str:
        return str(self.root)

    # -- what is there -------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.root.exists()

    def check_is_folder(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise CatalogError(f"{self.root} is a file, not a database folder")

    def entries(self) -> set[str]:
        """Names directly under the database location."""
        return {p.name for p in self.root.iterdir()} if self.root.is_dir() else set()

    def has_table(self, name: str) -> bool:
        return (self.root / f"{name}.lance").is_dir()

    def has(self, key: str) -> bool:
        return (self.root / key).is_file()

    def keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        if not folder.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in folder.rglob("*") if p.is_file())

    def total_bytes(self) -> int:
        """Bytes under the folder: every table version LanceDB keeps, plus the model files."""
        total = 0
        for root, _, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(root, name)).st_size
                except OSError:  # a file removed while we walk (a cleanup by a writer)
                    pass
        return total

    # -- files ---------------------------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        return checked(key, (self.root / key).read_bytes(), self.root)

    def write_bytes(self, key: str, data: bytes) -> None:
        """Written under a temporary name and renamed: a kill mid-write leaves no partial file."""
        self.write_with(key, lambda path: path.write_bytes(data))

    def write_with(self, key: str, write: Callable[[Path], None]) -> None:
        """`write(path)` fills a file that becomes `key` whole, or not at all."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Named per process: readers may write a model file outside the write lock (a photo query
        # on a database made before its runtime model file existed), two at once.
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        write(partial)
        partial.replace(path)

    def delete_prefix(self, prefix: str) -> None:
        import shutil

        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def local_path(self, key: str) -> Path:
        """A path on this machine holding `key` (for readers that need a file name, like h5py)."""
        return self.root / key

    def put_content_addressed(self, folder: str, prefix: str, data: bytes, suffix: str) -> str:
        key = f"{folder}/{_content_name(prefix, data, suffix)}"
        if not self.has(key):  # the name is the content: an existing file is already this one
            self.write_bytes(key, data)
        return key

    # -- writing -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the folder (and models/) for a writer; one clear line if the disk refuses."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "models").mkdir(exist_ok=True)
        except OSError as error:
            raise CatalogError(f"cannot write to the database folder {self.root}: {error.strerror}") from None

    @contextmanager
    def write_lock(self) -> Iterator["LocalLock"]:
        """An exclusive `fcntl` lock on `<db>/.lock`; released by the kernel if the holder dies."""
        try:
            handle = open(self.root / ".lock", "a+")
        except OSError as error:
            raise CatalogError(f"cannot write to the database folder {self.root}: {error.strerror}") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CatalogError(
                    f"another process is writing to {self.root}; wait for it to finish and try again"
                ) from None
            try:
                yield LocalLock()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class LocalLock:
    """An fcntl lock cannot be lost while its holder lives: nothing to check before a commit."""

    def check(self) -> None:
        pass


class ObjectStorage:
    """A database under a prefix of an S3, GCS or Azure bucket."""

    is_local = False

    def __init__(self, uri: str, storage_options: dict[str, str]):
        self.uri = uri
        self.lance_uri = uri
        self.storage_options = dict(storage_options)
        self._store = None

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"ObjectStorage({self.uri!r}, storage_options={redacted(self.storage_options)!r})"

    @property
    def store(self):
        if self._store is None:
            from obstore.store import from_url

            client = {k: v for k, v in self.storage_options.items() if k in CLIENT_OPTIONS}
            config = {
                k: v for k, v in self.storage_options.items() if k not in CLIENT_OPTIONS and k not in LANCE_ONLY_OPTIONS
            }
            try:
                self._store = from_url(self.uri, config=config or None, client_options=client or None)
            except Exception as error:  # obstore: unknown key, malformed URL
                raise CatalogError(f"cannot use {self.uri}: {_first_line(error)}") from None
        return self._store

    # -- what is there -------------------------------------------------------------------------

    def exists(self) -> bool:
        return bool(self.entries())

    def check_is_folder(self) -> None:
        pass  # a prefix is never a file

    def entries(self) -> set[str]:
        import obstore

        listed = self._call(obstore.list_with_delimiter, self.store, None)
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in listed["common_prefixes"]}
        names |= {meta["path"].rsplit("/", 1)[-1] for meta in listed["objects"]}
        return names

    def has_table(self, name: str) -> bool:
        return bool(self._first(f"{name}.lance/"))

    def has(self, key: str) -> bool:
        import obstore

        try:
            self._call(obstore.head, self.store, key)
            return True
        except FileNotFoundError:
            return False

    def keys(self, prefix: str) -> list[str]:
        return sorted(meta["path"] for meta in self._list(prefix.rstrip("/") + "/"))

    def total_bytes(self) -> int:
        return sum(meta["size"] for meta in self._list(None))

    def _list(self, prefix: str | None, limit: int | None = None) -> list[dict]:
        import obstore

        def listing():
            found = []
            for batch in obstore.list(self.store, prefix, chunk_size=limit or 1000):
                found.extend(batch)
                if limit and len(found) >= limit:
                    break
            return found

        return self._call(listing)

    def _first(self, prefix: str) -> list:
        return self._list(prefix, limit=1)

    # -- files ---------------------------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        import obstore

        return checked(key, bytes(self._call(obstore.get, self.store, key).bytes()), self.uri)

    def write_bytes(self, key: str, data: bytes) -> None:
        import obstore

        self._call(obstore.put, self.store, key, data)  # a put replaces an object whole or not at all

    def write_with(self, key: str, write: Callable[[Path], None]) -> None:
        with tempfile.TemporaryDirectory(prefix="catalog-") as folder:
            path = Path(folder) / Path(key).name
            write(path)
            self.write_bytes(key, path.read_bytes())

    def delete_prefix(self, prefix: str) -> None:
        import obstore

        keys = self.keys(prefix)
        if keys:
            self._call(obstore.delete, self.store, keys)

    def local_path(self, key: str) -> Path:
        """A local copy of `key`, cached under the user's cache folder (`cache_folder()`), checked
        against its SHA-256 before every use.

        A content-addressed file (`_content_name`: `linker-<first 16 hex digits of its SHA-256>.npz`)
        is checked against its own name, and a fetched one that does not match is an error. Files
        named otherwise (the encoder's head and runtime model, named by a hash of their weights, not
        of their bytes) are checked against the hash recorded beside the copy when it was fetched
        (`<name>.sha256`): that catches a changed or truncated copy, and the cache folder being the
        user's own (not the shared temporary folder) keeps other users from planting one. A copy
        that fails its check is never handed to a loader: it is fetched again."""
        digest = hashlib.sha256(self.uri.encode()).hexdigest()[:16]
        path = cache_folder() / "models" / digest / key
        named = _content_digest(key)
        recorded = path.with_name(path.name + ".sha256")
        if path.is_file():
            expected = named or (recorded.read_text().strip() if recorded.is_file() else None)
            if expected and _file_digest(path).startswith(expected):
                return path
            logging.getLogger("catalog").warning("cached copy %s failed its hash check; fetching it again", path)
        data = self.read_bytes(key)
        actual = hashlib.sha256(data).hexdigest()
        if named is not None and not actual.startswith(named):
            raise CatalogError(f"{key} in {self.uri} does not match the hash in its name; refusing to load it")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        recorded.write_text(actual + "\n")
        partial.replace(path)
        return path

    def put_content_addressed(self, folder: str, prefix: str, data: bytes, suffix: str) -> str:
        key = f"{folder}/{_content_name(prefix, data, suffix)}"
        if not self.has(key):
            self.write_bytes(key, data)
        return key

    # -- writing -------------------------------------------------------------------------------

    def prepare(self) -> None:
        pass  # prefixes need no creating

    @contextmanager
    def write_lock(self) -> Iterator["object"]:
        from catalog.store.lease import LeaseLock

        with LeaseLock(self) as lock:
            yield lock

    def _call(self, function, *args, **kwargs):
        """An obstore call with its errors as one line (missing objects stay FileNotFoundError)."""
        from obstore.exceptions import AlreadyExistsError, BaseError, PreconditionError

        try:
            return function(*args, **kwargs)
        except (FileNotFoundError, AlreadyExistsError, PreconditionError):  # the conditional-write outcomes
            raise
        except BaseError as error:
            raise CatalogError(f"cannot reach {self.uri}: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
