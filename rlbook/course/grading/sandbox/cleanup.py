"""Delete a folder the grader made, and nothing else.

``shutil.rmtree`` follows a directory wherever it leads: into a bind mount
of another folder (same device, so ``st_dev`` and ``os.path.ismount`` do not
notice) it goes on deleting the mounted folder's files. The grader binds
the interpreter's own folders for its sandboxes, so its clean-up must not be
able to do that, even by mistake. ``remove_tree``:

* walks by file descriptor, never by path, so a symlink or a folder swapped
  in during the walk cannot lead it elsewhere (``O_NOFOLLOW``);
* compares the mount ID of every folder it enters (``/proc/self/fdinfo``)
  with the top folder's and refuses to cross into another mount, even one of
  the same file system;
* stops at the first problem and says which path, leaving the rest in place.
"""

import os

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class RefusedRemoval(OSError):
    """A folder to delete holds a mount point (or is not a plain folder)."""


def mount_id(fd):
    """The mount ID of an open file descriptor (Linux), or None if unknown."""
    try:
        with open(f"/proc/self/fdinfo/{fd}") as handle:
            for line in handle:
                if line.startswith("mnt_id:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def remove_tree(path):
    """Delete ``path`` and everything in it, never crossing a mount point.

    Raises ``RefusedRemoval`` (what was found, where) and stops before
    touching anything past a mount point; ordinary ``OSError`` as usual.
    """
    path = os.path.abspath(path)
    try:
        top = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise RefusedRemoval(f"{path} is not a folder (a symlink or a file): not deleted")
    try:
        home = mount_id(top)
        if home is None:
            raise RefusedRemoval(f"cannot tell which mount {path} is on (no /proc): not deleted")
        _empty(top, home, path)
    finally:
        os.close(top)
    os.rmdir(path)


def _empty(folder_fd, home, shown):
    with os.scandir(folder_fd) as entries:
        names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_dir in names:
        where = os.path.join(shown, name)
        if not is_dir:
            os.unlink(name, dir_fd=folder_fd)
            continue
        child = os.open(name, _DIR_FLAGS, dir_fd=folder_fd)
        try:
            if mount_id(child) != home:
                raise RefusedRemoval(
                    f"{where} is a mount point; deleting through it would delete the mounted "
                    "folder's files. Nothing past it was deleted; unmount it, then remove "
                    f"{shown} by hand")
            _empty(child, home, where)
        finally:
            os.close(child)
        os.rmdir(name, dir_fd=folder_fd)
