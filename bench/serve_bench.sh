#!/usr/bin/env bash
# wrk against `autodisc serve` (POX over HTTPS, keep-alive) and, in the same run, against nginx
# returning a fixed 2 KB body with the same certificate: requests per second, p50 and p99 latency,
# the server's CPU time per request and its memory.
#   bench/serve_bench.sh BUILD_DIR [MAILBOXES] [SECONDS] [CONNECTIONS] [ROUNDS]
# The two servers are measured in turn, ROUNDS times (default 3), and each figure is the median of
# its rounds: on a shared machine one run can be 30 % off the next, for both alike.
# AUTODISC_BENCH_PIN=1 puts each server on core 0 (autodisc with one worker thread, nginx with one
# worker process) and wrk on core 1 with one thread, so that the latency measured is the server's and
# not the time wrk's own threads wait for the core the server holds.
set -euo pipefail
build=${1:-build}
n=${2:-100000}
secs=${3:-10}
conns=${4:-64}
rounds=${5:-3}
bin=$(cd "$build" && pwd)/autodisc
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-serve-bench.XXXXXX)
pids=()
pin=${AUTODISC_BENCH_PIN:-0}
on_server=() on_client=() wrk_threads=2 workers=auto threads=${AUTODISC_BENCH_THREADS:-0}
if [ "$pin" = 1 ]; then
  on_server=(taskset -c 0) on_client=(taskset -c 1) wrk_threads=1 workers=1 threads=1
fi
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed"; exit 1; }

store="sqlite:$work/org.db"
"$bin" shell --store "$store" -c 'New-AcceptedDomain -Name contoso.com -DomainName contoso.com
New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local
New-MailboxDatabase -Name DB01 -Server EX01
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://mail.contoso.com/EWS/Exchange.asmx
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.contoso.com' >/dev/null
{ echo "Name"; for i in $(seq 1 "$n"); do echo "user$i"; done; } > "$work/users.csv"
"$bin" shell --store "$store" -c "Import-Csv $work/users.csv | New-Mailbox" >/dev/null
"$here/tests/data/certs/make-certs.sh" "$work" mail.contoso.com

# 10,000 different mailboxes spread over the whole range, each asked for in turn: lookups touch as
# much of a large organisation as real traffic would. The requests are made once, before the run.
cat > "$work/pox.lua" <<LUA
local reqs, i = {}, 0
local n = $n
init = function(args)
  local count = math.min(n, 10000)
  for k = 1, count do
    local user = 1 + math.floor((k - 1) * n / count)
    local body = '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user' .. user .. '@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>'
    reqs[k] = wrk.format("POST", nil, {["Content-Type"] = "text/xml; charset=utf-8"--CLOSE--}, body)
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
LUA
# SOAP GetUserSettings with ten settings, for the same mailboxes in the same order.
sed -e 's#<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>#<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>#' \
    -e 's#</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>#</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>UserDisplayName</a:Setting><a:Setting>UserDN</a:Setting><a:Setting>UserDeploymentId</a:Setting><a:Setting>AutoDiscoverSMTPAddress</a:Setting><a:Setting>InternalEwsUrl</a:Setting><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>ExternalMailboxServer</a:Setting><a:Setting>EwsSupportedSchemas</a:Setting><a:Setting>CasVersion</a:Setting><a:Setting>MailboxDN</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>#' \
    "$work/pox.lua" > "$work/soap.lua"
sed -i 's/--CLOSE--//' "$work/soap.lua"
sed 's/--CLOSE--/, ["Connection"] = "close"/' "$work/pox.lua" > "$work/pox-close.lua"
sed -i 's/--CLOSE--//' "$work/pox.lua"

