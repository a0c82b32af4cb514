#!/usr/bin/env bash
# The overlay data-plane benchmark (issue 9): pod-to-pod TCP/UDP throughput, UDP loss and ping
# latency over native routing, VXLAN and SRv6 (sidrad-programmed), IPv4 and IPv6 pods, with and
# without a pod MTU adjusted for the overlay's headers, in network namespaces (prefix "ob-").
#
#   sudo scripts/overlay-bench.sh            # 3 repetitions (~12 min): docs/overlay-benchmark.md,
#                                            # docs/overlay-benchmark/{results.json,*.png}
#   sudo scripts/overlay-bench.sh --quick    # 1 short repetition into target/overlay-bench/
#   sudo scripts/overlay-bench.sh --reps 5 --tcp-secs 10 --udp-rate 1G --out /tmp/ob
#
# Exits non-zero, naming the case, if a capture on the fabric does not prove that an overlay
# carried its traffic. Installs what is missing (as root), builds sidrad and the runner (release).
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(frr iproute2 iputils-ping tcpdump procps iperf3 util-linux)
# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
if [ "$(id -u)" != 0 ]; then
    echo "scripts/overlay-bench.sh needs root (network namespaces)" >&2
    exit 2
fi
install_missing_packages
echo "== building sidrad, sidractl and overlay-bench (release)"
cargo build -q --release -p bgpd --bins -p conformance --bin overlay-bench
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
export SIDRAD="$target/release/sidrad" SIDRACTL="$target/release/sidractl"
exec "$target/release/overlay-bench" "$@"
