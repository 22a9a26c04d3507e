"""Windows security events as NXLog's flat JSON names them, mapped to their OCSF classes.

NXLog's ``im_msvistalog`` with ``$Message = to_json(); to_syslog_bsd();`` sends each Windows event
as one syslog line whose MSG is the event as a JSON object: the System values (``EventID``,
``SourceName``, ``Channel``, ``Hostname``, ``EventTime``) and the EventData names flat beside them.
This module maps the security events whose fields such a record holds (:func:`windows_events`; the
same events exported as XML or JSON, Winlogbeat's and Wazuh's documents are first read into these
names: :mod:`._winrecords`), by event id:

- logons: 4624 / 4648 Logon, 4625 Logon Failure, 4634 / 4647 Logoff, 4776 (the credentials of an
  account validated, NTLM) Logon, the Kerberos service's 4768 Authentication Ticket, 4769 Service
  Ticket Request, 4770 Service Ticket Renew and 4771 Preauth (failed) -> Authentication (3002):
  ``TargetUserName`` (``TargetDomainName``, ``TargetUserSid`` / ``TargetSid``) the user, an
  explicit-credential logon's Subject the actor, ``IpAddress`` (an IPv4-mapped address as IPv4) /
  ``IpPort`` / ``WorkstationName`` (4776: ``Workstation``) the source, the computer the destination,
  ``LogonType`` the logon type (OCSF's ids are Windows'), ``AuthenticationPackageName`` the protocol
  (NTLM, Kerberos, another Other; 4776 NTLM, 4768-4771 Kerberos), ``LogonProcessName`` (Kerberos:
  ``ServiceName``) the service; a failure (4625, 4771, a 4768 / 4769 / 4776 whose ``Status`` is not
  0x0) its ``SubStatus`` (else ``Status``) as the status code and its ``FailureReason`` the detail;
- 4672 (special privileges assigned to a new logon) -> Authorize Session (3003) Assign Privileges:
  the Subject the user, ``PrivilegeList`` the privileges (one without them stays a Base Event);

- process creation: Security 4688 (``NewProcessName``, ``NewProcessId`` in hex, ``CommandLine``,
  ``ParentProcessName``, the creator ``ProcessId`` in hex, the Subject) and Sysmon 1 (``Image``,
  ``ProcessId``, ``ProcessGuid``, ``CommandLine``, ``CurrentDirectory``, ``ParentImage``,
  ``ParentProcessId``, ``ParentCommandLine``, ``User``) -> Process Activity (1007) Launch: the new
  process as ``process``, its creator as ``actor.process`` and ``process.parent_process``;
- Sysmon 3 (a network connection) -> Network Activity (4001) Open: ``SourceIp`` / ``SourcePort`` /
  ``SourceHostname`` and the ``Destination*`` ones the endpoints, ``Protocol``, ``Initiated`` the
  direction (Outbound, else Inbound), the process (``Image``, ``ProcessId``, ``ProcessGuid``,
  ``User``) the actor;
- user accounts: 4720 created, 4722 enabled, 4723 password change, 4724 password reset, 4725
  disabled, 4726 deleted, 4738 changed (Other), 4740 locked out, 4767 unlocked -> Account Change
  (3001): ``Target*`` the account, ``Subject*`` the actor;
- security groups (global 4727-4730, local 4731-4734, universal 4754-4758): created, member added,
  member removed, deleted -> Group Management (3006): ``Target*`` the group, ``MemberName`` /
  ``MemberSid`` the user, ``Subject*`` the actor;
- a log cleared (the event log service's 1102 of the Security log, 104 of another) -> Event Log
  Activity (1008; OCSF names the class ``event_log_actvity``) Clear: the log's name (1102: Security,
  104: its ``Channel``), the service as the provider, ``Subject*`` the actor.

Snare's lines of the same events (``MSWinEventLog<TAB>...<TAB>EventID<TAB>...<TAB>description``, the
description's lines joined by spaces; the host and a tab or a space before it where no syslog header
is) are read into the same names (:func:`snare_events`): a Security log message's known labels by
the block they stand in (the Subject, New Logon / Target Account / New Account, Member and Group
accounts; Logon Type, Source Network Address, 4688's Process Information...), a Sysmon message's
labels as they are (they are its EventData names; its ``UtcTime`` the time). :func:`snare_record`
gives such a line's event as NXLog's JSON would, which Sigma's Windows rules read.

Each other event is a Success (Windows logs what was done); ``EventTime`` is the time and ``Hostname`` the
host where the syslog header has none, the event id ``metadata.event_code``. Other events stay
Base Events. The JSON is decoded for the candidate lines only (a byte search for ``"EventID":``
first, then a regex over the id).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from secpipe import _compute as pc
from secpipe.formats import _fast
from secpipe.formats.base import parse_times
from secpipe.schema.ocsf import enum_captions

S = pa.string()
_I32 = pa.int32()

#: event id -> (OCSF class, activity_id)
_EVENTS: dict[int, tuple[str, int]] = {
    4624: ("authentication", 1), 4625: ("authentication", 1), 4634: ("authentication", 2), 4647: ("authentication", 2),
    4648: ("authentication", 1), 4776: ("authentication", 1), 4768: ("authentication", 3), 4769: ("authentication", 4),
    4770: ("authentication", 5), 4771: ("authentication", 6), 4672: ("authorize_session", 1),
    4688: ("process_activity", 1),
    4720: ("account_change", 1), 4722: ("account_change", 2), 4723: ("account_change", 3),
    4724: ("account_change", 4), 4725: ("account_change", 5), 4726: ("account_change", 6),
    4738: ("account_change", 99), 4740: ("account_change", 9), 4767: ("account_change", 12),
    4727: ("group_management", 6), 4731: ("group_management", 6), 4754: ("group_management", 6),
    4728: ("group_management", 3), 4732: ("group_management", 3), 4756: ("group_management", 3),
    4729: ("group_management", 4), 4733: ("group_management", 4), 4757: ("group_management", 4),
    4730: ("group_management", 5), 4734: ("group_management", 5), 4758: ("group_management", 5),
}  # fmt: skip
#: Sysmon's process creation (its id 1 is only Sysmon's where the source says so)
_SYSMON = "Microsoft-Windows-Sysmon"
#: the event log service's "log cleared" (Security 1102, System 104 for the other logs)
_EVENTLOG = "Microsoft-Windows-Eventlog"
_CLEARED = {"1102", "104"}
#: the ids of the events this module maps (:data:`_EVENTS`, Sysmon's 1 and 3, the log cleared), as JSON text
ID_NUMBERS = r"(?:1|3|104|1102|46(?:2[45]|34|4[78]|72|88)|47(?:2[0-9]|3[0-4]|38|40|5[4-8]|67|6[89]|7[016]))\b"
_IDS = r'"EventID":\s*"?' + ID_NUMBERS


#: the texts Windows writes for no value
_NONE = pa.array(["", "-"], S)


def _value(ev: dict[str, Any], key: str) -> str | None:
    """An event field as text; Windows' ``-`` (none) and an empty value are no value."""
    v = ev.get(key)
    if v is None or isinstance(v, dict | list):
        return None
    text = str(v).strip()
    return None if text in ("", "-") else text


