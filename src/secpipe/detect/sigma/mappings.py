"""Built-in field mappings: names published rules use for fields that sit elsewhere in the events.

Sigma rules name fields "as they appear in the log source"; a few published SigmaHQ rules
name fields their log source does not have at that place, and were meant to be run through a
backend pipeline. secpipe keeps the original record (``raw_data``), so these mappings point
at the original fields, as a pySigma processing pipeline (``field_name_mapping``, one-to-many:
the rule's own name stays first, so an event that does carry it still matches) restricted by
logsource. It runs after the user's pipelines (a field they mapped is not mapped again).

Kubernetes audit events (``audit.k8s.io`` ``Event``; rules with ``product: kubernetes``):

- ``apiGroup`` is ``objectRef.apiGroup`` (SigmaHQ ``kubernetes_audit_rbac_permisions_listing``,
  ``kubernetes_audit_sidecar_injection``);
- ``hostPath`` is a pod's ``requestObject.spec.volumes[].hostPath``
  (``kubernetes_audit_hostpath_mount``);
- ``capabilities`` is a container's ``securityContext.capabilities`` in the pod spec's
  ``containers``, ``initContainers`` or ``ephemeralContainers``
  (``kubernetes_audit_privileged_pod_creation``);
- ``resource``, ``subresource`` and ``namespace`` are ``objectRef.resource`` /
  ``objectRef.subresource`` / ``objectRef.namespace`` (the rules WithSecureLabs' Leonidas generates
  for its Kubernetes test cases, e.g. ``verb: create, resource: pods, subresource: exec``; an audit
  ``Event`` has no such top-level keys).

Paths cross arrays (``volumes``, ``containers``): the engine reads them as list fields, any
element matching. GitHub audit rules (``action``, ``actor``, ``repo``, ``permission``,
``visibility``...) already name the fields of the audit log (streamed or from the REST API)
as secpipe stores them, and need no mapping.

Linux authentication logs (rules with ``product: linux``): SigmaHQ's "Failed Logins with
Different Accounts from Single Source" (``rules/linux/builtin/auth/
lnx_auth_susp_failed_logons_single_source.yml``, since 2017) names the parts of pam_unix's
``authentication failure; logname= uid= euid= tty= ruser= rhost=H  user=U`` line (Linux-PAM
``modules/pam_unix/support.c``) ``pam_message``, ``pam_rhost`` and ``pam_user``, which no syslog
line carries as such; the syslog format decodes that line into the OCSF columns these read:
``status_detail`` (the message, ``authentication failure``), ``src_endpoint.ip`` or
``src_endpoint.hostname`` (``rhost``, an address or a name), ``user.name`` (``user``). Their
``host`` (``lnx_shell_priv_esc_prep.yml``: ``keywords | count() by host > 6``, the commands run on
one machine) is the HOSTNAME of the syslog header, ``device.hostname``; unread, every line
counted in one group whatever machine wrote it. SigmaHQ's older auditd rules name the system
call ``syscall: 'execve'``, which an auditd record writes as its number (``syscall=59``) and
ENRICHED logs also as ``SYSCALL=execve``: ``syscall`` is read as ``SYSCALL`` too, the call's name
(:mod:`.syscalls`), as the newer rules name it.

SigmaHQ's "Potential Brute Force - Public IP Targeting Commonly Abused Accounts - Linux" correlation
(``rules/linux/builtin/sshd/correlation_lnx_sshd_brute_force_attempt.yml``) names the failed login's
account ``user_name``, the client ``client_ip`` and the program ``deviceProcessName`` (a SIEM's CEF
names), which an sshd line has as the Authentication columns the syslog format decodes it into:
``user.name``, ``src_endpoint.ip``, ``actor.process.name``; read there too (the rule's own names first).

The Sigma taxonomy's generic ``src_ip`` (the client address: the firewall/proxy/webserver
categories' field, used by SigmaHQ's ``rules-placeholder`` CloudTrail rule
``aws_cloudtrail_console_login_success_from_susp_locations`` as ``src_ip|expand:
'%Legitimate_IP_Ranges%'``) is, per product, the field its log names the caller's address in:
CloudTrail ``sourceIPAddress``, Kubernetes audit ``sourceIPs`` (a list), GitHub audit
``actor_ip``. Without it, such a filter never held and ``not filter`` fired on every login
whatever addresses the user listed. The same rule's ``src_country`` has no field in a
CloudTrail record: it is the caller address's country the ``geoip`` transform writes
(``src_endpoint.location.country``, an ISO code) when it runs before the ``sigma`` stage;
without it the field stays empty and the country filter holds for no event, as before.

Bitbucket Data Center audit records (rules with ``product: bitbucket``): SigmaHQ's rules name the
audit log file's record (``$BITBUCKET_HOME/log/audit/*.audit.log``: ``auditType.category``,
``auditType.action``); the audit REST API (``/rest/auditing/1.0/events``, what pollers and Elastic's
``atlassian_bitbucket`` integration read) gives the same record with that object named ``type``
(``type.category``, ``type.action``, their i18n keys), read there too.

Google Cloud Audit Logs (rules with ``product: gcp``): SigmaHQ's ``gcp.audit`` rules name the
fields as Elastic's GCP integration renames them (Filebeat's gcp module ``audit`` pipeline:
``protoPayload.methodName`` -> ``gcp.audit.method_name``, ``authenticationInfo.principalEmail``
-> ``gcp.audit.authentication_info.principal_email``, ``request`` / ``response`` /
``authorizationInfo`` kept as objects under ``gcp.audit.request`` ...), or as the ``LogEntry``
sits in a Pub/Sub / Eventarc message's ``data`` (``data.protoPayload.serviceName``). A Cloud
Audit Logs export, log sink or Pub/Sub subscription gives the ``LogEntry`` itself
(``protoPayload.methodName``): :data:`MAPPINGS` and :data:`PREFIXES` read the rules' names there
too (the rule's own name stays first, so an Elastic-shaped document still matches). The rules
then fire on the records secpipe stores: GKE's and other Cloud Audit Logs records read by the
``k8s_audit`` format (see :mod:`secpipe.formats._cloud_audit`) and any kept by ``json``.
SigmaHQ's older Google Workspace rules (``service: google_workspace.admin``) name the Workspace
service ``eventService`` (``admin.googleapis.com``) and the Admin SDK event ``eventName``
(``GRANT_ADMIN_PRIVILEGE``); Workspace audit logs shared with Cloud Logging are such ``LogEntry``
records, with ``protoPayload.serviceName`` and the event in ``protoPayload.metadata.event[]``
(``eventName``; the newer rules name these paths themselves). The rules name the event's
parameters (its ``parameter[]`` list, ``{"name": "NEW_VALUE", "value": "false"}``) by the
parameter's name, in the case the Admin SDK's reference writes it or lower-cased: ``new_value:
'false'`` (MFA disabled), ``setting_name|contains: Password``, or as a key of the event
(``protoPayload.metadata.event.visibility``, Drive's sharing): a ``google_workspace.*`` rule's
plain field (and ``protoPayload.metadata.event.<name>``, but the event's own ``eventName`` /
``eventType``) is also read as the parameter of that name, any case (:data:`WORKSPACE`; the
parameter pseudo-field of :mod:`.fields`; the rule's own name first). The Admin SDK Reports API
(``activities.list``, what Workspace pollers and Elastic's ``google_workspace`` integration read)
gives the same activity with the application in ``id.applicationName`` (``admin``, ``login``) and
its events as ``events[]`` (``name``, ``type``, ``parameters[]``: ``value``, ``intValue``,
``boolValue``, ``multiValue``, ``multiIntValue``): the event's name and type are also read there
(:data:`MAPPINGS`), its parameters likewise (:func:`.sqlgen.param_sql`), and a rule's Workspace
service (``eventService`` / ``protoPayload.serviceName: admin.googleapis.com``) also matches the
activity of that application (:func:`workspace_application`, :data:`WORKSPACE_APPLICATIONS`).

Windows event logs (rules with ``product: windows``): SigmaHQ's rules name an event's
``EventData`` values (``CommandLine``, ``ServiceFileName``) and its System values (``EventID``,
``Channel``, ``Computer``, ``Provider_Name``) as flat keys, as a flat JSON export writes them. An
evtx record converted to JSON by the Rust ``evtx`` crate (``evtx_dump``; SigmaHQ's regression data,
Chainsaw, Hayabusa) nests them as in the XML, ``Event.EventData.CommandLine``,
``Event.System.EventID`` (``{"#attributes": {"Qualifiers": ...}, "#text": 7045}`` where the event
has qualifiers), ``Event.System.Provider.#attributes.Name``; Winlogbeat / Elastic Agent ship
``winlog.event_data.CommandLine``, ``winlog.event_id``, ``winlog.channel``, ``winlog.computer_name``,
``winlog.provider_name``; NXLog's ``im_msvistalog`` writes the data flat but names the provider
``SourceName`` and the computer ``Hostname``; a Wazuh alert (or ``archives.json`` entry) of its
``windows_eventchannel`` decoder keeps them under ``data.win``, the System values as
``system.eventID``, ``channel``, ``computer``, ``providerName`` and the EventData names with a
lower-case first letter (``data.win.eventdata.commandLine``: read through the field-name case
fallback of :mod:`.fields`). A process creation the Security log audits (4688,
which process_creation rules also run on: :mod:`.routing`) names the image ``NewProcessName`` and
its parent ``ParentProcessName``, as pySigma's ``windows_audit_pipeline`` maps them. The fields
are also read there (:data:`MAPPINGS`, :data:`PREFIXES`; the rule's own name first). The
``UserData`` of the events that have one (1102's ``LogFileCleared``) is not read. Unnamed
``<Data>`` elements (Windows PowerShell's classic log, SigmaHQ's ``Data|contains``) are the list
``Event.EventData.Data.#text`` there, any element matching.

Azure Monitor records (rules with ``product: azure``): SigmaHQ's Entra ID rules
(``signinlogs``, ``auditlogs``, ``riskdetection``...) name the columns of the Log Analytics
tables (``SigninLogs``: ``UserAgent``, ``AppDisplayName``, ``ResultType``...), which a Log
Analytics export writes at the top of each record. A record exported by diagnostic settings
(to a storage account or an Event Hub: ``{"records": [...]}``, Azure Monitor's common
schema) keeps only ``time``, ``operationName``, ``category``, ``resultType``, ``callerIpAddress``...
at the top and every other column in ``properties`` (``properties.userAgent``,
``properties.appDisplayName``): SigmaHQ's ``azure_ad_signin_axios_user_agent``
(``userAgent|contains: axios``) found nothing there. A field is therefore also read under
``properties.`` (:data:`PREFIXES`, the rule's own name first; the field-name case fallback of
:mod:`.fields` reads ``UserAgent`` as ``userAgent``), unless the rule already names a
``properties.`` path.

The Activity Log has three shapes. Diagnostic settings export it in the resource-log schema
above (``operationName``, ``category``, ``resultType`` strings); the REST API, and what ``az
monitor activity-log list``, ``Get-AzActivityLog`` or an Event Hub poller built on it give, writes
``operationName``, ``category``, ``status``, ``subStatus``, ``eventName``, ``resourceProviderName``
and ``resourceType`` as ``{"value": ..., "localizedValue": ...}`` objects and names some members
otherwise; Log Analytics' ``AzureActivity`` table flattens the objects into columns
(``OperationNameValue``, ``CategoryValue``, ``ResourceProviderValue``, ``ActivityStatusValue``).
SigmaHQ's ``service: activitylogs`` rules write ``operationName`` as the exported string, which
never equals the REST object: ``azure_network_security_modified_or_deleted`` found nothing in
the Activity Log as the REST API gives it, and the AD FS Hybrid Health rules (written with the
``AzureActivity`` columns) nothing in either export. A field is therefore also read where the
other shapes keep it (:data:`AZURE_ACTIVITY`: an object's ``value``, and the pairs of Azure
Monitor's table "Schema from storage account and event hubs": ``resultType`` is ``status.value``,
``resultSignature`` ``subStatus.value``, ``resultDescription`` ``description``,
``callerIpAddress`` ``httpRequest.clientIpAddress``; the rule's own name first, and under
``properties.`` as any other field).

Okta (rules with ``product: okta``): Okta's Log Streaming to Amazon EventBridge delivers each
System Log event in the ``detail`` of an EventBridge envelope (``{"detail-type": "SystemLog",
"source": "aws.partner/okta.com/...", "detail": {"eventType": ...}}``), which the ``json`` format
keeps whole: SigmaHQ's Okta rules (``eventType``, ``displayMessage``, ``actor.alternateId``) are
also read under ``detail.`` (:data:`PREFIXES`, the rule's own name first).

Web servers and proxies (rules with ``category: webserver`` or ``category: proxy`` whose product
has no mappings of its own): the Sigma taxonomy names their fields as the W3C Extended Log File
Format does ("category: webserver uses the same field names as category: proxy": ``c-uri``,
``c-uri-query``, ``c-useragent``, ``cs-method``, ``cs-host``, ``sc-status``, ``src_ip``...), and
SigmaHQ's web rules also write IIS's ``cs-uri-stem``, ``cs-uri-query``, ``cs-user-agent``,
``cs-referer``, ``cs-username`` and ``c-ip``. An Apache or nginx access line (Common/Combined Log
Format, bare or as a syslog message) is stored as HTTP Activity with the request's parts in OCSF
columns (``http_request.url.path``, ``http_request.url.query_string``, ``http_request.user_agent``,
``http_response.code``...): SigmaHQ's Log4Shell and CVE-2021-41773 rules found nothing there.
The fields are also read in those columns (:data:`_HTTP`; the rule's own name first, so a JSON
event written with the W3C names matches as before). The taxonomy calls ``c-uri-query`` the
"path component of requested URL" and SigmaHQ's rules search paths in ``cs-uri-query``
(``'/cgi-bin/.%2e/'``), so the query fields and the whole-URI ``c-uri`` / ``cs-uri`` read the path
and the query string, each on its own: a value spanning both (``/a?b=``) is not found in a line.

Firewalls (``category: firewall``): the taxonomy's ``src_ip``, ``src_port``, ``dst_ip``, ``dst_port``
(and the ``proto`` rules add) are also read as the names Linux netfilter's LOG target writes in
its syslog lines (``SRC=``, ``SPT=``, ``DST=``, ``DPT=``, ``PROTO=``): SigmaHQ's
``net_firewall_tftp_config_exfil_from_management_segment`` found nothing in an iptables or ufw
line; and as FortiOS names them in its traffic log (``srcip=``, ``srcport=``, ``dstip=``,
``dstport=``: ``net_firewall_cleartext_protocols`` found nothing in a FortiGate's). The syslog
format decodes the other firewalls' connection logs (Cisco ASA/FTD, PAN-OS TRAFFIC, Juniper SRX
``RT_FLOW``, pf's filterlog, Windows Firewall's ``pfirewall.log``, Meraki flows...), whose lines name
the connection each its own way, into OCSF Network Activity columns (``src_endpoint.ip``/``port``,
``dst_endpoint.ip``/``port``, ``connection_info.protocol_name``): the fields are also read in those
columns (:data:`NETWORK_COLUMNS`), on Network Activity rows only (:func:`network_rows_only`: the
column's test is ANDed with ``class_uid`` 4001), as the ``src_endpoint.ip`` of other rows (an sshd
login) is no firewall's connection. A null or ``exists: false`` test reads them ungated. The rules' ``action`` is the
verdict as the firewall words it (``net_firewall_cleartext_protocols``: ``forward``, ``accept``):
on Network Activity rows a word of :data:`VERDICTS` also matches the OCSF ``action`` it means
(``Allowed``, ``Denied``), which every firewall line's verdict is decoded into. A line's own
``action=`` pair is read first (FortiOS's ``action="close"`` is no ``accept``).

DNS logs (``category: dns``): the taxonomy names the category but no fields; SigmaHQ's DNS rules
write ``query``, ``record_type``, ``answer``, ``src_ip`` (and Zeek's ``qtype_name``, Sysmon's
``QueryName``). The DNS logs the ``json`` format keeps write them as Zeek's ``dns.log`` does
(``query``, ``qtype_name``, ``answers[]``, ``id.orig_h``, ``id.resp_h``) or as Amazon Route 53
Resolver query logs do (``query_name``, ``query_type``, ``answers[].Rdata``, ``srcaddr``): the
fields are also read there (the rule's own name first); and in the OCSF DNS Activity columns the
syslog format decodes BIND's, dnsmasq's and Unbound's query log lines into (``query.hostname``,
``query.type``, ``answers[].rdata``; ``src_endpoint.ip`` / ``dst_endpoint.ip`` on DNS Activity rows
only, as for firewalls: :func:`network_rows_only`). Route 53 writes a name as the absolute
FQDN, with the root's trailing dot (``does-not-exist.abc.com.``), which is the same DNS name
as ``does-not-exist.abc.com`` (RFC 1034 3.1): a ``query``/``QueryName`` value matched whole or
at its end (``query: evil.com``, ``query|endswith: '.ru'``) also matches the name with that dot
(:func:`dns_root_dot`).

A proxy or web server rule's ``c-uri-extension`` (``exe``) is read at the end of the URL's path
(:func:`uri_extension`): no access log line names the extension apart.

Apache httpd (``product: apache``, the taxonomy's log source with ``service: access`` / ``error``,
and SigmaHQ's rules that write it ``service: apache`` without a product): its access log takes the
web server mappings above, and the Splunk CIM Web names a SigmaHQ rule uses (``uri_query``, the
URL's query string; ``uri_path``, its path): ``web_apache_webshell`` (``uri_query|contains:
'=whoami'``) found nothing in an access line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from sigma.conditions import ConditionAND, ConditionOR
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import SigmaExists, SigmaNull, SigmaNumber, SigmaString, SigmaType

from secpipe.detect.sigma.fields import PARAM

_SPEC = "requestObject.spec"
#: the caller's country: the geoip transform's ISO code of ``src_endpoint.ip``
_COUNTRY = ["src_country", "src_endpoint.location.country"]
#: key of a logsource category's mappings (rules of any or no product with that category)
CATEGORY = "category:"
#: products whose mappings also apply to a rule that names the product as its ``service`` without
#: a product (SigmaHQ's ``service: apache`` rules; the taxonomy's log source is ``product: apache``)
AS_SERVICE = ("apache",)
#: product (or :data:`CATEGORY` + category) -> {rule field: event fields it may be read from, in order}
MAPPINGS: dict[str, dict[str, list[str]]] = {
    "kubernetes": {
        "apiGroup": ["apiGroup", "objectRef.apiGroup"],
        "hostPath": ["hostPath", f"{_SPEC}.volumes.hostPath"],
        "capabilities": ["capabilities", *(f"{_SPEC}.{c}.securityContext.capabilities"
                                           for c in ("containers", "initContainers", "ephemeralContainers"))],
        **{k: [k, f"objectRef.{k}"] for k in ("resource", "subresource", "namespace")},
        "src_ip": ["src_ip", "sourceIPs"], "src_country": _COUNTRY,
    },
    "aws": {"src_ip": ["src_ip", "sourceIPAddress"], "src_country": _COUNTRY},
    # Bitbucket Data Center's audit REST API (/rest/auditing/1.0/events) names the audit log file's
    # ``auditType`` object ``type`` (module docstring)
    "bitbucket": {f"auditType.{k}": [f"auditType.{k}", f"type.{k}"]
                  for k in ("category", "action", "categoryI18nKey", "actionI18nKey")},
    "github": {"src_ip": ["src_ip", "actor_ip"], "src_country": _COUNTRY},
    "linux": {"pam_message": ["pam_message", "status_detail"], "pam_user": ["pam_user", "user.name"],
              "pam_rhost": ["pam_rhost", "src_endpoint.ip", "src_endpoint.hostname"],
              "host": ["host", "device.hostname"], "syscall": ["syscall", "SYSCALL"],
              # SigmaHQ's sshd brute-force correlation (module docstring)
              "user_name": ["user_name", "user.name"], "client_ip": ["client_ip", "src_endpoint.ip"],
              "deviceProcessName": ["deviceProcessName", "actor.process.name"]},
    "gcp": {f"gcp.audit.{elastic}": [f"gcp.audit.{elastic}", f"protoPayload.{audit_log}"] for elastic, audit_log in (
        ("method_name", "methodName"), ("service_name", "serviceName"), ("resource_name", "resourceName"),
        ("type", "@type"), ("num_response_items", "numResponseItems"),
        ("authentication_info.principal_email", "authenticationInfo.principalEmail"),
        ("authentication_info.authority_selector", "authenticationInfo.authoritySelector"),
        ("request_metadata.caller_ip", "requestMetadata.callerIp"),
        ("request_metadata.caller_supplied_user_agent", "requestMetadata.callerSuppliedUserAgent"),
        ("resource_location.current_locations", "resourceLocation.currentLocations"),
        ("status.code", "status.code"), ("status.message", "status.message"),
        ("request.proto_name", "request.@type"), ("request.resource_name", "request.resourceName"),
        ("response.proto_name", "response.@type"))} | {
        # Google Workspace audit logs shared with Cloud Logging: the Workspace service and the
        # Admin SDK event name of the AuditLog's ActivityProto metadata (module docstring)
        "eventService": ["eventService", "protoPayload.serviceName"],
        # ... and the Reports API's activity, its events' names and types (module docstring)
        "eventName": ["eventName", "protoPayload.metadata.event.eventName", "events.name"],
        "protoPayload.metadata.event.eventName": ["protoPayload.metadata.event.eventName", "events.name"],
        "protoPayload.metadata.event.eventType": ["protoPayload.metadata.event.eventType", "events.type"]},
}
#: the Sigma taxonomy's proxy / webserver fields ("category: webserver uses the same field names as
#: category: proxy", W3C Extended Log File Format names) -> the HTTP Activity columns the syslog
#: format decodes an access log line into (Common/Combined Log Format): see the module docstring
_HTTP = {
    "c-ip": ["src_endpoint.ip", "src_endpoint.hostname"], "src_ip": ["src_endpoint.ip"],
    "cs-method": ["http_request.http_method"], "cs-version": ["http_request.version"],
    **{k: ["http_request.url.path"] for k in ("cs-uri-stem", "c-uri-stem")},
    **{k: ["http_request.url.path", "http_request.url.query_string"]
       for k in ("cs-uri-query", "c-uri-query", "cs-uri", "c-uri")},
    "sc-status": ["http_response.code"], "sc-bytes": ["http_response.body_length"],
    **{k: ["http_request.user_agent"] for k in ("cs-user-agent", "c-useragent", "cs(User-Agent)")},
    **{k: ["http_request.referrer"] for k in ("cs-referer", "cs-referrer", "cs(Referer)")},
    "cs-username": ["actor.user.name"], **{k: ["dst_endpoint.hostname"] for k in ("cs-host", "r-dns")},
}
for _category in ("webserver", "proxy"):
    MAPPINGS[f"{CATEGORY}{_category}"] = {k: [k, *v] for k, v in _HTTP.items()}
#: the taxonomy's firewall fields -> the names Linux netfilter's LOG target writes (the kernel's
#: nf_log: ``SRC=10.0.0.5 DST=203.0.113.7 ... PROTO=UDP SPT=50123 DPT=69``) and FortiOS's traffic
#: log (``srcip=10.1.100.12 srcport=34604 dstip=172.16.200.55 dstport=80``), read in a syslog line's
#: name=value pairs (the syslog format keeps the line as text), and the OCSF Network Activity columns
#: (:data:`NETWORK_COLUMNS`) other firewalls' lines are decoded into
NETWORK_COLUMNS = {"src_ip": "src_endpoint.ip", "dst_ip": "dst_endpoint.ip", "src_port": "src_endpoint.port",
                   "dst_port": "dst_endpoint.port", "proto": "connection_info.protocol_name"}
#: the field naming an event's OCSF class (:data:`ROW_GATES`)
CLASS_UID = "class_uid"
#: a firewall rule's ``action`` word (lower-cased) -> the OCSF Network Activity ``action`` it means
VERDICTS = {**dict.fromkeys(("accept", "accepted", "allow", "allowed", "forward", "pass", "permit", "permitted"),
                            "Allowed"),
            **dict.fromkeys(("block", "blocked", "deny", "denied", "drop", "dropped", "reject", "rejected"), "Denied")}
MAPPINGS[f"{CATEGORY}firewall"] = {k: [k, *v, NETWORK_COLUMNS[k]] for k, v in (
    ("src_ip", ["SRC", "srcip"]), ("dst_ip", ["DST", "dstip"]), ("src_port", ["SPT", "srcport"]),
    ("dst_port", ["DPT", "dstport"]), ("proto", ["PROTO"]))}
#: DNS query logs kept by the ``json`` format (module docstring): Zeek's dns.log and Amazon
#: Route 53 Resolver query logs; and the OCSF DNS Activity columns the syslog format decodes BIND's,
#: dnsmasq's and Unbound's query log lines into (:data:`DNS_COLUMNS`)
MAPPINGS[f"{CATEGORY}dns"] = {
    "query": ["query", "query_name", "query.hostname"], "QueryName": ["QueryName", "query", "query_name", "query.hostname"],
    "record_type": ["record_type", "qtype_name", "query_type", "query.type"],
    "qtype_name": ["qtype_name", "query_type", "query.type"],
    "answer": ["answer", "answers", "answers.Rdata", "answers.rdata"],
    "src_ip": ["src_ip", "id.orig_h", "srcaddr", "src_endpoint.ip"], "dst_ip": ["dst_ip", "id.resp_h", "dst_endpoint.ip"]}
#: the DNS Activity columns a ``category: dns`` rule reads on DNS Activity rows only (an sshd
#: login's ``src_endpoint.ip`` is no DNS client)
DNS_COLUMNS = {"src_ip": "src_endpoint.ip", "dst_ip": "dst_endpoint.ip"}
#: category -> (the OCSF columns its rules read on one class's rows only, the ``class_uid`` of that class)
ROW_GATES = {"firewall": (NETWORK_COLUMNS, 4001), "dns": (DNS_COLUMNS, 4003)}
#: the taxonomy's file extension of a proxy / web server request's URL (:func:`uri_extension`)
URI_EXTENSIONS = ("c-uri-extension", "cs-uri-extension")
#: the DNS name fields whose values also match the name's absolute form (:func:`dns_root_dot`)
DNS_NAMES = ("query", "QueryName")
#: Apache httpd's access log: the web server mappings and the Splunk CIM Web names of SigmaHQ's
#: ``service: apache`` rules
MAPPINGS["apache"] = {
    **MAPPINGS[f"{CATEGORY}webserver"], "uri_query": ["uri_query", "http_request.url.query_string"],
    "uri_path": ["uri_path", "http_request.url.path"]}
#: Windows event log records as JSON (module docstring): the System values rules name -> where an
#: evtx record converted by the evtx crate (evtx_dump, SigmaHQ's regression data) and Winlogbeat keep them
MAPPINGS["windows"] = {k: [k, *v] for k, v in (
    ("EventID", ["Event.System.EventID", "Event.System.EventID.#text", "winlog.event_id", "data.win.system.eventID"]),
    ("Channel", ["Event.System.Channel", "winlog.channel", "data.win.system.channel"]),
    ("Computer", ["Event.System.Computer", "winlog.computer_name", "Hostname", "data.win.system.computer"]),
    ("Provider_Name", ["Event.System.Provider.#attributes.Name", "winlog.provider_name", "SourceName",
                       "data.win.system.providerName"]),
    # unnamed <Data> elements (Windows PowerShell's classic log): evtx JSON lists their texts
    ("Data", ["Event.EventData.Data.#text", "Event.EventData.Data", "winlog.event_data.Data", "data.win.eventdata.data"]))} | {
    # a process_creation rule's Sysmon names, as Security 4688 writes them (pySigma's windows_audit_pipeline)
    sysmon: [f"{p}{n}" for n in (sysmon, audit) for p in ("", "Event.EventData.", "winlog.event_data.", "data.win.eventdata.")]
    for sysmon, audit in (("Image", "NewProcessName"), ("ParentImage", "ParentProcessName"))}
#: product -> {rule field prefix: the event field prefixes it may be read from}, for fields
#: :data:`MAPPINGS` does not name: objects Elastic's GCP integration keeps whole (an AuditLog's
#: ``request``, ``response``, ``authorizationInfo[]``) and the ``LogEntry`` of a Pub/Sub message's ``data``
PREFIXES: dict[str, dict[str, list[str]]] = {
    "gcp": {"gcp.audit.request.": ["gcp.audit.request.", "protoPayload.request."],
            "gcp.audit.response.": ["gcp.audit.response.", "protoPayload.response."],
            "gcp.audit.authorization_info.": ["gcp.audit.authorization_info.", "protoPayload.authorizationInfo."],
            "data.protoPayload.": ["data.protoPayload.", "protoPayload."]},
    "azure": {"": ["", "properties."]},
    "okta": {"": ["", "detail."]},
    "windows": {"": ["", "Event.EventData.", "winlog.event_data.", "data.win.eventdata."]},
}
#: Azure Activity Log (module docstring): a rule field -> where the REST API's event keeps it (a
#: ``{"value", "localizedValue"}`` object's value, the diagnostic settings' name's REST member) and,
#: for the Log Analytics ``AzureActivity`` columns, where both exported shapes keep it
AZURE_ACTIVITY = {
    **{k: [f"{k}.value"] for k in ("operationName", "category", "status", "subStatus", "eventName",
                                    "resourceProviderName", "resourceType")},
    "resultType": ["status.value"], "resultSignature": ["subStatus.value"], "resultDescription": ["description"],
    "callerIpAddress": ["httpRequest.clientIpAddress"],
    "OperationNameValue": ["operationName", "operationName.value"],
    "CategoryValue": ["category", "category.value", "properties.eventCategory"],
    "ResourceProviderValue": ["resourceProviderName.value"],
    "ActivityStatusValue": ["resultType", "status.value"],
    "ActivitySubstatusValue": ["resultSignature", "subStatus.value"],
}
#: ``properties.`` stays an alternative of every name: a field the exact mappings name is not
#: read again under :data:`PREFIXES`
MAPPINGS["azure"] = {k: [k, *v, f"properties.{k}"] for k, v in AZURE_ACTIVITY.items()}
#: the Workspace services of the Admin SDK Reports API (its ``applicationName`` values): SigmaHQ's
#: Google Workspace rules write ``product: gcp, service: google_workspace.<name>``
WORKSPACE_SERVICES = ("access_transparency", "admin", "calendar", "chat", "chrome", "context_aware_access",
                      "data_studio", "drive", "gcp", "gmail", "groups", "groups_enterprise", "jamboard", "keep",
                      "login", "meet", "mobile", "rules", "saml", "token", "user_accounts", "vault")
#: the event parameter a Workspace rule's field also reads (module docstring): a plain name, or a
#: key of the LogEntry's event that is none of the event's own keys
WORKSPACE = {"protoPayload.metadata.event.": ["protoPayload.metadata.event.", PARAM], "": ["", PARAM]}
WORKSPACE_FIELDS = r"(?:protoPayload\.metadata\.event\.)?[A-Za-z_][A-Za-z0-9_]*$"
WORKSPACE_EVENT_KEYS = tuple(f"protoPayload.metadata.event.{k}" for k in ("eventName", "eventType", "eventId"))
#: the Workspace services of Google's "Audit logs for Google Workspace" (Cloud Logging's
#: ``protoPayload.serviceName``) -> the Reports API application of the same audit log
#: (``id.applicationName``): :func:`workspace_application`
WORKSPACE_APPLICATIONS = {"admin.googleapis.com": "admin", "login.googleapis.com": "login"}
#: the rule fields naming a Workspace service (module docstring)
WORKSPACE_SERVICE_FIELDS = ("eventService", "protoPayload.serviceName")
#: product -> regular expressions of rule fields :data:`PREFIXES` leaves alone (already a path of the record)
PREFIX_EXCLUDED: dict[str, str] = {"azure": r"properties\..*", "okta": r"detail\..*", "windows": r"(?:Event|winlog|data\.win)\..*"}


def mapping_key(logsource: object) -> str | None:
    """The key of the built-in mappings a rule of ``logsource`` takes: its product's, else (without
    a product) its service's when that is one of :data:`AS_SERVICE`, else its category's
    (:data:`CATEGORY`), else None."""
    product = str(getattr(logsource, "product", None) or "").lower()
    if product in MAPPINGS or product in PREFIXES:
        return product
    service = str(getattr(logsource, "service", None) or "").lower()
    if not product and service in AS_SERVICE:
        return service
    category = f"{CATEGORY}{str(getattr(logsource, 'category', None) or '').lower()}"
    return category if category in MAPPINGS else None


def alternatives(product: str | None, name: str) -> list[str]:
    """The other event fields a ``product`` rule's field ``name`` is read from (built-in mappings);
    ``product`` is a :func:`mapping_key`."""
    exact = MAPPINGS.get(str(product), {}).get(name)
    if exact is not None:
        return exact[1:]
    excluded = PREFIX_EXCLUDED.get(str(product))
    if excluded is not None and re.fullmatch(excluded, name):
        return []
    for prefix, targets in PREFIXES.get(str(product), {}).items():
        if name.startswith(prefix):
            return [t + name[len(prefix):] for t in targets[1:]]
    if product == "gcp" and re.match(WORKSPACE_FIELDS, name) and name not in WORKSPACE_EVENT_KEYS:
        return [PARAM + name.rsplit(".", 1)[-1]]  # a Workspace rule's (only those are mapped so)
    return []


def absence_of_all(rule: SigmaRule) -> None:
    """A rule field read from several event fields (:func:`alternatives`) is absent only when
    all of them are: pySigma's one-to-many mapping ORs the alternatives, so ``userAgent: null``
    (missing or null) held for an exported Azure record whose ``properties.userAgent`` was set,
    as ``userAgent`` itself is missing at its top. A null or ``exists: false`` test over the
    built-in alternatives of a field is therefore linked with AND (every spelling absent)."""
    product = mapping_key(rule.logsource)
    if product is None:
        return
    for det in rule.detection.detections.values():
        _absence_of_all(det, product)


def dns_root_dot(rule: SigmaRule) -> None:
    """A ``category: dns`` rule's DNS name (:data:`DNS_NAMES`) compared whole or at its end
    (``query: evil.com``, ``query|endswith: '.ru'``) also matches the name's absolute form with
    the root's trailing dot (``evil.com.``, RFC 1034 3.1: the same name), as Route 53 Resolver
    logs write it. Values linked with ``all``, patterns ending in a wildcard, regular expressions
    and other non-strings are left as written. Runs before the pipelines (on the rule's names)."""
    if str(rule.logsource.category or "").lower() != "dns":
        return
    for det in rule.detection.detections.values():
        _root_dot(det)


def uri_extension(rule: SigmaRule) -> None:
    """A ``category: proxy`` / ``webserver`` rule's file extension of the URL (the taxonomy's
    ``c-uri-extension``, ``cs-uri-extension``: ``exe``, no dot) is also read at the end of the URL's
    path, ``cs-uri-stem`` (``/files/invoice.exe``): an access log line and a proxy log such as
    Squid's name no extension apart, and OCSF's ``url`` object has none. Each plain value ``v``
    becomes, ORed with the rule's own item, the path ending ``.v``; other values (regular
    expressions, numbers) are left as written. Runs before the pipelines (on the rule's names)."""
    if str(rule.logsource.category or "").lower() not in ("proxy", "webserver"):
        return
    for det in rule.detection.detections.values():
        _or_alternative(det, URI_EXTENSIONS, "cs-uri-stem", _uri_ends)


def _uri_ends(item: SigmaDetectionItem) -> list[SigmaType]:
    return [SigmaString("*" + ("" if v.startswith(".") else ".")) + v for v in item.value if isinstance(v, SigmaString)]


def _or_alternative(det: SigmaDetection, fields: Collection[str], field: str,
                    values: Callable[[SigmaDetectionItem], list[SigmaType]]) -> None:
    """Each plain OR item on one of ``fields`` (no modifiers), in ``det`` and the detections it nests, becomes
    itself ORed with an item on ``field`` of ``values(item)``, when that gives any."""
    for n, item in enumerate(det.detection_items):
        if isinstance(item, SigmaDetection):
            _or_alternative(item, fields, field, values)
        elif item.field in fields and item.value_linking is ConditionOR and not item.modifiers:
            alt = values(item)
            if alt:
                det.detection_items[n] = SigmaDetection([item, SigmaDetectionItem(field, [], alt)],
                                                        item_linking=ConditionOR)


def workspace_application(rule: SigmaRule) -> None:
    """A Google Workspace rule's service (``eventService`` / ``protoPayload.serviceName``, a
    Workspace service's name in Cloud Logging: :data:`WORKSPACE_APPLICATIONS`) also matches a
    Reports API activity of that application: each such plain value ``admin.googleapis.com``
    becomes, ORed with the rule's own item, ``id.applicationName: admin``; other values are left as
    written. Runs before the pipelines (on the rule's names)."""
    service = str(rule.logsource.service or "").lower()
    if str(rule.logsource.product or "").lower() != "gcp" or not service.startswith("google_workspace."):
        return
    for det in rule.detection.detections.values():
        _or_alternative(det, WORKSPACE_SERVICE_FIELDS, "id.applicationName", _workspace_apps)


def _workspace_apps(item: SigmaDetectionItem) -> list[SigmaType]:
    return [SigmaString(WORKSPACE_APPLICATIONS[str(v).lower()]) for v in item.value
            if isinstance(v, SigmaString) and not v.contains_special() and str(v).lower() in WORKSPACE_APPLICATIONS]


def network_rows_only(rule: SigmaRule) -> None:
    """A ``category: firewall`` rule reads the taxonomy's connection fields in the OCSF Network
    Activity columns (:data:`NETWORK_COLUMNS`) of Network Activity rows only, a ``category: dns``
    rule its client and server addresses in the DNS Activity columns (:data:`DNS_COLUMNS`) of DNS
    Activity rows only (:data:`ROW_GATES`): each such alternative of the built-in mapping is ANDed
    with the class's ``class_uid``; a firewall rule's ``action`` words (:data:`VERDICTS`) also match
    that row's OCSF ``action``. Tests of absence are left alone. Runs after the pipelines (on the
    mapped names)."""
    category = str(rule.logsource.category or "").lower()
    if category not in ROW_GATES or mapping_key(rule.logsource) != f"{CATEGORY}{category}":
        return
    for det in rule.detection.detections.values():
        _gate(det, category)


def _gate(det: SigmaDetection, category: str) -> None:
    mapped = [i.field for i in det.detection_items if isinstance(i, SigmaDetectionItem)]
    alts = MAPPINGS[f"{CATEGORY}{category}"].get(str(mapped[0]) if mapped else "")
    columns, uid = ROW_GATES[category]
    for n, item in enumerate(det.detection_items):
        if isinstance(item, SigmaDetection):
            _gate(item, category)
        elif (category == "firewall" and item.field == "action" and not item.applied_processing_items
              and item.value_linking is ConditionOR):
            words = sorted({VERDICTS[str(v).lower()] for v in item.value
                            if isinstance(v, SigmaString) and str(v).lower() in VERDICTS})
            if words:
                verdict = _class_row(SigmaDetectionItem("action", [], [SigmaString(w) for w in words]), uid)
                det.detection_items[n] = SigmaDetection([item, verdict], item_linking=ConditionOR)
        elif (alts is not None and mapped == alts and item.field in columns.values()
              and not any(isinstance(v, SigmaNull | SigmaExists) for v in item.value)):
            det.detection_items[n] = _class_row(item, uid)


def _class_row(item: SigmaDetectionItem, uid: int) -> SigmaDetection:
    """``item`` on the rows of the OCSF class ``uid`` only."""
    return SigmaDetection([item, SigmaDetectionItem(CLASS_UID, [], [SigmaNumber(uid)])], item_linking=ConditionAND)


def _root_dot(det: SigmaDetection) -> None:
    for item in det.detection_items:
        if isinstance(item, SigmaDetection):
            _root_dot(item)
        elif item.field in DNS_NAMES and item.value_linking is ConditionOR:
            extra = [v + SigmaString(".") for v in item.value
                     if isinstance(v, SigmaString) and v.s and isinstance(v.s[-1], str) and not v.endswith(".")]
            item.value.extend(extra)


def _absence_of_all(det: SigmaDetection, product: str) -> None:
    items = det.detection_items
    for item in items:
        if isinstance(item, SigmaDetection):
            _absence_of_all(item, product)
    mapped = [i for i in items if isinstance(i, SigmaDetectionItem) and i.field and len(i.value) == 1]
    if det.item_linking is not ConditionOR or len(items) < 2 or len(mapped) < len(items):
        return
    value = mapped[0].value[0]
    absent = isinstance(value, SigmaNull) or (isinstance(value, SigmaExists) and not value.exists)
    if (absent and all(i.value == mapped[0].value for i in mapped)
            and [i.field for i in mapped[1:]] == alternatives(product, str(mapped[0].field))):
        det.item_linking = ConditionAND


def _applies(key: str) -> list[dict[str, str]]:
    """The pipeline's rule conditions (any of them) of a :data:`MAPPINGS` key: its category, or its
    product (and, for :data:`AS_SERVICE`, the service of that name)."""
    if key.startswith(CATEGORY):
        return [{"type": "logsource", "category": key[len(CATEGORY):]}]
    return [{"type": "logsource", "product": key},
            *([{"type": "logsource", "service": key}] if key in AS_SERVICE else [])]


def builtin_pipeline() -> ProcessingPipeline:
    """The built-in mappings as one pySigma pipeline (each restricted to its product)."""
    return ProcessingPipeline.from_dict({
        "name": "secpipe built-in field mappings", "priority": 100,
        "transformations": [
            {"id": f"secpipe_{product.replace(CATEGORY, '')}_fields", "type": "field_name_mapping", "mapping": mapping,
             "rule_conditions": _applies(product), "rule_cond_op": "or"}
            for product, mapping in MAPPINGS.items()] + [
            {"id": f"secpipe_{product}_prefixes", "type": "field_name_prefix_mapping", "mapping": mapping,
             "rule_conditions": [{"type": "logsource", "product": product}],
             # a field the exact mappings name, or one they read it from, is not read again under a
             # prefix (an absence test over its alternatives: absence_of_all)
             "field_name_conditions": [{"type": "processing_item_applied", "processing_item_id": f"secpipe_{product}_fields"},
                                       *([{"type": "include_fields", "mode": "re", "fields": [PREFIX_EXCLUDED[product]]}]
                                         if product in PREFIX_EXCLUDED else [])],
             "field_name_cond_op": "or", "field_name_cond_not": True}
            for product, mapping in PREFIXES.items()] + [
            {"id": "secpipe_google_workspace_parameters", "type": "field_name_prefix_mapping", "mapping": WORKSPACE,
             "rule_conditions": [{"type": "logsource", "product": "gcp", "service": f"google_workspace.{s}"}
                                 for s in WORKSPACE_SERVICES], "rule_cond_op": "or",
             "field_name_conditions": [{"type": "include_fields", "mode": "re", "fields": [WORKSPACE_FIELDS]},
                                       {"type": "exclude_fields", "fields": [*MAPPINGS["gcp"], *WORKSPACE_EVENT_KEYS]}]}]})
