"""Which checkpoints a server serves: those in its ``--checkpoints`` folders, and nothing else (Ray-free)."""
from __future__ import annotations

from pathlib import Path


class Catalog:
    """The served checkpoint folders.

    Args:
        folders: folders whose checkpoints are served (default: the bundled ``checkpoints/``).
    Raises:
        ValueError: a folder that does not exist.
    """

    def __init__(self, folders=None):
        from ..backend.checkpoints import CHECKPOINT_DIR
        dirs = [Path(f) for f in (folders or [CHECKPOINT_DIR])]
        for d in dirs:
            if not d.is_dir():
                raise ValueError(f"--checkpoints {d}: no such folder")
        self.folders = [d.resolve() for d in dirs]

    def list(self) -> list:
        """``CheckpointInfo`` of every checkpoint in the served folders (a name in two folders: the first wins)."""
        from ..backend.checkpoints import list_checkpoints
        seen, out = set(), []
        for d in self.folders:
            for info in list_checkpoints(d):
                if info.name not in seen:
                    seen.add(info.name)
                    out.append(info)
        return out

    def resolve(self, name_or_path: str) -> str:
        """The path of a served checkpoint named by its listed name or by a path inside a served folder.

        Raises:
            PermissionError: a path outside the served folders (also through ``..`` or a symbolic link).
            ValueError: a name that is not served.
        """
        s = str(name_or_path)
        for info in self.list():
            if s == info.name:
                return info.path
        p = Path(s).expanduser()
        if not p.is_absolute():
            p = self.folders[0] / p
        p = p.resolve()
        if not any(p == d or p.is_relative_to(d) for d in self.folders):
            raise PermissionError(f"{s}: outside the served checkpoint folders")
        if not p.exists():
            raise ValueError(f"{s}: no such checkpoint on the server "
                             f"(served: {', '.join(i.name for i in self.list()) or 'none'})")
        return str(p)
