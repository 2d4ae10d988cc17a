#!/usr/bin/env bash
# stress is how developers load the machine beside the suites (tests must wait for conditions, not time).
set -euo pipefail
bash "$(dirname "$0")/../apt-install" stress
