#!/usr/bin/env bash
# Installs the Debian packages that autodisc's build, tests and benchmarks need.
# Idempotent: quiet and quick when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libsqlite3-dev sqlite3 libedit-dev libfmt-dev libcli11-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libssl-dev openssl curl libsodium-dev python3-exchangelib libtomlplusplus-dev
  libcurl4-openssl-dev libc-ares-dev dnsmasq-base
  slapd ldap-utils libldap-dev
  samba-ad-dc samba-ad-provision ldb-tools
  graphviz haproxy wrk
  clang-16 libclang-rt-16-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# slapd: no system directory of its own; the tests start their own slapd with their own cn=config.
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
# Samba's and slapd's packages must not start their services (Samba would broadcast off loopback):
# where the machine has no policy-rc.d saying so, one is put in place for the install.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  guard=1
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
true
