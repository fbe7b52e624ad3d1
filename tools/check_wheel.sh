#!/usr/bin/env bash
# Wheel-install check: build the wheel, install it (not editable) with its dependencies
# into a fresh venv, then run the quick main job from a directory outside the checkout.
# Usage: tools/check_wheel.sh   (PYTHON=python3.12 by default; KEEP=1 keeps the temp dir)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3.12}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bayes-kfdi-wheel.XXXXXX")"
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$work"' EXIT; fi
unset PYTHONPATH
start=$SECONDS

"$python" -m venv "$work/venv"
"$work/venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
wheel=("$work"/dist/bayes_kfdi-*.whl)
"$work/venv/bin/pip" install -q "${wheel[0]}"
echo "check_wheel: built and installed $(basename "${wheel[0]}") in $((SECONDS - start)) s"

cd "$work"  # outside the checkout: nothing may be found through the source tree
where="$("$work/venv/bin/python" -c 'import bayes_kfdi; print(bayes_kfdi.__file__)')"
if [[ "$where" != "$work/venv/"* ]]; then
  echo "check_wheel: bayes_kfdi imported from $where, not from the wheel's venv" >&2
  exit 1
fi
"$work/venv/bin/bayes-kfdi" reproduce --quick --out "$work/out"
for f in report.html report.md; do
  if [[ ! -s "$work/out/$f" ]]; then
    echo "check_wheel: $work/out/$f missing or empty" >&2
    exit 1
  fi
done
echo "check_wheel: reproduce --quick from the installed wheel wrote $work/out/report.html;" \
  "$((SECONDS - start)) s in all"
