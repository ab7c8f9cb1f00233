#!/usr/bin/env bash
# Installs everything netlab needs on Debian/Ubuntu (run as root), then the npm dependencies and
# the build. Safe to run again: apt and npm ci skip what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the HTML report test renders the report headless (playwright-core drives it).
# docker.io: the engine the Docker tests start privately (test/support/dockerd.ts) and the kind
# provider uses; installed WITHOUT starting its services (below).
PKGS=(iproute2 iptables tcpdump conntrack libpcap-dev bpftrace tshark curl python3 make g++ chromium docker.io)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing: ${missing[*]} — run this script as root (sudo)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  # A policy-rc.d that answers 101 ("action forbidden") makes invoke-rc.d and deb-systemd-invoke
  # skip starting docker's and containerd's services during the install. One that was already
  # there is left as it was.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  # Nothing this install brought may be left running: the tests start their own private dockerd.
  if [[ " ${missing[*]} " == *" docker.io "* ]]; then
    for daemon in dockerd containerd; do
      if pgrep -x "$daemon" >/dev/null; then
        echo "setup: $daemon is running after installing docker.io; stop it (service docker stop; service containerd stop)" >&2
        exit 2
      fi
    done
  fi
fi

# bpftrace attaches to the net tracepoints through tracefs, which a fresh machine may not mount.
if [ "$(id -u)" -eq 0 ] && [ -d /sys/kernel/tracing ] && [ ! -d /sys/kernel/tracing/events/net ]; then
  mount -t tracefs nodev /sys/kernel/tracing || echo "setup: could not mount tracefs; --source ebpf will not work" >&2
fi

npm ci --no-audit --no-fund
npm run build
