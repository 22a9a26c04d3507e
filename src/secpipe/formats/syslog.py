"""Syslog: RFC 5424 and RFC 3164 (BSD) messages, newline or octet-counted (RFC 6587) framing.

Accepted input: one message per line, with or without ``<PRI>`` (a line opening with a tab right
below a message is that message's continuation, as macOS's syslogd writes a message of several
lines: joined to it with its newline, within one buffer); or octet-counted framing
(``<len> <msg>``, detected from the first bytes, or forced by a source containing
``framing=octet-counted`` as the syslog listener passes). RFC 5424: VERSION, TIMESTAMP (or
``-``), HOSTNAME, APP-NAME, PROCID, MSGID (each may be the NILVALUE ``-``), STRUCTURED-DATA
and MSG (a leading UTF-8 BOM is removed). RFC 3164: ``Mmm dd hh:mm:ss`` (also with
fractional seconds, as syslog-ng ``frac-digits`` writes, and with a year before the month or
after the day), or an RFC 3339 timestamp as rsyslog writes files (as rsyslog's parser,
a space after ``<PRI>`` and a colon right after the timestamp are taken: ``<38> Mar  7 19:06:53``,
``Mar 7 19:06:53: host tag: text``, and more than one space before the HOSTNAME as Junos writes its
log files, real senders' deviations its tests keep), or macOS's unified log as ``log show --style syslog``
prints it (``2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: ...``); optional HOSTNAME (the BSD
``logger`` leaves it out); TAG[PID]: MSG (after ``[PID]`` the colon may be missing, as macOS
writes ``com.apple.xpc.launchd[1] (service): text``; Solaris's message ID opening the MSG, ``[ID 800047
auth.notice] text``, is the event code, its facility and level the PRI where none was sent); without a TAG, the timestamp then
HOSTNAME and MSG, either of which may be missing at the end of the line. The month is read in any case (``nov``,
``NOV``: RFC 3164 4.1.2 asks for ``Nov`` but rsyslog and syslog-ng accept any, and section 4.3.2
has a relay keep such a message). journalctl's ``short-full``, ``short-unix`` and
``short-monotonic`` stamps, its ``-- Boot ... --`` marker lines and its ``-o json`` entries
(mapped as the syslog messages they carry): see :mod:`._journal`
(``short``, ``short-precise``, ``short-iso[-precise]`` are the BSD and RFC 3339 forms above).
A BSD timestamp has no zone: it is taken as UTC; without
a year it is in the latest of the previous, current and next year that does not put it more
than a day in the future (``Dec 31`` read on Jan 1 is last year's, ``Jan 1`` read on Dec 31
next year's) (``Feb 29``: the latest leap year); a line a transport stamped (a CloudWatch log
event's ``timestamp``, a shipper's document's time: "Shipped lines" below) takes the year that
puts it at most a day after that stamp, and a line of a file ``secpipe ingest`` or the file
source read whole the year that puts it at most a day after the file was last written (its
source ends ``;mtime=<epoch ms>``: the file's mtime or a ``.gz``'s own MTIME field, see
:func:`secpipe.sources.files.written_by`): a rotated ``auth.log.2.gz`` of last December read in
January is last year's, its Dec and Jan lines each in their own year. Cisco IOS/IOS XE/NX-OS/ASA messages (``[seq: ][host: ][*]Mmm dd hh:mm:ss.mmm[ TZ]:
%FAC-SEV-MNEMONIC: text``, also behind a relay's BSD header or an ASA device id; NX-OS's
``<PRI>: `` has an empty sequence number) give the mnemonic as ``metadata.event_code``, the text as
``message`` and the sequence number in ``unmapped``; the stamp's zone (``CET``, ``EDT``: the
abbreviations :mod:`._journal` knows; another is taken as UTC) is applied; without ``<PRI>``, the mnemonic's SEV (Cisco's severity levels 0-7 are syslog's) is the
severity. A Cisco wireless controller's (AireOS) task before the stamp (``[host: ]*spamApTask0: Mmm dd
hh:mm:ss.mmm: %CAPWAP-3-...``, the code maybe opening with ``#``) is ``actor.process.name``. A Kiwi
Syslog relay's tag after the ``<PRI>`` (``Original Address=<sender>``, and Kiwi Syslog NG's own RFC 5424
header without structured data after it) is taken off before the message is read: the sender is
``device.ip`` (a name: ``device.hostname`` where the message names no host), the relay's stamp gives a
yearless one its year (and the time of a message with none). A line with a valid ``<PRI>`` but no parsable header, or an invalid RFC 5424
TIMESTAMP, is kept (RFC 3164 sections 4.3.3 and 4.3.2: the whole rest is the MSG) with the
receipt time; an RFC 5424 HEADER followed by no valid STRUCTURED-DATA (an unescaped ``"`` or ``]``
in a value, an unquoted value, no SP after it, or no SD at all) keeps its header and the rest
whole as the MSG, the fault in ``unmapped.structured_data_error``; so is a line whose PRI is out of range (all of it the MSG, no severity), and one with neither PRI nor
header (a relay keeps it whole as the CONTENT, same section), its program and pid read when it
opens with ``TAG[PID]: ``. Auto-detection also recognizes a document whose first lines (up to
seven) have no header when a later one has.

Linux audit records as auditd writes ``/var/log/audit/audit.log`` (``[node=<name> ]type=<TYPE>
msg=audit(<epoch s>.<ms>:<serial>): <fields>``, no syslog header) are read too: the time is the
record's own stamp, ``node`` the ``device.hostname``, TYPE the ``metadata.event_code``, the stamp
and serial (auditd's event id, shared by the records of one event) ``metadata.correlation_uid``,
``metadata.log_format`` ``Linux audit`` and the fields the ``message``; ``--format auto`` takes
such a file. Such a record as the MSG of a syslog message (audispd's syslog plugin,
``audisp-syslog``, rsyslog ``imfile``) keeps its MSG whole and gets the same TYPE, event id and
time (the stamp, before the header's), ``node`` where the header names no host. USER_AUTH and USER_LOGIN records (Logon) and USER_LOGOUT (Logoff) that name a user
(``acct``, hex-encoded when auditd encoded it) or uid (``id``) are Authentication: ``res``
success/failed the status, ``addr`` and ``hostname`` the source, the ``exe``'s name the service,
``terminal`` in ``unmapped.tty``; a SYSCALL record of ``execve``/``execveat`` (by the
architecture's call number, or an ENRICHED log's name) is Process Activity, Launch: ``pid``,
``comm``, ``exe``, ``ppid``, ``uid``, ``auid`` (the actor), ``success``, ``exit`` and the command line
of the event's EXECVE record (else its PROCTITLE) in the batch; other records are Base Events.

CEF and LEEF payloads (in the MSG of either RFC, or bare lines): see :mod:`._cef`. The header
gives ``metadata.product`` (vendor, product, version), ``metadata.event_code`` (Signature ID /
EventID), ``severity_id`` (CEF Severity or LEEF ``sev``), ``message`` (CEF Name) and
``metadata.log_format`` (``CEF``/``LEEF``); ``unmapped.cef``/``unmapped.leef`` keep the header
and every extension pair; CEF ``rt`` (or ``start``) / LEEF ``devTime`` is the time when the
syslog header has none or only a BSD stamp without a year (the payload's time has the year and
the zone; the same for a FortiOS line's ``eventtime``).

Columnar path: the document is split into lines by Arrow (``split_pattern``), validated as
UTF-8 in one cast (see Encoding), and every header field is pulled out by ``extract_regex``: each grammar
(5424, Cisco, 3164, 3164 without tag, bare CEF/LEEF, PRI + text, TAG[PID] + text, text, in that priority) runs only
over the lines the earlier ones did not take; PRI -> facility/severity with integer kernels; times with Arrow casts/strptime.
Structured data is parsed once per distinct SD string. Only octet-counted framing walks
the buffer in Python (each frame's start depends on the previous length).

Mapping:
- sshd, sudo and su lines that say who authenticated -> Authentication (3002): sshd
  ``Accepted|Failed <method> for [invalid user] U from IP port P``, ``Invalid user``,
  ``maximum authentication attempts exceeded``, ``User U [from H] not allowed because ...`` and
  ``ROOT LOGIN REFUSED FROM H`` (refused by the configuration), ``Disconnected from user``, a
  connection ended before its user authenticated (``Disconnected from|Disconnecting|Connection
  closed by|Connection reset by|Received disconnect from invalid|authenticating user U IP port P``:
  a Logon Failure, ``invalid user`` or ``disconnected before authentication`` and the reason given
  in ``status_detail``), pam_unix session
  opened/closed and ``authentication failure`` (SSSD's pam_sss writes the same failure line:
  ``pam_sss(sshd:auth): authentication failure; ... user=U``), sshd's ``error: PAM: <reason> for [illegal user] U
  from H`` (the reason is ``status_detail``) and ``PAM N more authentication failures; ...``
  (read as the pam_unix failure it summarizes, ``count`` N); sudo ``U : [N incorrect password attempts ;]
  TTY=.. ; PWD=.. ; USER=T ; COMMAND=..``; su ``'su T' failed for U``, ``FAILED SU (to T) U on tty``,
  ``FAILED su for T by U``, the BSDs' ``BAD SU U to T on TTY`` and its successes ``(to T) U on tty``, ``Successful
  su for T by U``, ``+ tty U:T``, ``U to T on TTY``. sshd lines are
  Logon/Logoff (``is_remote``), sudo/su lines are Account Switch (``account_switch_type_id``
  1 Substitute User) where ``user`` is the account switched to and ``actor.user`` the invoker.
  ``auth_protocol`` is the sshd method (password, publickey, ...; ``auth_protocol_id`` 99
  Other: OCSF lists no SSH methods), status Success/Failure with the reason in
  ``status_detail``; PAM's ``rhost`` is ``src_endpoint.ip`` when an address, else
  ``src_endpoint.hostname``. Older PAM lines (``sshd(pam_unix)[pid]: authentication failure;
  ...``, ``su(pam_unix)[pid]: session opened ...``) count as the current ``pam_unix(svc:...)``
  ones. A line rsyslog collapsed (``message repeated N times: [ <message>]``) is read as the
  message it repeats, with ``count`` N.
- Dropbear's (OpenWrt's SSH server) ``Password|Pubkey auth succeeded for 'U' ... from A:P``, ``Bad password attempt
  for 'U' from A:P``, ``Login attempt for nonexistent user from A:P`` and ``Max auth tries reached - user 'U'
  from A:P`` -> Authentication (3002) Logon Success / Failure (the method, the user, the client); OpenBSD
  doas's ``U ran command CMD as T from CWD``, ``failed auth for U`` and ``command not permitted for U: CMD``
  -> Account Switch Success / Failure as sudo's (T the user, U the actor, CMD in ``unmapped.command``).
- shadow-utils and pam_unix account lines -> Account Change (3001): useradd's ``new user:
  name=U, UID=N, ...`` (Create, ``user.uid``), userdel's ``delete user 'U'`` (Delete), pam_unix's
  ``pam_unix(passwd:chauthtok): password changed for U`` (Password Change), usermod's ``lock`` /
  ``unlock user 'U' password`` (Lock / Unlock); and Group Management (3006): ``new group: name=G,
  GID=N`` (Create), groupdel's ``group 'G' removed from /etc/group`` and userdel's ``removed group
  'G'`` (Delete), usermod's ``add 'U' to group 'G'`` / userdel's ``delete 'U' from group 'G'`` and
  gpasswd's ``user U added by A to group G`` / ``... removed by A from group G`` (Add / Remove User,
  gpasswd's A the actor); each a Success. The ``shadow group`` and ``/etc/gshadow`` twin lines of
  the same change stay Base Events.
- the PAM lines of other services (``pam_unix(login|cron|systemd-user|vsftpd|...:session)``: session
  opened / closed Logon / Logoff; ``:auth): authentication failure`` (pam_unix's or pam_sss's) Logon Failure, ``rhost`` the
  source), login's ``FAILED LOGIN (N) on 'TTY' FOR 'U', REASON`` (Logon Failure) and ``ROOT LOGIN on
  'TTY'`` (Logon), systemd-logind's ``New session ID of user U.`` (systemd 256: ``New session 'ID' of
  user 'U' with class ...``; Logon), ``Session ID logged out. ...`` and ``Removed session ID.`` (Logoff,
  ``session.uid`` ID) -> Authentication (3002), the PAM service (else the TAG) the service; polkitd's
  ``Operator of S successfully authenticated as unix-user:U to gain ... authorization for action A for
  ... [CMD] (owned by unix-user:O)`` and ``... FAILED to authenticate ...`` -> Authentication Logon
  Success / Failure: U the user, O the actor, the action in the detail, CMD in ``unmapped.command``, a
  ``unix-session:ID`` the ``session.uid``, service polkit.
- PAN-OS SYSTEM logs of subtype ``auth`` (``auth-fail``, ``auth-success``) -> Authentication (3002) Logon
  Failure / Success: the description's user, its ``From`` the source, its ``Reason`` the detail, service PAN-OS.
- Cisco ASA / FTD authentication messages -> Authentication (3002): 605005 / 605004 management
  logins permitted / denied (source, the ASA's address and service), 113004 / 113012 and 113005 /
  113015 AAA authentications Successful / Rejected (the reason the detail, the user IP the source;
  a hidden user ``*****`` none), 611101 / 611102 user authentications and 611103 logouts.
- Cisco IOS logins -> Authentication (3002): ``SEC_LOGIN-5-LOGIN_SUCCESS`` / ``-4-LOGIN_FAILED``
  (Logon Success / Failure: the user, the source, ``localport`` the destination port, the reason
  the detail; the message's ``at hh:mm:ss ZONE Www Mmm d yyyy`` the time where the header's stamp
  has no year) and ``SYS-6-LOGOUT`` (Logoff, the tty in ``unmapped.tty``); its SSH server's
  ``SSH-5-SSH2_USERAUTH`` (``User 'U' authentication for SSH2 Session from A (tty = N) ... Succeeded|Failed``:
  Logon Success / Failure) and ``SSH-5-SSH2_CLOSE`` (``... for user 'U' ... closed``: Logoff).
- Cisco port-based access control (``DOT1X``, ``MAB``, ``AUTHMGR``, IOS XE's ``SESSION_MGR``: ``-FAIL``,
  ``-SUCCESS``, ``-RESULT``, ``-NOMOREMETHODS``; ``Authentication failed for client (MAC) on Interface IF
  AuditSessionID ID``) -> Authentication (3002) Logon Success / Failure: the client's MAC as
  ``src_endpoint.mac`` (Cisco's dotted form written with colons), the port as
  ``dst_endpoint.interface_name``, the AuditSessionID as ``session.uid``, EAP (802.1X) or RADIUS (MAB)
  the protocol, a failure reason or result the detail; no user (the client is a device).
- Junos OS authentication messages -> Authentication (3002): ``SSHD_LOGIN_FAILED`` and
  ``LOGIN_FAILED`` (Logon Failure), ``UI_LOGIN_EVENT`` (Logon, the ``ssh-connection``'s source
  address and port), ``UI_LOGOUT_EVENT`` (Logoff) and ``DOT1XD_USR_AUTHENTICATED`` (802.1X on a
  switch port: ``mac-address`` as ``src_endpoint.mac``, ``user-type`` MAC-RADIUS as RADIUS). The
  user and source come from the ``junos@`` structured data (RFC 5424), else from the message
  text, the MSGID opening a BSD line's MSG (``mgd[88299]: UI_LOGIN_EVENT: User 'support' login,
  ...``); the structured data stays in ``unmapped``. Without a user such a line is a Base Event.
- Postfix smtpd's SASL results (``warning: HOST[IP]: SASL MECH authentication failed: ...`` and a
  queue id's ``client=HOST[IP], sasl_method=MECH, sasl_username=U``) and Dovecot's (``imap-login:
  Login: user=<U>, method=M, rip=IP, lip=IP``; ``Aborted login`` / ``Disconnected`` ``(auth failed,
  N attempts)``; the auth process's ``pam|passwd-file|sql|ldap(U,IP): <reason>``) -> Authentication
  (3002), Logon Success / Failure: the user, the client as the source, ``lip`` the destination, the
  SASL mechanism or method the protocol, the reason the detail, the login process (imap, pop3) or
  the TAG the service. A Dovecot disconnect before any authentication stays a Base Event.
- Windows security events whose MSG is the event as JSON (NXLog's ``to_json()`` of an
  ``im_msvistalog`` record behind ``to_syslog_bsd()``) or a Snare line (below): logons (4624 /
  4648 Logon, 4625 Logon Failure, 4634 / 4647 Logoff, 4776 NTLM validation, Kerberos 4768-4771)
  -> Authentication (3002), 4672 -> Authorize Session (3003), process creation (Security 4688,
  Sysmon 1) -> Process Activity (1007), Sysmon's network connections (3) -> Network Activity
  (4001), user account changes (4720-4726, 4738, 4740, 4767) -> Account Change (3001), security group changes
  (4727-4734, 4754-4758) -> Group Management (3006), a log cleared (1102; 104 another log) -> Event
  Log Activity (1008): see :mod:`._winevents`.
- Snare's Windows event lines (``MSWinEventLog<TAB>...<TAB>EventID<TAB>...<TAB>description``, behind
  a syslog header or the host and a tab or space; a file of such lines is recognized by ``--format
  auto``) of the same logon events -> Authentication (3002), read
  from the expanded description: the New Logon / Account For Which Logon Failed / Account Whose
  Credentials Were Used account (else the Subject), logon type, source address, port and
  workstation, logon process, package, a failure's reason and status; the computer as the host.
- pfSense's authentication messages -> Authentication (3002): the webConfigurator's
  ``Successful login for user 'U' from: A (<server type>/<name>)`` and ``User logged out ...``
  (Logon / Logoff), ``webConfigurator authentication error for user 'U' from: A`` (Logon
  Failure), service ``webConfigurator``, the server type as the protocol (RADIUS, LDAP; another,
  such as ``Local Database``, Other named by it); its OpenVPN user-authentication script's
  ``user 'U' authenticated`` / ``could not authenticate.`` (tag ``openvpn``, service ``openvpn``).
- FortiGate administrator logins (FortiOS ``key=value`` MSG, logid 0100032001 successful,
  0100032002 failed, 0100032003 logout) -> Authentication (3002): the ``user``, ``srcip`` the
  source, ``dstip`` the FortiGate's address, ``method`` (https, ssh ...) the protocol named by it,
  a failure's ``reason`` the detail, service ``FortiGate``. A syslog server's file of such lines
  (RFC 3339 stamp, host, ``key=value`` MSG, no TAG) is recognized by ``--format auto``.
  The Junos, audit, pfSense and FortiGate readers each take the lines the one before left.
  FortiOS log lines (``date=... time=...`` or ``eventtime=...`` first, with a ``logid``) give what
  a header lacks: ``eventtime`` (epoch s, ms, us or ns) else ``date`` + ``time`` in ``tz`` as the
  time, ``level`` as the severity, ``logid`` as ``metadata.event_code``, ``devname`` as the host;
  such lines without any syslog header are recognized by ``--format auto``.
- FortiOS traffic logs (``type="traffic"``: a session a FortiGate policy allowed or denied) ->
  Network Activity (4001): ``action`` deny Refuse, Denied / Blocked; start Open; close and timeout
  Close; client-rst / server-rst Reset; any other (accept, ip-conn, dns) Traffic, each allowed
  (the Log Message Reference: "All Others = allowed by Firewall Policy"); source and destination
  addresses and ports, ``srcmac``, the protocol number and name, ``sessionid`` as
  ``connection_info.uid``, ``policyid``/``policyname`` as the firewall rule, the bytes and packets
  out and in (and their sums), ``duration`` (seconds, as ms), ``user`` as the actor, ``app`` as
  ``app_name``; the interfaces in ``unmapped.fortios``.
- Cisco ASA / FTD connection and access-list messages (by the number of ``%ASA-<sev>-<number>``)
  -> Network Activity (4001): 302013/302015/302017 Built (Open, Allowed; Inbound/Outbound; an
  outbound one names the responder first, so the initiator is the source), 302014/302016/302018
  Teardown (Close, or Reset where a reset ended it; ``duration`` and ``bytes``; named in its
  Built's order, whose direction it takes from a Built of the same connection in the batch, else
  a first side on a well-known port is taken as an outbound connection's responder, with
  ``is_src_dst_assignment_known`` false: the message does not say who began), the ASA's own
  interface ``NP Identity Ifc`` read as any,
  106023 ``Deny ... by access-group`` and 106001/106006/106007/106015 inbound denies (Refuse,
  Denied / Blocked), 106100 ``access-list`` verdicts (denied Refuse, permitted / est-allowed
  Traffic); the connection id as ``connection_info.uid``, the access group or list as
  ``firewall_rule.name``, an address the ``names`` command replaced as the endpoint's hostname;
  the interfaces (``nameif``) and a teardown's reason in ``unmapped.asa``.
- Cisco FTD connection events (``%FTD-<level>-430002`` a connection's beginning, ``430003`` its end:
  ``Key: Value`` pairs) -> Network Activity (4001): Open / Close, a blocked one Refuse; the
  AccessControlRuleAction the action and disposition (Allow / Trust / Fastpath Allowed, Block Denied /
  Blocked, with reset Denied / Reset, Monitor Observed / Logged); the initiator the source and the
  responder the destination (addresses, ports, interfaces, zones), protocol, ConnectionID, the rule and
  its reason, initiator bytes and packets out and responder ones in, ConnectionDuration, FirstPacketSecond
  as the start time, the user, ApplicationProtocol as ``app_name``, EventPriority the severity (else
  Informational: the syslog level is the policy's alert level); every pair in ``unmapped.ftd``
  (see :mod:`._syslog_ftd`).
- sshd's refusals before any authentication (``drop connection #N from [A]:P on [A]:P <reason>``: an
  OpenSSH 9.8+ PerSourcePenalties ``penalty: ...``, ``too many penalised addresses``, MaxStartups) ->
  Network Activity (4001), Refuse, Denied / Blocked, Inbound TCP: the client the source, the server's
  address and port the destination, the reason ``status_detail``; the count in ``unmapped.sshd``.
- Cisco IOS / IOS XE access-list logs (``SEC-6-IPACCESSLOG*``, ``IPV6_ACL-6-ACCESSLOG*``, IOS XE's
  ``FMANFP-6-IP[V6]ACCESSLOG*``: ``list ACL permitted|denied PROTO SRC(PORT) -> DST(PORT), N
  packets``) -> Network Activity (4001): denied Refuse (Denied / Blocked), permitted Traffic
  (Allowed); the list as ``firewall_rule.name``, protocol, addresses, ports, the packets counted;
  ``log-input``'s interface and MAC and the ICMP / IGMP type and code in ``unmapped.ios``.
- Junos SRX session logs (RFC 5424 ``RT_FLOW_SESSION_CREATE`` / ``_CLOSE`` / ``_DENY`` and the AppTrack
  ``APPTRACK_SESSION_CREATE`` / ``_CLOSE`` / ``_VOL_UPDATE``, also their logical-system ``_LS``
  forms, with the ``junos@`` element) -> Network Activity (4001): Open / Close / Refuse (Denied /
  Blocked) / Traffic; addresses, ports and zones, protocol, ``session-id-32``, ``policy-name``
  as the rule, client bytes and packets out and server ones in, ``elapsed-time``, ``username``,
  ``application``.
- Windows Firewall logs (``pfirewall.log``: ``date time action protocol src-ip dst-ip src-port
  dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path [pid]``, recognized by
  ``--format auto``) -> Network Activity (4001): DROP Denied / Blocked, ALLOW Allowed (Traffic),
  XP's OPEN / CLOSE (Open / Close); RECEIVE Inbound, SEND Outbound; protocol, addresses, ports,
  size as ``traffic.bytes``, pid; the line's local time (no zone: UTC); TCP flags, ICMP type and
  code, info and path in ``unmapped.windows_firewall``.
- Cisco Meraki messages (``<PRI>1 <epoch s.ns> <device> <event type> ...``: the epoch the time,
  the device the host, the type the event code); its flow and firewall types (``flows``,
  ``firewall``, ``vpn_firewall``, ``cellular_firewall``, ..., ``ip_flow_start``/``_end``) -> Network
  Activity (4001): the verdict (``allow``/``deny`` after the type, else the rule's ``pattern:``, the
  numeric ``0``/``1`` allow/deny), addresses, ports, protocol, ``mac`` as the source's, the rule as
  ``firewall_rule.name``; NAT translation and ICMP type in ``unmapped.meraki``.
- PAN-OS traffic logs (the syslog CSV ``FUTURE_USE,Receive Time,Serial,TRAFFIC,subtype,...`` of
  PAN-OS 8.1 to 11.x) -> Network Activity (4001): the subtype the activity (start Open, end Close,
  deny / drop Refuse, another Traffic), the Action the verdict (allow Allowed, any other Denied /
  Blocked); addresses, ports and zones (``src_endpoint.zone``), the protocol, the session id as
  ``connection_info.uid``, the rule as ``firewall_rule.name``, the source user as the actor, the
  application as ``app_name``, bytes and packets (sent out, received in), the elapsed seconds as
  the duration; the Generated Time (with the year a BSD header lacks; no zone: UTC) as the time
  where the header has none or no year; NAT addresses, interfaces and the session end reason in
  ``unmapped.panos``.
- PAN-OS threat logs (the syslog CSV ``...,THREAT,<subtype>,...``: url, virus, spyware,
  vulnerability, file, scan, flood, wildfire ...; quoted fields read whole) -> Detection Finding
  (2004), Create: the threat ``Name(ID)`` as the title and the analytic (a URL log, threat
  ``(9999)``, titled by its category), the subtype as the finding's type, the log's severity
  (informational..critical), the Action (allow / alert / continue Allowed, alert's disposition
  Alert; reset-* Reset; deny, drop, block-* Blocked), the serial and Sequence Number as the
  finding's uid, the Generated Time as the traffic log's; the evidence holds the source and
  destination with zones, session and protocol, the users, the URL (url) or file name (file,
  virus, wildfire); NAT addresses, rule, application, category, direction, repeat count in
  ``unmapped.panos``.
- FortiOS UTM logs (``type="utm"``: virus, ips, anomaly, webfilter, app-ctrl, dlp ... a security
  profile's detection; also after the ``logver``/``timestamp``/``devname`` keys some forwarders put
  first) -> Detection Finding (2004), Create: the virus, IPS attack, web filter category or
  application as the title and analytic (with ``virusid``/``attackid``/``appid``), ``msg`` the
  description, the subtype the type, ``incidentserialno`` the uid, an IPS ``severity`` else the
  ``level`` the severity, ``action`` the action and disposition (pass Allowed; detected /
  monitored Detected; blocked / dropped Blocked; reset Reset); the evidence holds the connection,
  the user, the URL and the file name; event type, profile, direction, reference, interfaces,
  policy in ``unmapped.fortios``.
- the Jenkins Audit Trail plugin's syslog messages (its Syslog logger, APP-NAME ``jenkins``: each
  message as the plugin's log file holds it after the time) -> the classes
  :mod:`._jenkins_audit` gives the log file's: build starts and ends Scheduled Job Activity,
  requests API Activity, logins Authentication; the header's time, host and severity stay.
- HTTP servers' access log lines (Common or Combined Log Format: Apache's ``%h %l %u %t "%r" %>s
  %b["%{Referer}i" "%{User-agent}i"]``, nginx's ``combined``, Apache's ``vhost_combined`` with
  ``%v:%p`` first), as a syslog MSG (nginx's ``access_log syslog:``, rsyslog ``imfile``) or bare
  lines of an access log (recognized by ``--format auto``) -> HTTP Activity (4002): the method's
  activity (Get, Post, ...; Other, named by the method, for another method; Unknown where the request line is none:
  ``"-"``, a TLS handshake, junk, kept in ``unmapped.request``), ``http_request`` method, url
  path and query string, version, referrer, user agent (``-`` is absent), ``%v:%p`` (the server
  that answered) as ``dst_endpoint`` hostname and port; ``http_response`` code and body length (``%b``); the client as
  ``src_endpoint.ip`` (or ``hostname`` when a name), ``%u`` as ``actor.user.name``; status
  Success below 400, else Failure, the code as ``status_code``. The time is the request's own
  (``%t``, with its year and zone, which a BSD header lacks), not the header's. A client that is
  a list of addresses (``$http_x_forwarded_for`` / ``$proxy_add_x_forwarded_for`` logged where
  ``$remote_addr`` stands, quoted or not, maybe followed by the peer's address): the first is
  ``src_endpoint``, the other IPs ``src_endpoint.intermediate_ips``. A quoted field after the user
  agent that lists addresses (nginx's ``main`` format, ``"$http_x_forwarded_for"`` last) is
  ``http_request.x_forwarded_for`` (the client stays the peer that connected: the header can be
  forged); a request target in absolute form (``GET http://host:port/path``, a forward proxy's
  request) or a ``CONNECT``'s authority form (``host:443``) gives the URL's scheme, hostname and port,
  and the path alone as ``url.path``.
- HAProxy HTTP log lines (``option httplog``: ``client:port [accept date] frontend backend/server
  timers status bytes ... "request"``) -> HTTP Activity (4002): the client as the source (address
  and port), the method's activity, path, query and version, the status and its outcome, the bytes
  sent as ``http_response.length``, the total time ``Ta`` as the duration; the accept date (year and
  ms, no zone: UTC) as the time where the header's is a yearless BSD stamp; frontend, backend,
  server, timers, termination state, connection counts, queues and captured headers in
  ``unmapped.haproxy``.
- Squid ``access.log`` lines in the native format (``time.ms elapsed client RESULT/status bytes
  method URL user HIERARCHY/server type``, bare lines recognized by ``--format auto`` or a syslog
  MSG) -> HTTP Activity (4002): the line's epoch time, the client as the source, the URL's host
  (and port) as the destination with the server Squid went to as its address, the method's
  activity, the URL whole and in parts, status and outcome (``000``: Failure), a ``_DENIED``
  result Denied, bytes as ``http_response.length``, content type, user, elapsed ms as the
  duration; the result and hierarchy codes in ``unmapped.squid``.
- DNS servers' query logs (the TAG ``named``, ``dnsmasq`` or ``unbound``): BIND's ``queries``
  category (``client [@0x...] IP#PORT[ (NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS (SERVER)``)
  its refusals (``query [(cache)] 'NAME/TYPE/CLASS' denied``, ``zone transfer ... denied``) and
  SERVFAIL responses (``query failed (REASON) for NAME/CLASS/TYPE at FILE:LINE``: the reason the
  ``status_detail``),
  dnsmasq's ``log-queries`` (``query[TYPE] NAME from IP``, ``forwarded NAME to IP``, ``reply`` /
  ``cached`` / ``config`` ``NAME is DATA``, after ``SERIAL IP/PORT`` with ``log-queries=extra``) and
  Unbound's ``log-queries`` / ``log-replies`` (``info: IP NAME TYPE CLASS[ RCODE ...]``) -> DNS
  Activity (4003): a query received or forwarded Query, an answer or a refusal Response; the
  name, type and class asked (``query``), the client the source, the logging host (with the
  address BIND names) or dnsmasq's upstream the destination, dnsmasq's answer data
  ``answers[].rdata``, the response code (a refusal Refused, ``NXDOMAIN`` NXDomain, data NoError);
  a refusal and a name Pi-hole's FTL (a dnsmasq) blocked (``gravity blocked NAME is 0.0.0.0``)
  action Denied, disposition Blocked; dnsmasq's ``dnssec-query[TYPE] NAME to IP`` a Query upstream.
  BIND's own log file (a channel's ``print-time`` stamp ``DD-Mon-YYYY hh:mm:ss.mmm`` first, no
  syslog header; ``--format auto`` takes it by such a ``client`` line) is read likewise: named's,
  the stamp its time (local time without a zone: taken as UTC, as a BSD stamp).
- pf ``filterlog`` lines (pfSense, OPNsense: the TAG or APP-NAME ``filterlog`` and its CSV, the
  "Raw Filter Log Format") -> Network Activity (4001), activity Traffic: the rule's action (pass
  Allowed, block Denied / Blocked, reject Denied / Rejected), direction (in Inbound, out
  Outbound), IP version, protocol number and name, source and destination addresses and TCP/UDP
  ports, the IP length as ``traffic.bytes``, the rule's tracker as ``firewall_rule.uid``; rule
  number, interface, reason, TCP flags and ICMP type in ``unmapped.filterlog``.
- Linux netfilter packet logs (the kernel's ``nf_log`` line that iptables ``-j LOG``, ufw,
  firewalld, nftables ``log`` and EdgeOS/VyOS rules write: ``[prefix]IN=.. OUT=.. [MAC=..] SRC=..
  DST=.. LEN=.. ... PROTO=.. [SPT=.. DPT=..]``, as a kernel syslog message or a bare dmesg line)
  -> Network Activity (4001), activity Traffic: the verdict the log prefix names (``[UFW BLOCK]``,
  ``DROP``, ``REJECT``, ``ACCEPT``, EdgeOS's ``[<ruleset>-<rule>-<A|D|R>]``; another prefix leaves
  the action Unknown: the kernel logs no verdict), direction Inbound (``IN`` only), Outbound
  (``OUT`` only) or Unknown (forwarded), IP version, protocol name and number, addresses (IPv6 in
  RFC 5952 text, the kernel writes every group in full) and TCP/UDP ports, ``LEN`` as
  ``traffic.bytes``, the prefix as ``firewall_rule.name``; the interfaces, the MAC header, TCP
  flags and ICMP type and code in ``unmapped.netfilter``.
- nginx error log lines (``YYYY/MM/DD HH:MM:SS [level] PID#TID: [*CID ]text``, bare lines of
  ``error.log``, recognized by ``--format auto``, or the MSG of ``error_log syslog:``) stay Base
  Events and take their level as the severity where no ``<PRI>`` gave one, the pid, ``nginx`` as
  the program where no TAG named one, the stamp as the time where no header gave one (no zone:
  UTC), the text after the prefix as the message of a bare line; ``unmapped.nginx`` keeps the
  thread and connection ids and the request's context (client, server, request, upstream, host,
  referrer). A line a program wrote inside such a message (a FastCGI stderr) is a line of its own.
- Apache httpd error log lines (``[Www Mmm dd hh:mm:ss[.usec] yyyy] [[module]:level] [pid P[:tid T]]
  [client A] text``, or the ISO ``%{cu}t`` stamp with its zone; bare lines of ``error_log``,
  recognized by ``--format auto``, or a syslog MSG) stay Base Events as nginx's do: the level as
  the severity where no ``<PRI>`` gave one (``traceN``: debug), the pid, ``httpd`` as the program
  where no TAG named one, ``AHnnnnn`` as the event code, the stamp as the time where no header gave
  one or only a yearless one, the text after the prefix as a bare line's message;
  ``unmapped.apache`` keeps the module, thread, a trace's source and the client.
- every other line -> Base Event (class 0). A free-text syslog line says nothing reliable
  about what happened; OCSF's base class is the documented catch-all, and any specific class
  (Process Activity, Event Log Activity, ...) would invent semantics the line does not carry.
Both keep: ``message``, ``device.hostname`` (``device.ip`` where the HOSTNAME is an IP address, as RFC
5424 section 6.2.4 and RFC 3164 section 4.1.2 allow and a Cisco device's ``logging origin-id ip`` or a
relay's BSD header writes: ``<189>123: 10.1.1.1: *Mar 1 ...``, ``Mar 1 00:00:00 10.1.1.1 %SEC-6-...``;
and ``device.ip`` from the RFC 5424 ``origin`` SD-ELEMENT's first ``ip``, which comes first, the
HOSTNAME then kept as the name), ``actor.process.name``/``pid`` (APP-NAME/TAG and
PROCID), ``metadata.event_code`` (MSGID), ``metadata.log_level`` (syslog severity word),
``metadata.log_format`` (``RFC 5424`` / ``RFC 3164``), severity_id from the syslog severity
(emerg 6 Fatal, alert/crit 5, err 4, warning 3, notice 2, info/debug 1; no PRI 0 Unknown);
``unmapped`` holds the facility, a PROCID that is not a number, the structured data
(``{SD-ID: {param: value}}``; a repeated param gets a list of its values), the Cisco sequence number and the sudo COMMAND / target TTY. ``metadata.uid`` hashes the message bytes;
a line repeated verbatim is another event each time (sshd logs every failed password of one
connection alike, often within the same second), so its k-th repeat hashes the ordinal k too:
a re-read of the same log still collapses, its repeated lines are all kept. The ordinal counts
the identical lines before it in the same *stream*, not only in the same batch: a file read in
chunks, a tailed file read poll by poll, a listener's batches. The reader keeps a
:class:`Repeats` per stream (the last 65,536 distinct lines, at least, within 32 MiB of them)
and appends to each batch's source what the batch cannot know: ``;repeats=<offset>:<count>,...``,
for each line already seen, the offset of its first copy in the batch and how many came before
(ASCII digits only, a count of at least 1; a source holding the marker already gets one, empty
if need be, so the decoder takes off only what ``Repeats`` wrote; anything else after the marker
is no hint and the source is taken whole). The hint is in the source the WAL keeps, so a replay
hashes the same ordinals. The bodies one sender (token
and endpoint) POSTs over HTTP are one stream too (:class:`Streams`); the same body sent again,
a retry after a lost answer, gets the hint it got the first time and collapses.

Shipped lines: a shipper that wraps each line in a document of its own names the host it read
the line on (Filebeat's ``host.name``, a HEC envelope's ``host``); the wire routes append it to
the source as ``;host=<name>`` (before any ``;repeats=`` hint; a name of letters, digits and
``.:_-`` only, anything else is no hint). A line whose header names no host (an access-log line,
a journal-less container's output) then has that host as ``device.hostname``, and its
``metadata.uid`` hashes the host too: the same health-check line written at the same second on
two web servers is two events. A line naming its own host keeps it, and its identity. The time
the documents name (Filebeat's, Logstash's and Fluent Bit's ``@timestamp``, Vector's ``timestamp``,
a HEC envelope's ``time``) comes as ``;at=<epoch ms>`` before the host (the latest of the body's
documents, which the wire routes split by 30 days of their times): a BSD stamp without a year is read in the year that puts it at most a day after that
time, not the receipt clock's (an archive shipped today keeps its year; a ``Dec 31`` line shipped on
Jan 1 is the year before), and a line with no time of its own (Splunk Connect for Syslog's HEC
events: ``PROGRAM[PID]: MSG``, the time in the envelope) takes that time, not the receipt's. The
listener's source names the sender's address (``/peer=<ip>:<port>``): a line that names no host
has that address as ``device.ip`` (as rsyslog takes ``fromhost-ip`` for a message without a
HOSTNAME), hashed into its identity the same way (the port is not: it changes each connection).

CloudWatch Logs: log lines the CloudWatch agent ships (``/var/log/secure``, ``auth.log``,
``messages``) reach a team in the same envelopes as CloudTrail and EKS logs
(:mod:`._cwlogs`): a subscription's ``{"messageType": "DATA_MESSAGE", "logEvents": [{"id",
"timestamp", "message"}]}`` (as Firehose writes them, back to back) and the Logs API's
``filter-log-events``/``get-log-events`` answers; also a Lambda function's event of one
(``{"awslogs": {"data": <base64 gzip>}}``), read by the same :func:`._cwlogs.log_events`. An
envelope whose first message is text, not JSON, is read here: each log event's message is one syslog message (kept whole, newlines
included); its ``metadata.uid`` hashes the message in the context of the log event's ``id``
(CloudWatch's identity for it: a redelivered envelope collapses, equal lines stay apart), and a
message without a time of its own takes the log event's ``timestamp``; ``unmapped.cloudwatch``
keeps the envelope's ``owner``, ``logGroup`` and ``logStream`` (an answer's ``logStreamName``):
what alone names a Lambda function's START/END/REPORT lines or an instance. A ``CONTROL_MESSAGE``
holds no event; a log event without a string message, or a JSON record that is no envelope, is
dead-lettered alone.

Framing note: the format is ``lines``, so a file reader may cut a large file at line ends;
that is exact for newline-framed logs. Octet-counted data is meant for stream bodies (the
listener hands each batch over whole); an octet-counted *file* larger than one read chunk
can be cut inside a frame, and the cut part is dead-lettered as a broken frame.

Encoding: a line that is not UTF-8 is kept. RFC 5424 section 6.4 defines ``MSG = MSG-ANY /
MSG-UTF8`` with ``MSG-ANY = *OCTET`` (only a MSG opening with the BOM is UTF-8), RFC 3164
names no encoding, and 8-bit devices send Latin-1 text (rsyslog's ``8bit.parse1`` test). The encoding is not guessed: the line's valid UTF-8 stays as it is and
each invalid byte is written ``\\xNN`` in ``message`` and ``raw_data`` (Python's
``backslashreplace``); ``metadata.uid`` still hashes the bytes received.

Dead letters: a PRI above 191, a 5424 timestamp that is not a valid RFC 3339 time, and a
broken octet-counted frame (the rest of the buffer is dead-lettered whole).
"""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import (
    _cef,
    _cwlogs,
    _falco_cef,
    _fast,
    _jenkins_audit,
    _journal,
    _linux_sysmon,
    _winevents,
)
from secpipe.formats._syslog_audit import _audit_auth, _audit_process
from secpipe.formats._syslog_auth import (
    _AUTH_APPS,
    _account_changes,
    _auth,
    _doas_auth,
    _dropbear_auth,
    _mail_auth,
    _old_pam,
    _polkit_auth,
    _session_auth,
)
from secpipe.formats._syslog_common import (
    _I32,
    _I64,
    S,
    _address_hosts,
    _is_ip,
    _nil,
    _nil_empty,
    _number,
    _object,
)
from secpipe.formats._syslog_dns import _dns_queries
from secpipe.formats._syslog_forti import _fortigate_traffic, _fortigate_utm, _fortios
from secpipe.formats._syslog_frames import (
    _CW_NO_MESSAGE,
    _NOT_CW,
    Repeats,
    Streams,
    _bases,
    _cw_text,
    _file_mtime,
    _frames,
    _header_below,
    _hints,
    _is_cwlogs,
    _peer_ip,
    _shipped_at,
    _shipped_host,
    _sniff_line,
)
from secpipe.formats._syslog_ftd import _ftd_connections
from secpipe.formats._syslog_fw import (
    _filterlog,
    _netfilter,
    _sshd_drops,
    _windows_firewall,
)
from secpipe.formats._syslog_header import (
    _BOM,
    _FACILITIES,
    _PAYLOAD_TAGS,
    _R3164_CSV,
    _R3164_HEAD,
    _R3164_NOTAG,
    _R5424,
    _R5424_LIMITS,
    _RAUDIT,
    _RAUDIT_IN,
    _RBARE,
    _RCISCO,
    _RCISCO_TEXT,
    _RMERAKI,
    _RPRI,
    _RTAG,
    _RTEXT,
    _SD_BROKEN,
    _SD_MISSING,
    _SEV_OCSF,
    _SEV_WORDS,
    _SOLARIS_ID,
    _bsd_times,
    _kiwi,
    _origin_ip,
    _own_time,
    _payload_times,
    _sd_json,
    _yearless,
    _zone_ms,
)
from secpipe.formats._syslog_net import (
    _asa_connections,
    _ios_acl,
    _junos_flow,
    _meraki_flows,
    _panos_threat,
    _panos_traffic,
)
from secpipe.formats._syslog_netauth import (
    _asa_auth,
    _fortigate_auth,
    _ios_auth,
    _junos_auth,
    _nac_auth,
    _panos_auth,
    _pfsense_auth,
    _snare_auth,
)
from secpipe.formats._syslog_web import _access_log, _apache_error, _haproxy_log, _nginx_error, _squid_log
from secpipe.formats._text import group, json_string, split_lines, utf8_mask, with_rest
from secpipe.formats.base import (
    DeadLetter,
    Decoded,
    Format,
    base_columns,
    const,
    event_uids,
    parse_times,
    split_json_records,
    to_batch,
)

