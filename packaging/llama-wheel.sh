#!/usr/bin/env bash
# Build (once) and print the path of a portable llama-cpp-python wheel.
#
#   packaging/llama-wheel.sh            the development/test build (-DGGML_NATIVE=OFF)
#   packaging/llama-wheel.sh cpu        what installers ship: every x86-64 CPU variant,
#                                       picked at run time (GGML_BACKEND_DL)
#   packaging/llama-wheel.sh cuda       the same plus CUDA (needs the CUDA toolkit)
#   packaging/llama-wheel.sh vulkan     the same plus Vulkan (needs the Vulkan SDK)
#   packaging/llama-wheel.sh metal      macOS: Metal and the CPU (Apple's CPUs need no variants)
#
# With GGML_BACKEND_DL each CPU variant (sse42, haswell, skylakex, zen4, ...) is its own
# libggml-cpu-*.so; Hearth loads the best one its CPU and OS can run
# (app/core/providers/llama_backends.py).  CMAKE_INSTALL_BINDIR puts those modules next to
# libllama inside the wheel instead of a stray bin/ directory.
#
# pip's own wheel cache ignores CMAKE_ARGS and would silently hand back a wheel
# built with other flags, so wheels are kept in a directory keyed by the
# package version and a hash of the exact build flags.  A native build
# (-march=native) must never be used: it dies with "Illegal instruction" on
# CPUs that advertise features the process may not use, and installers must
# run on any x86-64 CPU.
set -euo pipefail

version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
portable="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DCMAKE_INSTALL_BINDIR=llama_cpp/lib"
case "${1:-dev}" in
  dev)    default_flags="-DGGML_NATIVE=OFF" ;;
  cpu)    default_flags="$portable" ;;
  cuda)   default_flags="$portable -DGGML_CUDA=ON" ;;
  vulkan) default_flags="$portable -DGGML_VULKAN=ON" ;;
  metal)  default_flags="-DGGML_NATIVE=OFF -DGGML_METAL=ON -DGGML_METAL_EMBED_LIBRARY=ON" ;;
  *) echo "unknown llama.cpp variant '$1' (dev, cpu, cuda, vulkan or metal)" >&2; exit 2 ;;
esac
flags="${HEARTH_LLAMA_CMAKE_ARGS:-$default_flags}"
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
# Under Git Bash on Windows, Python needs C:\... rather than /c/...
if command -v cygpath >/dev/null 2>&1; then cygpath -w "$wheel"; else echo "$wheel"; fi
