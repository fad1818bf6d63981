#!/usr/bin/env bash
# The reference scale-out deployment on one machine (docs/scale-out.md): two OpenLDAP providers that
# replicate each other, N `autodisc serve` nodes on that directory, and HAProxy in front in HTTP mode
# (it holds the certificate, re-encrypts to the nodes, checks /readyz, retries and redispatches).
# Everything listens on 127.0.0.1, on ports from BASE (default 17300; all below 32768):
#   providers BASE+1 and BASE+2, HAProxy BASE+43, node I: HTTPS BASE+60+I, admin BASE+80+I.
#
#   scripts/scale-out.sh start DIR [NODES] [BASE]   (a new deployment in DIR, the article's organisation
#                                                   loaded, NODES nodes (default 3); returns when all are up)
#   scripts/scale-out.sh node DIR I                 (start node I again)
#   scripts/scale-out.sh provider DIR I             (start provider I again, with what it held)
#   scripts/scale-out.sh stop DIR
#
# The PIDs are in DIR/pids/ (provider-I, node-I, haproxy), the logs beside them. Run the shell on the
# directory with: AUTODISC_LDAP_BIND_DN=cn=admin,DC=e2010,DC=test AUTODISC_LDAP_PASSWORD=secret
#   autodisc shell --store "$(cat DIR/store-uri)"
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: scale-out.sh start DIR [NODES] [BASE] | node DIR I | provider DIR I | stop DIR}
dir=${2:?the directory to keep the deployment in}
bin=${AUTODISC_BIN:-$here/build/autodisc}
base_dn=DC=e2010,DC=test
export AUTODISC_LDAP_BIND_DN="cn=admin,$base_dn" AUTODISC_LDAP_PASSWORD=secret

stop_pid() {  # FILE
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

if [ "$cmd" = stop ]; then
  for f in "$dir"/pids/*; do [ -e "$f" ] && stop_pid "$f"; done
  for p in 1 2; do [ -d "$dir/provider-$p" ] && "$here/scripts/slapd.sh" stop "$dir/provider-$p"; done
  exit 0
fi

mkdir -p "$dir/pids"
if [ "$cmd" = start ]; then
  nodes=${3:-3}
  port_base=${4:-17300}
  echo "$nodes $port_base" > "$dir/layout"
else
  read -r nodes port_base < "$dir/layout"
fi
p1=$((port_base + 1)) p2=$((port_base + 2)) front=$((port_base + 43))
store="ldap://127.0.0.1:$p1/$base_dn ldap://127.0.0.1:$p2/$base_dn"

provider() {  # I new|resume
  local i=$1 peer=$p2 port=$p1
  [ "$i" = 2 ] && peer=$p1 port=$p2
  local verb=start
  [ "$2" = resume ] && verb=resume
  SLAPD_SERVER_ID=$i SLAPD_PEERS="ldap://127.0.0.1:$peer" \
    "$here/scripts/slapd.sh" "$verb" "$dir/provider-$i" "$port" "$base_dn" secret > "$dir/pids/provider-$i"
}

node() {  # I
  local i=$1
  local https=$((port_base + 60 + i)) admin=$((port_base + 80 + i))
  "$bin" serve --store "$store" --https "127.0.0.1:$https" --admin "127.0.0.1:$admin" --cert "$dir/server.pem" \
    --key "$dir/server.key" --threads 1 --drain-seconds 2 > "$dir/node-$i.out" 2> "$dir/node-$i.err" &
  echo $! > "$dir/pids/node-$i"
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  echo "scale-out.sh: node $i did not become ready; its log:" >&2
  cat "$dir/node-$i.err" >&2
  return 1
}

case "$cmd" in
  node) node "${3:?which node}"; exit 0 ;;
  provider) provider "${3:?which provider}" resume; exit 0 ;;
  start) ;;
  *) echo "scale-out.sh: unknown command $cmd" >&2; exit 64 ;;
esac

command -v haproxy >/dev/null || { echo "scale-out.sh: haproxy is not installed (Debian package haproxy)" >&2; exit 1; }
"$here/tests/data/certs/make-certs.sh" "$dir" mail.e2010.com autodiscover.e2010.com >/dev/null
cat "$dir/server.crt" "$dir/server.key" > "$dir/haproxy.pem"
echo "$store" > "$dir/store-uri"

# Provider 1 first, then 2; then a marker written on 2 must reach 1 before anything else is measured
# (each notices the other through its syncrepl retry, one second apart at most).
provider 1 new
provider 2 new
# The organisation is made in a local file and copied in whole: no rename of a subtree to replicate
# (docs/scale-out.md says why).
rm -f "$dir/seed.db"
"$bin" shell --store "sqlite:$dir/seed.db" "$here/examples/e2010-organisation.ps1" > /dev/null
"$bin" store copy --from "sqlite:$dir/seed.db" --to "ldap://127.0.0.1:$p2/$base_dn" > /dev/null
# Wait for it on provider 1 with ldapsearch: a shell there would find an empty directory and make a
# new organisation of its own.
version() {
  ldapsearch -x -LLL -H "ldap://127.0.0.1:$1" -D "$AUTODISC_LDAP_BIND_DN" -w secret -s base \
    -b "CN=Microsoft Exchange,CN=Services,CN=Configuration,$base_dn" autodiscVersion 2>/dev/null | sed -n 's/^autodiscVersion: //p'
}
want=$(version "$p2")
for _ in $(seq 100); do
  [ -n "$want" ] && [ "$(version "$p1")" = "$want" ] && break
  sleep 0.1
done

for i in $(seq "$nodes"); do node "$i"; done

{
  cat <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 200ms
  timeout client 30s
  timeout server 5s
  timeout check 300ms
  retries 3
  option redispatch 1
  option http-buffer-request
  retry-on all-retryable-errors
frontend autodiscover
  bind 127.0.0.1:$front ssl crt $dir/haproxy.pem
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fastinter 100ms fall 2 rise 2 ssl verify required ca-file $dir/ca.pem no-check-ssl
EOF
  for i in $(seq "$nodes"); do
    echo "  server node$i 127.0.0.1:$((port_base + 60 + i)) check port $((port_base + 80 + i))"
  done
} > "$dir/haproxy.cfg"
haproxy -f "$dir/haproxy.cfg" -db > "$dir/haproxy.log" 2>&1 &
echo $! > "$dir/pids/haproxy"
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" --resolve "autodiscover.e2010.com:$front:127.0.0.1" \
    "https://autodiscover.e2010.com:$front/autodiscover/autodiscover.xml" || true)
  [ "$code" = 200 ] && { echo "HAProxy on 127.0.0.1:$front, $nodes nodes, providers $p1 and $p2"; exit 0; }
  sleep 0.1
done
echo "scale-out.sh: HAProxy did not answer; its log:" >&2
cat "$dir/haproxy.log" >&2
exit 1
