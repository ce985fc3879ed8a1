"""Read submissions out of a zip archive or a directory tree without trusting them.

Nothing is extracted to disk: members are read into memory, one at a time, after checks
that refuse a member (never the whole archive) with a readable reason:

* paths that escape (``..``, absolute, drive letters, backslash tricks);
* symlinks (zip ``external_attr`` with ``S_IFLNK``; in a directory, any symlink);
* names that are not UTF-8 (the zip "UTF-8" flag is honoured; unflagged names are taken
  as UTF-8 when they decode as such, as most zip tools write them, otherwise refused);
* oversized members (per file), a total size cap, and zip bombs (compression ratio);
* unreadable or corrupt members (CRC errors, unsupported compression).

A corrupt archive as a whole (not a zip at all) is a ``SubmissionError``: there is no
partial result worth carrying on with.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from proctor.errors import SubmissionError

__all__ = ["ArchiveLimits", "Member", "read_tree", "read_zip", "JUNK"]

MB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Size limits for one input: generous for notebooks, small enough to stop a bomb."""

    max_file_bytes: int = 20 * MB
    max_total_bytes: int = 2048 * MB
    max_ratio: float = 200.0  # uncompressed/compressed, checked for members over 1 MB
    max_members: int = 100_000


@dataclass
class Member:
    """One file of the input: its relative POSIX name and bytes (or Path), or why refused."""

    name: str
    source: bytes | Path | None
    error: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        return PurePosixPath(self.name).parts


JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints", "__pycache__")


def _is_junk(name: str) -> bool:
    """OS litter that zip tools add; silently skipped, never a submission."""
    parts = PurePosixPath(name).parts
    return any(p in JUNK or p.startswith("._") for p in parts)


def _decode_name(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """The member's real name, or an error when it is not UTF-8.

    zipfile decodes unflagged names as cp437; re-encoding gives the raw bytes back, which
    are then tried as UTF-8 (what Canvas, Moodle and most zip tools actually write).
    """
    if info.flag_bits & 0x800:
        return info.filename, None
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename, None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        shown = raw.decode("utf-8", errors="backslashreplace")
        return shown, f"file name {shown!r} is not UTF-8; rename the file and resubmit"


def unsafe_path(name: str) -> str | None:
    """Why ``name`` would escape the extraction root, or None if it is a plain relative path."""
    if "\\" in name:
        return f"{name!r}: backslash in the path (a Windows path that could escape)"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"{name!r}: absolute path"
    if any(part == ".." for part in name.split("/")):
        return f"{name!r}: path contains '..'"
    if "\x00" in name:
        return f"{name!r}: NUL byte in the path"
    return None


def read_zip(path: Path | bytes, limits: ArchiveLimits = ArchiveLimits()) -> list[Member]:
    """Every file member of the zip at ``path`` (or in these bytes), each either read or
    refused with a reason."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path)
    except (zipfile.BadZipFile, OSError) as error:
        shown = "zip data" if isinstance(path, bytes) else str(path)
        raise SubmissionError(f"{shown}: not a readable zip archive ({error})") from None
    members: list[Member] = []
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise SubmissionError(f"{path}: {len(infos)} members, more than the limit "
                                  f"{limits.max_members}; is this the right archive?")
        for info in infos:
            name, error = _decode_name(info)
            if info.is_dir() or _is_junk(name):
                continue
            error = error or unsafe_path(name)
            mode = info.external_attr >> 16
            if error is None and stat.S_ISLNK(mode):
                error = f"{name!r} is a symbolic link; only regular files are accepted"
            if error is None and info.file_size > limits.max_file_bytes:
                error = (f"{name!r} is {info.file_size / MB:.1f} MB, over the "
                         f"{limits.max_file_bytes / MB:.0f} MB limit per file")
            if (error is None and info.file_size > MB
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
                error = (f"{name!r} expands {info.file_size / max(info.compress_size, 1):.0f}"
                         f"-fold (over {limits.max_ratio:.0f}); refused as a likely zip bomb")
            if error is None and total + info.file_size > limits.max_total_bytes:
                error = (f"{name!r}: the archive exceeds the total limit of "
                         f"{limits.max_total_bytes / MB:.0f} MB; later files were skipped")
            if error is not None:
                members.append(Member(name, None, error))
                continue
            try:
                data = _bounded_read(archive, info, limits.max_file_bytes)
            except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError,
                    RuntimeError) as exc:
                members.append(Member(name, None, f"{name!r} could not be read: {exc}"))
                continue
            if data is None:
                members.append(Member(name, None, f"{name!r} is larger than it claims "
                                      f"(over {limits.max_file_bytes / MB:.0f} MB)"))
                continue
            total += len(data)
            members.append(Member(name, data))
    return members


def _bounded_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """Read at most ``limit`` bytes: the header's size can lie, the stream cannot."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def read_tree(root: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Member]:
    """Every regular file under ``root`` (as Paths, read later), symlinks refused, not followed."""
    members: list[Member] = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        dirnames.sort()
        for dirname in list(dirnames):
            if (base / dirname).is_symlink():
                rel = (base / dirname).relative_to(root).as_posix()
                members.append(Member(rel, None, f"{rel!r} is a symbolic link; refused"))
                dirnames.remove(dirname)
            elif dirname in JUNK:
                dirnames.remove(dirname)
        for filename in sorted(filenames):
            full = base / filename
            rel = full.relative_to(root).as_posix()
            if _is_junk(rel):
                continue
            try:
                info = full.lstat()
            except OSError as exc:
                members.append(Member(rel, None, f"{rel!r} could not be read: {exc}"))
                continue
            if stat.S_ISLNK(info.st_mode):
                members.append(Member(rel, None, f"{rel!r} is a symbolic link; refused"))
            elif not stat.S_ISREG(info.st_mode):
                members.append(Member(rel, None, f"{rel!r} is not a regular file"))
            elif info.st_size > limits.max_file_bytes:
                members.append(Member(rel, None, f"{rel!r} is {info.st_size / MB:.1f} MB, "
                                      f"over the {limits.max_file_bytes / MB:.0f} MB limit"))
            elif total + info.st_size > limits.max_total_bytes:
                members.append(Member(rel, None, f"{rel!r}: over the total limit of "
                                      f"{limits.max_total_bytes / MB:.0f} MB"))
            else:
                total += info.st_size
                members.append(Member(rel, full))
    return members


def read_input(path: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[Member]:
    """Members of a zip file or a directory, whichever ``path`` is."""
    if path.is_dir():
        return read_tree(path, limits)
    if path.is_file() and zipfile.is_zipfile(path):
        return read_zip(path, limits)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or directory")
    raise SubmissionError(f"{path}: expected a directory or a .zip archive of submissions")
