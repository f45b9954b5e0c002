#!/usr/bin/env bash
# Offline checks of the Salesforce package (infra/salesforce): installs the pinned npm tools into
# infra/salesforce/node_modules (git-ignored) when the lock file changed, then runs jest, the Apex
# parser and the metadata checks. No org is needed.
set -euo pipefail
cd "$(dirname "$0")/../salesforce"
stamp=node_modules/.omnibridge-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
npm test --silent
