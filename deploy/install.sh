#!/usr/bin/env bash
# Installs dealersync on this machine as a systemd service. Safe to run again (upgrades
# the binary and the units, keeps config, credentials and state).
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: deploy/install.sh [--enable agent|hq] BINARY

Installs the dealersync binary and its systemd units:
  - creates the `dealersync` system user and group (no login, no home)
  - creates /etc/dealersync (config), /etc/dealersync/credentials (tokens, root only)
    and /var/lib/dealersync (state, owned by dealersync)
  - copies BINARY to /usr/local/bin/dealersync
  - copies systemd/dealersync-agent.service and dealersync-hq.service to
    /etc/systemd/system and runs `systemctl daemon-reload`
Existing config, credentials and state are never touched.

Options:
  --enable agent|hq  also enable and (re)start that service
  -h, --help         show this help

Examples:
  sudo deploy/install.sh .build/release/dealersync
  sudo deploy/install.sh --enable agent ./dealersync
Then, for a store: put the config in /etc/dealersync/agent.yaml (see deploy/agent.example.yaml),
the HQ token in /etc/dealersync/credentials/hq-token (mode 600), and run
`systemctl enable --now dealersync-agent`.
USAGE
}

arguments="$*"
enable=""
binary=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --enable)
            [[ $# -ge 2 && ( "$2" == agent || "$2" == hq ) ]] || { echo "Error: --enable needs agent or hq" >&2; exit 2; }
            enable="$2"; shift 2 ;;
        -*) echo "Error: unknown option $1" >&2; echo "Try: deploy/install.sh --help" >&2; exit 2 ;;
        *) [[ -z "$binary" ]] || { echo "Error: give one binary" >&2; exit 2; }; binary="$1"; shift ;;
    esac
done

if [[ -z "$binary" ]]; then
    echo "Error: no binary given" >&2
    echo "Try: deploy/install.sh --help" >&2
    exit 2
fi
if [[ ! -f "$binary" || ! -x "$binary" ]]; then
    echo "Error: $binary is not an executable file" >&2
    echo "Try: swift build -c release, then pass .build/release/dealersync" >&2
    exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "Error: installing needs root (it creates a system user and writes /etc and /usr/local)" >&2
    echo "Try: sudo $0 $arguments" >&2
    exit 1
fi

here=$(cd "$(dirname "$0")/.." && pwd)

if ! getent group dealersync >/dev/null; then
    groupadd --system dealersync
fi
if ! id -u dealersync >/dev/null 2>&1; then
    useradd --system --gid dealersync --no-create-home --home-dir /var/lib/dealersync \
        --shell /usr/sbin/nologin --comment "dealersync sync service" dealersync
fi

install -d -m 0755 -o root -g root /etc/dealersync
install -d -m 0700 -o root -g root /etc/dealersync/credentials
install -d -m 0750 -o dealersync -g dealersync /var/lib/dealersync

# Copy then rename, so a running service never sees a half-written binary.
install -m 0755 -o root -g root "$binary" /usr/local/bin/.dealersync.new
mv -f /usr/local/bin/.dealersync.new /usr/local/bin/dealersync

for unit in dealersync-agent.service dealersync-hq.service; do
    install -m 0644 -o root -g root "$here/systemd/$unit" "/etc/systemd/system/$unit"
done

if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    if [[ -n "$enable" ]]; then
        systemctl enable "dealersync-$enable.service"
        systemctl restart "dealersync-$enable.service"
    fi
else
    echo "Note: systemd is not running here; run 'systemctl daemon-reload' on the target machine" >&2
fi

echo "installed /usr/local/bin/dealersync ($("/usr/local/bin/dealersync" --version 2>/dev/null || echo 'version unknown'))"
echo "units in /etc/systemd/system; config goes in /etc/dealersync, tokens in /etc/dealersync/credentials"