def _pids(texts: pa.Array) -> pa.Array:
    """Process ids (or ports) as 4688 writes them (``0x2bc``) or Sysmon (``5296``), as int32; anything
    else (or past int32) none."""
    dec = pc.fill_null(pc.match_substring_regex(texts, r"^\d{1,9}$"), False)
    out = pc.if_else(dec, texts, pa.scalar(None, S)).cast(_I32)
    hexed = pc.fill_null(pc.match_substring_regex(texts, r"^0[xX][0-9A-Fa-f]{1,7}$"), False)
    if pc.any(hexed).as_py():
        values = pc.if_else(hexed, texts, pa.scalar(None, S)).to_pylist()
        out = pc.coalesce(out, pa.array([None if v is None else int(v, 16) for v in values], _I32))
    return out


def _kind(ev: dict[str, Any]) -> tuple[str, int] | None:
    """(OCSF class, activity) of a decoded event, None for one this module leaves."""
    eid = str(ev.get("EventID", "")).strip()
    if not eid.isdigit():
        return None
    if eid in ("1", "3"):
        source = f"{ev.get('SourceName', '')} {ev.get('Channel', '')}"
        return (("process_activity", 1) if eid == "1" else ("network_activity", 1)) if _SYSMON in source else None
    if eid in _CLEARED:
        return ("event_log_actvity", 1) if _EVENTLOG.lower() == str(ev.get("SourceName", "")).lower() else None
    if eid == "4672" and _value(ev, "PrivilegeList") is None:  # (OCSF's Authorize Session needs its privileges)
        return None
    return _EVENTS.get(int(eid))


