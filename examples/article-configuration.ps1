# The article's configuration with the names it describes: mail.e2010.com is the external name in the
# certificate; internal URLs point at it too (with split DNS inside); the CAS array is outlook.e2010.local.
Set-OwaVirtualDirectory -Identity "X2007SRV\owa (Default Web Site)" -ExternalUrl https://mail.e2010.com/owa -InternalUrl https://mail.e2010.com/owa
Set-OabVirtualDirectory -Identity "X2007SRV\OAB (Default Web Site)" -ExternalUrl https://mail.e2010.com/OAB -InternalUrl https://mail.e2010.com/OAB
Set-WebServicesVirtualDirectory -Identity "X2007SRV\EWS (Default Web Site)" -ExternalUrl https://mail.e2010.com/EWS/Exchange.asmx -InternalUrl https://mail.e2010.com/EWS/Exchange.asmx
Set-ActiveSyncVirtualDirectory -Identity "X2007SRV\Microsoft-Server-ActiveSync (Default Web Site)" -ExternalUrl https://mail.e2010.com/Microsoft-Server-ActiveSync -InternalUrl https://mail.e2010.com/Microsoft-Server-ActiveSync
Set-EcpVirtualDirectory -Identity "2010CAS\ecp (Default Web Site)" -ExternalUrl https://mail.e2010.com/ecp -InternalUrl https://mail.e2010.com/ecp
Set-OutlookAnywhere -Identity "X2007SRV\Rpc (Default Web Site)" -ExternalHostname mail.e2010.com -ExternalClientAuthenticationMethod Basic
Get-ClientAccessServer -Identity X2007SRV | Set-ClientAccessServer -AutoDiscoverServiceInternalUri https://mail.e2010.com/Autodiscover/Autodiscover.xml
New-ClientAccessArray -Fqdn outlook.e2010.local -Name CAS_Array
Get-MailboxDatabase | Set-MailboxDatabase -RpcClientAccessServer outlook.e2010.local
