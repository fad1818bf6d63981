#!/usr/bin/env python3
"""Active Directory schema extension for the directory store, made from schema/autodisc.ldif.

    schema/ad-extension.py SCHEMA_DN attributes|classes|changes > part.ldif

Prints one of three parts, as LDIF for ldbadd/ldbmodify (Samba, offline) or ldapadd/ldapmodify
(with a schema update between the parts), to be loaded in this order:
  attributes: attributeSchema entries for the attributes of autodisc.ldif that Active Directory
     does not have (the Exchange 2007+ names under autodisc's private arc, and autodisc's own);
  classes: classSchema entries for the classes AD does not have (msExchOrganizationContainer, the
     virtual directories, ...), with possSuperiors so that they may sit in containers;
  changes: modifications that let AD's own classes (user, contact, ...) hold the new attributes
     and sit under the new ones.
schema/ad-exchange-extension.ldif (homeMDB, targetAddress, mailNickname, msExchMailboxGuid) comes
first. The OIDs and names are autodisc.ldif's: one table for both directories.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
schema_dn = sys.argv[1] if len(sys.argv) > 1 else "SCHEMA_DN"
part = sys.argv[2] if len(sys.argv) > 2 else "attributes"

# What Active Directory (with ad-exchange-extension.ldif) has already.
AD_ATTRIBUTES = {
    "displayName", "proxyAddresses", "legacyExchangeDN", "keywords", "serviceBindingInformation",
    "serviceClassName", "serviceDNSName", "networkAddress", "siteObject", "versionNumber", "homeMDB",
    "targetAddress", "mailNickname", "mail", "serialNumber", "description", "cn",
}
AD_CLASSES = {
    "container", "user", "contact", "site", "subnet", "connectionPoint", "serviceConnectionPoint",
    "msExchConfigurationContainer",
}
# LDAP syntax -> (attributeSyntax, oMSyntax, oMObjectClass)
SYNTAX = {
    "1.3.6.1.4.1.1466.115.121.1.15": ("2.5.5.12", "64", None),
    "1.3.6.1.4.1.1466.115.121.1.12": ("2.5.5.1", "127", "KwwCh3McAIVK"),
    "1.3.6.1.4.1.1466.115.121.1.27": ("2.5.5.9", "2", None),
    "1.3.6.1.4.1.1466.115.121.1.7": ("2.5.5.8", "1", None),
    "1.3.6.1.4.1.1466.115.121.1.40": ("2.5.5.10", "4", None),
}


def cn_of(name):
    """msExchServerSite -> ms-Exch-Server-Site, autodiscVersion -> autodisc-Version (AD's spelling)."""
    parts = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
    return "-".join(p[:1].upper() + p[1:] for p in parts).replace("Ms-Exch", "ms-Exch").replace("Autodisc", "autodisc")


text = open(os.path.join(HERE, "autodisc.ldif")).read()
attributes, classes = [], []
for kind, body in re.findall(r"^olc(AttributeTypes|ObjectClasses): \((.*)\)$", text, re.M):
    oid = body.split()[0]
    body = re.sub(r"DESC '[^']*'", "", body)
    name = re.search(r"NAME '([^']+)'", body).group(1)
    if kind == "AttributeTypes":
        syntax = re.search(r"SYNTAX (\S+)", body).group(1)
        attributes.append((name, oid, SYNTAX[syntax], "SINGLE-VALUE" in body))
    else:
        sup = re.search(r"SUP (\S+)", body).group(1)
        kind_ = "AUXILIARY" if "AUXILIARY" in body else "ABSTRACT" if "ABSTRACT" in body else "STRUCTURAL"
        may = re.search(r"MAY \( ([^)]*) \)", body) or re.search(r"MAY (\S+)", body)
        may_list = [m.strip() for m in may.group(1).split("$")] if may else []
        classes.append((name, oid, sup, kind_, may_list))

new_attrs = [a for a in attributes if a[0] not in AD_ATTRIBUTES]
out = []
for name, oid, (syntax, om, omclass), single in new_attrs:
    out += [f"dn: CN={cn_of(name)},{schema_dn}", "objectClass: attributeSchema", f"lDAPDisplayName: {name}",
            f"attributeID: {oid}", f"attributeSyntax: {syntax}", f"oMSyntax: {om}"]
    if omclass:
        out.append(f"oMObjectClass:: {omclass}")
    out += [f"isSingleValued: {'TRUE' if single else 'FALSE'}", "searchFlags: 0", ""]
parts = {"attributes": out}
out = []
category = {"STRUCTURAL": "1", "ABSTRACT": "2", "AUXILIARY": "3"}
# New classes sit in containers (the organisation in CN=Microsoft Exchange); containers may then sit
# under the organisation and under servers (the changes part, once those classes exist).
superiors = ["container"]
for name, oid, sup, kind_, may in classes:
    if name in AD_CLASSES:
        continue
    out += [f"dn: CN={cn_of(name)},{schema_dn}", "objectClass: classSchema", f"lDAPDisplayName: {name}",
            f"governsID: {oid}", f"subClassOf: {sup}", f"objectClassCategory: {category[kind_]}", "rDNAttID: cn"]
    if kind_ == "STRUCTURAL":
        out += [f"possSuperiors: {s}" for s in superiors]
        if name == "msExchOrganizationContainer":
            out.append("possSuperiors: msExchConfigurationContainer")
    out += [f"mayContain: {m}" for m in may]
    out.append("")
parts["classes"] = out
out = []
for name, oid, sup, kind_, may in classes:
    if name not in AD_CLASSES:
        continue
    extra = [m for m in may if m not in AD_ATTRIBUTES]
    if name == "msExchConfigurationContainer":
        out += [f"dn: CN=ms-Exch-Configuration-Container,{schema_dn}", "changetype: modify", "add: auxiliaryClass",
                "auxiliaryClass: autodiscStore", "-", ""]
    if not extra:
        continue
    ad_cn = {"user": "User", "contact": "Contact", "site": "Site", "subnet": "Subnet", "container": "Container",
             "serviceConnectionPoint": "Service-Connection-Point", "connectionPoint": "Connection-Point"}[name]
    out += [f"dn: CN={ad_cn},{schema_dn}", "changetype: modify", "add: mayContain"]
    out += [f"mayContain: {m}" for m in extra]
    out += ["-", ""]
# Containers may sit under the new classes (CN=Protocols under a server, CN=Servers and the rest
# under the organisation).
out += [f"dn: CN=Container,{schema_dn}", "changetype: modify", "add: possSuperiors",
        "possSuperiors: msExchOrganizationContainer", "possSuperiors: msExchExchangeServer", "-", ""]
parts["changes"] = out
print("\n".join(parts[part]))