def json_events(msg: pa.Array, ids: str) -> dict[int, dict[str, Any]]:
    """{line: its event} of the lines whose MSG is a JSON object with an ``EventID`` that ``ids`` (a
    pattern of the JSON text) matches: NXLog's ``to_json`` of a Windows event. Only those lines are
    decoded; one that does not decode to an object is left out (it stays the line it is)."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b'"EventID":',)):
        return {}
    cand = pc.fill_null(pc.and_(pc.starts_with(msg, "{"), pc.match_substring_regex(msg, ids)), False)
    if not pc.any(cand).as_py():
        return {}
    idx = pc.indices_nonzero(cand).to_pylist()
    events: dict[int, dict[str, Any]] = {}
    for i, text in zip(idx, msg.take(pa.array(idx, pa.int64())).to_pylist(), strict=True):
        try:
            ev = msgspec.json.decode(text)
        except msgspec.DecodeError:
            continue
        if isinstance(ev, dict):
            events[i] = ev
    return events


def windows_events(msg: pa.Array) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """[(OCSF class, the lines of that class, their columns with ``_activity``, ``_time`` and
    ``_host``)] for the lines whose MSG is a Windows event of :data:`_EVENTS` (or Sysmon 1) as JSON."""
    events = json_events(msg, _IDS)
    return classed(len(msg), events) if events else []


#: Snare's Windows event line (the syslog format's ``_SNARE`` layout): its log, date, event id, source,
#: computer and description (the event's message, its lines joined by spaces)
_SNARE = re.compile(r"^(?:\S+[\t ])?MSWinEventLog\t\d+\t(?P<log>[^\t]*)\t\d*\t(?P<date>[^\t]*)\t(?P<id>\d{1,5})\t"
                    r"(?P<src>[^\t]*)\t[^\t]*\t[^\t]*\t[^\t]*\t(?P<comp>[^\t]*)\t[^\t]*\t[^\t]*\t(?P<desc>[^\t]*)")
_SNARE_IN = re.compile(_SNARE.pattern[1:])  # the same anywhere in a line (behind a syslog header)
#: the ids :func:`snare_events` classes (:func:`_kind` decides)
_SNARE_IDS = re.compile(r"1|3|104|1102|47\d\d|4688")
#: a label's value in a Snare description: up to the next ``Label:`` (capitalized words) or the end
_UNTIL = r"\s*(.*?)(?=\s+[A-Z][A-Za-z ]{1,40}:\s|\s*$)"
_ACCOUNT = (r":\s+(?:Security ID:\s*(?P<sid>\S*)\s+)?Account Name:" + _UNTIL
            + r"(?:\s+(?:Account Domain|Domain Name):" + _UNTIL + ")?")
#: (the SID, name and domain keys NXLog gives) -> the description's block of that account
_BLOCKS = {("SubjectUserSid", "SubjectUserName", "SubjectDomainName"): re.compile(r"\bSubject" + _ACCOUNT),
           ("TargetSid", "TargetUserName", "TargetDomainName"):
               re.compile(r"\b(?:Target Account|New Account|Account That Was Locked Out)" + _ACCOUNT),
           ("MemberSid", "MemberName", ""): re.compile(r"\bMember" + _ACCOUNT)}  # fmt: skip
_GROUP = re.compile(r"\bGroup:\s+(?:Security ID:\s*(?P<sid>\S*)\s+)?(?:Group|Account) Name:" + _UNTIL
                    + r"(?:\s+(?:Group|Account) Domain:" + _UNTIL + ")?")
_PROCESS = {"NewProcessId": "New Process ID", "NewProcessName": "New Process Name", "ProcessId": "Creator Process ID",
            "ParentProcessName": "Creator Process Name", "CommandLine": "Process Command Line"}  # fmt: skip
_PROCESS_RE = {k: re.compile(r"\b" + label + ":" + _UNTIL) for k, label in _PROCESS.items()}

#: Sysmon's EventData names (its schema's, events 1-29), which its message gives as its labels
_SYSMON_NAMES = (
    "RuleName UtcTime ProcessGuid ProcessId Image FileVersion Description Product Company OriginalFileName CommandLine "
    "CurrentDirectory User LogonGuid LogonId TerminalSessionId IntegrityLevel Hashes ParentProcessGuid ParentProcessId "
    "ParentImage ParentCommandLine ParentUser TargetFilename CreationUtcTime PreviousCreationUtcTime Protocol Initiated "
    "SourceIsIpv6 SourceIp SourceHostname SourcePort SourcePortName DestinationIsIpv6 DestinationIp DestinationHostname "
    "DestinationPort DestinationPortName State Version SchemaVersion ImageLoaded Signed Signature SignatureStatus "
    "SourceProcessGuid SourceProcessId SourceImage TargetProcessGuid TargetProcessId TargetImage NewThreadId StartAddress "
    "StartModule StartFunction SourceThreadId GrantedAccess CallTrace SourceUser TargetUser EventType TargetObject Details "
    "NewName PipeName EventNamespace Name Query Type Destination Consumer Filter QueryName QueryStatus QueryResults "
    "IsExecutable Archived Device Hash Configuration ConfigurationFileHash"
).split()
_SYSMON_LABEL = re.compile(r"(?<!\S)(" + "|".join(sorted(_SYSMON_NAMES, key=len, reverse=True)) + r"):(?=\s|$)")
#: the labels of the Security log's messages -> the EventData names of their values: an account's
#: by the block it stands in (``Account Name`` is the Subject's, the target's, a member's or a
#: group's: ``Target`` the target account's SID, ``TargetUserSid`` in a logon event's), the others
#: alone (a label mapped to "" ends the value before it and is not kept)
_ACCOUNT_NAMES = {
    "Subject": {"Security ID": "SubjectUserSid", "Account Name": "SubjectUserName", "Account Domain": "SubjectDomainName",
                "Logon ID": "SubjectLogonId"},
    "Target": {"Security ID": "Target", "Account Name": "TargetUserName", "Account Domain": "TargetDomainName",
               "Logon ID": "TargetLogonId"},
    "Member": {"Security ID": "MemberSid", "Account Name": "MemberName"},
    "Group": {"Security ID": "TargetSid", "Group Name": "TargetUserName", "Account Name": "TargetUserName",
              "Group Domain": "TargetDomainName", "Account Domain": "TargetDomainName"},
}  # fmt: skip
_ACCOUNT_LABELS = {label for names in _ACCOUNT_NAMES.values() for label in names}
_BLOCK_PREFIX = {"Subject": "Subject", "New Logon": "Target", "Account For Which Logon Failed": "Target",
                 "Target Account": "Target", "New Account": "Target", "Account Whose Credentials Were Used": "Target",
                 "Target Subject": "Target", "Account That Was Locked Out": "Target", "Member": "Member", "Group": "Group",
                 "Target Server": "", "Logon Information": "", "Network Information": "", "Process Information": "",
                 "Detailed Authentication Information": "", "Failure Information": "", "Additional Information": "",
                 "Service Information": "", "Object": "", "Share Information": "", "Access Request Information": "",
                 "Task Information": "", "Account Information": "", "Service": "", "Attributes": ""}  # fmt: skip
_FLAT_LABELS = {
    "Logon Type": "LogonType", "Workstation Name": "WorkstationName", "Source Network Address": "IpAddress",
    "Source Port": "IpPort", "Network Address": "IpAddress", "Client Address": "IpAddress", "Client Port": "IpPort",
    "Port": "IpPort", "Logon Process": "LogonProcessName", "Authentication Package": "AuthenticationPackageName",
    "Package Name (NTLM only)": "LmPackageName", "Key Length": "KeyLength", "Failure Reason": "FailureReason",
    "Status": "Status", "Sub Status": "SubStatus", "Process ID": "ProcessId", "Process Name": "ProcessName",
    "New Process ID": "NewProcessId", "New Process Name": "NewProcessName", "Creator Process ID": "ProcessId",
    "Creator Process Name": "ParentProcessName", "Process Command Line": "CommandLine",
    "Token Elevation Type": "TokenElevationType", "Mandatory Label": "MandatoryLabel", "Service Name": "ServiceName",
    "Service File Name": "ServiceFileName", "Service Type": "ServiceType", "Service Start Type": "ServiceStartType",
    "Service Account": "ServiceAccount", "Object Server": "ObjectServer", "Object Type": "ObjectType",
    "Object Name": "ObjectName", "Handle ID": "HandleId", "Accesses": "AccessList", "Access Mask": "AccessMask",
    "Share Name": "ShareName", "Share Path": "ShareLocalPath", "Relative Target Name": "RelativeTargetName",
    "Task Name": "TaskName", "Task Content": "TaskContent", "Privileges": "PrivilegeList",
    "Ticket Options": "TicketOptions", "Ticket Encryption Type": "TicketEncryptionType", "Result Code": "Status",
    "Pre-Authentication Type": "PreAuthType", "Logon Account": "TargetUserName", "Source Workstation": "Workstation",
    "Error Code": "Status", "Caller Workstation": "Workstation", "Logon GUID": "LogonGuid", "Target Server Name": "TargetServerName",
    "Linked Logon ID": "", "Network Account Name": "", "Network Account Domain": "", "Restricted Admin Mode": "",
    "Virtual Account": "", "Elevated Token": "", "Impersonation Level": "", "Transited Services": "",
    "Additional Info": "", "Additional Info2": "", "SAM Account Name": "SamAccountName", "Display Name": "DisplayName",
    "User Principal Name": "UserPrincipalName", "Home Directory": "HomeDirectory", "Primary Group ID": "PrimaryGroupId",
    "Old UAC Value": "OldUacValue", "New UAC Value": "NewUacValue", "User Account Control": "UserAccountControl",
    "Changed Attributes": "",
}  # fmt: skip
_SECURITY_LABELS = sorted({*_ACCOUNT_LABELS, *_BLOCK_PREFIX, *_FLAT_LABELS}, key=len, reverse=True)
_SECURITY_LABEL = re.compile(r"(?<!\S)(" + "|".join(map(re.escape, _SECURITY_LABELS)) + r"):(?=\s|$)")
#: where a Security message's value ends: a known label, or two spaces and another ``Label:``
_BLANKS = re.compile(r"\s*")
_SECURITY_END = re.compile(r"\s+(?:" + "|".join(map(re.escape, _SECURITY_LABELS)) + r"):(?:\s|$)"
                           r"|\s{2,}[A-Z][A-Za-z ()/-]{0,40}:(?:\s|$)")


def snare_events(msg: pa.Array) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """:func:`windows_events` of Snare's lines of those events (their descriptions read into the
    names NXLog's JSON gives them)."""
    data = msg.buffers()[2]
    if msg.null_count == len(msg) or data is None or not _fast.contains_any(data, (b"MSWinEventLog\t",)):
        return []
    cand = pc.fill_null(pc.match_substring(msg, "MSWinEventLog\t"), False)
    idx = pc.indices_nonzero(cand).to_pylist()
    events: dict[int, dict[str, Any]] = {}
    for i, text in zip(idx, msg.take(pa.array(idx, pa.int64())).to_pylist(), strict=True):
        m = _SNARE.match(text)
        if m is not None and _SNARE_IDS.fullmatch(m["id"]):
            events[i] = _snare_event(m)
    return classed(len(msg), events)


