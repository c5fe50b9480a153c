"""The frozen program's entry point: PyInstaller starts from a script, this one runs ``python -m app``."""

import runpy

runpy.run_module("app", run_name="__main__", alter_sys=True)
