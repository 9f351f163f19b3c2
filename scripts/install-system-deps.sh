#!/usr/bin/env bash
# Installs the Debian packages dealersync builds against, and nothing when they are
# already present. Safe to run on every build; needs root (or sudo) only when
# something is missing.
set -euo pipefail

# iproute2 and iptables: the network-fault tests build namespaces, shape links and drop packets.
# faketime: the reliability tests run an agent with its clock a day off.
# chromium and fonts-noto-cjk: the console tests drive HQ's web pages in headless Chromium;
# without CJK fonts Chinese renders as empty boxes in screenshots.
# lintian, chrpath, adduser: scripts/package-deb and the test that checks its package.
packages=(libsqlite3-dev libcurl4-openssl-dev zlib1g-dev pkg-config sqlite3 iproute2 iptables faketime chromium fonts-noto-cjk lintian chrpath adduser)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

# promtool checks deploy/prometheus's alert rules in the tests. Debian ships it only inside
# the prometheus package, whose installation would also start a Prometheus server on :9090,
# so promtool alone is taken out of the package into /usr/local/bin.
need_promtool=0
command -v promtool >/dev/null || need_promtool=1

if [ ${#missing[@]} -eq 0 ] && [ $need_promtool -eq 0 ]; then
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        sudo_cmd=(sudo)
    else
        echo "install-system-deps: need root to install ${missing[*]} promtool; try: sudo $0" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-system-deps: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ $need_promtool -eq 1 ]; then
    echo "install-system-deps: installing promtool (from Debian's prometheus package, without the server)" >&2
    unpacked=$(mktemp -d)
    (cd "$unpacked" && apt-get download -qq prometheus && dpkg-deb -x prometheus_*.deb root)
    "${sudo_cmd[@]}" install -m 0755 "$unpacked/root/usr/bin/promtool" /usr/local/bin/promtool
    rm -rf "$unpacked"
fi