def snare_record(line: str) -> dict[str, Any] | None:
    """The Windows event a Snare line (behind a syslog header or not) holds, as NXLog's JSON gives it
    (``EventID``, ``Channel``, ``SourceName``, ``Hostname``, ``EventTime`` and the EventData names its
    description holds), which Sigma's Windows rules read; None for a line that is none."""
    m = _SNARE_IN.search(line) if "MSWinEventLog\t" in line else None
    return None if m is None else {k: int(v) if k == "EventID" else v for k, v in _snare_event(m).items() if v is not None}


def _snare_event(m: re.Match[str]) -> dict[str, Any]:
    """A Snare line as the event NXLog's JSON would give."""
    desc = m["desc"]
    ev: dict[str, Any] = {"EventID": m["id"], "SourceName": m["src"], "Channel": m["log"], "Hostname": m["comp"],
                          "EventTime": _snare_time(m["date"])}
    sysmon = _SYSMON in m["src"] or _SYSMON in m["log"]
    ev.update(_labelled(desc, _SYSMON_LABEL) if sysmon else _security_fields(desc, m["id"]))
    if sysmon:  # its UtcTime is the time (Snare's date column is the host's clock, no zone)
        utc = re.fullmatch(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d{1,9})?)", ev.get("UtcTime", ""))
        ev["EventTime"] = f"{utc[1]}T{utc[2]}Z" if utc else ev["EventTime"]
        return ev
    for (sid, name, domain), rx in _BLOCKS.items():
        found = rx.search(desc)
        if found is not None:
            ev.update({sid: found["sid"], name: found[2]} | ({domain: found[3]} if domain else {}))
    group = _GROUP.search(desc)
    if group is not None and m["id"].isdigit() and _EVENTS.get(int(m["id"]), ("",))[0] == "group_management":
        ev.update({"TargetSid": group["sid"], "TargetUserName": group[2], "TargetDomainName": group[3]})
    if m["id"] == "4688":
        ev.update({k: f[1] for k, rx in _PROCESS_RE.items() if (f := rx.search(desc)) is not None})
    return ev


