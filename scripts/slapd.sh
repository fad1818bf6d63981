#!/usr/bin/env bash
# A throwaway OpenLDAP server (Debian's slapd) with autodisc's schema, on a loopback address, for
# the tests and for trying the directory store by hand.
#
#   scripts/slapd.sh start DIR PORT [BASE-DN] [ADMIN-PASSWORD]   (a new, empty directory; prints the PID
#                                                                 and returns when it answers)
#   scripts/slapd.sh resume DIR PORT     (the same server again, with what it held when it was stopped)
#   scripts/slapd.sh stop DIR
#
# Everything it writes is under DIR: its cn=config, its database, its PID. It listens on
# ldap://127.0.0.1:PORT only. The administrator is cn=admin,BASE-DN (default password "secret");
# BASE-DN defaults to DC=e2010,DC=test. With SLAPD_TLS_CERT and SLAPD_TLS_KEY (PEM files) in the
# environment it also offers StartTLS on that port and LDAPS on PORT+1. With SLAPD_SERVER_ID (1, 2, ...)
# and SLAPD_PEERS (the other providers' ldap:// URLs, space-separated) it is one provider of a
# multi-provider set that replicate each other (syncprov, refreshAndPersist); only the provider with
# SLAPD_SERVER_ID 1 gets the base entry, the others receive it by replication. Then, for example:
#   AUTODISC_LDAP_BIND_DN=cn=admin,DC=e2010,DC=test AUTODISC_LDAP_PASSWORD=secret \
#     autodisc shell --store ldap://127.0.0.1:PORT/DC=e2010,DC=test
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: slapd.sh start DIR PORT [BASE-DN] [ADMIN-PASSWORD] | stop DIR}
dir=${2:?the directory to keep the server in}

stop() {
  [ -f "$dir/slapd.pid" ] || return 0
  local pid; pid=$(cat "$dir/slapd.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/slapd.pid"
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || [ "$cmd" = resume ] || { echo "slapd.sh: unknown command $cmd" >&2; exit 64; }
port=${3:?the port to listen on}
base=${4:-DC=e2010,DC=test}
password=${5:-secret}
slapd=$(command -v slapd || echo /usr/sbin/slapd)
[ -x "$slapd" ] || { echo "slapd.sh: slapd is not installed (Debian package slapd)" >&2; exit 1; }
schemas=/etc/ldap/schema
modules=/usr/lib/ldap

launch() {
  local urls="ldap://127.0.0.1:$port/"
  grep -q olcTLSCertificateFile "$dir/slapd.d/cn=config.ldif" 2>/dev/null && urls="$urls ldaps://127.0.0.1:$((port + 1))/"
  "$slapd" -F "$dir/slapd.d" -h "$urls" -d 0 > "$dir/slapd.log" 2>&1 &
  pid=$!
  echo "$pid" > "$dir/slapd.pid"
  for _ in $(seq 100); do
    if ldapsearch -x -H "ldap://127.0.0.1:$port" -s base -b "" namingContexts >/dev/null 2>&1; then
      echo "$pid"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "slapd.sh: slapd did not start; its log:" >&2
  cat "$dir/slapd.log" >&2
  stop
  exit 1
}
if [ "$cmd" = resume ]; then
  [ -d "$dir/slapd.d" ] || { echo "slapd.sh: nothing to resume in $dir" >&2; exit 1; }
  launch
fi

mkdir -p "$dir/slapd.d" "$dir/db"
first_dc=$(echo "$base" | sed -n 's/^[Dd][Cc]=\([^,]*\).*/\1/p')
tls=""
if [ -n "${SLAPD_TLS_CERT:-}" ] && [ -n "${SLAPD_TLS_KEY:-}" ]; then
  tls="olcTLSCertificateFile: $SLAPD_TLS_CERT
olcTLSCertificateKeyFile: $SLAPD_TLS_KEY"
fi
serverid=""
replication=""
if [ -n "${SLAPD_SERVER_ID:-}" ]; then
  serverid="olcServerID: $SLAPD_SERVER_ID"
  rid=0
  for peer in ${SLAPD_PEERS:-}; do
    rid=$((rid + 1))
    replication="${replication}olcSyncrepl: {$((rid - 1))}rid=$(printf %03d "$rid") provider=$peer bindmethod=simple binddn=\"cn=admin,$base\" credentials=$password searchbase=\"$base\" type=refreshAndPersist retry=\"1 +\" timeout=1 network-timeout=1 keepalive=30:3:1
"
  done
  replication="${replication}olcMultiProvider: TRUE"
fi
cat > "$dir/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
$(printf '%s\n%s' "$serverid" "$tls" | sed '/^$/d')

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $modules
olcModuleLoad: back_mdb
olcModuleLoad: syncprov

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$schemas/core.ldif
include: file://$schemas/cosine.ldif
include: file://$here/schema/autodisc.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 5000

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $base
olcDbDirectory: $dir/db
olcDbMaxSize: 4294967296
olcRootDN: cn=admin,$base
olcRootPW: $password
olcDbIndex: objectClass eq
olcDbIndex: entryCSN,entryUUID eq
olcDbIndex: keywords eq
olcDbIndex: proxyAddresses eq
olcAccess: {0}to * by users read by anonymous auth
olcLimits: {0}users size=unlimited time=unlimited
$replication

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 5
olcSpSessionLog: 1000
EOF
rm -rf "$dir/slapd.d"/* "$dir/db"/*
slapadd -q -n0 -F "$dir/slapd.d" -l "$dir/config.ldif"
# The base entry, as a domain controller's naming context would be; autodisc makes the rest.
printf 'dn: %s\nobjectClass: domain\ndc: %s\n' "$base" "${first_dc:-example}" > "$dir/base.ldif"
if [ -z "${SLAPD_SERVER_ID:-}" ]; then
  slapadd -q -n1 -F "$dir/slapd.d" -l "$dir/base.ldif"
elif [ "$SLAPD_SERVER_ID" = 1 ]; then
  slapadd -q -n1 -F "$dir/slapd.d" -S 1 -w -l "$dir/base.ldif"  # the others get it by replication
fi

launch
