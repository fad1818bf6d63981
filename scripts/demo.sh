#!/usr/bin/env bash
# make demo: a fresh store with the seed article's organisation, configured as the article says,
# printed with Get- cmdlets. (The Autodiscover service will join this demo when it lands.)
set -euo pipefail
bin=${1:-build/autodisc}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
store="sqlite:$work/demo.db"

run() {
  echo
  echo "PS> $*"
  "$bin" shell --store "$store" -c "$*"
}

echo "== A fresh store: $store"
"$bin" shell --store "$store" "$here/examples/e2010-organisation.ps1" >/dev/null
echo "== The organisation as Exchange setup leaves it (internal names everywhere):"
run 'Get-ExchangeServer'
run 'Get-ClientAccessServer | Format-Table Name,AutoDiscoverServiceInternalUri'
run 'Get-OwaVirtualDirectory'
echo
echo "== The article's configuration (examples/article-configuration.ps1):"
sed -n '/^[^#]/p' "$here/examples/article-configuration.ps1" | sed 's/^/PS> /'
"$bin" shell --store "$store" "$here/examples/article-configuration.ps1" >/dev/null
echo
echo "== After it:"
run 'Get-ClientAccessServer | Format-Table Name,AutoDiscoverServiceInternalUri'
run 'Get-WebServicesVirtualDirectory | Format-Table Server,InternalUrl,ExternalUrl'
run 'Get-ClientAccessArray'
run 'Get-MailboxDatabase'
run 'Get-Mailbox'
run 'Get-MailUser -Identity bob | Format-List Name,PrimarySmtpAddress,ExternalEmailAddress'
echo
echo "== A line as the article prints it (its URL was lost in publishing) fails and changes nothing:"
echo "PS> Set-OWAVirtualDirectory –Identity X2007SRV\\OWA (default web site) -ExternalURL"
"$bin" shell --store "$store" -c 'Set-OWAVirtualDirectory –Identity X2007SRV\OWA (default web site) -ExternalURL' || true
echo
echo "Try it yourself: $bin shell --store sqlite:autodisc.db   (Get-Command lists the cmdlets)"
