"""Routing a Sigma rule by its ``logsource``: the secpipe formats and OCSF classes it sees.

Routing: ``product``/``service`` name a source; without a product (or with ``product:
secpipe``), ``category`` may name an OCSF class (``api_activity``) which then restricts the rule
to that class (with another product it is the Sigma taxonomy's category, which restricts
nothing: ``product: windows, category: authentication`` runs on every json event); ``product: secpipe,
service: <format>`` routes to any secpipe format by name. A product with no dedicated source
(okta, azure, gcp, windows...) routes to the catch-all ``json`` format (and, when the rule
searches keywords, to ``syslog`` lines too; a syslog line whose message is a JSON object, as NXLog
sends Windows events, is also that JSON record: :func:`.engine.embedded_json`), a category-only
logsource (``webserver``, ``proxy``...) to ``json`` and ``syslog``; the rule then carries a
warning saying so. There, a rule whose condition holds for an event without any of its fields
(``not selection``, ``field: null``) also requires one of its fields to be present: events of
every other source share the catch-all format, and one that has none of the rule's fields is
not from the rule's log source. A ``product: linux`` (or ``unix``) rule whose ``service`` is one
program's (sshd, sudo, su, cron, vsftpd, clamav: :data:`SERVICE_PROGRAMS`) runs only on the
events of that program (the syslog TAG, ``actor.process.name``) or of none named: a cron rule
that is the bare keyword ``REPLACE`` fired on apt's and dpkg's lines. The program field then
shows in the finding's evidence. Likewise a ``product: linux`` rule of a Sysmon category
(``process_creation``, ``network_connection``, ``file_event``...: :data:`SYSMON_EVENT_IDS`) runs
only on events with that category's Sysmon ``EventID`` or with none; a ``product: windows`` rule
of such a category (:data:`WINDOWS_EVENT_IDS`; ``process_creation`` also Security 4688) likewise,
wherever the event keeps its ID (:data:`WINDOWS_EVENT_ID_FIELDS`): a process_creation rule on
``Image`` must not fire on the network connection or image load Sysmon logged for that image. GCP and Azure
rules also run on the records the ``k8s_audit`` format reads for those clouds (:data:`SHARED_ROUTES`).

:func:`route` decides the formats and classes; :func:`scope_rule` narrows a compiled rule to its
service's programs and its category's event IDs.
"""

from __future__ import annotations

from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from secpipe.detect.sigma.compiler import Compiled, F, L, Leaf, UnsupportedRule, sql_str

#: (product, service) -> secpipe format names (metadata.log_name). service None = any service.
ROUTES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("aws", "cloudtrail"): ("cloudtrail",),
    ("aws", None): ("cloudtrail",),
    ("kubernetes", "audit"): ("k8s_audit",),
    ("kubernetes", None): ("k8s_audit", "falco"),
    ("github", None): ("github",),
    ("gitlab", None): ("gitlab",),
    ("jenkins", None): ("jenkins", "jenkins_log"),
    # syslog lines, and JSON events (EDR / auditbeat / Sysmon for Linux) kept as they came
    ("linux", None): ("syslog", "json"),
    ("unix", None): ("syslog", "json"),
    ("syslog", None): ("syslog",),
    ("falco", None): ("falco",),
    ("opa", None): ("opa",),
    ("trivy", None): ("trivy",),
    ("snyk", None): ("snyk",),
    ("sarif", None): ("sarif",),
    ("sonarqube", None): ("sonarqube",),
    ("alertmanager", None): ("alertmanager",),
    ("prometheus", None): ("alertmanager",),
    ("json", None): ("json",),
}
#: (product, service) -> (secpipe formats, what of them) for clouds without a format of their own
#: whose records one secpipe format reads beside others': Google Cloud Audit Logs and Azure
#: Monitor records are read by ``k8s_audit`` (:mod:`secpipe.formats._cloud_audit`,
#: as GKE's and AKS's audit streams carry them) and kept whole by ``json``. The rule runs on both;
#: as on the catch-all, a condition that holds without the rule's fields needs one of them.
SHARED_ROUTES: dict[tuple[str, str | None], tuple[tuple[str, ...], str]] = {
    ("gcp", None): (("json", "k8s_audit"), "Google Cloud Audit Logs records"),
    ("azure", None): (("json", "k8s_audit"), "Azure Monitor records (Activity Log, Entra ID sign-in and audit logs)"),
}
#: Linux ``service`` -> the programs that log as it (syslog TAG/APP-NAME, lower-cased): such a
#: rule runs only on the lines those programs wrote, and on lines and events that name no
#: program. Services whose programs are many or unknown (auth, syslog, auditd, ...) are not scoped.
SERVICE_PROGRAMS: dict[str, tuple[str, ...]] = {
    "sshd": ("sshd", "sshd-session", "sshd-auth"),  # OpenSSH 9.8 logs sessions as sshd-session, 10.0 adds sshd-auth
    "sudo": ("sudo",),
    "su": ("su",),
    "cron": ("cron", "crond", "anacron"),
    "vsftpd": ("vsftpd",),
    "clamav": ("clamd", "freshclam", "clamav-milter", "clamonacc"),
}
#: the event field holding the program of a syslog line
PROGRAM_FIELD = "actor.process.name"
#: ``product: linux`` taxonomy category -> the Sysmon for Linux event IDs of its events (Sysmon's
#: event schema: 1 ProcessCreate, 3 NetworkConnect, 5 ProcessTerminate, 9 RawAccessRead, 11
#: FileCreate, 23 FileDelete, 26 FileDeleteDetected). Sysmon writes each event with its
#: ``EventID`` (read from the XML of a syslog line, or a JSON key): a ``process_creation`` rule
#: must not match the network connection of the same ``Image``. Events without an EventID
#: (auditd lines, other sources' JSON) are still read.
SYSMON_EVENT_IDS: dict[str, tuple[str, ...]] = {
    "process_creation": ("1",), "network_connection": ("3",), "process_termination": ("5",),
    "raw_access_thread": ("9",), "file_event": ("11",), "file_delete": ("23", "26")}
