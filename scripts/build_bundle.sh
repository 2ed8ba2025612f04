#!/usr/bin/env bash
# A one-folder bundle of the cockpit for machines with no network (dist/cockpit/):
# copy the folder, run dist/cockpit/cockpit (same commands as .venv/bin/cockpit).
#
#   bash scripts/build_bundle.sh            build dist/cockpit (after scripts/install.sh)
#   bash scripts/build_bundle.sh --smoke    and run the offline smoke test on it
#
# Windows: the same spec builds there (a PowerShell with the venv active:
#   pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\cockpit.spec)
# but it has not been built or tested on Windows by this project.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/pyinstaller ] || { echo "run scripts/install.sh first" >&2; exit 2; }
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/cockpit.spec
echo "bundle: dist/cockpit ($(du -sh dist/cockpit | cut -f1))" >&2
if [ "${1:-}" = "--smoke" ]; then
  bash scripts/smoke_bundle.sh dist/cockpit
fi
