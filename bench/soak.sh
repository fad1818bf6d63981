#!/usr/bin/env bash
# A soak of `autodisc serve`: mixed load for a bounded time, with the service's memory and open
# descriptors sampled, and every unexpected error counted.
#   bench/soak.sh [BUILD_DIR] [SECONDS] [MAILBOXES]      (defaults: build, 600, 10000)
# At the same time, on the same machine:
#   - POX (wrk, 24 keep-alive connections over the whole range of mailboxes),
#   - SOAP GetUserSettings (wrk, 8 connections), Autodiscover v2 JSON (wrk, 8 connections),
#   - hostile input twice a second (an external entity, entity expansion, deep nesting, an oversized
#     header, an oversized body, chunked abuse, garbage instead of TLS, a half-sent request), each on
#     a new connection,
#   - a change through the shell every 3 seconds (a URL changed back and forth, a mailbox added or
#     removed in turn).
# Every 10 s: RSS, open descriptors and threads of the service. At the end: the first sample after the
# warm-up (the first 60 s, or a tenth of the run if shorter) against the last and the largest, the
# answers each load got, and the service's error events. Exit 1 on an unexpected error.
set -euo pipefail
build=${1:-build}
secs=${2:-600}
n=${3:-10000}
bin=$(cd "$build" && pwd)/autodisc
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-soak.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)"; exit 1; }

store="sqlite:$work/org.db"
"$bin" shell --store "$store" -c 'New-AcceptedDomain -Name contoso.com -DomainName contoso.com
New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local
New-MailboxDatabase -Name DB01 -Server EX01
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com' >/dev/null
{ echo "Name"; for i in $(seq 1 "$n"); do echo "user$i"; done; } > "$work/users.csv"
"$bin" shell --store "$store" -c "Import-Csv $work/users.csv | New-Mailbox" >/dev/null
"$here/tests/data/certs/make-certs.sh" "$work" mail.contoso.com > /dev/null

"$bin" serve --store "$store" --https 127.0.0.1:0 --admin 127.0.0.1:0 --cert "$work/server.pem" --key "$work/server.key" \
  > "$work/serve.out" 2> "$work/serve.err" &
pids+=($!)
spid=$!
for _ in $(seq 100); do grep -q '^listening admin' "$work/serve.out" && break; sleep 0.1; done
port=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$work/serve.out")
admin=$(sed -n 's/^listening admin .*:\([0-9]*\)$/\1/p' "$work/serve.out")
url="https://127.0.0.1:$port"

# The three loads, each over the whole range of mailboxes.
cat > "$work/pox.lua" <<LUA
local i, n = 0, $n
request = function()
  i = i % n + 1
  return wrk.format("POST", "/autodiscover/autodiscover.xml", {["Content-Type"] = "text/xml"},
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user' .. i .. '@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>')
end
LUA
cat > "$work/soap.lua" <<LUA
local i, n = 0, $n
request = function()
  i = i % n + 1
  return wrk.format("POST", "/autodiscover/autodiscover.svc", {["Content-Type"] = "text/xml"},
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>user' .. i .. '@contoso.com</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>UserDisplayName</a:Setting><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>InternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>')
end
LUA
cat > "$work/json.lua" <<LUA
local i, n = 0, $n
request = function()
  i = i % n + 1
  return wrk.format("GET", "/autodiscover/autodiscover.json/v1.0/user" .. i .. "@contoso.com?Protocol=Ews")
end
LUA
wrk -t1 -c24 -d"${secs}s" --latency -s "$work/pox.lua" "$url" > "$work/pox.wrk" 2>&1 &
pids+=($!); wpox=$!
wrk -t1 -c8 -d"${secs}s" --latency -s "$work/soap.lua" "$url" > "$work/soap.wrk" 2>&1 &
pids+=($!); wsoap=$!
wrk -t1 -c8 -d"${secs}s" --latency -s "$work/json.lua" "$url" > "$work/json.wrk" 2>&1 &
pids+=($!); wjson=$!

# Hostile input, each on a new connection, twice a second.
hostile() {
  local post="POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: mail.contoso.com\r\nContent-Type: text/xml\r\nConnection: close\r\n"
  local deep; deep=$(printf '<a>%.0s' $(seq 3000))
  local k=0
  while :; do
    k=$((k + 1))
    case $((k % 8)) in
      0) body='<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>'
         req="${post}Content-Length: ${#body}\r\n\r\n$body" ;;
      1) body='<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Autodiscover><Request><EMailAddress>&c;</EMailAddress></Request></Autodiscover>'
         req="${post}Content-Length: ${#body}\r\n\r\n$body" ;;
      2) req="${post}Content-Length: ${#deep}\r\n\r\n$deep" ;;
      3) req="GET / HTTP/1.1\r\nHost: x\r\nX-Big: $(head -c 20000 /dev/zero | tr '\0' a)\r\n\r\n" ;;
      4) req="${post}Content-Length: 200000\r\n\r\n$(head -c 70000 /dev/zero | tr '\0' x)" ;;
      5) req="${post}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nx\r\n0\r\n\r\n" ;;
      6) req="${post}Content-Length: 500\r\n\r\n<?xml version=" ;;
      7) req="" ;;
    esac
    if [ -z "$req" ]; then
      head -c 3000 /dev/urandom | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$port" 2>/dev/null || true
    else
      printf '%b' "$req" | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$port" > /dev/null 2>&1 || true
    fi
    sleep 0.5
  done
}
hostile &
pids+=($!)