def _labelled(desc: str, labels: re.Pattern[str]) -> dict[str, str]:
    """{label: the text up to the next label} of a Sysmon message (its labels are its EventData names)."""
    marks = list(labels.finditer(desc))
    ends = [m.start() for m in marks[1:]] + [len(desc)]
    out: dict[str, str] = {}
    for m, end in zip(marks, ends, strict=True):
        value = desc[m.end() : end].strip()
        if value:
            out.setdefault(m[1], value)
    return out


def _security_fields(desc: str, event_id: str) -> dict[str, str]:
    """The EventData names and values of a Security log message (Snare's description): each known
    label's value up to the next label, an account's label named by the block it stands in."""
    out: dict[str, str] = {}
    block = "Target"  # an account before any block (a message without them) is the one the event is about
    target_sid = "TargetSid" if event_id.startswith("47") else "TargetUserSid"  # account changes: TargetSid
    for m in _SECURITY_LABEL.finditer(desc):
        label, start = m[1], _BLANKS.match(desc, m.end()).end()  # type: ignore[union-attr]  # (\s* always matches)
        if _SECURITY_LABEL.match(desc, start):  # no value: a label next
            value = ""
        else:
            end = _SECURITY_END.search(desc, start)
            value = desc[start : end.start() if end else len(desc)].strip()
        if label in _BLOCK_PREFIX and not value:
            block = _BLOCK_PREFIX[label]
            continue
        name = _ACCOUNT_NAMES.get(block, {}).get(label, "") if label in _ACCOUNT_LABELS else _FLAT_LABELS.get(label, "")
        name = target_sid if name == "Target" else name
        if name and value and name not in out:
            out[name] = value
    return out