__all__ = ["Repeats", "Streams", "Syslog"]


class Syslog(Format):
    """RFC 5424 / RFC 3164 syslog messages."""

    name = "syslog"
    description = ("Syslog RFC 5424 / RFC 3164 (PRI optional, octet-counted framing) and journalctl short* / json "
                   "output -> Authentication / Account Change / Group Management / HTTP Activity / Network Activity (pf filterlog, "
                   "netfilter, FortiGate traffic, "
                   "Cisco ASA connections, Cisco IOS ACLs, PAN-OS traffic, Junos SRX sessions, Windows Firewall, Meraki flows) / Detection Finding "
                   "(PAN-OS threat, FortiGate UTM) / Base Event")
    framing = "lines"
    product = "syslog"
    vendor = "IETF"

    def sniff(self, head: bytes) -> int:
        """Recognize ``<PRI>``, octet counting, or a BSD timestamp at the start; or (score 40) such
        a header on one of the next seven lines, after lines no header grammar takes (a relay
        keeps those whole: RFC 3164 section 4.3.3)."""
        h = head.lstrip(b"\xef\xbb\xbf")
        if _journal.is_json(h) or _journal.is_export(h):
            return 85
        if _cw_text(h):
            return 65  # CloudWatch Logs envelopes of text lines (CloudTrail/EKS ones hold JSON messages)
        if h.startswith(b"-- "):  # journalctl's "-- Logs begin at ... --" first line
            h = h.partition(b"\n")[2]
        return _sniff_line(h) or (40 if _header_below(h) else 0)

    def decode(self, data: bytes, source: str) -> Decoded:
        """Decode a run of syslog messages (see module docstring)."""
        out = Decoded()
        source, hints = _hints(source)
        if _journal.is_json(data):
            lines_b, offs = split_lines(data)
            out.events += len(lines_b)
            fields = _journal.json_fields(lines_b, offs, out, source, self.name)
            if fields is not None:
                self._emit(fields, out)
            return out
        if _journal.is_export(data):
            self._decode_export(data, source, out)
            return out
        if _is_cwlogs(data):
            self._decode_cwlogs(data, source, out)
            return out
        lines_b, offs, tail, at = _frames(data, source)
        if tail is not None:
            out.dead.append(DeadLetter("broken octet-counted frame (RFC 6587): expected '<length> <message>'", source, at, tail, self.name))
            out.events += 1
        out.events += len(lines_b)
        if not len(lines_b):
            return out
        self._map(self._text(lines_b), lines_b, offs, out, source, _bases(hints, lines_b, offs),
                  shipped_host=_shipped_host(source), peer_ip=_peer_ip(source), shipped_at=_shipped_at(source),
                  written=_file_mtime(source))
        return out

    def _decode_export(self, data: bytes, source: str, out: Decoded) -> None:
        """``journalctl -o export`` entries, mapped as its JSON entries (:func:`._journal.export_entries`)."""
        raws, offs, entries, broken = _journal.export_entries(data)
        out.events += len(raws) + len(broken)
        out.dead.extend(DeadLetter(reason, source, at, raw, self.name) for at, raw, reason in broken)
        if not entries:
            return
        as_json = pa.array([msgspec.json.encode(e) for e in entries], pa.binary())
        fields = _journal.json_fields(as_json, pa.array(offs, pa.int64()), out, source, self.name)
        if fields is not None:  # (every entry is an object: none is left out) the entry itself is the line
            fields["lines"] = pa.array(raws, pa.binary())
            fields["text"] = pa.array([r.decode("utf-8", "backslashreplace") for r in raws], S)
            fields["fmt"] = pa.array(["journal export"] * len(raws), S)
            self._emit(fields, out)

    def _decode_cwlogs(self, data: bytes, source: str, out: Decoded) -> None:
        """CloudWatch Logs envelopes of text messages (see module docstring)."""
        records, offsets, bad = split_json_records(data, source, self.name)
        out.dead.extend(bad)
        out.events += len(bad)
        messages: list[bytes] = []
        at: list[int] = []
        ids: list[str | None] = []
        stamps: list[int | None] = []
        origins: list[str | None] = []
        known: dict[tuple[str | None, ...], str | None] = {}
        for raw, off in zip(records, offsets, strict=True):
            try:
                found = _cwlogs.log_events(raw, strict=False)
            except ValueError as exc:  # a Lambda event whose awslogs.data does not inflate
                out.dead.append(DeadLetter(str(exc), source, off, raw, self.name))
                out.events += 1
                continue
            if found is None:
                out.dead.append(DeadLetter(_NOT_CW, source, off, raw, self.name))
                out.events += 1
                continue
            events, env = found
            for ev in events:
                out.events += 1
                if isinstance(ev, bytes):
                    out.dead.append(DeadLetter(_CW_NO_MESSAGE, source, off, ev, self.name))
                    continue
                messages.append(ev.message.encode().rstrip(b"\r\n"))
                at.append(off)
                ids.append(ev.id or ev.eventId)
                stamps.append(ev.timestamp)
                key = (env.owner, env.logGroup, env.logStream or ev.logStreamName)
                origin = known.get(key, "")
                if origin == "":
                    named = {k: v for k, v in zip(("owner", "logGroup", "logStream"), key, strict=True) if v is not None}
                    origin = known[key] = json.dumps(named, ensure_ascii=False) if named else None
                origins.append(origin)
        if messages:
            lines_b = pa.array(messages, pa.binary())
            extra = {"uid_context": pa.array([None if i is None else "cloudwatch " + i for i in ids], S),
                     "cw_times": pa.array(stamps, pa.int64()).cast(pa.timestamp("ms", "UTC")),
                     "cw_origin": pa.array(origins, S)}  # fmt: skip
            self._map(self._text(lines_b), lines_b, pa.array(at, pa.int64()), out, source, extra=extra)

    @staticmethod
    def _text(lines_b: pa.Array) -> pa.Array:
        """The lines as text. A line that is not UTF-8 is kept, its invalid bytes written as
        ``\\xNN`` (see module docstring: RFC 5424 section 6.4 MSG-ANY)."""
        if utf8_mask(lines_b) is None:
            return lines_b.cast(S)
        return pa.array([b.decode("utf-8", "backslashreplace") for b in lines_b.to_pylist()], S)  # the rare path only

    def _map(self, lines: pa.Array, lines_b: pa.Array, offs: pa.Array, out: Decoded, source: str,
             base: pa.Array | None = None, extra: dict[str, pa.Array] | None = None,
             shipped_host: str | None = None, peer_ip: str | None = None, shipped_at: int | None = None,
             written: int | None = None) -> None:
        n = len(lines)
        text = lines  # the lines as received (``raw_data``); ``lines`` the ones the grammars read
        lines, relayed = _kiwi(lines)
        taken = pa.array(np.zeros(n, bool))
        parsers: list[tuple[pa.Array, pa.Array, dict[str, str]]] = []

        def run(regex: str, names: dict[str, str], pre: pa.Array | None = None,
                limits: dict[str, int] | None = None, head_only: bool = False) -> pa.Array:
            """Match the lines no earlier (higher-priority) parser took (and that pass ``pre``);
            the regex runs over those lines only. ``limits``: the most characters a group may
            hold (a longer one fails the match). ``head_only``: the regex captures the header as
            ``_head`` and stops; ``msg`` is the rest of the line. Returns the mask of lines this
            parser took."""
            nonlocal taken
            cand = pc.invert(taken) if pre is None else pc.and_(pc.invert(taken), pre)
            count = pc.sum(cand).as_py() or 0
            if count == 0:
                return pa.array(np.zeros(n, bool))
            some = lines if count == n else lines.filter(cand)
            st = pc.extract_regex(some, regex)
            if head_only:
                st = with_rest(some, st, "_head", "msg")
            if count < n:  # the regex ran over the candidates: results scattered back (null elsewhere)
                pos = pc.subtract(pc.cumulative_sum(cand.cast(pa.int64())), 1)
                st = st.take(pc.if_else(cand, pos, pa.scalar(None, pa.int64())))
            ok = pc.fill_null(pc.and_(st.is_valid(), cand), False)
            for group_name, most in (limits or {}).items():
                ok = pc.and_(ok, pc.fill_null(pc.less_equal(pc.utf8_length(group(st, group_name)), most), True))
            taken = pc.or_(taken, ok)
            parsers.append((ok, st, names))
            return ok

        ok5 = run(_R5424, {"pri": "pri", "ts5": "ts", "host": "host", "app": "app", "procid": "procid", "msgid": "msgid",
                           "sd": "sd", "msg": "msg", "unsd": "unsd"}, limits=_R5424_LIMITS)  # fmt: skip
        cisco = {"pri": "pri", "host": "host", "host0": "host0", "ts": "ts", "ts0": "ts0", "code": "code", "cnt": "cnt",
                 "seq": "seq", "seq2": "seq2", "tz": "tz", "tz0": "tz0", "msg": "msg", "app": "proc", "procid": "pid",
                 "task": "task"}  # fmt: skip
        okc = run(_RCISCO, cisco, pre=pc.match_substring(lines, "%"))
        ok3 = run(_R3164_HEAD, {"pri": "pri", "ts": "ts", "host": "host", "app": "tag", "procid": "pid", "msg": "msg"},
                  head_only=True)  # fmt: skip
        ok3n = run(_R3164_NOTAG, {"pri": "pri", "ts": "ts", "host": "host", "msg": "msg"})
        ok3n = pc.or_(ok3n, run(_R3164_CSV, {"pri": "pri", "ts": "ts", "msg": "msg"}))
        run(_RBARE, {"msg": "msg"})
        okm = run(_RMERAKI, {"pri": "pri", "msgid": "type", "host": "host", "epoch_s": "s", "epoch_f": "f", "msg": "msg"},
                  pre=pc.match_substring(lines, ">1 "))  # fmt: skip
        okc = pc.or_(okc, run(_RCISCO_TEXT, {"pri": "pri", "host": "host", "ts": "ts", "seq": "seq", "seq2": "seq2", "tz": "tz",
                                             "msg": "msg"}))  # fmt: skip
        left = pc.invert(taken)
        if pc.any(left).as_py():  # a WLC's code may open with ``#``: looked for in the lines no header took
            hashed = pc.match_substring(pc.if_else(left, lines, pa.scalar(None, S)), ": #")
            okc = pc.or_(okc, run(_RCISCO, cisco, pre=pc.fill_null(hashed, False)))
        run(_RPRI, {"pri": "pri", "msg": "msg"})
        run(_journal.MARKER, {"msg": "msg"})
        oka = run(_RAUDIT, {"host": "node", "msgid": "type", "audit_id": "id", "audit_s": "sec", "audit_f": "frac",
                            "msg": "msg"}, pre=pc.match_substring(lines, "msg=audit("))  # fmt: skip
        run(_RTAG, {"app": "tag", "procid": "pid", "msg": "msg"})
        run(_RTEXT, {"msg": "msg"})

        def pick(field: str) -> pa.Array:
            col = pa.nulls(n, S)
            for ok, st, names in reversed(parsers):
                if field in names:
                    col = pc.if_else(ok, group(st, names[field]), col)
            return col

        pri_s = pick("pri")
        ts5 = _nil(pick("ts5"))
        ts3 = pc.coalesce(pick("ts"), pick("ts0"))
        host0, host1 = _nil(pick("host0")), _nil(pick("host"))
        host = pc.coalesce(host0, host1)  # a relay/ASA header names the device first
        # ... by its address, then the device its name (``Jul 13 08:23:43 192.168.100.2 sw01: ...``): both kept
        host_ip = None
        if (ip0 := _address_hosts(host0)) is not None:
            both = pc.and_(ip0, pc.is_valid(host1))
            if (ip1 := _address_hosts(host1)) is not None:
                both = pc.and_(both, pc.invert(ip1))
            if pc.any(both).as_py():
                host_ip, host = pc.if_else(both, host0, pa.scalar(None, S)), pc.if_else(both, host1, host)
        app = _nil(pc.coalesce(pick("app"), pick("task")))  # a WLC's task names the process that wrote it
        procid = _nil(pick("procid"))
        msgid = _nil(pc.coalesce(pick("msgid"), pick("code")))
        sd = pick("sd")
        # the sequence number, else the count; as a number (``service sequence-numbers`` pads it: ``007439``)
        seq = _number(pc.coalesce(_nil_empty(pick("seq2")), _nil_empty(pick("seq")), _nil_empty(pick("cnt"))), _I64).cast(S)
        counted = pc.fill_null(pc.and_(pc.and_(ok3, pc.is_null(procid)), pc.utf8_is_digit(app)), False)
        if pc.any(counted).as_py():  # a TAG of digits alone is a Cisco sequence number behind a relay's header
            seq = pc.if_else(counted, _number(app, _I64).cast(S), seq)  # (``Sep  7 06:20:59 router 93: SSH2 0: ...``)
            app = pc.if_else(counted, pa.scalar(None, S), app)
        msg = pick("msg")
        sd_error = None
        no_sd = pc.fill_null(pc.and_(ok5, pc.is_null(sd)), False)  # ``group``: a group not taking part is null
        if pc.any(no_sd).as_py():  # an RFC 5424 header without valid structured data: read, the fault said
            unsd = pick("unsd")
            msg = pc.if_else(no_sd, unsd, msg)
            broken = pc.fill_null(pc.starts_with(unsd, "["), False)
            sd_error = pc.if_else(no_sd, pc.if_else(broken, _SD_BROKEN, _SD_MISSING), pa.scalar(None, S))
        # ``host CEF:0|...``: the 3164 grammar reads CEF/LEEF as a TAG; it is the payload's start.
        payload_tag = pc.fill_null(pc.and_(ok3, pc.is_in(app, value_set=_PAYLOAD_TAGS)), False)
        if pc.any(payload_tag).as_py():
            msg = pc.if_else(payload_tag, pc.binary_join_element_wise(app, msg, ":"), msg)
            app = pc.if_else(payload_tag, pa.scalar(None, S), app)
        msg = _nil_empty(pc.utf8_ltrim_whitespace(pc.replace_substring_regex(msg, "^" + _BOM, "")))
        pri = pc.cast(pri_s, pa.int32())
        solaris = pc.fill_null(pc.starts_with(msg, "[ID "), False)
        if pc.any(solaris).as_py():  # Solaris's message ID, facility and level first: the ID is the event code
            tagged = pc.extract_regex(pc.if_else(solaris, msg, pa.scalar(None, S)), _SOLARIS_ID)
            msg = pc.if_else(tagged.is_valid(), group(tagged, "rest"), msg)
            msgid = pc.coalesce(msgid, group(tagged, "id"))
            said = pc.add(pc.multiply(pc.index_in(group(tagged, "fac"), value_set=_FACILITIES), 8),
                          pc.index_in(group(tagged, "level"), value_set=_SEV_WORDS))  # fmt: skip
            pri = pc.coalesce(pri, said.cast(pa.int32()))  # where no <PRI> gave them
        fmt = pc.if_else(ok5, "RFC 5424", pc.if_else(pc.or_(pc.or_(ok3, ok3n), okc), "RFC 3164", pa.scalar(None, S)))
        epoch = None
        if pc.any(okm).as_py():
            fmt = pc.if_else(okm, "Cisco Meraki", fmt)
            frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pick("epoch_f"), 3, "0"), 0, 3)
            epoch = pc.add(pc.multiply(_number(pick("epoch_s"), _I64), 1000), _number(frac, _I64))
        audit: list[pa.Array] | None = None  # each line's audit event id, epoch seconds and fraction
        if pc.any(oka).as_py():
            fmt = pc.if_else(oka, "Linux audit", fmt)
            audit = [pick("audit_id"), pick("audit_s"), pick("audit_f")]
        bad_pri = pc.fill_null(pc.greater(pri, 191), False)
        times5 = parse_times(ts5)
        bad_ts = pc.and_(pc.is_valid(ts5), pc.is_null(times5))
        bad = pc.or_(bad_pri, bad_ts)  # every line is taken: the last grammar is the whole line
        if pc.any(bad).as_py():
            # RFC 3164 4.3.3: an unidentifiable PRI makes the whole line the CONTENT; 4.3.2: a valid
            # PRI with an invalid TIMESTAMP keeps the PRI and the rest as the CONTENT. Either way no
            # header field is read and the time is the receipt's (a relay stamps its own).
            after_pri = group(pc.extract_regex(lines, _RPRI), "msg")
            msg = pc.if_else(bad_pri, lines, pc.if_else(bad_ts, after_pri, msg))
            msg = _nil_empty(pc.utf8_ltrim_whitespace(msg))
            pri = pc.if_else(bad_pri, pa.scalar(None, pa.int32()), pri)
            none = pa.scalar(None, S)
            fmt, ts3, host, app, procid, msgid, sd, seq = (pc.if_else(bad, none, c) for c in (fmt, ts3, host, app, procid, msgid, sd, seq))
            times5 = pc.if_else(bad, pa.scalar(None, times5.type), times5)
        behind = pc.fill_null(pc.and_(pc.invert(oka), pc.match_substring(msg, "msg=audit(")), False)
        if pc.any(behind).as_py():
            # an audit record as a syslog MSG (audispd's syslog plugin, audisp-syslog, rsyslog
            # imfile of audit.log): its TYPE and event id, its node where the header names no host
            inner = pc.extract_regex(pc.if_else(behind, msg, pa.scalar(None, S)), _RAUDIT_IN)
            msgid, host = pc.coalesce(msgid, group(inner, "type")), pc.coalesce(host, group(inner, "node"))
            found = [group(inner, "id"), group(inner, "sec"), group(inner, "frac")]
            audit = found if audit is None else [pc.coalesce(a, b) for a, b in zip(audit, found, strict=True)]
        ref = extra["cw_times"].cast(_I64) if extra is not None else None
        bound = shipped_at if shipped_at is not None else written  # the shipper's time, else the file's
        if ref is None and bound is not None:  # the year of a BSD stamp without one
            ref = pa.array(np.full(n, bound, np.int64))
        if relayed is not None and (kiwi_at := relayed["at"]).null_count < n:  # Kiwi's stamp, for the year of the device's
            ref = kiwi_at if ref is None else pc.coalesce(kiwi_at, ref)
        times = pc.coalesce(times5, _bsd_times(ts3, ref))
        zone = pc.coalesce(_nil_empty(pick("tz")), pick("tz0"))
        if pc.any(pc.fill_null(pc.not_equal(zone, ""), False)).as_py():  # a Cisco stamp's zone (``CET``, ``UTC+1``)
            times = pc.subtract(times, _zone_ms(zone))
        if epoch is not None:  # a Meraki header's epoch time
            times = pc.coalesce(times, epoch)
        audit_id = None
        if audit is not None:
            # the record's own stamp, epoch seconds and their fraction (the kernel writes ms), before
            # a header's (a BSD header has neither year nor zone; the stamp is when it happened)
            audit_id, audit_s, audit_f = audit
            frac_ms = pc.utf8_slice_codeunits(pc.utf8_rpad(audit_f, 3, "0"), 0, 3).cast(pa.int64())
            times = pc.coalesce(pc.add(pc.multiply(audit_s.cast(pa.int64()), 1000), frac_ms), times)
        if extra is not None:  # a line without a time of its own: its CloudWatch log event's
            times = pc.coalesce(times, extra["cw_times"].cast(times.type))
        if relayed is not None:  # ... or the Kiwi relay's
            times = pc.coalesce(times, relayed["at"].cast(times.type))
        fac = pc.divide(pri, 8)
        sev = pc.subtract(pri, pc.multiply(fac, 8))
        if pc.any(pc.and_(okc, pc.is_null(pri))).as_py():
            # a Cisco message without <PRI> (a file or a relay that kept no PRI): the SEV of its
            # %FAC-SEV-MNEMONIC is the syslog severity (Cisco's levels 0-7 are syslog's)
            code = pc.if_else(okc, msgid, pa.scalar(None, S))
            sev = pc.coalesce(sev, pc.cast(group(pc.extract_regex(code, r"-(?P<s>[0-7])-[A-Z0-9_]+$"), "s"), pa.int32()))
        fields = {
            "lines": lines_b, "text": text, "host": host, "app": app, "procid": procid, "msgid": msgid, "msg": msg,
            "times": times, "sev": sev, "fac": fac, "sd": sd, "fmt": fmt, "seq": seq, "yearless": _yearless(ts3, times5),
        }  # fmt: skip
        if base is not None:
            fields["repeat_base"] = base
        if host_ip is not None:
            fields["host_ip"] = host_ip
        if audit_id is not None:
            fields["audit_id"] = audit_id
        if sd_error is not None:
            fields["sd_error"] = pc.if_else(bad, pa.scalar(None, S), sd_error)
        if extra is not None:
            fields["uid_context"] = extra["uid_context"]
            fields["cw_origin"] = extra["cw_origin"]
        if shipped_host is not None:
            fields["shipped_host"] = pc.fill_null(pa.nulls(n, S), shipped_host)
        if shipped_at is not None:
            fields["shipped_at"] = pa.array(np.full(n, shipped_at, np.int64))
        if peer_ip is not None:
            fields["peer_ip"] = pc.fill_null(pa.nulls(n, S), peer_ip)
        if relayed is not None:
            fields["original_address"] = relayed["address"]
        self._emit(fields, out)

    def _emit(self, fields: dict[str, pa.Array], out: Decoded) -> None:
        """Map the messages' header fields (one column each): CEF/LEEF payloads read, sshd/sudo/su
        lines to Authentication, the rest to Base Event."""
        if (rest := _falco_cef.take(fields, out)) is None:  # Falcosidekick's CEF alerts: Falco's (:mod:`._falco_cef`)
            return
        fields = rest
        _fortios(fields)
        # each reader looks at the lines the earlier ones left (a batch may mix their lines: a syslog
        # server's file with a router's Junos lines and a host's audit records)
        for find in (lambda f: _junos_auth(f["msgid"], f["sd"], f["msg"]),
                     lambda f: _audit_auth(f["msgid"], f.get("audit_id"), f["msg"]),
                     lambda f: _pfsense_auth(f["app"], f["msg"]),
                     lambda f: _mail_auth(f["app"], f["msg"]),
                     lambda f: _snare_auth(f["msg"]),
                     lambda f: _asa_auth(f["msgid"], f["msg"]),
                     lambda f: _ios_auth(f["msgid"], f["msg"]),
                     lambda f: _nac_auth(f["msgid"], f["msg"]),
                     lambda f: _fortigate_auth(f["msg"]),
                     lambda f: _panos_auth(f["msg"]),
                     lambda f: _session_auth(f["app"], f["msg"]),
                     lambda f: _polkit_auth(f["app"], f["msg"]),
                     lambda f: _dropbear_auth(f["app"], f["msg"]),
                     lambda f: _doas_auth(f["app"], f["msg"])):  # fmt: skip
            found = find(fields)
            if found is None:
                continue
            hit, jauth = found
            sub = {k: v.filter(hit) for k, v in fields.items()}
            if "_time" in jauth:  # the event's own time where the header has none or no year
                sub["times"] = _own_time(sub, jauth.pop("_time"))
            if "_host" in jauth:  # the computer that logged it where the header names none
                sub["host"] = pc.coalesce(sub["host"], jauth.pop("_host"))
            out.batches.append(self._batch("authentication", sub, jauth))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        events = (_winevents.windows_events(fields["msg"]) + _winevents.snare_events(fields["msg"])
                  + _linux_sysmon.events(fields["msg"]))
        if events:  # Windows events (NXLog's JSON, Snare), Sysmon for Linux's: processes created, accounts changed...
            taken = pa.array(np.zeros(len(fields["lines"]), bool))
            for cls, hit, cols in events:
                sub = {k: v.filter(hit) for k, v in fields.items()}
                sub["times"] = _own_time(sub, cols.pop("_time"))
                sub["host"] = pc.coalesce(sub["host"], cols.pop("_host"))
                out.batches.append(self._batch(cls, sub, None, net=cols))
                taken = pc.or_(taken, hit)
            rest = pc.invert(taken)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        proc = _audit_process(fields["msgid"], fields.get("audit_id"), fields["msg"])
        if proc is not None:  # auditd's record of an execve: the process launched
            hit, launched = proc
            out.batches.append(self._batch("process_activity", {k: v.filter(hit) for k, v in fields.items()}, None, net=launched))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        changes = _account_changes(fields["app"], fields["msg"])
        if changes:  # users and groups that useradd, userdel, usermod, groupadd, gpasswd, passwd changed
            taken = pa.array(np.zeros(len(fields["lines"]), bool))
            for cls, hit, changed in changes:
                out.batches.append(self._batch(cls, {k: v.filter(hit) for k, v in fields.items()}, None, net=changed))
                taken = pc.or_(taken, hit)
            rest = pc.invert(taken)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        for cls, hit, audit in _jenkins_audit_messages(fields["app"], fields["msg"]):
            out.batches.append(self._batch(cls, {k: v.filter(hit) for k, v in fields.items()}, None, net=audit))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        dns = _dns_queries(fields["app"], fields["msg"], fields["host"])
        if dns is not None:  # a DNS server's query log: the query or its answer
            hit, asked = dns
            sub = {k: v.filter(hit) for k, v in fields.items()}
            if "_time" in asked:  # a line of BIND's own file: its stamp and program
                sub["times"] = _own_time(sub, asked.pop("_time"))
                sub["app"] = pc.coalesce(sub["app"], asked.pop("_app"))
            out.batches.append(self._batch("dns_activity", sub, None, net=asked))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        for reader in (_access_log, _haproxy_log, _squid_log):
            access = reader(fields["msg"])
            if access is None:
                continue
            hit, http = access
            sub = {k: v.filter(hit) for k, v in fields.items()}
            own = http.pop("_time")
            # an access log's %t (with its year and zone) and Squid's epoch time before the header's;
            # HAProxy's accept date (no zone) where the header's is a BSD stamp without a year
            sub["times"] = pc.coalesce(own, sub["times"]) if reader is not _haproxy_log else _own_time(sub, own)
            out.batches.append(self._batch("http_activity", sub, None, http))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        for threats in (_panos_threat, _fortigate_utm):
            found = threats(fields["msg"])
            if found is None:
                continue
            hit, finding = found
            sub = {k: v.filter(hit) for k, v in fields.items()}
            sub["times"] = _own_time(sub, finding.pop("_time"))
            out.batches.append(self._batch("detection_finding", sub, None, net=finding))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        for packets in (lambda f: _filterlog(f["app"], f["msg"]), lambda f: _netfilter(f["app"], f["msg"]),
                        lambda f: _fortigate_traffic(f["msg"]), lambda f: _asa_connections(f["msgid"], f["msg"], f["host"]),
                        lambda f: _ios_acl(f["msgid"], f["msg"]), lambda f: _ftd_connections(f["msgid"], f["app"], f["msg"]),
                        lambda f: _panos_traffic(f["msg"]), lambda f: _junos_flow(f["msgid"], f["sd"]),
                        lambda f: _windows_firewall(f["msg"]), lambda f: _meraki_flows(f["msgid"], f["msg"], f["fmt"]),
                        lambda f: _sshd_drops(f["app"], f["msg"])):  # fmt: skip
            pf = packets(fields)
            if pf is None:
                continue
            hit, net = pf
            sub = {k: v.filter(hit) for k, v in fields.items()}
            own = net.pop("_time", None)
            if own is not None:  # the log's own time where the header has none or no year
                sub["times"] = _own_time(sub, own)
            if "connection_info.direction_id" not in net:  # required by OCSF: Unknown where a log does not say
                net["connection_info.direction_id"] = const(0, len(sub["times"]), _I32)
            out.batches.append(self._batch("network_activity", sub, None, net=net))
            rest = pc.invert(hit)
            if not pc.any(rest).as_py():
                return
            fields = {k: v.filter(rest) for k, v in fields.items()}
        _nginx_error(fields)
        _apache_error(fields)
        n, msg, app = len(fields["lines"]), fields["msg"], fields["app"]
        payload = _cef.parse(msg)
        if payload is not None:
            fields.update({"cef_" + k: v for k, v in payload.items()})
            fields["times"] = _own_time(fields, _payload_times(payload["time_text"]))
        auth_app, auth_msg = _old_pam(app, msg)
        is_auth = pc.fill_null(pc.is_in(auth_app, value_set=_AUTH_APPS), False)
        auth = _auth(auth_msg.filter(is_auth), auth_app.filter(is_auth)) if pc.any(is_auth).as_py() else None
        if auth is not None:
            idx = pc.indices_nonzero(is_auth)
            matched = auth.pop("_matched")
            hit_idx = idx.filter(matched)
            hit = pc.is_in(pa.array(np.arange(n)), value_set=hit_idx)
            sub = {k: v.take(hit_idx) for k, v in fields.items()}
            if len(hit_idx):
                out.batches.append(self._batch("authentication", sub, {k: v.filter(matched) for k, v in auth.items()}))
            rest = pc.invert(hit)
            if pc.any(rest).as_py():
                out.batches.append(self._batch("base_event", {k: v.filter(rest) for k, v in fields.items()}, None))
        else:
            out.batches.append(self._batch("base_event", fields, None))

    def _batch(self, cls: str, f: dict[str, pa.Array], auth: dict[str, pa.Array] | None,
               http: dict[str, pa.Array] | None = None, net: dict[str, pa.Array] | None = None) -> pa.RecordBatch:
        n = len(f["lines"])
        sev_ocsf = pc.fill_null(_SEV_OCSF.take(f["sev"]), pa.scalar(0, _I32))
        payload = "cef_format" in f
        if payload:
            sev_ocsf = pc.coalesce(f["cef_severity_id"], sev_ocsf)
        activity = auth["activity"] if auth is not None else pa.array(np.zeros(n, np.int32))
        if http is not None:
            activity = http.pop("_activity")
        if net is not None:
            activity = net.pop("_activity")
            if "_severity" in net:  # a threat log's own severity, before the syslog PRI's
                sev_ocsf = pc.coalesce(net.pop("_severity"), sev_ocsf)
        raws = f["lines"].to_pylist()
        host, origin = f["host"], _origin_ip(f["sd"])
        if "host_ip" in f:  # a relay's header named the device's address, the device its name
            origin = pc.coalesce(origin, f["host_ip"])
        if "original_address" in f:  # the device a Kiwi relay names (an address, else a name): not the relay
            relayed = f["original_address"]
            is_ip = _is_ip(relayed)
            origin = pc.coalesce(origin, pc.if_else(is_ip, relayed, pa.scalar(None, S)))
            host = pc.coalesce(host, pc.if_else(is_ip, pa.scalar(None, S), relayed))
        # the host a shipper named, else the listener's peer, for the lines that name none (module docstring)
        for key, said in (("shipped_host", b"\nshipped from "), ("peer_ip", b"\nsent from ")):
            if key in f and n:
                sent_by = said + f[key][0].as_py().encode()
                for i in np.flatnonzero(pc.and_(pc.is_null(host), pc.is_null(origin)).to_numpy(zero_copy_only=False)):
                    raws[i] += sent_by
                if key == "shipped_host":
                    host = pc.coalesce(host, f[key])
                else:
                    origin = pc.if_else(pc.is_null(host), pc.coalesce(origin, f[key]), origin)
                break
        if (address := _address_hosts(host)) is not None:  # an IP address for a HOSTNAME: the device's address
            address = pc.and_(address, pc.is_null(origin))
            origin = pc.if_else(address, host, origin)
            host = pc.if_else(address, pa.scalar(None, S), host)
        times = f["times"]
        if "shipped_at" in f:  # a line with no time of its own (SC4S's PROGRAM[PID]: MSG): its document's
            times = pc.coalesce(times, f["shipped_at"].cast(times.type))
        cols = base_columns(
            cls, kind=self.name, product=self.product, vendor=self.vendor, uids=_line_uids(self.name, f["lines"], raws, f.get("repeat_base"), f.get("uid_context")),
            times_ms=times, raws=None, activity_id=activity, severity_id=sev_ocsf,
        )  # fmt: skip
        pid_ok = pc.fill_null(pc.match_substring_regex(f["procid"], r"^\d{1,9}$"), False)
        named = pc.or_(pc.is_valid(host), pc.is_valid(origin))
        cols.update(
            {
                "raw_data": f["text"],
                "message": f["msg"],
                "device.hostname": host,
                "device.ip": origin,
                # device.type_id is required (OCSF 1.8.0): Unknown, where the line names a device at all
                "device.type_id": pc.if_else(named, pa.scalar(0, _I32), pa.scalar(None, _I32)),
                "device.type": pc.if_else(named, "Unknown", pa.scalar(None, S)),
                "actor.process.name": f["app"],
                "actor.process.pid": pc.if_else(pid_ok, f["procid"], pa.scalar(None, S)).cast(_I32),
                "metadata.event_code": f["msgid"],
                "metadata.log_level": _SEV_WORDS.take(f["sev"]),
                "metadata.log_format": f["fmt"],
            }
        )
        if "audit_id" in f:  # the records of one audit event share its id
            cols["metadata.correlation_uid"] = f["audit_id"]
        if "journal_device.boot_uid" in f:  # a journal entry's unit, executable, command line, boot... (._journal.place)
            _journal.place(cols, f)
        extra: list[tuple[str, pa.Array]] = [("facility", json_string(_FACILITIES.take(f["fac"])))]
        extra.append(("structured_data", _sd_json(f["sd"])))
        if "sd_error" in f:
            extra.append(("structured_data_error", json_string(f["sd_error"])))
        if "nginx" in f:  # an nginx error log line's thread, connection and request context
            extra.append(("nginx", f["nginx"]))
        if "apache" in f:  # an Apache error log line's module, thread, trace source and client
            extra.append(("apache", f["apache"]))
        if "cw_origin" in f:  # the CloudWatch Logs account, log group and stream it came in
            extra.append(("cloudwatch", f["cw_origin"]))
        if pc.any(pc.and_(pc.is_valid(f["procid"]), pc.invert(pid_ok))).as_py():  # a PROCID that is no pid
            extra.append(("procid", json_string(pc.if_else(pid_ok, pa.scalar(None, S), f["procid"]))))
        if f["seq"].null_count < n:
            extra.append(("sequence", pc.if_else(pc.is_valid(f["seq"]), f["seq"], pa.scalar(None, S))))
        if payload:
            kind = f["cef_format"]
            cols.update({
                "message": pc.coalesce(f["cef_name"], f["msg"]),
                "metadata.event_code": pc.coalesce(f["cef_event_code"], f["msgid"]),
                "metadata.log_format": pc.coalesce(kind, f["fmt"]),
                "metadata.product.name": pc.coalesce(f["cef_product"], cols["metadata.product.name"]),
                "metadata.product.vendor_name": pc.coalesce(f["cef_vendor"], cols["metadata.product.vendor_name"]),
                "metadata.product.version": f["cef_version"],
            })  # fmt: skip
            extra.append(("cef", pc.if_else(pc.equal(kind, "CEF"), f["cef_json"], pa.scalar(None, S))))
            extra.append(("leef", pc.if_else(pc.equal(kind, "LEEF"), f["cef_json"], pa.scalar(None, S))))
        if http is not None:
            extra.append(("request", http.pop("_request")))
            for key in ("haproxy", "squid"):
                if "_" + key in http:
                    extra.append((key, http.pop("_" + key)))
            cols.update(http)
            # activity Other: the method names it (OCSF: activity_name holds the source's value)
            other = pc.fill_null(pc.equal(cols["activity_id"], 99), False)
            cols["activity_name"] = pc.if_else(other, cols["http_request.http_method"], cols["activity_name"])
        if net is not None:
            for key in ("filterlog", "netfilter", "fortios", "asa", "ios", "panos", "jenkins", "windows_firewall", "meraki",
                        "audit", "sshd", "ftd"):
                if "_" + key in net:
                    extra.append((key, net.pop("_" + key)))
            cols.update(net)
            if "finding_info.uid" in net:  # required: the event's own uid where the log numbers none
                cols["finding_info.uid"] = pc.coalesce(net["finding_info.uid"], cols["metadata.uid"])
        if auth is not None:
            self._auth_columns(cols, auth, f)
            extra.append(("command", json_string(auth["cmd"])))
            extra.append(("tty", json_string(auth["tty"])))
        cols["unmapped"] = _object(extra, n)
        return to_batch(cls, cols)

    def _auth_columns(self, cols: dict[str, pa.Array], a: dict[str, pa.Array], f: dict[str, pa.Array]) -> None:
        failed = a["failed"]
        port_ok = pc.fill_null(pc.match_substring_regex(a["port"], r"^\d{1,5}$"), False)
        ip = a["ip"]
        method = a["method"]
        cols.update(
            {
                "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)),
                "status": pc.if_else(failed, "Failure", "Success"),
                "status_detail": a["detail"],
                "user.name": a["user"],
                "actor.user.name": a["actor"],
                "src_endpoint.ip": ip,
                "src_endpoint.port": pc.if_else(port_ok, a["port"], pa.scalar(None, S)).cast(_I32),
                "dst_endpoint.hostname": f["host"],
                "auth_protocol": method,
                "auth_protocol_id": pc.if_else(pc.is_valid(method), pa.scalar(99, _I32), pa.scalar(None, _I32)),
                "is_remote": pc.if_else(pc.or_(pc.is_valid(ip), pc.is_valid(a["rhost"])), True, pa.scalar(None, pa.bool_())),
                "service.name": a.get("service", f["app"]),
                "account_switch_type_id": pc.if_else(pc.equal(a["activity"], 7), pa.scalar(1, _I32), pa.scalar(None, _I32)),
            }
        )
        if "protocol_id" in a:  # Junos: the 802.1X method's OCSF id where it has one
            cols["auth_protocol_id"] = pc.coalesce(a["protocol_id"], cols["auth_protocol_id"])
        for path, col in (("src_endpoint.hostname", a["rhost"]), ("count", a["count"]), ("src_endpoint.mac", a.get("mac")),
                          ("user.uid", a.get("uid")), ("dst_endpoint.ip", a.get("dst_ip"))):  # fmt: skip
            if col is None:
                continue
            if col.null_count < len(col):  # only where some line gives one (same batch shape otherwise)
                cols[path] = col
        cols["account_switch_type"] = pc.if_else(pc.is_valid(cols["account_switch_type_id"]), "Substitute User", pa.scalar(None, S))
        cols.update(a.get("_cols", {}))  # a reader's own Authentication columns (a Windows logon's type, domain, status code)


