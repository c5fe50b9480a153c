"""Read a frozen Hearth's --self-test report on stdin; fail unless it passed with the installer's model."""

import json
import sys

report = json.loads(sys.stdin.read().strip().splitlines()[-1])
if not report.get("ok"):
    sys.exit(f"self-test failed: {report.get('error')}")
if report["model_came_from"] != "the installation":
    sys.exit(f"the installer's model was not used: it came from {report['model_came_from']}")
print(
    "self-test passed: {launch_to_window_s} s to the window, model loaded in {model_load_s} s "
    "on {llama_backends}, answered in {answer_s} s".format(**report),
    file=sys.stderr,
)
cpu = report.get("cpu_modules")
if cpu:
    skipped = "; ".join(f"{module} {reason}" for module, reason in cpu["skipped"].items()) or "none"
    print(f"CPU module {cpu['runs']} tested in {cpu['tested_ms']:.0f} ms; skipped: {skipped}", file=sys.stderr)
