#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (run as root, or with sudo
# available): the package with its test extras, OPA's Go engine for the conformance tests
# (scripts/fetch-engines.sh), Debian's chromium for the browser tests, and axe-core (npm) for the
# accessibility checks. Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]'
bash scripts/fetch-engines.sh
# chromium for the browser tests; Pango (WeasyPrint's layout engine) and fonts for the PDFs
if ! command -v chromium >/dev/null 2>&1 || ! ldconfig -p | grep -q libpangoft2-1.0; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation \
    libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund --silent
fi
