#!/usr/bin/env bash
# Builds the stack's own programs from their Go modules, at the versions of
# tools/versions.env and tools/otelcol/builder-config.yaml, into a cache keyed by version
# outside the work tree, and links them into .tools/bin/ (git-ignored):
#   prometheus, promtool    github.com/prometheus/prometheus (3.x is tagged v0.3xx.y)
#   alertmanager, amtool    github.com/prometheus/alertmanager
#   otelcol                 the collector's builder, with the components stackgen renders
#   jaeger                  github.com/jaegertracing/jaeger/cmd/jaeger (Jaeger v2)
#   node_exporter           github.com/prometheus/node_exporter
#   llama-server            llama.cpp from the llama-cpp-python sdist on PyPI (CPU, cmake)
#   thanos                  github.com/thanos-io/thanos/cmd/thanos (the scale-out proof's
#                           clustered store: receive + query)
# and the tiny GGUF model llama-server serves in the tests (tools/llm/make_tiny_model.py,
# written by the project's venv Python; linked as .tools/share/tiny-llama.gguf).
# A build is done once per version: a second run only links (well under a second).
# The cache: $STACKGEN_TOOLS_CACHE, default ~/.cache/stackgen-tools; Go's module and build
# caches live there too, so a cold build of one tool speeds up the next.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tools/versions.env
source "$root/tools/versions.env"
cache=${STACKGEN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stackgen-tools}
bin_dir="$root/.tools/bin"
mkdir -p "$cache" "$bin_dir"

export GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build" GOPATH="$cache/go/path"
# Static binaries, the machine's own Go (never a downloaded toolchain), no VCS stamping of
# the scratch modules.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-buildvcs=false"

say() { echo "build-tools: $*" >&2; }

# The scratch directory of the build under way, removed however the script ends.
work=""
trap 'if [ -n "$work" ]; then rm -rf "$work"; fi' EXIT

command -v go >/dev/null 2>&1 || { say "FAILED: no go on PATH (Go 1.26 is needed to build the tools)"; exit 1; }

# ensure NAME VERSION KEY MODULE BUILD_FUNCTION BINARY...
# Builds into a scratch directory and moves the result into place only when every binary
# is there, so an interrupted or failed build never leaves a half cache entry behind.
ensure() {
    local name=$1 version=$2 key=$3 module=$4 build=$5
    shift 5
    local dir="$cache/$name-$key"
    if [ ! -f "$dir/.complete" ]; then
        local started=$SECONDS log binary
        work=$(mktemp -d "$cache/.build-$name-XXXXXX")
        log="$cache/$name-$key.log"
        say "building $name $version from $module (cold build: minutes; log in $log)"
        # In the background and waited for: `set -e` holds inside the builder (it would
        # not in an `if` condition).
        ("$build" "$work") >"$log" 2>&1 &
        if ! wait $!; then
            say "FAILED: $name $version from $module: $(grep -v '^go: \(downloading\|creating new go.mod\)' "$log" | tail -n 1) (full log: $log)"
            rm -rf "$work"
            exit 1
        fi
        for binary in "$@"; do
            if [ ! -x "$work/bin/$binary" ]; then
                say "FAILED: $name $version from $module built no $binary (log: $log)"
                rm -rf "$work"
                exit 1
            fi
        done
        rm -rf "$dir"
        mkdir -p "$dir"
        mv "$work/bin" "$dir/bin"
        rm -rf "$work"
        work=""
        echo "$((SECONDS - started))" >"$dir/build-seconds"
        touch "$dir/.complete"
        say "built $name $version in $((SECONDS - started)) s"
    fi
    for binary in "$@"; do
        ln -sfn "$dir/bin/$binary" "$bin_dir/$binary"
    done
}

# A field (Dir, GoMod) of a module downloaded into the module cache; the proxy's error on
# stderr when it cannot be had (`go mod download -json` prints it in its JSON).
module_field() {
    local json
    if ! json=$(go mod download -json "$1"); then
        echo "$json" | sed -n 's/^\t"Error": "\(.*\)",\{0,1\}$/\1/p' >&2
        return 1
    fi
    echo "$json" | sed -n "s/^\t\"$2\": \"\(.*\)\",\$/\1/p"
}

# The version line of prometheus/common's version package (what --version prints).
prometheus_ldflags() {
    local p=github.com/prometheus/common/version
    echo "-X $p.Version=$1 -X $p.Branch=HEAD -X $p.Revision=$2 -X $p.BuildUser=stackgen"
}