def _jenkins_audit_messages(app: pa.Array, msg: pa.Array) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """[(OCSF class, its messages, their columns with ``_activity`` and ``_jenkins`` for
    ``unmapped``)] for the Jenkins Audit Trail plugin's syslog messages (its Syslog logger sends
    each message as a log file line holds it, after the time, under the APP-NAME ``jenkins``
    unless configured otherwise): build starts and ends, requests and logins, mapped as
    :mod:`._jenkins_audit` maps the log file's (Scheduled Job Activity, API Activity,
    Authentication); each class's rows are taken one class at a time, the rest stay syslog's."""
    if app.null_count == len(app) or not _fast.contains_any(app.buffers()[2], (b"jenkins",)):
        return []
    mine = pc.fill_null(pc.equal(app, "jenkins"), False)
    if not pc.any(mine).as_py():
        return []
    at = pc.indices_nonzero(mine)
    found = []
    for cls, pick, columns, act, _sev in _jenkins_audit.messages(msg.take(at)):
        rows = at.take(pa.array(pick)).to_numpy()
        hit = np.zeros(len(msg), bool)
        hit[rows] = True
        columns.pop("message")
        columns["_jenkins"] = columns.pop("unmapped", pa.nulls(len(rows), S))
        columns["_activity"] = act
        found.append((cls, hit, columns))
    # each later class's mask over the rows the earlier ones left (the caller filters as it goes)
    out = []
    left = np.ones(len(msg), bool)
    for cls, hit, columns in found:
        out.append((cls, pa.array(hit[left]), columns))
        left &= ~hit
    return out


