#!/usr/bin/env bash
# Time and memory to load an organisation of N mailboxes from the directory store (a real slapd
# started by scripts/slapd.sh), against the same from SQLite.
#   bench/directory_load.sh BUILD_DIR [MAILBOXES]
set -euo pipefail
build=${1:-build}
n=${2:-100000}
bin=$(cd "$build" && pwd)/autodisc
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-directory-load.XXXXXX)
port=$((20000 + RANDOM % 10000))
cleanup() { "$here/scripts/slapd.sh" stop "$work/ldap" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
"$here/scripts/slapd.sh" start "$work/ldap" "$port" >/dev/null
export AUTODISC_LDAP_BIND_DN=cn=admin,DC=e2010,DC=test AUTODISC_LDAP_PASSWORD=secret
sqlite="sqlite:$work/org.db" ldap="ldap://127.0.0.1:$port/DC=e2010,DC=test"
"$bin" shell --store "$sqlite" -c 'New-AcceptedDomain -Name contoso.com -DomainName contoso.com
New-ExchangeServer -Name EX01 -Fqdn ex01.contoso.local
New-MailboxDatabase -Name DB01 -Server EX01' >/dev/null
{ echo "Name"; for i in $(seq 1 "$n"); do echo "user$i"; done; } > "$work/users.csv"
"$bin" shell --store "$sqlite" -c "Import-Csv $work/users.csv | New-Mailbox" >/dev/null
start=$(date +%s.%N)
"$bin" store copy --from "$sqlite" --to "$ldap"
echo "copy into the directory: $(echo "$(date +%s.%N) - $start" | bc) s"
for store in "$sqlite" "$ldap"; do
  # A one-line shell loads the whole organisation before it runs the line.
  /usr/bin/time -f "%e s, %M KB peak" -o "$work/time" "$bin" shell --store "$store" -c 'Get-Mailbox -Identity user1 | Format-List Name' >/dev/null
  echo "load $n mailboxes from ${store%%:*}: $(cat "$work/time")"
done