build_prometheus() {
    local work=$1
    GOBIN="$work/bin" go install -trimpath \
        -ldflags "$(prometheus_ldflags "$PROMETHEUS_VERSION" "$PROMETHEUS_MODULE_VERSION")" \
        "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" \
        "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
}

# The module ships the web UI's sources but not its built assets, which the ui package
# embeds; a one-page placeholder stands in for them (the API, amtool and every
# notification path are unaffected), built from a writable copy of the module.
build_alertmanager() {
    local work=$1 module=github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION source
    source=$(module_field "$module" Dir)
    test -d "$source"
    cp -r "$source" "$work/src"
    chmod -R u+w "$work/src"
    local page='<!doctype html><title>Alertmanager</title><p>Web UI not built; the API works.'
    for ui in elm mantine; do
        mkdir -p "$work/src/ui/app/dist/$ui"
        echo "$page" >"$work/src/ui/app/dist/$ui/index.html"
    done
    mkdir -p "$work/bin"
    (cd "$work/src" && go build -trimpath -o "$work/bin/" \
        -ldflags "$(prometheus_ldflags "$ALERTMANAGER_VERSION" "v$ALERTMANAGER_VERSION")" \
        ./cmd/alertmanager ./cmd/amtool)
}

build_otelcol() {
    local work=$1
    GOBIN="$work/builder" go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
    # The builder takes its output directory from the manifest only.
    sed "/^dist:/a\\  output_path: $work/src" "$root/tools/otelcol/builder-config.yaml" \
        >"$work/builder-config.yaml"
    "$work/builder/builder" --config="$work/builder-config.yaml"
    mkdir -p "$work/bin"
    mv "$work/src/otelcol" "$work/bin/otelcol"
}

# cmd/jaeger's module has `replace` directives, so `go install module@version` refuses it:
# a scratch module requires it as a tool, with the same replacements.
build_jaeger() {
    local work=$1 module=github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION gomod
    mkdir -p "$work/src" "$work/bin"
    cd "$work/src"
    go mod init stackgen.local/jaeger-build >/dev/null
    gomod=$(module_field "$module" GoMod)
    go mod edit -json "$gomod" \
        | python3 -c 'import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    new = r["New"]["Path"] + ("@" + r["New"]["Version"] if r["New"].get("Version") else "")
    print(r["Old"]["Path"] + "=" + new)' \
        | while read -r replacement; do go mod edit -replace "$replacement"; done
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_MODULE_VERSION"
    go build -trimpath -o "$work/bin/jaeger" \
        -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$JAEGER_VERSION" \
        github.com/jaegertracing/jaeger/cmd/jaeger
}

build_node_exporter() {
    local work=$1
    GOBIN="$work/bin" go install -trimpath \
        -ldflags "$(prometheus_ldflags "$NODE_EXPORTER_VERSION" "v$NODE_EXPORTER_VERSION")" \
        "github.com/prometheus/node_exporter@v$NODE_EXPORTER_VERSION"
}

