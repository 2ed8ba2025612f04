#!/usr/bin/env bash
# Everything a fresh Debian machine needs to run and test the cockpit.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_PACKAGES=(fonts-noto-cjk poppler-utils libegl1 libgl1 libxkbcommon0 libfontconfig1
              libdbus-1-3 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt
