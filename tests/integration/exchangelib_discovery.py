"""Drives Debian's python3-exchangelib through its POX or SOAP Autodiscover against a running autodisc.

usage: exchangelib_discovery.py ADDRESS EMAIL PASSWORD CA_FILE [pox|soap]
The names of the e-mail domain resolve to ADDRESS inside this process only; exchangelib connects to
port 443 as it always does. Prints the EWS URL, the version and the auth type it concluded.
"""
import os
import socket
import sys
import tempfile

address, email, password, ca = sys.argv[1:5]
mode = sys.argv[5] if len(sys.argv) > 5 else "pox"
domain = email.split("@", 1)[1]
os.environ["REQUESTS_CA_BUNDLE"] = ca
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp())

real_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and (host == domain or host.endswith("." + domain)):
        host = address
    return real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = getaddrinfo

from exchangelib import Credentials  # noqa: E402
from exchangelib.autodiscover.discovery.base import BaseAutodiscovery  # noqa: E402
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery  # noqa: E402
from exchangelib.autodiscover.discovery.soap import SoapAutodiscovery  # noqa: E402

# The DNS check exchangelib makes before each candidate, answered the same way as getaddrinfo.
real_ensure = BaseAutodiscovery._ensure_valid_hostname


def ensure_valid_hostname(self, url):
    from urllib.parse import urlparse

    host = urlparse(url).netloc
    if host == domain or host.endswith("." + domain):
        return
    return real_ensure(self, url)


BaseAutodiscovery._ensure_valid_hostname = ensure_valid_hostname

discovery = SoapAutodiscovery if mode == "soap" else PoxAutodiscovery
ad, protocol = discovery(email=email, credentials=Credentials(email, password)).discover()
print("ews_url", protocol.service_endpoint)
print("version", protocol.version.build if protocol.version else None)
if mode == "pox":  # SOAP discovery leaves the auth type to a probe of the EWS endpoint, which autodisc does not serve
    print("auth_type", protocol.auth_type)
print("smtp", ad.autodiscover_smtp_address)
