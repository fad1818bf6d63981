# The organisation of the seed article, as Exchange setup leaves it: an internal AD domain
# e2010.local, the public mail domain e2010.com, an Exchange 2007 server X2007SRV and an Exchange
# 2010 Client Access Server 2010CAS, each with the default virtual directories on its internal name.
Set-OrganizationConfig -Name E2010
New-AcceptedDomain -Name e2010.com -DomainName e2010.com -DomainType Authoritative
New-ADReplicationSubnet -Name 10.0.0.0/16 -Site Default-First-Site-Name
New-ExchangeServer -Name X2007SRV -Fqdn X2007SRV.e2010.local -ServerRole Mailbox,ClientAccess,HubTransport -AdminDisplayVersion "Version 8.3 (Build 83.6)"
New-ExchangeServer -Name 2010CAS -Fqdn 2010CAS.e2010.local -ServerRole ClientAccess -AdminDisplayVersion "Version 14.3 (Build 123.4)"
New-MailboxDatabase -Name "Mailbox Database 01" -Server X2007SRV
# A demo password (the service checks it with --auth basic); never use one like it for real.
New-Mailbox -Name "Jaap Wesselius" -Alias jaap -PrimarySmtpAddress jaap@e2010.com -Password (ConvertTo-SecureString -String "Demo-Only-1" -AsPlainText -Force)
New-Mailbox -Name "Alice Example" -Alias alice
New-MailUser -Name "Bob Partner" -Alias bob -ExternalEmailAddress bob@fabrikam.com -PrimarySmtpAddress bob@e2010.com
