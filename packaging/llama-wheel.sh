#!/usr/bin/env bash
# Build (once) and print the path of a portable llama-cpp-python wheel.
#
# pip's own wheel cache ignores CMAKE_ARGS and would silently hand back a wheel
# built with other flags, so wheels are kept in a directory keyed by the
# package version and a hash of the exact build flags.  A native build
# (-march=native) must never be used: it dies with "Illegal instruction" on
# CPUs that advertise features the process may not use, and installers must
# run on any x86-64 CPU.
set -euo pipefail

version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
flags="${HEARTH_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF}"
python="${PYTHON:-python3}"
pytag=$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
key=$(printf '%s|%s|%s|%s' "$version" "$flags" "$pytag" "$(uname -sm)" | sha256sum | cut -c1-16)
cache_root="${HEARTH_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/wheels}"
dir="$cache_root/llama-cpp-python-$version-$key"

wheel=$(ls "$dir"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "Building llama-cpp-python $version with CMAKE_ARGS='$flags' (several minutes, once)..." >&2
  tmp="$dir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
    "$python" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$tmp" "llama-cpp-python==$version" >&2
  printf 'version=%s\nCMAKE_ARGS=%s\npython=%s\nplatform=%s\n' \
    "$version" "$flags" "$pytag" "$(uname -sm)" > "$tmp/BUILD-FLAGS"
  rm -rf "$dir" && mv "$tmp" "$dir"
  wheel=$(ls "$dir"/llama_cpp_python-*.whl | head -n 1)
fi
echo "$wheel"
