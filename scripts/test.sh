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
PACKAGES=(frr gobgpd bird2 exabgp tshark tcpdump iproute2 iperf3 procps)

if ! command -v cargo >/dev/null && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
    PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

if [ "$(id -u)" = 0 ]; then
    missing=()
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Daemons must not start on install (tests start their own instances in namespaces).
        policy_rc=/usr/sbin/policy-rc.d
        if [ ! -e "$policy_rc" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
            chmod 755 "$policy_rc"
            trap 'rm -f "$policy_rc"' EXIT
        fi
        apt-get update -q </dev/null
        apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}" </dev/null
    fi
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