def _snare_time(date: str) -> str | None:
    """Snare's date column (``Mon Feb 11 17:32:26 2019``, the host's clock: taken as UTC) as ISO-8601;
    None without a year (``Sun May 21 12:00:01.123``)."""
    try:
        return dt.datetime.strptime(date.strip() + " +0000", "%a %b %d %H:%M:%S %Y %z").isoformat()
    except ValueError:
        return None


def classed(n_lines: int, decoded: dict[int, dict[str, Any]]) -> list[tuple[str, pa.Array, dict[str, pa.Array]]]:
    """The events of :data:`_EVENTS` (and Sysmon's, the log cleared) among ``decoded`` (line -> its
    event in NXLog's names), by class: (OCSF class, the lines of that class, their columns with
    ``_activity``, ``_time`` and ``_host``)."""
    found: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {}
    for i, ev in decoded.items():
        kind = _kind(ev)
        if kind is not None:
            found.setdefault(kind[0], {})[i] = (kind[1], ev)
    msg_len = n_lines
    out = []
    for cls, events in found.items():
        rows = sorted(events)
        mask = np.zeros(msg_len, bool)
        mask[rows] = True
        hit = pa.array(mask)
        evs = [events[i][1] for i in rows]
        cols = _common(evs, [events[i][0] for i in rows], cls)
        cols.update(_COLUMNS[cls](evs))  # (a class's own status before the common one)
        out.append((cls, hit, cols))
    return out


def _col(evs: list[dict[str, Any]], *keys: str) -> pa.Array:
    """The first of ``keys`` each event has a value for, as text (:func:`_value`'s, over the column)."""
    out = None
    for key in keys:
        values = [ev.get(key) for ev in evs]
        try:
            text = pa.array(values, S)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            try:  # numbers (an EventID)
                text = pa.array(values).cast(S)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
                # a mix, an object, an integer past int64: each value alone
                text = pa.array([_value(ev, key) for ev in evs], S)
        if text.null_count < len(text):
            text = pc.utf8_trim_whitespace(text)
            text = pc.if_else(pc.is_in(text, value_set=_NONE), pa.scalar(None, S), text)
        out = text if out is None else pc.coalesce(out, text)
        if out.null_count == 0:  # (every event has one: the other keys are not read)
            break
    return out if out is not None else pa.nulls(len(evs), S)


def _base(paths: pa.Array) -> pa.Array:
    """The file names of Windows paths (``C:\\Windows\\System32\\cmd.exe`` -> ``cmd.exe``)."""
    return pc.replace_substring_regex(paths, r"^.*\\", "")


def _common(evs: list[dict[str, Any]], activities: list[int], cls: str) -> dict[str, pa.Array]:
    n = len(evs)
    cols = {
        "_activity": pa.array(activities, _I32), "_time": parse_times(_col(evs, "EventTime")),
        "_host": _col(evs, "Hostname"), "metadata.event_code": _col(evs, "EventID"),
        "status_id": pa.array(np.ones(n, np.int32)), "status": pa.array(["Success"] * n, S),
    }  # fmt: skip
    if cls not in _ACTORS:  # the Subject (the classes of _ACTORS name their own actor)
        cols.update({"actor.user.name": _col(evs, "SubjectUserName"), "actor.user.domain": _col(evs, "SubjectDomainName"),
                     "actor.user.uid": _col(evs, "SubjectUserSid")})  # fmt: skip
    return cols


