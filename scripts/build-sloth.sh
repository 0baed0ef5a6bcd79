#!/usr/bin/env bash
# Sloth, built from its Go module into the tools cache (keyed by version), for the
# side-by-side timing (python -m bench.sloth). Not part of the test tools: the comparison
# tests read Sloth's committed output in ../shared/corpus/sloth/generated. Prints the
# binary's path.
set -euo pipefail
version=${SLOTH_VERSION:-v0.16.0}
cache=${STACKGEN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stackgen-tools}
export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOPATH="$cache/go/path"
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-buildvcs=false"
dir="$cache/sloth-${version#v}"
if [ ! -x "$dir/sloth" ]; then
    mkdir -p "$cache"
    work=$(mktemp -d "$cache/.build-sloth-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    GOBIN="$work" go install "github.com/slok/sloth/cmd/sloth@$version" >&2
    mv "$work" "$dir"
    trap - EXIT
fi
echo "$dir/sloth"