EVENT_ID_FIELD = "EventID"
#: ``product: windows`` taxonomy category -> the IDs of its events: Sysmon's (the category of each
#: Sysmon event ID, as pySigma's Sysmon pipeline maps them), Security 4688 (process creation) and
#: PowerShell's
WINDOWS_EVENT_IDS: dict[str, tuple[str, ...]] = {
    "process_creation": ("1", "4688"), "file_change": ("2",), "network_connection": ("3",),
    "process_termination": ("5",), "driver_load": ("6",), "image_load": ("7",), "create_remote_thread": ("8",),
    "raw_access_thread": ("9",), "process_access": ("10",), "file_event": ("11",), "registry_add": ("12",),
    "registry_delete": ("12",), "registry_set": ("13",), "registry_rename": ("14",), "registry_event": ("12", "13", "14"),
    "create_stream_hash": ("15",), "pipe_created": ("17", "18"), "wmi_event": ("19", "20", "21"), "dns_query": ("22",),
    "file_delete": ("23", "26"), "clipboard_capture": ("24",), "process_tampering": ("25",),
    "file_block_executable": ("27",), "file_block_shredding": ("28",), "file_executable_detected": ("29",),
    "sysmon_status": ("4", "16"), "sysmon_error": ("255",),
    # PowerShell's logs (pySigma's windows_logsource_pipeline): module, script block, classic engine/provider/pipeline
    "ps_module": ("4103",), "ps_script": ("4104",), "ps_classic_start": ("400",),
    "ps_classic_provider_start": ("600",), "ps_classic_script": ("800",)}
#: where a Windows event keeps its ID: flat (NXLog, exports), in an evtx record as JSON (plain, or
#: ``#text`` beside the Qualifiers), in Winlogbeat's ``winlog``, in a Wazuh alert's ``data.win`` (:mod:`.mappings`)
WINDOWS_EVENT_ID_FIELDS = ("EventID", "Event.System.EventID", "Event.System.EventID.#text", "winlog.event_id",
                           "data.win.system.eventID")

#: where a rule goes whose logsource names no secpipe source: events kept as their original JSON
#: (``json``) and, for a category-only logsource (``webserver``, ``proxy``...), syslog lines.
FALLBACK_PRODUCT = ("json",)
FALLBACK_CATEGORY = ("json", "syslog")
#: products without a dedicated source whose logs are text lines the ``syslog`` format reads (the
#: taxonomy's ``product: apache``: httpd's access and error logs; FortiGate's ``key=value`` log lines,
#: which SigmaHQ's rules name ``product: fortigate`` or ``fortinet``; ``product: generic``, any
#: application's log, as SigmaHQ's ``rules/application/ai`` rules name it): routed as a category-only logsource
TEXT_PRODUCTS = ("apache", "fortigate", "fortinet", "fortios", "generic")


