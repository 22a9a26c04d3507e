"""Config of the enrichment transforms ``threat_intel``, ``geoip`` and ``lookup``.

Example::

    transforms:
      intel:
        type: threat_intel
        inputs: [edge]
        feeds:
          - {name: feodo, url: "https://feodotracker.abuse.ch/downloads/ipblocklist.csv",
             format: abusech_csv, refresh: 1h, confidence: 90, labels: [botnet-c2]}
          - {name: apt1, path: /etc/secpipe/intel/apt1.json, format: stix}
          - {name: team, path: /etc/secpipe/intel/team.yaml, format: yaml}
          # ASN indicators match <ep>.autonomous_system.number, which geoip fills: to use them,
          # run threat_intel after geoip (inputs: [geo])
          - {name: asndrop, url: "https://www.spamhaus.org/drop/asndrop.json", format: spamhaus_drop}
        allowlists:
          - {name: rfc1918, path: /etc/secpipe/warninglists/rfc1918/list.json, format: misp_warninglist}
      geo:
        type: geoip
        inputs: [intel]
        city: /var/lib/GeoIP/GeoLite2-City.mmdb
        asn: /var/lib/GeoIP/GeoLite2-ASN.mmdb
        on_error: degrade          # or "fail": a missing/corrupt database stops startup
      assets:
        type: lookup
        inputs: [geo]
        path: /etc/secpipe/assets.csv
        key: account_id            # table column
        field: cloud.account.uid   # event path (``resources[].uid`` for list elements)
        match: exact               # exact | prefix | glob | cidr
        set: {cloud.account.name: account_name}
        labels: [environment, criticality, team]

Unknown keys are errors. Durations are ``<number><s|m|h|d|w>`` or seconds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from secpipe.detect.anomaly.options import Seconds

#: durations: ``<number><s|m|h|d|w>`` or seconds (the same parser as the anomaly stage).
Duration = Seconds

FeedFormat = Literal[
    "auto", "stix", "misp", "misp_feed", "abusech_csv", "spamhaus_drop", "plain", "csv", "yaml", "json",
    "misp_warninglist",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedOptions(_Strict):
    """One indicator feed: a local path or an HTTP(S) URL, refreshed on a schedule."""

    name: str = Field(min_length=1)
    path: str | None = None
    url: str | None = None
    format: FeedFormat = "auto"
    refresh: Duration = 3600.0
    timeout: Duration = 30.0
    confidence: int = Field(70, ge=0, le=100)
    labels: list[str] = Field(default_factory=list)
    kind: Literal["auto", "ip", "domain", "url", "hash", "asn", "email", "ja3", "x509"] = "auto"
    column: str | None = None
    max_age: Duration | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    #: MISP: also take the indicators of events not yet published (``"published": false``: drafts, not vetted for
    #: detection; MISP feeds hold published events only)
    unpublished: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> FeedOptions:
        if (self.path is None) == (self.url is None):
            msg = "give exactly one of `path` (a local file) or `url` (http/https)"
            raise ValueError(msg)
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            msg = f"url must start with http:// or https:// — got {self.url!r}"
            raise ValueError(msg)
        return self


class ThreatIntelOptions(_Strict):
    """The ``threat_intel`` transform."""

    type: Literal["threat_intel"] = "threat_intel"
    inputs: list[str] = Field(default_factory=list)
    feeds: list[FeedOptions] = Field(min_length=1)
    allowlists: list[FeedOptions] = Field(default_factory=list)
    #: also the proxies a request passed (``intermediate_ips``: the rest of an X-Forwarded-For list, of Kubernetes'
    #: ``sourceIPs``), the addresses an access log's X-Forwarded-For field names, the answers of a DNS response (an A/AAAA record's address, a CNAME's name) and the endpoints of
    #: a finding's evidence (a firewall's IPS/web filter/antivirus hit, a GuardDuty finding, a Falco alert)
    ip_fields: list[str] = Field(default_factory=lambda: [
        "src_endpoint.ip", "dst_endpoint.ip", "src_endpoint.intermediate_ips[]", "http_request.x_forwarded_for[]",
        "answers[].rdata", "evidences[].src_endpoint.ip", "evidences[].dst_endpoint.ip"])
    domain_fields: list[str] = Field(default_factory=lambda: [
        "src_endpoint.domain", "dst_endpoint.domain", "src_endpoint.hostname", "dst_endpoint.hostname",
        "query.hostname", "url.hostname", "http_request.url.hostname", "tls.sni", "answers[].rdata",
        "evidences[].dst_endpoint.domain", "evidences[].dst_endpoint.hostname", "evidences[].query.hostname"])
    #: also the links of an e-mail (OCSF ``email.urls``) and a finding's evidence
    url_fields: list[str] = Field(default_factory=lambda: [
        "url.url_string", "http_request.url.url_string", "email.urls[].url_string", "evidences[].url.url_string"])
    #: every OCSF file object an event holds: the file of a file event, the executable of the process (and its
    #: parent and the actor's), a loaded module, an e-mail's attachments
    hash_fields: list[str] = Field(default_factory=lambda: [
        "file.hashes[].value", "process.file.hashes[].value", "process.parent_process.file.hashes[].value",
        "actor.process.file.hashes[].value", "module.file.hashes[].value", "email.files[].hashes[].value",
        "evidences[].file.hashes[].value", "evidences[].process.file.hashes[].value"])
    #: ASN indicators (Spamhaus ASN-DROP, team lists with ``kind: asn``) match these; the geoip
    #: stage fills them, so list threat_intel after geoip to use them
    asn_fields: list[str] = Field(default_factory=lambda: [
        "src_endpoint.autonomous_system.number", "dst_endpoint.autonomous_system.number"])
    #: e-mail address indicators (MISP email-src/email-dst, OTX email, STIX email-addr) match these
    email_fields: list[str] = Field(default_factory=lambda: [
        "actor.user.email_addr", "user.email_addr", "email.from", "email.sender", "email.smtp_from", "email.reply_to"])
    #: JA3 TLS client fingerprints (SSLBL ja3_md5, MISP ja3-fingerprint-md5, OTX JA3) match these
    ja3_fields: list[str] = Field(default_factory=lambda: ["tls.ja3_hash.value"])
    #: certificate fingerprints (SSLBL SHA1 list, MISP x509-fingerprint-*, STIX x509-certificate:hashes,
    #: OTX SSLCertFingerprint) match these (hex, compared lower-cased without ``:``)
    x509_fields: list[str] = Field(default_factory=lambda: [
        "tls.certificate.fingerprints[].value", "file.signature.certificate.fingerprints[].value"])
    findings: bool = True
    background_refresh: bool = True
    on_error: Literal["fail", "degrade"] = "degrade"


class GeoIPOptions(_Strict):
    """The ``geoip`` transform: MaxMind databases (any subset of the four)."""

    type: Literal["geoip"] = "geoip"
    inputs: list[str] = Field(default_factory=list)
    city: str | None = None
    country: str | None = None
    asn: str | None = None
    anonymous: str | None = None
    endpoints: list[str] = Field(default_factory=lambda: ["src_endpoint", "dst_endpoint"])
    language: str = "en"
    on_error: Literal["fail", "degrade"] = "fail"
    check_every: Duration = 10.0
    cache_size: int = Field(262_144, ge=0)

    @model_validator(mode="after")
    def _some_db(self) -> GeoIPOptions:
        if not (self.city or self.country or self.asn or self.anonymous):
            msg = "give at least one database path: city, country, asn or anonymous"
            raise ValueError(msg)
        return self


class LookupOptions(_Strict):
    """The ``lookup`` transform: join a table onto events by one key."""

    type: Literal["lookup"] = "lookup"
    inputs: list[str] = Field(default_factory=list)
    path: str
    format: Literal["auto", "csv", "yaml", "json"] = "auto"
    key: str
    field: str
    match: Literal["exact", "prefix", "glob", "cidr"] = "exact"
    case_sensitive: bool = True
    set: dict[str, str] = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)
    unmapped: list[str] = Field(default_factory=list)
    check_every: Duration = 10.0


#: type -> options model, merged into ``secpipe.config.models.COMPONENTS``.
ENRICH_OPTIONS: dict[str, type[BaseModel]] = {
    "threat_intel": ThreatIntelOptions,
    "geoip": GeoIPOptions,
    "lookup": LookupOptions,
}
