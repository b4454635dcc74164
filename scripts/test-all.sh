#!/usr/bin/env bash
# The whole netswim test suite, from a fresh machine: installs the test peers
# it needs, then runs format and lint checks, every test, and every fuzz target
# for a bounded time. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-12}"
step() { printf '\n==> %s\n' "$*"; df -h . | awk 'NR == 2 { print "    (disk: " $4 " free)" }'; }
# A fresh clone builds everything once: incremental state would only add
# gigabytes to the target directory.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "test peers"
# cargo-fuzz drives libFuzzer; it needs a C++ compiler (present on the machine).
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

# Peers the interop tests drive; a missing peer fails those tests, never skips them.
#  - netswim-tftp: tftp-hpa and atftp clients, curl, tftpd-hpa (for our client)
#  - netswim-transfer: curl (http/https/ftp/tftp/sftp/scp), lftp, OpenSSH sftp/scp/ssh-keygen, sshpass
#  - netswim-lab: OpenSSH client with sshpass, tftpd-hpa, Netmiko (+ ntc-templates),
#    Scrapli 1.x,
#    pyftpdlib (the FTP server lab switches pull from and push to)
#  - netswim-api: OpenSSH sshd (private SFTP server for URL imports), minisign (signatures)
as_root=""
if [ "$(id -u)" != 0 ]; then as_root="sudo"; fi
missing=0
for tool in tftp atftp curl lftp ssh sftp scp ssh-keygen sshpass in.tftpd sshd minisign; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing=1
done
if [ "$missing" = 1 ]; then
  $as_root apt-get update -qq
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    tftp-hpa atftp curl lftp tftpd-hpa openssh-client openssh-server sshpass minisign
fi
if ! python3 -c 'import netmiko, ntc_templates' >/dev/null 2>&1; then
  python3 -m pip install -q --break-system-packages netmiko==4.8.0
fi
# Scrapli 1.x: the last release with IOSXEDriver/IOSXRDriver (2.x dropped them).
if ! python3 -c 'from scrapli.driver.core import IOSXEDriver, IOSXRDriver' >/dev/null 2>&1; then
  python3 -m pip install -q --break-system-packages scrapli==2025.1.30
fi
if ! python3 -c 'import pyftpdlib' >/dev/null 2>&1; then
  python3 -m pip install -q --break-system-packages pyftpdlib==2.2.0
fi
# Browser tests (tests/browser): Debian's Chromium driven by playwright-core
# (pinned in tests/browser/package-lock.json) on Node.js.
# The machine's Node.js may come from NodeSource with npm inside it, which
# conflicts with Debian's npm package: ask only for what is missing.
browser_packages=""
command -v chromium >/dev/null 2>&1 || browser_packages="chromium"
command -v node >/dev/null 2>&1 || browser_packages="$browser_packages nodejs"
command -v npm >/dev/null 2>&1 || browser_packages="$browser_packages npm"
if [ -n "$browser_packages" ]; then
  $as_root apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $browser_packages
fi
npm ci --prefix tests/browser --no-audit --no-fund --silent

# The store suite runs on PostgreSQL too (127.0.0.1:5432, trust auth, database
# `test`): start the machine's cluster if it is installed but stopped.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && [ -d /etc/postgresql ]; then
  $as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
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

step "browser tests (web UI in Chromium against netswim demo)"
# Screenshots are kept in target/browser-artifacts/.
cargo build -p netswim --locked
node --test --test-concurrency=1 tests/browser/ui.test.mjs

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
