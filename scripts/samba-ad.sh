#!/usr/bin/env bash
# A throwaway Active Directory domain controller (Debian's Samba 4 as an AD DC) on one loopback
# address, for the tests: LDAP only (no DNS updates, no NetBIOS, no Kerberos service), every file
# under DIR, the Exchange attributes of schema/ad-exchange-extension*.ldif added before it starts.
#
#   scripts/samba-ad.sh start DIR IP     (IP: 127.0.0.2 to 127.0.0.254; LDAP on IP:389; prints the PID)
#   scripts/samba-ad.sh stop DIR
#
# The domain is e2010.test (DC=e2010,DC=test); the administrator binds as Administrator@e2010.test
# with the password in DIR/admin-password. Simple binds over plain LDAP are allowed (a test domain).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?usage: samba-ad.sh start DIR IP | stop DIR}
dir=${2:?the directory to keep the domain controller in}

stop() {
  [ -f "$dir/samba.mypid" ] || return 0
  local pid; pid=$(cat "$dir/samba.mypid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/samba.mypid"
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "samba-ad.sh: unknown command $cmd" >&2; exit 64; }
ip=${3:?the loopback address to listen on}
case "$ip" in 127.*) ;; *) echo "samba-ad.sh: $ip is not a loopback address" >&2; exit 64;; esac
command -v samba-tool >/dev/null || { echo "samba-ad.sh: samba-tool is not installed (samba-ad-dc)" >&2; exit 1; }
[ -d /usr/share/samba/setup/ad-schema ] || { echo "samba-ad.sh: samba-ad-provision is not installed" >&2; exit 1; }

password='Autodisc-Test-1'
rm -rf "$dir"
mkdir -p "$dir"
echo "$password" > "$dir/admin-password"
samba-tool domain provision --realm=E2010.TEST --domain=E2010 --server-role=dc --dns-backend=NONE \
  --use-rfc2307 --adminpass="$password" --targetdir="$dir" --host-name=dc1 --host-ip="$ip" \
  --option="interfaces=$ip/8" --option="bind interfaces only=yes" > "$dir/provision.log" 2>&1 ||
  { echo "samba-ad.sh: provisioning failed:" >&2; tail -20 "$dir/provision.log" >&2; exit 1; }
mkdir -p "$dir/run" "$dir/log" "$dir/cache"
# Our own smb.conf: the LDAP service only, on this address only, everything under $dir.
cat > "$dir/etc/smb.conf" <<CONF
[global]
	netbios name = DC1
	workgroup = E2010
	realm = E2010.TEST
	server role = active directory domain controller
	server services = ldap
	interfaces = $ip/8
	bind interfaces only = yes
	disable netbios = yes
	ldap server require strong auth = no
	private dir = $dir/private
	state directory = $dir/state
	cache directory = $dir/cache
	lock directory = $dir
	pid directory = $dir/run
	binddns dir = $dir/bind-dns
	ncalrpc dir = $dir/run/ncalrpc
	winbindd socket directory = $dir/run/winbindd
	ntp signd socket directory = $dir/run/ntp_signd
	log file = $dir/log/log.%m
	idmap_ldb:use rfc2307 = yes
CONF
# The Exchange attributes, into the schema before the server starts.
schema_dn="CN=Schema,CN=Configuration,DC=e2010,DC=test"
sed "s/SCHEMA_DN/$schema_dn/" "$here/schema/ad-exchange-extension.ldif" > "$dir/attrs.ldif"
sed "s/SCHEMA_DN/$schema_dn/" "$here/schema/ad-exchange-extension-classes.ldif" > "$dir/classes.ldif"
ldbadd -H "$dir/private/sam.ldb" --configfile="$dir/etc/smb.conf" --option='dsdb:schema update allowed=yes' \
  "$dir/attrs.ldif" > "$dir/schema.log" 2>&1
ldbmodify -H "$dir/private/sam.ldb" --configfile="$dir/etc/smb.conf" --option='dsdb:schema update allowed=yes' \
  "$dir/classes.ldif" >> "$dir/schema.log" 2>&1
# And what the whole organisation needs (schema/ad-extension.py, made from schema/autodisc.ldif):
# attributes, then classes, then the changes to AD's own classes, each load seeing the one before.
for part in attributes classes changes; do
  python3 "$here/schema/ad-extension.py" "$schema_dn" "$part" > "$dir/autodisc-$part.ldif"
  tool=ldbadd; [ "$part" = changes ] && tool=ldbmodify
  $tool -H "$dir/private/sam.ldb" --configfile="$dir/etc/smb.conf" --option='dsdb:schema update allowed=yes' \
    "$dir/autodisc-$part.ldif" > "$dir/schema-$part.log" 2>&1 || true
  cat "$dir/schema-$part.log" >> "$dir/schema.log"
  if grep -q '^ERR' "$dir/schema-$part.log"; then
    echo "samba-ad.sh: the schema extension ($part) was refused:" >&2
    cat "$dir/schema-$part.log" >&2
    exit 1
  fi
done

samba -s "$dir/etc/smb.conf" -i -M single --maximum-runtime=900 > "$dir/log/samba.out" 2>&1 &
pid=$!
echo "$pid" > "$dir/samba.mypid"
for _ in $(seq 300); do
  if ldapsearch -x -H "ldap://$ip" -s base -b "" configurationNamingContext >/dev/null 2>&1; then
    echo "$pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "samba-ad.sh: samba did not start; its log:" >&2
tail -30 "$dir/log/samba.out" >&2
stop
exit 1
