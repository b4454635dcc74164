#!/usr/bin/env bash
# The whole netswim test suite, from a fresh machine: installs the test peers
# it needs, then runs format and lint checks, every test, and every fuzz target
# for a bounded time. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-12}"
step() { printf '\n==> %s\n' "$*"; }

step "test peers"
# cargo-fuzz drives libFuzzer; it needs a C++ compiler (present on the machine).
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# Interop peers (crates/netswim-tftp/tests/interop.rs: tftp-hpa, atftp, curl,
# tftpd-hpa; crates/netswim-transfer/tests/: curl for http/https/ftp/tftp,
# lftp): a missing peer fails those tests, so install them here.
if ! command -v tftp >/dev/null 2>&1 || ! command -v atftp >/dev/null 2>&1 \
  || ! command -v curl >/dev/null 2>&1 || ! command -v lftp >/dev/null 2>&1 \
  || ! [ -x /usr/sbin/in.tftpd ]; then
  as_root=""
  if [ "$(id -u)" != 0 ]; then as_root="sudo"; fi
  $as_root apt-get update
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y tftp-hpa atftp curl tftpd-hpa lftp
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi

step "fuzz targets (${FUZZ_SECONDS}s each)"
# libFuzzer needs nightly-only rustc flags (sanitizers, coverage passes); the
# machine's one toolchain is stable, so unlock them for this build only.
export RUSTC_BOOTSTRAP=1
(
  cd fuzz
  cargo fuzz build -O
  for target in $(cargo fuzz list); do
    seeds="corpus/$target"
    mkdir -p "$seeds"
    case "$target" in
      parse_*) find ../crates/netswim-parse/tests/corpus -name '*.raw' -exec cp -n {} "$seeds/" \; ;;
    esac
    echo "--- $target"
    log="artifacts/$target.log"
    mkdir -p artifacts
    if ! cargo fuzz run -O "$target" "$seeds" -- -max_total_time="$FUZZ_SECONDS" >"$log" 2>&1; then
      tail -n 40 "$log"
      echo "fuzz target $target failed (log: fuzz/$log)"
      exit 1
    fi
    grep -E "^Done" "$log" || true
  done
)
echo
echo "all checks passed"