# The sdist's file URL from PyPI's JSON simple index, then the file, checked against the
# pinned sha256; kept in the cache, so a rebuild downloads nothing.
fetch_llama_sdist() {
    local name=llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz
    local file="$cache/downloads/$name" url
    if [ -f "$file" ] && echo "$LLAMA_CPP_PYTHON_SHA256  $file" | sha256sum -c --status; then
        echo "$file"
        return
    fi
    mkdir -p "$cache/downloads"
    url=$(curl -fsS --max-time 60 -H 'Accept: application/vnd.pypi.simple.v1+json' \
        https://pypi.org/simple/llama-cpp-python/ \
        | python3 -c 'import json, sys
name = sys.argv[1]
print(next(f["url"] for f in json.load(sys.stdin)["files"] if f["filename"] == name))' "$name")
    curl -fsS --max-time 900 -o "$file.partial" "$url"
    if ! echo "$LLAMA_CPP_PYTHON_SHA256  $file.partial" | sha256sum -c --status; then
        rm -f "$file.partial"
        echo "$name from $url does not have the pinned sha256 $LLAMA_CPP_PYTHON_SHA256" >&2
        return 1
    fi
    mv "$file.partial" "$file"
    echo "$file"
}

# Static, CPU only, no network features (no curl, no model downloads), portable code
# (GGML_NATIVE off: the cache may move to another CPU of the same architecture).
build_llama_server() {
    local work=$1 sdist
    sdist=$(fetch_llama_sdist)
    mkdir -p "$work/src" "$work/bin"
    tar -xzf "$sdist" -C "$work/src" --strip-components=3 \
        "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
    cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=OFF
    cmake --build "$work/build" --target llama-server -j "$(nproc)"
    cp "$work/build/bin/llama-server" "$work/bin/llama-server"
}

# The model is data, not a build: keyed by the script that writes it and the gguf version.
ensure_tiny_model() {
    local python="$root/.venv/bin/python" key dir
    if [ ! -x "$python" ]; then
        say "FAILED: no $python for the tiny model (run \`make venv\` first)"
        exit 1
    fi
    key="$("$python" -c 'import importlib.metadata as m; print(m.version("gguf"))')-$(sha256sum "$root/tools/llm/make_tiny_model.py" | cut -c1-12)"
    dir="$cache/tiny-llama-$key"
    if [ ! -f "$dir/.complete" ]; then
        mkdir -p "$dir"
        "$python" "$root/tools/llm/make_tiny_model.py" "$dir/tiny-llama.gguf"
        touch "$dir/.complete"
        say "wrote the tiny model ($(stat -c %s "$dir/tiny-llama.gguf") bytes)"
    fi
    mkdir -p "$root/.tools/share"
    ln -sfn "$dir/tiny-llama.gguf" "$root/.tools/share/tiny-llama.gguf"
}

otelcol_version=$(sed -n 's/^  version: *//p' "$root/tools/otelcol/builder-config.yaml")
# The collector's entry changes with its component list, not only with its version.
otelcol_key="$otelcol_version-$(sha256sum "$root/tools/otelcol/builder-config.yaml" | cut -c1-12)"

ensure prometheus "$PROMETHEUS_VERSION" "$PROMETHEUS_VERSION" \
    "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" build_prometheus prometheus promtool
ensure alertmanager "$ALERTMANAGER_VERSION" "$ALERTMANAGER_VERSION" \
    "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION" build_alertmanager alertmanager amtool
ensure otelcol "$otelcol_version" "$otelcol_key" \
    "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION" build_otelcol otelcol
ensure jaeger "$JAEGER_VERSION" "$JAEGER_VERSION" \
    "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" build_jaeger jaeger
ensure node_exporter "$NODE_EXPORTER_VERSION" "$NODE_EXPORTER_VERSION" \
    "github.com/prometheus/node_exporter@v$NODE_EXPORTER_VERSION" build_node_exporter node_exporter
ensure llama-server "$LLAMA_CPP_PYTHON_VERSION" "$LLAMA_CPP_PYTHON_VERSION" \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (PyPI sdist)" build_llama_server llama-server
ensure_tiny_model
# The scale-out proof's horizontally scalable store. VictoriaMetrics' cluster components live
# only on its `-cluster` tags, which the module proxy does not serve; Thanos (receive + query)
# is the store that builds. Its module has `replace` directives, so it is built inside a
# writable copy of the module, where they apply.
build_thanos() {
    local work=$1 module=github.com/thanos-io/thanos@$THANOS_MODULE_VERSION source
    source=$(module_field "$module" Dir)
    test -d "$source"
    cp -r "$source" "$work/src"
    chmod -R u+w "$work/src"
    mkdir -p "$work/bin"
    # Thanos' own build tags (its .promu.yml): its gRPC codec casts Prometheus' labels to
    # its own, which holds only for the slice layout; with Prometheus' default string
    # layout the storage nodes crash marshalling their first answer.
    (cd "$work/src" && go build -trimpath -tags netgo,slicelabels -o "$work/bin/thanos" \
        -ldflags "$(prometheus_ldflags "$THANOS_VERSION" "$THANOS_MODULE_VERSION")" ./cmd/thanos)
}
ensure thanos "$THANOS_VERSION" "$THANOS_VERSION" "github.com/thanos-io/thanos@$THANOS_MODULE_VERSION" build_thanos thanos
say "prometheus $PROMETHEUS_VERSION, alertmanager $ALERTMANAGER_VERSION, otelcol $otelcol_version, jaeger $JAEGER_VERSION, node_exporter $NODE_EXPORTER_VERSION, llama-server (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION), thanos $THANOS_VERSION in $bin_dir"
