#!/usr/bin/env bash
# The scale-out deployment (scripts/scale-out.sh) measured: POX over HTTPS through HAProxy with 1, 2
# and 3 nodes (wrk, keep-alive), requests per second, latency, and the CPU a request costs the nodes
# and HAProxy; then how long a change made through the shell takes to be served by every node.
#   bench/scale_out_bench.sh [BUILD_DIR] [SECONDS] [CHANGES]
# Everything shares the machine's cores (wrk, HAProxy, the nodes, slapd): the figures say what one
# machine does, not what more machines would.
set -euo pipefail
build=${1:-build}
secs=${2:-10}
changes=${3:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
export AUTODISC_BIN=$(cd "$build" && pwd)/autodisc
export AUTODISC_LDAP_BIND_DN=cn=admin,DC=e2010,DC=test AUTODISC_LDAP_PASSWORD=secret
work=$(mktemp -d /tmp/autodisc-scale-bench.XXXXXX)
base=18300
cleanup() { "$here/scripts/scale-out.sh" stop "$work/so" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
for tool in wrk haproxy slapd; do command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is not installed"; exit 1; }; done

body='<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>jaap@e2010.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>'
cat > "$work/pox.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.body = '$body'
LUA
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
hz=$(getconf CLK_TCK)

echo "POX through HAProxy (HTTP mode, TLS to the nodes), wrk -t2 -c64 -d${secs}s, all on this machine's $(nproc) cores"
for n in 1 2 3; do
  rm -rf "$work/so"
  "$here/scripts/scale-out.sh" start "$work/so" "$n" "$base" > /dev/null
  nodes=(); for i in $(seq "$n"); do nodes+=("$(cat "$work/so/pids/node-$i")"); done
  hp=$(cat "$work/so/pids/haproxy")
  n0=$(ticks "${nodes[@]}"); h0=$(ticks "$hp")
  wrk -t2 -c64 -d"${secs}s" --latency -s "$work/pox.lua" "https://127.0.0.1:$((base + 43))/autodiscover/autodiscover.xml" > "$work/wrk.out"
  n1=$(ticks "${nodes[@]}"); h1=$(ticks "$hp")
  reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
  awk -v n="$n" -v r="$reqs" -v nd=$((n1 - n0)) -v hd=$((h1 - h0)) -v hz="$hz" \
    -v rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")" \
    -v p50="$(awk '$1=="50%" {print $2}' "$work/wrk.out")" -v p99="$(awk '$1=="99%" {print $2}' "$work/wrk.out")" \
    -v errs="$(grep -E 'Non-2xx|Socket errors' "$work/wrk.out" | tr '\n' ' ')" \
    'BEGIN { printf "%d node(s): %9.0f req/s  p50 %8s  p99 %8s  nodes %5.1f us CPU/request  HAProxy %5.1f us CPU/request %s\n",
             n, rps, p50, p99, nd / hz * 1e6 / r, hd / hz * 1e6 / r, errs }'
  "$here/scripts/scale-out.sh" stop "$work/so" > /dev/null
done

echo "A change through the shell until every node serves it (3 nodes, $changes changes):"
rm -rf "$work/so"
"$here/scripts/scale-out.sh" start "$work/so" 3 "$base" > /dev/null
store=$(cat "$work/so/store-uri")
: > "$work/times"
for c in $(seq "$changes"); do
  "$AUTODISC_BIN" shell --store "$store" -c "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://m$c.e2010.com/owa" > /dev/null
  t0=$(date +%s%N)
  for i in 1 2 3; do
    until curl -s --cacert "$work/so/ca.pem" --resolve "mail.e2010.com:$((base + 60 + i)):127.0.0.1" -H 'Content-Type: text/xml' \
      --data-binary "$body" "https://mail.e2010.com:$((base + 60 + i))/autodiscover/autodiscover.xml" | grep -q "https://m$c.e2010.com/owa/"; do
      [ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 5000 ] && { echo "change $c: node $i did not serve it within 5 s"; break; }
    done
  done
  echo $(( ($(date +%s%N) - t0) / 1000 )) >> "$work/times"
done
sort -n "$work/times" | awk '{ a[NR] = $1 } END { printf "  median %.1f ms, p99 %.1f ms, max %.1f ms (from the shell'"'"'s exit; each node asked in turn)\n",
  a[int((NR + 1) / 2)] / 1000, a[int(NR * 0.99 + 0.999)] / 1000, a[NR] / 1000 }'
