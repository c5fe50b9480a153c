# Sourced by packaging/linux/build.sh and packaging/macos/build.sh from the repository root:
# the portable llama.cpp wheel, a build environment (not the development one: test tools would
# be frozen in too), and the default model to carry.
#   in:  python, variant      out: root, version, venv, model
root="$PWD"
version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

echo "== llama.cpp ($variant)" >&2
wheel=$(PYTHON="$python" bash packaging/llama-wheel.sh "$variant")

echo "== build environment" >&2
venv="$root/build/venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" --force-reinstall --no-deps "$wheel"
"${pip[@]}" "$wheel" "pyinstaller>=6.10,<7" "pillow>=10"
# Not editable: the frozen program reads Hearth's metadata (version, licences) like an install does.
"${pip[@]}" --force-reinstall --no-deps . && "${pip[@]}" .

echo "== default model" >&2
model=$(cd /tmp && "$venv/bin/python" "$root/packaging/default_model.py")
echo "   $model" >&2
