#!/bin/sh
# Whole-daemon benchmark (issue 8): sidrad against BIRD 2, FRR bgpd and GoBGP in network
# namespaces. Run as root. Installs missing daemons (apt-get install -y frr gobgpd bird2), builds
# sidrad and the harness in release mode, runs every workload (3 interleaved repetitions), writes
# docs/bench/<date>/*.json and replaces the generated section of docs/benchmarks.md.
#
#   sudo scripts/bench.sh                          # everything (long: GoBGP needs minutes)
#   sudo scripts/bench.sh --quick                  # a tenth of the sizes, 1 repetition (smoke check)
#   sudo scripts/bench.sh --workloads v4-1m,vpnv6-100k --daemons sidrad,bird --reps 5
#   sudo scripts/bench.sh --help
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "scripts/bench.sh: run as root (it creates network namespaces and starts daemons)" >&2
    exit 1
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -p bgpd --bins
cargo build --release -p sidra-bench
exec "$CARGO_TARGET_DIR/release/sidra-bench" all "$@"
