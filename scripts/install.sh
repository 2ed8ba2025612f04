#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine needs to run and test the cockpit.
#
#   bash scripts/install.sh            system packages (apt) + .venv with the cockpit, dev and spark
#   bash scripts/install.sh --no-spark the same without Java and pyspark
#
# Python packages go into a virtual environment in the checkout (.venv), never into the
# system's Python: Debian 12 and Ubuntu 23.04+ refuse that (PEP 668). The interpreter is
# $PYTHON if set, else the first CPython >= 3.11 on PATH. Versions are pinned by
# constraints.txt, the same file CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."

spark=1
for arg in "$@"; do
  case "$arg" in
    --no-spark) spark=0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------- system packages
DEB_PACKAGES=(fonts-noto-cjk poppler-utils libegl1 libgl1 libxkbcommon0 libfontconfig1
              libdbus-1-3 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1
              libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
              libasound2 xvfb python3-venv)
[ "$spark" = 1 ] && DEB_PACKAGES+=(openjdk-17-jre-headless)
if command -v dpkg >/dev/null 2>&1; then
  missing=()
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "install.sh: apt-get install ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "install.sh: not a Debian system; install the CJK fonts, Qt's libraries and Java 17 yourself" >&2
fi

# ---------------------------------------------------------------- the interpreter
ok_python() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; }
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3 python3.13 python3.12 python3.11; do
    if command -v "$cand" >/dev/null 2>&1 && ok_python "$cand"; then PY="$cand"; break; fi
  done
fi
if [ -z "$PY" ] || ! ok_python "$PY"; then
  echo "install.sh: needs CPython 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  exit 2
fi

# ---------------------------------------------------------------- the virtual environment
# A venv made by another interpreter (or a broken one) is made again.
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "install.sh: creating .venv with $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')" >&2
  "$PY" -m venv .venv
fi
extras="dev"
[ "$spark" = 1 ] && extras="dev,spark"
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt \
  -e ".[$extras]"
echo "install.sh: ready: .venv/bin/cockpit" >&2