def _processes(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Process Activity columns of 4688 and Sysmon 1 events."""
    path, parent = _col(evs, "NewProcessName", "Image"), _col(evs, "ParentProcessName", "ParentImage")
    audited = pa.array(["NewProcessId" in ev for ev in evs], pa.bool_())  # 4688's names (its ProcessId: the creator's)
    creator = _col(evs, "ProcessId")
    pid = _pids(pc.if_else(audited, _col(evs, "NewProcessId"), creator))
    ppid = _pids(pc.if_else(audited, creator, _col(evs, "ParentProcessId")))
    name, pname = _base(path), _base(parent)
    user = _col(evs, "User")  # Sysmon: DOMAIN\user
    return {
        "process.file.path": path, "process.file.name": name, "process.name": name, "process.pid": pid,
        "process.cmd_line": _col(evs, "CommandLine"), "process.uid": _col(evs, "ProcessGuid"),
        "process.file.type_id": _file_type(name),
        "process.user.name": pc.coalesce(_col(evs, "TargetUserName"), user),
        "process.parent_process.file.path": parent, "process.parent_process.name": pname,
        "process.parent_process.pid": ppid, "process.parent_process.cmd_line": _col(evs, "ParentCommandLine"),
        "process.parent_process.uid": _col(evs, "ParentProcessGuid"),
        "process.parent_process.file.name": pname, "process.parent_process.file.type_id": _file_type(pname),
        "actor.process.file.path": parent, "actor.process.file.name": pname, "actor.process.file.type_id": _file_type(pname),
        "actor.process.name": pname, "actor.process.pid": ppid,
    }  # fmt: skip


def _file_type(names: pa.Array) -> pa.Array:
    """``Regular File`` (1) where a file is named."""
    return pc.if_else(pc.is_valid(names), pa.scalar(1, _I32), pa.scalar(None, _I32))


def _accounts(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Account Change columns: the account the event is about."""
    return {"user.name": _col(evs, "TargetUserName"), "user.domain": _col(evs, "TargetDomainName"),
            "user.uid": _col(evs, "TargetSid", "TargetUserSid")}  # fmt: skip


def _groups(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Group Management columns: the group, and the member added or removed."""
    return {"group.name": _col(evs, "TargetUserName"), "group.domain": _col(evs, "TargetDomainName"),
            "group.uid": _col(evs, "TargetSid"), "user.name": _col(evs, "MemberName"),
            "user.uid": _col(evs, "MemberSid")}  # fmt: skip


def _logs(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Event Log Activity columns of a log cleared: the log (1102: Security), its provider."""
    names = [("Security" if _value(ev, "EventID") == "1102" else _value(ev, "Channel")) for ev in evs]
    n = len(evs)
    return {"log_name": pa.array(names, S), "log_provider": _col(evs, "SourceName"),
            "log_type_id": pa.array(np.ones(n, np.int32)), "log_type": pa.array(["OS"] * n, S)}  # fmt: skip


def _connections(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Network Activity columns of Sysmon 3 (a connection a process made or took): the addresses,
    ports and host names, the protocol, the direction (``Initiated``: Outbound), the process as actor."""
    image = _col(evs, "Image")
    name = _base(image)
    initiated = [str(ev.get("Initiated", "")).lower() for ev in evs]
    direction = pa.array([2 if i == "true" else 1 if i == "false" else 0 for i in initiated], _I32)
    port = {k: _pids(_col(evs, k)) for k in ("SourcePort", "DestinationPort")}
    return {
        "src_endpoint.ip": _col(evs, "SourceIp"), "src_endpoint.port": port["SourcePort"],
        "src_endpoint.hostname": _col(evs, "SourceHostname"),
        "dst_endpoint.ip": _col(evs, "DestinationIp"), "dst_endpoint.port": port["DestinationPort"],
        "dst_endpoint.hostname": _col(evs, "DestinationHostname"),
        "connection_info.protocol_name": _col(evs, "Protocol"), "connection_info.direction_id": direction,
        "connection_info.direction": pc.take(pa.array(["Unknown", "Inbound", "Outbound"], S), direction),
        "actor.process.file.path": image, "actor.process.file.name": name, "actor.process.file.type_id": _file_type(name),
        "actor.process.name": name, "actor.process.pid": _pids(_col(evs, "ProcessId")),
        "actor.process.uid": _col(evs, "ProcessGuid"), "actor.process.user.name": _col(evs, "User"),
    }  # fmt: skip


#: logons that are failures whatever their status (4625 Logon Failure, 4771 Kerberos pre-authentication failed);
#: 4768 / 4769 / 4776 are failures where their ``Status`` is not 0x0
_FAILED = pa.array(["4625", "4771"], S)
_STATUSED = pa.array(["4768", "4769", "4776"], S)
_KERBEROS = pa.array(["4768", "4769", "4770", "4771"], S)
#: the packages of an OCSF auth_protocol_id, lower-case: NTLM (1; 4776's package is NTLM's), Kerberos (2)
_PACKAGES = pa.array(["ntlm", "microsoft_authentication_package_v1_0", "kerberos"], S)
_LOGON_TYPES = pa.array([0, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13], _I32)
_REMOTE = pa.array([3, 8, 10, 12], _I32)  # Network, NetworkCleartext, RemoteInteractive, CachedRemoteInteractive


def _nonzeros(status: pa.Array) -> pa.Array:
    """Which statuses (``0x0``, ``0xC000006A``; a result code) are not success."""
    zero = pc.fill_null(pc.match_substring_regex(status, r"^(?:0[xX])?0+$"), False)
    return pc.and_(pc.is_valid(status), pc.invert(zero))


def _logons(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Authentication columns of logon, logoff, NTLM validation and Kerberos events (module docstring)."""
    ids, status, sub = _col(evs, "EventID"), _col(evs, "Status"), _col(evs, "SubStatus")
    statused = pc.and_(pc.is_in(ids, value_set=_STATUSED), _nonzeros(status))
    failed = pc.fill_null(pc.or_(pc.is_in(ids, value_set=_FAILED), statused), False)
    none = pa.scalar(None, S)
    code = pc.if_else(failed, pc.coalesce(pc.if_else(_nonzeros(sub), sub, none), status), none)
    package = pc.if_else(pc.is_in(ids, value_set=_KERBEROS), "Kerberos",
                         pc.if_else(pc.equal(ids, "4776"), "NTLM", _col(evs, "AuthenticationPackageName")))
    known = pc.take(pa.array([1, 1, 2], _I32), pc.index_in(pc.utf8_lower(package), value_set=_PACKAGES))
    types = _col(evs, "LogonType")
    logon = pc.if_else(pc.fill_null(pc.match_substring_regex(types, r"^\d{1,9}$"), False), types, none).cast(_I32)
    logon_ids = pc.if_else(pc.or_(pc.is_null(logon), pc.is_in(logon, value_set=_LOGON_TYPES)), logon, pa.scalar(99, _I32))
    reason, port = _col(evs, "FailureReason"), _col(evs, "IpPort")
    detail = pc.and_(failed, pc.invert(pc.fill_null(pc.starts_with(reason, "%%"), True)))
    explicit = pc.fill_null(pc.equal(ids, "4648"), False)
    return {
        "status_id": pc.if_else(failed, pa.scalar(2, _I32), pa.scalar(1, _I32)), "status": pc.if_else(failed, "Failure", "Success"),
        "status_code": code, "status_detail": pc.if_else(detail, reason, none),
        "user.name": _col(evs, "TargetUserName"), "user.domain": _col(evs, "TargetDomainName"),
        "user.uid": _col(evs, "TargetUserSid", "TargetSid"),
        **{f"actor.user.{k}": pc.if_else(explicit, _col(evs, key), none) if pc.any(explicit).as_py() else pa.nulls(len(evs), S)
           for k, key in (("name", "SubjectUserName"), ("domain", "SubjectDomainName"), ("uid", "SubjectUserSid"))},
        # (Kerberos' IPv4-mapped ::ffff:10.0.0.1 as IPv4)
        "src_endpoint.ip": pc.replace_substring_regex(_col(evs, "IpAddress"), r"^::[fF]{4}:(\d{1,3}(?:\.\d{1,3}){3})$", r"\1"),
        "src_endpoint.port": pc.if_else(pc.fill_null(pc.match_substring_regex(port, r"^0*[1-9]\d{0,4}$"), False), port, none).cast(_I32),
        "src_endpoint.hostname": _col(evs, "WorkstationName", "Workstation"), "dst_endpoint.hostname": _col(evs, "Hostname"),
        "auth_protocol": package,
        "auth_protocol_id": pc.if_else(pc.is_valid(package), pc.coalesce(known, pa.scalar(99, _I32)), pa.scalar(None, _I32)),
        "logon_type_id": logon_ids, "logon_type": enum_captions("authentication", "logon_type_id", logon_ids),
        "is_remote": pc.if_else(pc.is_valid(logon), pc.is_in(logon, value_set=_REMOTE), pa.scalar(None, pa.bool_())),
        "service.name": _col(evs, "LogonProcessName", "ServiceName"),
    }  # fmt: skip


def _privileges(evs: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Authorize Session columns of 4672: the Subject (the account of the new logon) and its privileges."""
    privileges = [p.split() if (p := _value(ev, "PrivilegeList")) else None for ev in evs]
    n = len(evs)
    return {"user.name": _col(evs, "SubjectUserName"), "user.domain": _col(evs, "SubjectDomainName"),
            "user.uid": _col(evs, "SubjectUserSid"), "privileges": pa.array(privileges, pa.list_(S)),
            **{f"actor.user.{k}": pa.nulls(n, S) for k in ("name", "domain", "uid")}}  # fmt: skip


#: the classes whose columns name their own actor
_ACTORS = ("authentication", "authorize_session")
_COLUMNS = {"authentication": _logons, "authorize_session": _privileges, "process_activity": _processes, "network_activity": _connections, "account_change": _accounts, "group_management": _groups,
            "event_log_actvity": _logs}  # fmt: skip
