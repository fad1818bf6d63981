#!/usr/bin/env bash
# make demo: a fresh store with the seed article's organisation, configured as the article says,
# printed with Get- cmdlets; then the Autodiscover service on free loopback ports, answering curl.
# `make demo STORE=directory` does the same on a throwaway slapd (scripts/slapd.sh) instead of SQLite,
# and shows the Service Connection Points that domain-joined Outlook finds there.
set -euo pipefail
bin=${1:-build/autodisc}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/autodisc-demo.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  "$here/scripts/slapd.sh" stop "$work/ldap" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
store="sqlite:$work/demo.db"
if [ "${AUTODISC_DEMO_STORE:-}" = directory ]; then
  ldap_port=$((20000 + RANDOM % 10000))
  "$here/scripts/slapd.sh" start "$work/ldap" "$ldap_port" >/dev/null
  export AUTODISC_LDAP_BIND_DN=cn=admin,DC=e2010,DC=test AUTODISC_LDAP_PASSWORD=secret
  store="ldap://127.0.0.1:$ldap_port/DC=e2010,DC=test"
  echo "== A throwaway slapd on 127.0.0.1:$ldap_port with autodisc's schema (scripts/slapd.sh)"
fi

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
if [ "${AUTODISC_DEMO_STORE:-}" = directory ]; then
  echo
  echo "== The Service Connection Points a domain-joined Outlook finds (spec 6.3's query, with ldapsearch):"
  ldapsearch -LLL -o ldif-wrap=no -x -H "ldap://127.0.0.1:$ldap_port" -D "$AUTODISC_LDAP_BIND_DN" -w secret \
    -b CN=Configuration,DC=e2010,DC=test \
    '(&(objectClass=serviceConnectionPoint)(keywords=77378F46-2C66-4aa9-A6A6-3E7A48B19596))' \
    serviceBindingInformation keywords
fi
echo
echo "== A line as the article prints it (its URL was lost in publishing) fails and changes nothing:"
echo "PS> Set-OWAVirtualDirectory –Identity X2007SRV\\OWA (default web site) -ExternalURL"
"$bin" shell --store "$store" -c 'Set-OWAVirtualDirectory –Identity X2007SRV\OWA (default web site) -ExternalURL' || true

echo
echo "== The Autodiscover service, with a throwaway CA and a certificate for mail.e2010.com, asking for"
echo "   credentials as Exchange does (--auth basic; jaap's demo password is set by the example script):"
"$here/tests/data/certs/make-certs.sh" "$work/certs" mail.e2010.com autodiscover.e2010.com
"$bin" serve --store "$store" --https 127.0.0.1:0 --http 127.0.0.1:0 --cert "$work/certs/server.pem" \
  --key "$work/certs/server.key" --auth basic > "$work/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening admin' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
cat "$work/serve.out"
port=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$work/serve.out")
body='<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>jaap@e2010.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>'
curl_="curl -s --cacert $work/certs/ca.pem --resolve mail.e2010.com:$port:127.0.0.1 -u jaap@e2010.com:Demo-Only-1"
cmd="$curl_ -H 'Content-Type: text/xml' --data-binary '$body' https://mail.e2010.com:$port/Autodiscover/Autodiscover.xml"
soap='<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2010</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>jaap@e2010.com</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>UserDisplayName</a:Setting><a:Setting>InternalRpcClientServer</a:Setting><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>'
soapCmd="$curl_ -H 'Content-Type: text/xml' --data-binary '$soap' https://mail.e2010.com:$port/autodiscover/autodiscover.svc"
jsonCmd="$curl_ 'https://mail.e2010.com:$port/autodiscover/autodiscover.json/v1.0/jaap@e2010.com?Protocol=Ews'"
echo
echo "PS> Get-AutodiscoverResponse jaap@e2010.com   (what the service will say, and why)"
"$bin" shell --store "$store" -c 'Get-AutodiscoverResponse jaap@e2010.com' | sed -n '/How this answer/,$p'
echo
echo "\$ $cmd"
eval "$cmd"
echo
echo "== The same mailbox over SOAP (EWS programs) and Autodiscover v2 (JSON):"
echo "\$ $soapCmd"
eval "$soapCmd"
echo
echo "\$ $jsonCmd"
eval "$jsonCmd"
echo
echo
echo "== Without the password, a 401 challenge, as Exchange gives:"
noAuth="curl -s -D - -o /dev/null --cacert $work/certs/ca.pem --resolve mail.e2010.com:$port:127.0.0.1 -H 'Content-Type: text/xml' --data-binary '<x/>' https://mail.e2010.com:$port/Autodiscover/Autodiscover.xml"
echo "\$ $noAuth"
eval "$noAuth"
echo
if [ -t 0 ]; then
  echo "The service keeps running: paste the curl commands above into another terminal. Ctrl-C stops it."
  wait "$server_pid" || true
else
  echo "(standard input is not a terminal: stopping the service)"
fi