# CPU ticks of a process and its children (nginx's workers), user and system.
cpu_ticks() {
  local total; total=$(awk '{print $14 + $15}' "/proc/$1/stat")
  for c in $(pgrep -P "$1"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$c/stat"))); done
  echo "$total"
}
rss_kb() {
  local total; total=$(awk '/VmRSS/ {print $2}' "/proc/$1/status")
  for c in $(pgrep -P "$1"); do total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$c/status"))); done
  echo "$total"
}
hz=$(getconf CLK_TCK)

run() {  # name pid url [lua]
  local name=$1 pid=$2 url=$3 lua=${4:-$work/pox.lua}
  local c0; c0=$(cpu_ticks "$pid")
  "${on_client[@]}" wrk -t"$wrk_threads" -c"$conns" -d"${secs}s" --latency -s "$lua" "$url" > "$work/$name.wrk"
  local c1; c1=$(cpu_ticks "$pid")
  local reqs; reqs=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  local p50; p50=$(awk '$1=="50%" {print $2}' "$work/$name.wrk")
  local p99; p99=$(awk '$1=="99%" {print $2}' "$work/$name.wrk")
  local errs; errs=$(awk '/Non-2xx|Socket errors/ {print}' "$work/$name.wrk" | tr '\n' ' ')
  local us; us=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v r="$reqs" 'BEGIN {printf "%.1f", d / hz * 1e6 / r}')
  printf '%-13s %10s req/s  p50 %8s  p99 %8s  CPU %6s us/request  RSS %6d MB  %s\n' "$name" "$rps" "$p50" "$p99" "$us" \
    $(($(rss_kb "$pid") / 1024)) "$errs" | tee -a "$work/results"
}

"${on_server[@]}" "$bin" serve --store "$store" --threads "$threads" --https 127.0.0.1:0 --cert "$work/server.pem" --key "$work/server.key" > "$work/serve.out" 2>&1 &
pids+=($!)
spid=$!
for _ in $(seq 100); do grep -q '^listening https' "$work/serve.out" && break; sleep 0.1; done
sport=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$work/serve.out")

body=$(head -c 2048 /dev/zero | tr '\0' 'x')
nport=$((20000 + RANDOM % 10000))
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGINX
daemon off;
worker_processes $workers;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type text/xml; return 200 "$body"; }
  }
}
NGINX
"${on_server[@]}" /usr/sbin/nginx -c "$work/nginx.conf" -p "$work/nginx" &
pids+=($!)
npid=$!
sleep 1

# The median of a column over the rounds of one name; a time in us, ms or s is turned into ms.
median() {  # name column
  awk -v n="$1" -v c="$2" '$1 == n { v = $c; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' \
    "$work/results" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'
}
summary() {  # name
  printf '%-13s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  CPU %6.1f us/request\n' "$1" "$(median "$1" 2)" \
    "$(median "$1" 5)" "$(median "$1" 7)" "$(median "$1" 9)"
}

if [ "$pin" = 1 ]; then where="servers on core 0 (one worker), wrk -t1 on core 1"; else where="wrk -t2 on the same 2 cores"; fi
echo "mailboxes: $n, ${secs} s a run, $conns connections, $where, $rounds rounds"
for r in $(seq "$rounds"); do
  echo "round $r: keep-alive (POX, nginx, SOAP), then a new TLS connection for every request"
  run autodisc "$spid" "https://127.0.0.1:$sport/autodiscover/autodiscover.xml"
  run nginx "$npid" "https://127.0.0.1:$nport/"   # CPU and RSS: master and workers together
  run autodisc-soap "$spid" "https://127.0.0.1:$sport/autodiscover/autodiscover.svc" "$work/soap.lua"
  run autodisc-new "$spid" "https://127.0.0.1:$sport/autodiscover/autodiscover.xml" "$work/pox-close.lua"
  run nginx-new "$npid" "https://127.0.0.1:$nport/" "$work/pox-close.lua"
  # This round's two keep-alive runs, side by side: the machine's drift cancels in their ratio.
  awk '$1 == "autodisc" { a = $2; ac = $9 } $1 == "nginx" { n = $2; nc = $9 } END { print "pair", a / n, ac / nc }' \
    <(grep -E '^(autodisc|nginx) ' "$work/results" | tail -2) >> "$work/results"
done
echo "medians:"
for name in autodisc nginx autodisc-soap autodisc-new nginx-new; do summary "$name"; done
awk -v a="$(median autodisc 2)" -v b="$(median nginx 2)" -v c="$(median autodisc 9)" -v d="$(median nginx 9)" \
  'BEGIN { printf "autodisc / nginx: %.2f of the requests per second, %.2f of the CPU per request\n", a / b, c / d }'
awk -v a="$(median pair 2)" -v c="$(median pair 3)" \
  'BEGIN { printf "the same, as the median of each round'"'"'s own ratio: %.2f of the requests per second, %.2f of the CPU per request\n", a, c }'
awk -v c="$(median autodisc-soap 9)" -v d="$(median autodisc 9)" \
  'BEGIN { printf "SOAP GetUserSettings (ten settings) / POX: %.2f of the CPU per request\n", c / d }'
awk -v c="$(median autodisc-new 9)" -v d="$(median nginx-new 9)" \
  'BEGIN { printf "new connections: %.2f of nginx CPU per connection\n", c / d }'
