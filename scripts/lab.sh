#!/usr/bin/env bash
# THE lab command of sidra: sidra nodes with IPv4+IPv6 pods, a route reflector and an IPv6-only
# fabric in network namespaces; shows sessions, routes and SRv6 state and pings every pod from
# every other pod over SRv6.
#
#   sudo scripts/lab.sh                       # vpn mode, FRR 8.4 reflector, 3 nodes; Ctrl-C ends it
#   sudo scripts/lab.sh --check               # exit 0 only if every ping passes, then tear down
#   sudo scripts/lab.sh --mode global         # unicast + Prefix-SID, GoBGP reflector
#   sudo scripts/lab.sh --mode global --reflector bird --nodes 2
#
# Installs what is missing (as root), builds sidrad, sidractl and the lab runner, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(frr gobgpd bird2 iproute2 iputils-ping tcpdump procps)
# shellcheck source=scripts/lib/packages.sh
. scripts/lib/packages.sh
if [ "$(id -u)" != 0 ]; then
    echo "scripts/lab.sh needs root (network namespaces)" >&2
    exit 2
fi
install_missing_packages
echo "== building sidrad, sidractl and the lab runner"
cargo build -q -p bgpd --bins -p conformance --bin sidra-lab
target="${CARGO_TARGET_DIR:-target}"
export SIDRAD="$PWD/$target/debug/sidrad" SIDRACTL="$PWD/$target/debug/sidractl"
[ -x "$SIDRAD" ] || { SIDRAD="$target/debug/sidrad"; SIDRACTL="$target/debug/sidractl"; }
exec "$target/debug/sidra-lab" "$@"
