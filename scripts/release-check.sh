#!/usr/bin/env bash
# Validate .goreleaser.yaml and build a snapshot release (no publishing):
# static binaries for linux/amd64, linux/arm64, darwin/arm64 and
# windows/amd64, archives and checksums land in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
command -v goreleaser >/dev/null || go install github.com/goreleaser/goreleaser/v2@v2.15.1
goreleaser check
goreleaser release --snapshot --clean
ls -l dist/*.tar.gz dist/*.zip dist/checksums.txt
