# Sourced by scripts/test.sh and scripts/lab.sh: install the Debian packages named in PACKAGES
# that are missing (as root; daemons are kept from starting on install), and find cargo.

if ! command -v cargo >/dev/null && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
    PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

install_missing_packages() {
    if [ "$(id -u)" != 0 ]; then
        return 0
    fi
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "== installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Daemons must not start on install (tests and the lab start their own in namespaces).
    local policy_rc=/usr/sbin/policy-rc.d created=0
    if [ ! -e "$policy_rc" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy_rc"
        chmod 755 "$policy_rc"
        created=1
    fi
    apt-get update -q </dev/null
    apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null
    if [ "$created" = 1 ]; then
        rm -f "$policy_rc"
    fi
}