def route(rule: SigmaRule | SigmaCorrelationRule) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str | None]:
    """(formats, classes, note) a rule applies to, from its logsource.

    A product (or a category-only logsource) secpipe has no dedicated source for is not an
    error: Sigma rules name original fields, which the catch-all ``json`` format keeps as they
    came (and keyword rules read syslog lines), so the rule runs there and ``note`` says so.
    """
    from secpipe import formats as fmts
    from secpipe.schema.ocsf import ocsf

    ls = rule.logsource  # type: ignore[union-attr]
    product = (ls.product or "").lower() or None
    service = (ls.service or "").lower() or None
    category = (ls.category or "").lower() or None
    classes = (category,) if category and category in ocsf()["classes"] else None
    if product == "secpipe" or (product is None and service in fmts.REGISTRY):
        if service and service not in fmts.REGISTRY:
            msg = f"logsource service {service!r} is no secpipe format — one of: {', '.join(sorted(fmts.REGISTRY))}"
            raise UnsupportedRule(msg)
        return ((service,) if service else None), classes, None
    if product is None:
        if classes:
            return None, classes, None
        what = category or service
        if what is None:
            msg = "logsource names neither product, service nor category — add product (aws, kubernetes, github, linux, ...)"
            raise UnsupportedRule(msg)
        return FALLBACK_CATEGORY, classes, (f"logsource {what!r} has no dedicated secpipe source: the rule runs on "
                                            f"events ingested as {' and '.join(FALLBACK_CATEGORY)}")
    # with a product, ``category`` is the Sigma taxonomy's (``authentication``, ``process_creation``),
    # not an OCSF class: events of the catch-all formats are ``base_event``, and the rule's
    # fields decide what matches
    hit = ROUTES.get((product, service)) or ROUTES.get((product, None))
    shared = SHARED_ROUTES.get((product, service)) or (SHARED_ROUTES.get((product, None)) if hit is None else None)
    if shared is not None:
        fmts_, what = shared
        return fmts_, None, (f"logsource product {product!r} has no dedicated secpipe source: the rule runs on "
                             f"{what} (read by the {fmts_[1]} format) and on events ingested with the {fmts_[0]} format")
    if hit is None and product in TEXT_PRODUCTS:
        return FALLBACK_CATEGORY, None, (f"logsource product {product!r} has no dedicated secpipe source: the rule "
                                         f"runs on events ingested as {' and '.join(FALLBACK_CATEGORY)}")
    if hit is None:
        return FALLBACK_PRODUCT, None, (f"logsource product {product!r} has no dedicated secpipe source: the rule "
                                        f"runs on events ingested with the {FALLBACK_PRODUCT[0]} format")
    return hit, None, None


def scope_rule(rule: SigmaRule, compiled: Compiled) -> None:
    """AND ``compiled`` with the programs of the rule's ``service`` and the event IDs of its
    ``category`` (:data:`SERVICE_PROGRAMS`, :data:`SYSMON_EVENT_IDS`, :data:`WINDOWS_EVENT_IDS`), where
    it names them."""
    programs = _service_programs(rule)
    if programs:
        _scope(compiled, programs)
    event_ids = _sysmon_event_ids(rule)
    if event_ids:
        _scope(compiled, event_ids, EVENT_ID_FIELD)
    windows = _windows_event_ids(rule)
    for field in WINDOWS_EVENT_ID_FIELDS if windows else ():  # each spelling absent or one of the IDs
        _scope(compiled, windows, field)


def _service_programs(rule: SigmaRule) -> tuple[str, ...]:
    """The programs a ``product: linux|unix`` rule's ``service`` names (:data:`SERVICE_PROGRAMS`)."""
    ls = rule.logsource
    if (ls.product or "").lower() not in ("linux", "unix"):
        return ()
    return SERVICE_PROGRAMS.get((ls.service or "").lower(), ())


def _sysmon_event_ids(rule: SigmaRule) -> tuple[str, ...]:
    """The Sysmon event IDs a ``product: linux`` rule's ``category`` names (:data:`SYSMON_EVENT_IDS`)."""
    ls = rule.logsource
    if (ls.product or "").lower() not in ("linux", "unix"):
        return ()
    return SYSMON_EVENT_IDS.get((ls.category or "").lower(), ())


def _windows_event_ids(rule: SigmaRule) -> tuple[str, ...]:
    """The event IDs a ``product: windows`` rule's ``category`` names (:data:`WINDOWS_EVENT_IDS`)."""
    ls = rule.logsource
    if (ls.product or "").lower() != "windows":
        return ()
    return WINDOWS_EVENT_IDS.get((ls.category or "").lower(), ())


def _scope(compiled: Compiled, values: tuple[str, ...], field: str = PROGRAM_FIELD) -> None:
    """AND ``compiled`` with "the event has no ``field``, or one of ``values``": a cron rule's
    keyword must not fire on what apt or dpkg logged (the program), a process_creation rule on
    Sysmon's other events (the EventID). Lines without a TAG and JSON events (which keep no
    syslog program) are still read, as before. A JSON object in the field's place counts as no
    value: an evtx record's EventID with Qualifiers, whose number is tested at ``EventID.#text``."""
    lits = ", ".join(map(sql_str, values))
    compiled.leaves.append(Leaf(field, f"({F} IS NULL OR {L} IN ({lits}) OR starts_with({F}, '{{'))"))
    compiled.skeleton = f"({compiled.skeleton} AND \x02{len(compiled.leaves) - 1}\x02)"