def _line_uids(kind: str, lines: pa.Array, raws: list[bytes], base: pa.Array | None = None,
               context: pa.Array | None = None) -> pa.Array:
    """``metadata.uid`` of each line (``raws`` are ``lines`` as bytes): the hash of its bytes,
    and for the k-th verbatim repeat of a line in its stream (k >= 1) the hash of its bytes in
    the context ``repeat k`` (see module docstring); ``base``: how many copies of each line came
    in the stream's earlier batches. Repeats in the batch are found with one dictionary kernel;
    only batches that hold some pay for ranking them (numpy, no loop per line). ``context``:
    the line's own identity where its transport gives one (a CloudWatch log event id), hashed
    in instead of any ordinal."""
    if context is not None and context.null_count == 0:
        return event_uids(kind, raws, context.to_pylist())
    uids = event_uids(kind, raws)
    n = len(raws)
    rank = np.zeros(n, np.int64) if base is None else base.to_numpy(zero_copy_only=False).astype(np.int64)
    if n >= 2:
        codes = pc.dictionary_encode(lines).indices.to_numpy(zero_copy_only=False)
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        if len(starts) < n:
            rank[order] += np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    again = np.flatnonzero(rank)
    if not len(again):
        return uids
    repeats = event_uids(kind, [raws[i] for i in again], [f"repeat {rank[i]}" for i in again])
    return pc.replace_with_mask(uids, _fast.bools(rank > 0), repeats)

