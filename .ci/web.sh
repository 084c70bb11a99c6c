#!/usr/bin/env bash
# The web app (web/, docs/web.md): svelte-check, the Vitest unit tests,
# then a production build that must equal the committed web/dist — plaza
# embeds web/dist, so a stale one would ship old pages.
set -euo pipefail
cd "$(dirname "$0")/../web"
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs npm)"; exit 1; }
npm ci --no-audit --no-fund --loglevel=error
npm run --silent check
npm test --silent
npm run --silent build >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  git status --short -- dist
  echo "web/dist differs from a build of web/src: run 'npm run build' in web/ and commit web/dist"
  exit 1
fi
echo "web/dist matches its sources"
