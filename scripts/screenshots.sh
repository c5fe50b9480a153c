#!/usr/bin/env bash
# Screenshots of the window's main states under Xvfb, driven with xdotool:
# welcome, a streamed answer with code, the sidebar search, settings, the
# model manager, the dashboard, About, and an answer in the dark theme at 200 % scaling.
#   scripts/screenshots.sh [out-dir]     (needs xvfb, xdotool and imagemagick)
#   HEARTH_PROGRAM=build/linux/hearth/hearth scripts/screenshots.sh    the frozen program
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-screenshots}"
mkdir -p "$out"
home="$(mktemp -d)"
mkdir -p "$home/data/models"
model="${HEARTH_TEST_MODELS:-$HOME/.cache/hearth/test-models}/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -f "$model" ] && cp "$model" "$home/data/models/"
export DISPLAY=:97
# A large screen: room for the window at 200 %.
Xvfb "$DISPLAY" -screen 0 2400x1600x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$app" "$xvfb" 2>/dev/null || true' EXIT
sleep 1
shot() { sleep "$2"; import -window root "$out/$1.png"; }
# Xvfb has no window manager: give X focus by hand, as a click would.
focus() { timeout 5 xdotool search --sync --name "$1" windowfocus --sync 2>/dev/null || true; }
program="${HEARTH_PROGRAM:-.venv/bin/python -m app}"
start() { HEARTH_HOME="$home" $program >/dev/null 2>&1 & app=$!; sleep 6; focus "$1"; }

start '^Hearth$'
shot 01-welcome 0
xdotool type --delay 15 "Write a python function that adds two numbers, with a short explanation."
xdotool key Return
shot 02-answer 15
xdotool key ctrl+k
xdotool type --delay 15 "python"
shot 03-search 2
xdotool key ctrl+comma
focus '^Settings$'
shot 04-settings 2
xdotool key Escape
focus '^Hearth$'
xdotool key ctrl+shift+m
focus '^Models$'
shot 05-models 2
xdotool key Escape
focus '^Hearth$'
xdotool key ctrl+shift+d
focus '^Dashboard$'
shot 06-dashboard 2
xdotool key Escape
focus '^Hearth$'
xdotool key alt+h
sleep 1
xdotool key a
focus '^About Hearth$'
shot 08-about 2
kill "$app"; sleep 1

sed -i 's/^theme = "system"/theme = "dark"/' "$home/config/models.toml" 2>/dev/null || \
  { cp models.toml "$home/config/models.toml"; sed -i 's/^theme = "system"/theme = "dark"/' "$home/config/models.toml"; }
QT_SCALE_FACTOR=2 start '^Hearth$'
xdotool type --delay 15 "Show a tiny python example with a list comprehension."
xdotool key Return
shot 07-dark-200-percent 15
echo "screenshots in $out/"
