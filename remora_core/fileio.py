"""Every write Remora makes into a project: inside the root, never through a link, atomic.

``inside_root`` is the one check every write of a source file goes through (anchor
injection, proposal approval, the hub): the resolved path lies inside the project root and
no directory on the way, nor the file itself, is a symbolic link. ``replace_checked`` then
writes atomically and refuses a file that changed since it was read, a read-only file and a
symbolic link. Temp files live in ``.remora/tmp/`` (same file system as the tree, else next
to the file) and a later run removes the ones of dead processes. ``state_dir`` creates
``.remora/`` owner-only (0700): it holds conversations and keys.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from pathlib import Path

from remora_core.errors import FileChangedError, ProjectError, WriteRefusedError

STATE_DIR = ".remora"
TEMP_DIR = "tmp"
STATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Temp files of replace_checked: "<name>.remora-<pid>.tmp" in .remora/tmp/, or ".<name>.remora-<pid>.tmp"
# next to the file when .remora/ is on another file system.
_TEMP_RE = re.compile(r"^\.?.+\.remora-(\d+)\.tmp$")


def bytes_hash(data: bytes) -> str:
    """Exact content hash used to detect that a file changed under us."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def link_on_path(root: Path, rel: str) -> str | None:
    """The first component of ``rel`` (a path relative to ``root``) that is a symbolic link,
    as a relative path, or None."""
    current = str(root)
    parts = [part for part in rel.replace(os.sep, "/").split("/") if part and part != "."]
    for depth, part in enumerate(parts):
        current = os.path.join(current, part)
        if os.path.islink(current):
            return "/".join(parts[: depth + 1])
    return None


def inside_root(root: Path, path: str | os.PathLike[str]) -> Path:
    """``path`` (absolute, or relative to ``root``) as an absolute path Remora may write:
    inside the resolved root and reached through no symbolic link. Raises WriteRefusedError."""
    spelled = Path(os.path.normpath(os.path.abspath(root)))
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.normpath(os.path.join(spelled, path)))  # an absolute path stays itself
    for base in (spelled, real_root):
        if target.is_relative_to(base):
            rel = target.relative_to(base).as_posix()
            break
    else:
        raise WriteRefusedError(f"{str(path)!r} is outside the project root {str(root)!r}; not written")
    candidate = real_root / rel
    if rel == ".":
        raise WriteRefusedError(f"{str(path)!r} is the project root, not a file; not written")
    link = link_on_path(real_root, rel)
    if link is not None:
        raise WriteRefusedError(
            f"{rel!r} is reached through the symbolic link {link!r}; Remora never writes through a link"
        )
    if not Path(os.path.realpath(candidate)).is_relative_to(real_root):
        raise WriteRefusedError(f"{str(path)!r} resolves outside the project root {str(root)!r}; not written")
    return candidate


def state_dir(root: Path) -> Path:
    """``root/.remora``, created owner-only (0700) when missing; a tree where it cannot be
    created (read-only) is one clear ProjectError."""
    directory = Path(root) / STATE_DIR
    try:
        os.mkdir(directory, STATE_DIR_MODE)
    except FileExistsError:
        pass
    except OSError as error:
        raise ProjectError(
            f"cannot create {str(directory)!r}: {error.strerror or error} "
            "(Remora keeps its index there; is the tree read-only?)"
        ) from None
    return directory


def private_file(path: Path) -> None:
    """Make ``path`` owner-only (0600) when it is more open (a database an older Remora made
    0644); a file that is missing or not ours to change is left alone."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE_MODE)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp(directory: str, name: str) -> bool:
    """Remove ``directory/name`` when it is a replace_checked temp file of a dead process."""
    match = _TEMP_RE.match(name)
    if match is None or pid_alive(int(match.group(1))):
        return False
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(directory, name))
        return True
    return False


def sweep_stale_temps(root: Path) -> int:
    """Remove the temp files of dead processes from ``.remora/tmp/`` (a kill -9 mid-write)."""
    directory = Path(root) / STATE_DIR / TEMP_DIR
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    return sum(remove_stale_temp(str(directory), name) for name in names)


def _temp_path(path: Path, root: Path | None) -> Path:
    if root is not None:
        directory = Path(root) / STATE_DIR / TEMP_DIR
        try:
            os.makedirs(directory, STATE_DIR_MODE, exist_ok=True)
            if os.stat(directory).st_dev == os.stat(path.parent).st_dev:  # os.replace needs one fs
                return directory / f"{path.name}.remora-{os.getpid()}.tmp"
        except OSError:
            pass
    return path.with_name(f".{path.name}.remora-{os.getpid()}.tmp")


def replace_checked(
    path: Path, data: bytes, expected_hash: str, *, root: Path | None = None
) -> os.stat_result:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename).

    Refuses with ``FileChangedError`` when the file on disk no longer has ``expected_hash``
    (it changed since it was read); the file is then left exactly as it is. Refuses with
    ``WriteRefusedError`` a symbolic link, a read-only file, and (with ``root``) any path
    ``inside_root`` refuses.
    """
    if root is not None:
        path = inside_root(root, path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise FileChangedError(f"{str(path)!r} was deleted since it was read") from None
    if stat.S_ISLNK(info.st_mode):
        raise WriteRefusedError(f"{str(path)!r} is a symbolic link; Remora never replaces a link")
    mode = info.st_mode & 0o7777
    if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        raise WriteRefusedError(f"{str(path)!r} is read-only; not rewritten")
    temp = _temp_path(path, root)
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            raise FileChangedError(f"{str(path)!r} was deleted since it was read") from None
        if bytes_hash(current) != expected_hash:
            raise FileChangedError(f"{str(path)!r} changed on disk since it was read; not overwritten")
        try:
            os.replace(temp, path)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            temp.unlink()
            return replace_checked(path, data, expected_hash)  # next to the file instead
    finally:
        if temp.exists():
            temp.unlink()
    return path.stat()
