"""Leave out of the frozen folder what Hearth never loads (used by hearth.spec).

- Qt plug-ins a desktop app does not use: the GTK3 platform theme (it needs the desktop's own
  GTK, and the copies of glib, cairo and pango PyInstaller would put beside it could clash
  with that GTK; Qt's own theme and the desktop portal theme remain), and the platforms for
  framebuffers, EGL-only screens and VNC.  Kept: xcb (X11), wayland and offscreen.
- Qt's translations: Hearth's window is in English and installs no Qt translator.
- On Linux, then, every shared library that nothing left in the folder links to, found by
  following DT_NEEDED from every extension module, plug-in and ctypes-loaded library.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import PurePosixPath

QT = "PySide6/Qt/"
UNUSED = tuple(
    QT + path
    for path in (
        "plugins/platformthemes/libqgtk3",
        "plugins/platforms/libqeglfs",
        "plugins/platforms/libqlinuxfb",
        "plugins/platforms/libqminimal",
        "plugins/platforms/libqvnc",
        "plugins/platforms/libqvkkhrdisplay",
        "plugins/egldeviceintegrations/",
        "plugins/generic/",
        "translations/",
    )
)
# The bootloader opens libpython itself; nothing links to it.
ALWAYS = ("libpython",)

Entry = tuple[str, str, str]  # PyInstaller's TOC: (name in the folder, source, type)


def needed(path: str) -> list[str]:
    dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)


def _posix(entry: Entry) -> str:
    return entry[0].replace("\\", "/")


def _is_dependency(entry: Entry) -> bool:
    """A library loaded only because something links to it: PyInstaller's top level, or Qt's lib folder."""
    name = _posix(entry)
    return entry[2] == "BINARY" and ("/" not in name or name.startswith(QT + "lib/"))


def prune(binaries: Iterable[Entry], datas: Iterable[Entry]) -> tuple[list[Entry], list[Entry], list[str]]:
    """The binaries and data files to keep, and the names of the libraries left out."""
    kept = [entry for entry in binaries if not _posix(entry).startswith(UNUSED)]
    data = [entry for entry in datas if not _posix(entry).startswith(UNUSED)]
    if not sys.platform.startswith("linux"):
        return kept, data, []
    libraries = {PurePosixPath(_posix(entry)).name: entry for entry in kept if _is_dependency(entry)}
    reachable: set[str] = set()
    queue = [entry[1] for entry in kept if entry[2] != "SYMLINK" and not _is_dependency(entry)]
    while queue:
        for name in needed(queue.pop()):
            if name in libraries and name not in reachable:
                reachable.add(name)
                queue.append(libraries[name][1])
    dropped = {name for name in libraries if name not in reachable and not name.startswith(ALWAYS)}
    return (
        [entry for entry in kept if PurePosixPath(_posix(entry)).name not in dropped],
        data,
        sorted(dropped),
    )
