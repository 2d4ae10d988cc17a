#!/usr/bin/env bash
# Debian's Chromium, which the dashboard's browser tests drive through playwright-core (no browser download).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash .ci/apt-install chromium
/usr/bin/chromium --version || { echo "chromium: installed but /usr/bin/chromium does not run" >&2; exit 1; }
