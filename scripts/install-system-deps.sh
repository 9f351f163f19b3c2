#!/usr/bin/env bash
# Installs the Debian packages dealersync builds against, and nothing when they are
# already present. Safe to run on every build; needs root (or sudo) only when
# something is missing.
set -euo pipefail

# iproute2 and iptables: the network-fault tests build namespaces, shape links and drop packets.
# faketime: the reliability tests run an agent with its clock a day off.
# chromium and fonts-noto-cjk: the console tests drive HQ's web pages in headless Chromium;
# without CJK fonts Chinese renders as empty boxes in screenshots.
packages=(libsqlite3-dev libcurl4-openssl-dev zlib1g-dev pkg-config sqlite3 iproute2 iptables faketime chromium fonts-noto-cjk)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-system-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        sudo_cmd=(sudo)
    else
        echo "install-system-deps: need root to install ${missing[*]}; try: sudo $0" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
