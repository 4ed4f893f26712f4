#!/usr/bin/env bash
# The embedding examples (examples/hosts), built against an installed prefix of cace, not against
# the build tree, and run on a tiny model:
#   run_host.sh prepare BUILD_DIR WORK MAKE_TINY_MODEL   install into WORK/prefix, write WORK/tiny
#   run_host.sh c|rust|go SOURCE_DIR WORK                build the example with pkg-config cace, run it
# Exits 77 (skipped) when the example's toolchain is missing.
set -euo pipefail
readonly SKIP=77
mode=$1
case "$mode" in
  prepare)
    build=$2 work=$3 make_tiny=$4
    rm -rf "$work/prefix" "$work/tiny"
    mkdir -p "$work"
    cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
    "$make_tiny" --out "$work/tiny" > /dev/null
    echo "installed into $work/prefix; tiny model in $work/tiny"
    exit 0
    ;;
esac
source_dir=$2 work=$3
prefix=$work/prefix
libdir=$(find "$prefix" -name 'libcace_c.so' -printf '%h\n' | head -1)
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists cace || { echo "pkg-config cace: not found under $PKG_CONFIG_PATH"; exit 1; }
examples=$source_dir/examples/hosts
case "$mode" in
  c)
    cc -std=c99 -Wall -Wextra -pedantic -Werror "$examples/c/host.c" -o "$work/c_host" \
       $(pkg-config --cflags --libs cace) -lpthread -Wl,-rpath,"$libdir"
    exec "$work/c_host" "$work/tiny"
    ;;
  rust)
    # Debian's cargo (what scripts/install-deps.sh installs) before any other on PATH.
    cargo=$(command -v /usr/bin/cargo || command -v cargo || true)
    [[ -n $cargo ]] || { echo "SKIP: no cargo"; exit $SKIP; }
    CARGO_HOME=$work/cargo-home CARGO_TARGET_DIR=$work/rust-target \
      "$cargo" build --offline --quiet --manifest-path "$examples/rust/Cargo.toml"
    exec "$work/rust-target/debug/cace_rust_host" "$work/tiny"
    ;;
  go)
    go=$(command -v go || command -v /usr/lib/go/bin/go || true)
    [[ -n $go ]] || { echo "SKIP: no go"; exit $SKIP; }
    cd "$examples/go"
    GOPATH=$work/gopath GOCACHE=$work/gocache GOFLAGS=-mod=mod GOPROXY=off CGO_ENABLED=1 \
      CGO_LDFLAGS="-Wl,-rpath,$libdir" "$go" build -o "$work/go_host" .
    exec "$work/go_host" "$work/tiny"
    ;;
  *)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
