#!/usr/bin/env bash
# Wheel-install check: build the wheel, install it (not editable) into a fresh venv, then
# run the quick main job from a directory outside the checkout.
#
# Dependencies: by default the fresh venv sees the main venv's site-packages through a
# .pth line (a path added that way has its own .pth files ignored, so the main venv's
# editable install of this package does not leak in; the import location is checked).
# FULL=1 installs the wheel with its dependencies resolved by pip instead (slower).
# Usage: tools/check_wheel.sh   (PYTHON=python3.12, VENV=.venv; KEEP=1 keeps the temp dir)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3.12}"
main_venv="${VENV:-$repo/.venv}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bayes-kfdi-wheel.XXXXXX")"
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$work"' EXIT; fi
unset PYTHONPATH
start=$SECONDS

"$python" -m venv "$work/venv"
"$work/venv/bin/pip" wheel -q --no-deps -w "$work/dist" "$repo"
wheel=("$work"/dist/bayes_kfdi-*.whl)
if [[ "${FULL:-0}" == 1 ]]; then
  "$work/venv/bin/pip" install -q "${wheel[0]}"
else
  site="$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  main_site="$("$main_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  echo "$main_site" > "$site/zz_main_venv_dependencies.pth"
  "$work/venv/bin/pip" install -q --no-deps "${wheel[0]}"
fi
echo "check_wheel: built and installed $(basename "${wheel[0]}") in $((SECONDS - start)) s"

cd "$work"  # outside the checkout: nothing may be found through the source tree
where="$("$work/venv/bin/python" -c 'import bayes_kfdi; print(bayes_kfdi.__file__)')"
if [[ "$where" != "$work/venv/"* ]]; then
  echo "check_wheel: bayes_kfdi imported from $where, not from the wheel's venv" >&2
  exit 1
fi
"$work/venv/bin/bayes-kfdi" reproduce --quick --out "$work/out"
for f in report.html report.md run/summary.csv; do
  if [[ ! -s "$work/out/$f" ]]; then
    echo "check_wheel: $work/out/$f missing or empty" >&2
    exit 1
  fi
done
echo "check_wheel: reproduce --quick from the installed wheel wrote $work/out/report.html;" \
  "$((SECONDS - start)) s in all"
