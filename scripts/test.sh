#!/usr/bin/env bash
# THE test command of sidra: formatting, lints, and every test of the workspace, including the
# conformance tests that run real BGP daemons (FRR, GoBGP, BIRD, ExaBGP) in network namespaces.
#
#   scripts/test.sh                 # as root: installs missing Debian packages, runs everything
#   SIDRA_SKIP_ROOT_TESTS=1 scripts/test.sh   # not root: skip (and say so) the tests that need root
#
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -- capture`).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the conformance tests use (procps: sysctl and kill).
PACKAGES=(frr gobgpd bird2 exabgp tshark tcpdump iproute2 iputils-ping iperf3 procps)

# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
if [ "$(id -u)" = 0 ]; then
    install_missing_packages
else
    echo "== not root: conformance tests need root; they fail unless SIDRA_SKIP_ROOT_TESTS=1 (now: ${SIDRA_SKIP_ROOT_TESTS:-unset})"
fi

echo "== cargo fmt --all -- --check"
cargo fmt --all -- --check

echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The dev profile: on two cores, building optimised test binaries costs more than it saves.
echo "== cargo test --workspace"
cargo test --workspace "$@"

# The lab demo must work on a fresh machine: run it to completion (pings over SRv6, teardown).
if [ "$(id -u)" = 0 ]; then
    echo "== scripts/lab.sh --check"
    scripts/lab.sh --check --prefix labci
fi
