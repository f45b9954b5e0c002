#!/usr/bin/env bash
# Runs a command with dynalite (an independent DynamoDB implementation, from npm) listening on a
# free loopback port, and OMNIBRIDGE_DYNAMODB_ENDPOINT pointing at it. dynalite is installed into
# .tools/ on first use. The command's exit status is returned; dynalite is always stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/.tools"
if [ ! -x "$tools/node_modules/.bin/dynalite" ]; then
  command -v npm >/dev/null || { echo "with-dynalite: npm is required to install dynalite" >&2; exit 1; }
  echo "== installing dynalite from npm into .tools/"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error dynalite@4.0.0 >&2
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 48123)
log=$(mktemp)
"$tools/node_modules/.bin/dynalite" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 $pid 2>/dev/null; then echo "with-dynalite: dynalite exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done
echo "== dynalite $(node -e "console.log(require('$tools/node_modules/dynalite/package.json').version)") listening on 127.0.0.1:$port"
OMNIBRIDGE_DYNAMODB_ENDPOINT="http://127.0.0.1:$port" "$@"