# A change every 3 seconds.
changes() {
  local c=0
  while :; do
    c=$((c + 1))
    # A URL changed back and forth, and a mailbox added or removed in turn: the organisation keeps its
    # size, so that memory has no reason to grow.
    if [ $((c % 2)) = 1 ]; then mailbox="New-Mailbox -Name soak$c"; else mailbox="Remove-Mailbox -Identity soak$((c - 1)) -Confirm:\$false"; fi
    "$bin" shell --store "$store" -c "Get-OwaVirtualDirectory | Set-OwaVirtualDirectory -ExternalUrl https://m$((c % 2)).contoso.com/owa
$mailbox" > /dev/null 2>> "$work/changes.err" || echo "change $c failed" >> "$work/changes.err"
    echo "$c" >> "$work/changes.log"
    sleep 3
  done
}
changes &
pids+=($!)

# Samples every 10 s: elapsed, RSS (kB), descriptors, threads.
echo "elapsed_s rss_kb fds threads" > "$work/samples"
start=$(date +%s)
while kill -0 "$wpox" 2>/dev/null; do
  now=$(($(date +%s) - start))
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$spid/status")
  fds=$(ls "/proc/$spid/fd" | wc -l)
  threads=$(awk '/Threads/ {print $2}' "/proc/$spid/status")
  echo "$now $rss $fds $threads" >> "$work/samples"
  sleep 10
done
wait "$wsoap" "$wjson" 2>/dev/null || true
metrics=$(curl -s "http://127.0.0.1:$admin/metrics")

warm=$((secs / 10 < 60 ? secs / 10 : 60))
echo "soak: ${secs} s, $n mailboxes, POX + SOAP + JSON + hostile input + a change every 3 s, $(nproc) cores"
awk -v w="$warm" 'NR > 1 && $1 >= w && !first { first = $0; r0 = $2; f0 = $3 }
  NR > 1 { if ($2 > rmax) rmax = $2; if ($3 > fmax) fmax = $3; last = $0; r1 = $2; f1 = $3 }
  END { printf "RSS after warm-up %.1f MB, at the end %.1f MB, largest %.1f MB (growth %+.1f MB)\n", r0 / 1024, r1 / 1024, rmax / 1024, (r1 - r0) / 1024
        printf "open descriptors after warm-up %d, at the end %d, largest %d\n", f0, f1, fmax }' "$work/samples"
for f in pox soap json; do
  grep -qE 'Non-2xx|Socket errors' "$work/$f.wrk" || echo "every answer 2xx, no socket error" >> "$work/$f.wrk"
  printf '%-5s %s, %s, p99 %s; %s\n' "$f" "$(awk '/requests in/ {print $1 " requests"}' "$work/$f.wrk")" \
    "$(awk '/Requests\/sec/ {print $2 " req/s"}' "$work/$f.wrk")" "$(awk '$1=="99%" {print $2}' "$work/$f.wrk")" \
    "$(grep -hE 'Non-2xx|Socket errors|every answer' "$work/$f.wrk" | tr '\n' ' ')"
done
echo "changes made: $(wc -l < "$work/changes.log"), failed: $(grep -c 'failed' "$work/changes.err" || true)"
echo "snapshot version served: $(grep '^autodisc_snapshot_version' <<<"$metrics" | awk '{print $2}')"
errors=$(grep -E '^E-' "$work/serve.err" | sort | uniq -c || true)
echo "service error events: ${errors:-none}"
cp "$work/samples" "${AUTODISC_SOAK_SAMPLES:-/dev/null}" 2>/dev/null || true
bad=0
for f in pox soap json; do
  grep -qE 'Non-2xx|Socket errors' "$work/$f.wrk" && bad=1
done
[ -n "$errors" ] && bad=1
grep -q failed "$work/changes.err" && bad=1
exit "$bad"
