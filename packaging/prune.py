"""Leave out of the frozen folder what Hearth never loads (used by hearth.spec).

- Qt's GTK3 platform theme: it needs the desktop's own GTK, and the copies of glib, cairo and
  pango PyInstaller would put beside it could clash with that GTK.  Qt's own theme and the
  desktop portal theme remain.
- Qt's translations: Hearth's window is in English and installs no Qt translator.
- On Linux, then, every shared library that nothing left in the folder links to (found by
  following DT_NEEDED from every extension module, plug-in and ctypes-loaded library).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable

UNUSED = ("PySide6/Qt/plugins/platformthemes/libqgtk3", "PySide6/Qt/translations/")
# The bootloader opens libpython itself; nothing links to it.
ALWAYS = ("libpython",)

Entry = tuple[str, str, str]  # PyInstaller's TOC: (name in the folder, source, type)


def needed(path: str) -> list[str]:
    dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)


def prune(binaries: Iterable[Entry], datas: Iterable[Entry]) -> tuple[list[Entry], list[Entry], list[str]]:
    """The binaries and data files to keep, and the names of the libraries left out."""
    kept = [entry for entry in binaries if not entry[0].replace("\\", "/").startswith(UNUSED)]
    data = [entry for entry in datas if not entry[0].replace("\\", "/").startswith(UNUSED)]
    if not sys.platform.startswith("linux"):
        return kept, data, []
    # Dependencies PyInstaller found sit at the top of the folder; extension modules are roots.
    top = {entry[0]: entry for entry in kept if "/" not in entry[0] and entry[2] == "BINARY"}
    roots = [entry for entry in kept if entry[0] not in top]
    reachable: set[str] = set()
    queue = [entry[1] for entry in roots if entry[2] != "SYMLINK"]
    while queue:
        for name in needed(queue.pop()):
            if name in top and name not in reachable:
                reachable.add(name)
                queue.append(top[name][1])
    dropped = sorted(name for name in top if name not in reachable and not name.startswith(ALWAYS))
    return [entry for entry in kept if entry[0] not in dropped], data, dropped
