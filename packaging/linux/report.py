"""Sizes of the Linux artifacts and what their frozen self-tests reported, as one JSON object."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    out, archive, deb = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    mb = 1024 * 1024
    model = next((out / "hearth").rglob("*.gguf"))
    print(
        json.dumps(
            {
                "sizes_mb": {
                    "folder": round(folder_size(out / "hearth") / mb, 1),
                    "of_which_model": round(model.stat().st_size / mb, 1),
                    archive: round((out / archive).stat().st_size / mb, 1),
                    deb: round((out / deb).stat().st_size / mb, 1),
                },
                "self_test": {
                    kind: json.loads((out / f"self-test-{kind}.json").read_text()) for kind in ("archive", "deb")
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
