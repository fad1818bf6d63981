#!/usr/bin/env bash
# wrk against `autodisc serve` (POX over HTTPS, keep-alive) and, in the same run, against nginx
# returning a fixed 2 KB body with the same certificate: requests per second, p50 and p99 latency,
# the server's CPU time per request and its memory.
#   bench/serve_bench.sh BUILD_DIR [MAILBOXES] [SECONDS] [CONNECTIONS]
set -euo pipefail
build=${1:-build}
n=${2:-100000}
secs=${3:-10}
conns=${4:-64}
bin=$(cd "$build" && pwd)/autodisc
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-serve-bench.XXXXXX)
pids=()
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

cat > "$work/pox.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.body = '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user$((n / 2))@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>'
LUA

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

run() {  # name pid url
  local name=$1 pid=$2 url=$3
  local c0; c0=$(cpu_ticks "$pid")
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/pox.lua" "$url" > "$work/$name.wrk"
  local c1; c1=$(cpu_ticks "$pid")
  local reqs; reqs=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  local p50; p50=$(awk '$1=="50%" {print $2}' "$work/$name.wrk")
  local p99; p99=$(awk '$1=="99%" {print $2}' "$work/$name.wrk")
  local errs; errs=$(awk '/Non-2xx|Socket errors/ {print}' "$work/$name.wrk" | tr '\n' ' ')
  local us; us=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v r="$reqs" 'BEGIN {printf "%.1f", d / hz * 1e6 / r}')
  printf '%-8s %10s req/s  p50 %8s  p99 %8s  CPU %6s us/request  RSS %6d MB  %s\n' "$name" "$rps" "$p50" "$p99" "$us" \
    $(($(rss_kb "$pid") / 1024)) "$errs"
}

"$bin" serve --store "$store" --threads "${AUTODISC_BENCH_THREADS:-0}" --https 127.0.0.1:0 --cert "$work/server.pem" --key "$work/server.key" > "$work/serve.out" 2>&1 &
pids+=($!)
spid=$!
for _ in $(seq 100); do grep -q '^listening https' "$work/serve.out" && break; sleep 0.1; done
sport=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$work/serve.out")

body=$(head -c 2048 /dev/zero | tr '\0' 'x')
nport=$((20000 + RANDOM % 10000))
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
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
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work/nginx" &
pids+=($!)
npid=$!
sleep 1

echo "mailboxes: $n, ${secs} s, $conns connections, wrk -t2 on the same 2 cores"
run autodisc "$spid" "https://127.0.0.1:$sport/autodiscover/autodiscover.xml"
run nginx "$npid" "https://127.0.0.1:$nport/"   # CPU and RSS: master and workers together
