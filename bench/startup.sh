#!/usr/bin/env bash
# Start-up time of `netdiag --version` (goal: under 10 ms), with hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/netdiag
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/netdiag
hyperfine -N --style none --warmup 5 --runs 300 --export-json "$bin.json" "$bin --version"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("netdiag --version: median %.2f ms (min %.2f, max %.2f, %d runs)" % (r["median"]*1e3, r["min"]*1e3, r["max"]*1e3, len(r["times"])))' "$bin.json"
