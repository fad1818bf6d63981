#!/usr/bin/env bash
# Instructions a request of `autodisc serve` (POX over HTTPS, keep-alive), counted by callgrind:
# unlike seconds, they do not change from run to run or with what else the machine is doing.
#   bench/callgrind_serve.sh BUILD_DIR [SECONDS] [soap]
# One worker thread, 8 keep-alive connections from wrk; the counters are zeroed after the
# connections' handshakes, so the figure is the steady state of a request. The profile is left in
# the printed directory for callgrind_annotate.
set -euo pipefail
build=${1:-build}
secs=${2:-10}
kind=${3:-pox}
bin=$(cd "$build" && pwd)/autodisc
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-callgrind.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)"; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }

store="sqlite:$work/org.db"
"$bin" shell --store "$store" -c 'New-AcceptedDomain -Name contoso.com -DomainName contoso.com
New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local
New-MailboxDatabase -Name DB01 -Server EX01
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com
New-Mailbox -Name user1' >/dev/null
"$here/tests/data/certs/make-certs.sh" "$work" mail.contoso.com

if [ "$kind" = soap ]; then
  path=/autodiscover/autodiscover.svc
  body='<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>user1@contoso.com</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>UserDisplayName</a:Setting><a:Setting>UserDN</a:Setting><a:Setting>UserDeploymentId</a:Setting><a:Setting>AutoDiscoverSMTPAddress</a:Setting><a:Setting>InternalEwsUrl</a:Setting><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>ExternalMailboxServer</a:Setting><a:Setting>EwsSupportedSchemas</a:Setting><a:Setting>CasVersion</a:Setting><a:Setting>MailboxDN</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>'
else
  path=/autodiscover/autodiscover.xml
  body='<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user1@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>'
fi
cat > "$work/req.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.body = '$body'
LUA

valgrind --tool=callgrind --compress-strings=no --compress-pos=no --callgrind-out-file="$work/callgrind.out" \
  "$bin" serve --store "$store" --threads 1 --https 127.0.0.1:0 --admin 127.0.0.1:0 \
  --cert "$work/server.pem" --key "$work/server.key" > "$work/serve.out" 2>&1 &
pids+=($!)
vpid=$!
for _ in $(seq 300); do grep -q '^listening admin' "$work/serve.out" && break; sleep 0.1; done
sport=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$work/serve.out")
aport=$(sed -n 's/^listening admin .*:\([0-9]*\)$/\1/p' "$work/serve.out")
served() {
  curl -s "http://127.0.0.1:$aport/metrics" |
    awk '/^autodisc_(pox|soap)_requests_total/ { s += $2 } END { print s + 0 }'
}

wrk -t1 -c8 -d"$((secs + 4))s" -s "$work/req.lua" "https://127.0.0.1:$sport$path" > "$work/wrk.out" &
wpid=$!
sleep 3   # the handshakes are over
callgrind_control -z "$vpid" >/dev/null
r0=$(served)
sleep "$secs"
callgrind_control -d "$vpid" >/dev/null
r1=$(served)
wait "$wpid" || true
sleep 1
out=$(ls -t "$work"/callgrind.out.* | head -1)
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
# The /metrics requests counted between the two readings are a handful against thousands.
echo "requests: $((r1 - r0)), instructions: $total, a request: $((total / (r1 - r0)))"
echo "profile: $out"
