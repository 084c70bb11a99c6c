#!/usr/bin/env bash
# The web app's budgets (issue 19): initial JS + CSS gzipped, and first
# render on loopback in Debian's Chromium, against the release binary.
#   bench/web.sh
source "$(dirname "$0")/lib.sh"
start_plaza 18197
(cd web && npm ci --no-audit --no-fund --loglevel=error && node bench/budgets.mjs "$base")
