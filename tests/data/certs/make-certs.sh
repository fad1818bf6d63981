#!/usr/bin/env bash
# Makes a throwaway certificate authority and a server certificate for tests and the demo:
#   make-certs.sh DIR NAME [NAME...]   ->  DIR/ca.pem, DIR/server.pem (chain), DIR/server.key
# The first NAME is the subject; every NAME is a subject alternative name (an IPv4 address as an IP one). Nothing made here is
# committed; the keys are new each time.
set -euo pipefail
dir=$1
shift
[ $# -ge 1 ] || { echo "usage: $0 DIR NAME [NAME...]" >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
san=""
for n in "$@"; do
  case "$n" in
    *[!0-9.]*) san="${san:+$san,}DNS:$n" ;;  # a name
    *) san="${san:+$san,}IP:$n" ;;           # an IPv4 address
  esac
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj "/CN=autodisc test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=$1" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
  -extfile ext.cnf 2>/dev/null
cat server.crt ca.pem > server.pem
rm -f server.csr ext.cnf ca.srl
