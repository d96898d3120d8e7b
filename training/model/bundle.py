"""Ship a model version between servers as one .tgz: `models export VERSION out.tgz` / `models import in.tgz`.

Import trusts nothing in the archive: only regular files named <version>/<plain name>, no more
than the model lists, each under a size cap, are read (never extracted by tarfile); then the
format and every checksum are verified in a temp directory before it is renamed into place.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from .. import artifacts
from ..errors import ModelError

MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # everything is read into memory before it is checked
MAX_MEMBERS = 16


def export_version(models_dir: Path, version: str, out: Path) -> Path:
    """Write a verified format-2 version into one gzip tar (written beside out, then renamed)."""
    models_dir, out = Path(models_dir), Path(out)
    meta = artifacts.verify(models_dir, version)
    names = [artifacts.META_FILE, *sorted(meta["files"])]
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with tarfile.open(tmp, "w:gz") as archive:
            for name in names:
                content = (models_dir / version / name).read_bytes()
                info = tarfile.TarInfo(f"{version}/{name}")
                info.size, info.mode, info.mtime = len(content), 0o644, int(os.path.getmtime(models_dir / version / name))
                archive.addfile(info, io.BytesIO(content))
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def _reject(source: Path, why: str) -> ModelError:
    return ModelError(f"{source}: not a model export ({why}); nothing was imported")


def _read_members(source: Path) -> tuple[str, dict[str, bytes]]:
    """(version, {file name: bytes}) of an archive, or ModelError saying what is wrong with it."""
    files: dict[str, bytes] = {}
    version = None
    total = 0
    try:
        with tarfile.open(source, "r:gz") as archive:
            for count, member in enumerate(archive, start=1):
                if count > MAX_MEMBERS:
                    raise _reject(source, f"more than {MAX_MEMBERS} members")
                name = member.name
                if name.startswith("/") or "\\" in name:
                    raise _reject(source, f"absolute or odd path {name!r}")
                parts = name.split("/")
                if member.isdir() and len(parts) == 1:
                    continue
                if ".." in parts or len(parts) != 2:
                    raise _reject(source, f"path {name!r} is not <version>/<file>")
                if not member.isreg():
                    kind = "symbolic link" if member.issym() else "hard link" if member.islnk() else "device or special file"
                    raise _reject(source, f"{name!r} is a {kind}")
                if member.size > MAX_MEMBER_BYTES:
                    raise _reject(source, f"{name!r} is larger than {MAX_MEMBER_BYTES:,} bytes")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise _reject(source, f"members add up to more than {MAX_TOTAL_BYTES:,} bytes")
                folder, file_name = parts
                artifacts.check_version_name(folder)
                if not artifacts.FILE_RE.match(file_name):
                    raise _reject(source, f"file name {file_name!r}")
                if version is not None and folder != version:
                    raise _reject(source, f"two versions ({version}, {folder})")
                if file_name in files:
                    raise _reject(source, f"{name!r} appears twice")
                version = folder
                handle = archive.extractfile(member)
                content = handle.read(MAX_MEMBER_BYTES + 1) if handle else b""
                if len(content) != member.size:
                    raise _reject(source, f"{name!r} is truncated")
                files[file_name] = content
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise _reject(source, f"unreadable gzip tar: {type(exc).__name__}") from None
    if version is None:
        raise _reject(source, "empty archive")
    return version, files


def import_version(models_dir: Path, source: Path) -> str:
    """Verify an exported archive and add its version to models_dir (never over an existing one)."""
    models_dir, source = Path(models_dir), Path(source)
    version, files = _read_members(source)
    if artifacts.META_FILE not in files:
        raise _reject(source, f"no {artifacts.META_FILE}")
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists() or final.is_symlink():
        raise ModelError(f"{source}: version {version} already exists in {models_dir}; versions are never overwritten")
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-import-{version}-", dir=models_dir))
    try:
        tmp = staging / version
        tmp.mkdir(mode=0o755)
        for name, content in files.items():
            (tmp / name).write_bytes(content)
        meta = artifacts.read_meta(staging, version)
        if not isinstance(meta.get("files"), dict):
            raise _reject(source, "model.json lists no files (an old pickle version? run `legal-tagger models migrate` where it was made)")
        listed = set(meta["files"]) | {artifacts.META_FILE}
        extra = sorted(set(files) - listed)
        if extra:
            raise _reject(source, f"files not listed in model.json: {', '.join(extra)}")
        artifacts.load_model(staging, version)  # format, every checksum, and the arrays build a scorer
        os.rename(tmp, final)
    except ModelError as exc:
        message = str(exc).replace(str(tmp), str(source))
        raise ModelError(message if message.startswith(str(source)) else f"{source}: {message}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return version
