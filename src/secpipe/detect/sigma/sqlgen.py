"""SQL text of the engine's reads and of the SQL path (no DuckDB calls: strings only).

- paths: :func:`json_path` (a dotted field as a JSON path, wildcarding segments that cross
  arrays), :func:`ocsf_expr` (the same dotted path as an OCSF column expression, lists
  transformed element-wise), :func:`raw_read` / :func:`spellings` (a field read in its own
  spelling, then its other cases, :mod:`.fields`), :func:`kv_sql` (``name=value`` pairs of text
  records), :func:`present_sql` (presence pseudo-fields), :func:`param_sql` (event parameters);
- rules: :func:`build_branch` (one query over a part of the batch and its rules: every
  predicate computed once, per-row 64-bit rule masks, evidence JSON), :func:`leaf_sql` (a leaf
  over scalar or list columns), :func:`rule_sql` (NOT operands and the rule coalesced to
  false), :func:`kleene_filter` (a three-valued prefilter over native columns).

Guarantee: every string literal goes through :func:`~.compiler.sql_str` and every identifier
through :func:`ident`, so rule values and field names can never change the query's shape.
"""

from __future__ import annotations

import re

import pyarrow as pa

from secpipe.detect.sigma.compiler import KEYWORDS, F, L, Leaf, rule_sql, sql_str
from secpipe.detect.sigma.fields import PARAM, base, is_evidence, is_param, is_presence, split_path
from secpipe.detect.sigma.rules import Rule
from secpipe.detect.sigma.syscalls import syscall_sql


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def json_path(name: str, wild: set[int] | None = None) -> str:
    """A dotted path (keys may hold :data:`~.fields.KEY_DOT`) as a DuckDB JSON path; segments
    in ``wild`` cross arrays (``[*]``)."""
    segs = split_path(name)
    out = "$"
    for i, s in enumerate(segs):
        out += "." + ident(s)
        if wild and i in wild:
            out += "[*]"
    return out


def ocsf_expr(schema: pa.Schema, name: str) -> tuple[str, bool] | None:
    """SQL for an OCSF dotted path in this batch schema: (expr, is_list), or None."""
    segs = name.split(".")
    if segs[0] not in schema.names:
        return None
    typ = schema.field(segs[0]).type
    expr = ident(segs[0])
    is_list = False
    depth = 0
    for s in segs[1:]:
        while pa.types.is_list(typ) or pa.types.is_large_list(typ):
            typ = typ.value_type
            depth += 1
            var = f"x{depth}"
            expr = f"list_transform({expr}, lambda {var}: {var}"  # closed below
            is_list = True
        if not pa.types.is_struct(typ) or typ.get_field_index(s) < 0:
            return None
        typ = typ.field(s).type
        expr += "." + ident(s)
    expr += ")" * depth
    if depth > 1:
        expr = f"flatten({expr})" if depth == 2 else None  # type: ignore[assignment]
        if expr is None:
            return None
    if pa.types.is_list(typ):
        if is_list:
            return None
        return f"list_transform({expr}, lambda v: CAST(v AS VARCHAR))", True
    if pa.types.is_struct(typ) or pa.types.is_map(typ):
        return None
    if is_list:
        return f"list_transform({expr}, lambda v: CAST(v AS VARCHAR))", True
    return f"CAST({expr} AS VARCHAR)", False


TABLE = "\x03T\x03"  # placeholder in cached branch SQL


#: field names that may be read from a text record's ``name=value`` pairs (no dotted paths)
KV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def safe(expr: str, text: int) -> str:
    """A JSON read of ``raw_data``: under ``try`` when some records are text (NULL for them)."""
    return f"try({expr})" if text else expr


def kv_pattern(name: str) -> str:
    """The regular expression of ``name``'s ``name=value`` / ``name="value"`` pair in a text record
    (group 1 the value, quotes and all): the name at the start or after a space or ``:;,[]``, or
    the 0x1D byte auditd writes before the interpreted fields of an ENRICHED record."""
    return r"(?:^|[\s:;,\[\]\x1d])" + re.escape(name) + r'=("[^"]*"|[^\s,;\x1d]*)'


def xml_pattern(name: str) -> str:
    """The regular expression of ``name``'s XML element in a text record: ``<Data Name="name">v</Data>``
    (an event's EventData) or ``<name>v</name>`` (its System part: ``EventID``, ``Computer``)."""
    return r'<(?:Data Name="' + re.escape(name) + '"|' + re.escape(name) + r")>([^<]*)</"


#: XML's predefined entities, ``&amp;`` last (``&amp;lt;`` is the text ``&lt;``)
XML_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


#: ``kv`` of a batch some of whose text records hold XML elements (``</``): :func:`kv_sql` reads them
XML_TEXT = 2


#: auditd fields that hold untrusted strings: the kernel logs such a value quoted, or, when it
#: holds a double quote, a space, a control character or a byte above 0x7e, as the upper-case
#: hex of its bytes without quotes (``audit_log_untrustedstring``: ``a2=77686F616D692026206964``;
#: a PROCTITLE record's arguments are separated by NUL bytes). An EXECVE record's ``aN`` are
#: such strings; a SYSCALL record's ``a0``-``a3`` are register values (lower-case hex numbers).
AUDIT_HEX_FIELDS = re.compile(r"^(?:a\d+|proctitle|comm|exe|name|cwd|cmd)$")
#: the auditd field that names a record's system call (:mod:`.syscalls`)
AUDIT_SYSCALL = "SYSCALL"
#: a value auditd wrote as hex (bytes as pairs of upper-case digits)
AUDIT_HEX = r"(?:[0-9A-F]{2})+"


def audit_hex_record(name: str) -> str:
    """The literal an auditd record whose ``name`` may be hex holds (``msg=audit(``; an EXECVE
    record for the ``aN`` arguments)."""
    return "type=EXECVE msg=audit(" if name[:1] == "a" and name[1:].isdigit() else "msg=audit("


def _pair(name: str) -> str:
    return f"nullif(trim(regexp_extract(raw_data, {sql_str(kv_pattern(name))}, 1), '\"'), '')"


def kv_sql(name: str, xml: bool = False) -> str:
    """``name``'s value in a text record, NULL in JSON records and where it is absent:

    - an XML element of an event written as XML (Sysmon for Linux logs each event to syslog as
      its Windows-style ``<Event>``: ``<Data Name="CommandLine">sudo -u#-1 id</Data>``,
      ``<EventID>1</EventID>``; :func:`xml_pattern`), its entities decoded; else
    - a pair written ``name=value`` or ``name="value"`` (auditd, key=value syslog messages:
      ``type=EXECVE ... a0="cp"``, ``useradd: name=john, UID=0``), the name matched at the
      start of the text or after a space or ``:;,[]`` delimiter.

    Names are matched case-sensitively. An auditd record's ``SYSCALL`` is the call's name: the
    pair ``log_format = ENRICHED`` appends, else the name of its ``syscall`` number
    (:mod:`.syscalls`). An auditd string field written as hex
    (:data:`AUDIT_HEX_FIELDS`) is read decoded, NUL bytes as spaces. ``xml``: some record of the
    batch holds ``</`` (the XML elements are looked for only then, and only in such records)."""
    pair = _pair(name)
    if name == AUDIT_SYSCALL:  # an auditd record's call by name: ENRICHED's own pair, else the number's name
        pair = f"coalesce({pair}, {syscall_sql(_pair('syscall'), _pair('arch'))})"
    if AUDIT_HEX_FIELDS.match(name):
        raw = f"regexp_extract(raw_data, {sql_str(kv_pattern(name))}, 1)"
        pair = (f"CASE WHEN contains(raw_data, {sql_str(audit_hex_record(name))}) "
                f"AND regexp_full_match({raw}, {sql_str(AUDIT_HEX)}) "
                f"THEN coalesce(try(replace(decode(unhex({raw})), chr(0), ' ')), {raw}) ELSE {pair} END")
    if not xml:
        return f"CASE WHEN NOT starts_with(raw_data, '{{') THEN {pair} END"
    elem = f"regexp_extract(raw_data, {sql_str(xml_pattern(name))}, 1)"
    for entity, char in XML_ENTITIES:
        elem = f"replace({elem}, {sql_str(entity)}, {sql_str(char)})"
    return (f"CASE WHEN starts_with(raw_data, '{{') THEN NULL "
            f"WHEN contains(raw_data, '</') THEN coalesce(nullif({elem}, ''), {pair}) ELSE {pair} END")


#: where a record keeps its event parameters: a Google Workspace audit ``LogEntry``'s ActivityProto
#: (Cloud Logging; ``event[]`` of the Admin SDK activity, each with its ``parameter[]``), and the
#: Admin SDK Reports API's activity (``activities.list`` items: ``events[]``, each with its
#: ``parameters[]``; an ``events`` object where a poller gave each event a record of its own, as
#: Elastic's ``google_workspace`` integration splits them)
PARAMS_PATHS = ("$.protoPayload.metadata.event[*].parameter[*]", "$.events[*].parameters[*]", "$.events.parameters[*]")
#: a parameter's value by its type (ActivityProto: ``value``, ``boolValue``, ``intValue``, lists
#: ``multiStrValue`` / ``multiIntValue``; the Reports API's ``multiValue`` for ``multiStrValue``),
#: each list element a value
PARAM_VALUE = ("CASE WHEN json_type(p, '$.multiStrValue') = 'ARRAY' THEN json_extract_string(p, '$.multiStrValue[*]') "
               "WHEN json_type(p, '$.multiValue') = 'ARRAY' THEN json_extract_string(p, '$.multiValue[*]') "
               "WHEN json_type(p, '$.multiIntValue') = 'ARRAY' THEN json_extract_string(p, '$.multiIntValue[*]') "
               "ELSE [coalesce(p->>'value', p->>'boolValue', p->>'intValue')] END")


def param_sql(name: str, text: int) -> str:
    """The values of a record's event parameters named as the pseudo-field ``name`` (any case;
    :mod:`.fields`): a list, NULL for a record without parameters (only records whose text holds
    ``"parameter`` are parsed)."""
    want = sql_str(name[len(PARAM):].lower())
    params = ", ".join(f"coalesce({safe(f'json_extract(raw_data, {sql_str(path)})', text)}, [])" for path in PARAMS_PATHS)
    values = (f"flatten(list_transform(list_filter(flatten([{params}]), lambda p: lower(p->>'name') = {want}), "
              f"lambda p: {PARAM_VALUE}))")
    return f"CASE WHEN contains(raw_data, '\"parameter') THEN list_filter({values}, lambda v: v IS NOT NULL) END"


def list_sql(items: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in items) + "]"


def spellings(name: str, aliases: dict[str, tuple[str, ...]] | None) -> list[str]:
    """The paths a (pseudo-)field is read from: its own spelling first, then the other cases
    records use (:mod:`.fields`)."""
    b = base(name)
    return [b, *(aliases or {}).get(b, ())]


def raw_read(name: str, aliases: dict[str, tuple[str, ...]] | None, paths: list[str], types: list[str]) -> str:
    """SQL for a field's raw value from the batch's two JSON reads (``__j``: the strings at
    ``paths``, ``__t``: the JSON types at ``types``): its spellings coalesced in order; a presence
    pseudo-field reads types (a JSON null is present)."""
    target, col = (types, "__t") if is_presence(name) else (paths, "__j")
    parts = []
    for path in spellings(name, aliases):
        target.append(json_path(path))
        parts.append(f"{col}[{len(target)}]")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def present_sql(expr: str, is_list: bool) -> str:
    """A presence pseudo-field's value from an OCSF / key=value expression: present when set."""
    return f"CASE WHEN len({expr}) > 0 THEN 'present' END" if is_list else f"CASE WHEN {expr} IS NOT NULL THEN 'present' END"


def kleene_filter(rules: list[Rule], native: dict[str, str]) -> str:
    """A cheap row filter over native columns: JSON leaves become NULL, so under SQL's
    three-valued logic ``expr IS NOT FALSE`` keeps every row some rule could match."""
    exprs = []
    for r in rules:
        sql = r.compiled.skeleton
        usable = False
        for i, leaf in reversed(list(enumerate(r.compiled.leaves))):
            ok = leaf.field in native and leaf.other is None
            usable |= ok
            rep = f"coalesce({leaf.template.replace(F, native[leaf.field]).replace(L, 'lower(' + native[leaf.field] + ')')}, false)" \
                if ok else "NULL"
            sql = sql.replace(f"\x02{i}\x02", rep)
        if not usable:
            return "TRUE"
        exprs.append(f"({rule_sql(sql, kleene=True)}) IS NOT FALSE")
    return "(" + " OR ".join(exprs) + ")" if exprs else "TRUE"


def build_branch(schema: pa.Schema, rules: list[Rule], lists: dict[str, frozenset[int]],
                  native: dict[str, str], guards: tuple | None = None, kv: int = 0,
                  aliases: dict[str, tuple[str, ...]] | None = None) -> str:
    """SQL over one part of the batch (table ``TABLE``) and its rules: ``__i``, the part id
    (``_GROUP``) and ``m``, the list of {k: rule index in the part, e: evidence JSON} of the
    rules the row matches. Rows no rule could match (cheap three-valued prefilter on native
    columns) are dropped before any JSON is parsed; each predicate is computed once. A field
    is read in its own spelling, then its ``aliases``; a presence pseudo-field is a scalar
    (present or NULL) also through arrays (:mod:`.fields`)."""
    fields: dict[str, None] = {}
    for r in rules:
        fields.update(dict.fromkeys(r.compiled.fields))
    has_raw = "raw_data" in schema.names
    col_of: dict[str, tuple[str, bool]] = {}  # field -> (column id, is_list)
    multi = "__log" in schema.names
    inner: list[str] = ["__i"] + (["__log"] if multi else [])
    paths: list[str] = []
    types: list[str] = []
    reads_at = len(inner)
    middle: list[str] = ["__i"] + (["__log"] if multi else [])
    for n, f in enumerate(fields):
        cid = f"c{n}"
        if f == KEYWORDS:
            src = "raw_data" if has_raw else ("message" if "message" in schema.names else "NULL::VARCHAR")
            inner.append(f"{src} AS __k")
            middle.append(f"__k AS {cid}, lower(__k) AS {cid}l")
            col_of[f] = (cid, False)
            continue
        if f in native:
            inner.append(f"{native[f]} AS __n{n}")
            middle.append(f"__n{n} AS {cid}")
            col_of[f] = (cid, False)
            continue
        if is_param(f):  # a list of the record's parameter values (fields.PARAM)
            lst = param_sql(base(f), kv) if has_raw else "NULL::VARCHAR[]"
            if is_presence(f):
                inner.append(f"{present_sql(lst, True)} AS __q{n}")
                middle.append(f"__q{n} AS {cid}")
            else:
                inner.append(f"{lst} AS __q{n}")
                middle.append(f"__q{n} AS {cid}, list_transform(__q{n}, lambda x: lower(x)) AS {cid}l")
            col_of[f] = (cid, not is_presence(f))
            continue
        ocsf = ocsf_expr(schema, base(f))
        if f in lists and has_raw and is_presence(f):
            wild = set(lists[f])
            tests = [t for p in spellings(f, aliases) for t in (
                f"{safe(f'json_type(raw_data, {sql_str(json_path(p))})', kv)} IS NOT NULL",
                f"len({safe(f'json_type(raw_data, {sql_str(json_path(p, wild))})', kv)}) > 0")
                if t.endswith("IS NOT NULL") or json_path(p, wild) != json_path(p)]
            expr = f"CASE WHEN {' OR '.join(tests)} THEN 'present' END"
            if ocsf is not None:
                expr = f"coalesce({expr}, {present_sql(*ocsf)})"
            inner.append(f"{expr} AS __w{n}")
            middle.append(f"__w{n} AS {cid}")
            col_of[f] = (cid, False)
            continue
        if f in lists and has_raw:
            opts = []
            for j, p in enumerate(spellings(f, aliases)):
                inner.append(f"{safe(f'json_extract_string(raw_data, {sql_str(json_path(p))})', kv)} AS __p{n}_{j}")
                scalar = f"CASE WHEN __p{n}_{j} IS NULL THEN NULL ELSE [__p{n}_{j}] END"
                listed = json_path(p, set(lists[f]))
                if listed == json_path(p):  # a spelling without the array (one key holding the dots: "a.b.c")
                    opts.append(scalar)
                    continue
                inner.append(f"{safe(f'json_extract_string(raw_data, {sql_str(listed)})', kv)} AS __w{n}_{j}")
                opts.append(f"CASE WHEN len(__w{n}_{j}) > 0 THEN __w{n}_{j} ELSE {scalar} END")
            expr = opts[0] if len(opts) == 1 else f"coalesce({', '.join(opts)})"
            if ocsf is not None:
                o = ocsf[0] if ocsf[1] else f"[{ocsf[0]}]"
                inner.append(f"{o} AS __o{n}")
                expr = f"coalesce({expr}, __o{n})"
            middle.append(f"{expr} AS {cid}, list_transform({expr}, lambda x: lower(x)) AS {cid}l")
            col_of[f] = (cid, True)
            continue
        raw = raw_read(f, aliases, paths, types) if has_raw else None
        if ocsf is not None and is_presence(f):
            ocsf = (present_sql(*ocsf), False)
        if ocsf is not None and ocsf[1]:  # OCSF list column
            inner.append(f"{ocsf[0]} AS __o{n}")
            expr = f"coalesce(CASE WHEN {raw} IS NULL THEN NULL ELSE [{raw}] END, __o{n})" if raw else f"__o{n}"
            middle.append(f"{expr} AS {cid}, list_transform({expr}, lambda x: lower(x)) AS {cid}l")
            col_of[f] = (cid, True)
            continue
        parts = [raw] if raw else []
        if kv and has_raw and KV_NAME.match(base(f)):  # a text record's own pair before the OCSF column
            kvs = kv_sql(base(f), kv == XML_TEXT)
            inner.append(f"{present_sql(kvs, False) if is_presence(f) else kvs} AS __v{n}")
            parts.append(f"__v{n}")
        if ocsf is not None:
            inner.append(f"{ocsf[0]} AS __o{n}")
            parts.append(f"__o{n}")
        expr = f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0] if parts else "NULL::VARCHAR"
        middle.append(f"{expr} AS {cid}")
        col_of[f] = (cid, False)
    reads = [f"{safe(f'json_extract_string(raw_data, {list_sql(paths)})', kv)} AS __j"] if paths else []
    reads += [f"{safe(f'json_type(raw_data, {list_sql(types)})', kv)} AS __t"] if types else []
    inner[reads_at:reads_at] = reads
    outer_cols = ["__i"] + (["__log"] if multi else [])
    for f, (cid, is_list) in col_of.items():
        outer_cols.append(cid)
        outer_cols.append(f"{cid}l" if is_list or f == KEYWORDS else f"lower({cid}) AS {cid}l")
    preds = []
    for k, r in enumerate(rules):
        sql = r.compiled.skeleton
        for i, leaf in reversed(list(enumerate(r.compiled.leaves))):
            sql = sql.replace(f"\x02{i}\x02", leaf_sql(leaf, col_of))
        sql = rule_sql(sql)
        if multi and r.formats is not None:
            sql = f"(__log IN ({', '.join(sql_str(x) for x in r.formats)}) AND {sql})"
        if guards is not None and guards[k] is not None:
            sql = f"(CASE WHEN __gid IN ({', '.join(map(str, guards[k]))}) THEN {sql} ELSE false END)"
        preds.append(f"{sql} AS r{k}")
    carry = [c for f, (c, _) in col_of.items() if f != KEYWORDS]
    filt = kleene_filter(rules, native) if native else "TRUE"
    if "__gid" in schema.names:
        inner.append("__gid")
        middle.append("__gid")
        outer_cols.append("__gid")
    masks = []
    for q in range(0, len(rules), 64):
        bits = [f"(r{k}::UBIGINT << {k - q})" for k in range(q, min(q + 64, len(rules)))]
        masks.append(f"({' | '.join(bits)}) AS m{q // 64}")
    # evidence: per set of fields a matched rule names (as the fast path), one column per set,
    # computed only on rows a rule of that set matched
    sets, set_of = evidence_sets(rules)
    ev = ", ".join(
        f"CASE WHEN {' OR '.join(f'r{k}' for k, s in enumerate(set_of) if s == i)} THEN "
        f"{evidence_json(fs, {f: col_of[f][0] for f in fs})} END AS ev{i}" for i, fs in enumerate(sets))
    # MATERIALIZED: each predicate is computed once (an inlined subquery would let the optimizer
    # push the any-hit filter down and evaluate every predicate twice).
    return (f"WITH p AS MATERIALIZED (SELECT __i, {', '.join(preds + carry)} FROM (SELECT {', '.join(outer_cols)} FROM "
            f"(SELECT {', '.join(middle)} FROM (SELECT {', '.join(inner)} FROM {TABLE} WHERE {filt})))) "
            f"SELECT __i, {', '.join(masks)}, {ev} FROM p WHERE {' OR '.join(f'r{k}' for k in range(len(rules)))}")


def evidence_sets(rules: list[Rule]) -> tuple[list[tuple[str, ...]], list[int]]:
    """The distinct evidence field lists of ``rules`` (each rule's evidence fields in its order)
    and, per rule, the index of its list: a finding's evidence holds the fields its rule names."""
    index: dict[tuple[str, ...], int] = {}
    set_of = [index.setdefault(tuple(f for f in r.compiled.fields if is_evidence(f)), len(index)) for r in rules]
    return list(index), set_of


def evidence_json(fields: tuple[str, ...], col: dict[str, str]) -> str:
    """SQL of a finding's evidence, the JSON object ``{field: value}`` of ``fields`` (``col``: each
    field's SQL expression), ``'{}'`` for none. ``json_object``, not ``struct_pack``: its keys are
    string values, so two spellings of one field (``eventName`` / ``eventname``, which DuckDB
    identifiers would confuse) both stay."""
    if not fields:
        return "'{}'"
    return f"json_object({', '.join(f'{sql_str(f)}, {col[f]}' for f in fields)})::VARCHAR"


def leaf_sql(leaf: Leaf, col_of: dict[str, tuple[str, bool]]) -> str:
    """One leaf over the part's columns; NULL when the field is missing (see :func:`rule_sql`)."""
    cid, is_list = col_of[leaf.field]
    tmpl = leaf.template
    if leaf.other is not None:
        ocid, olist = col_of[leaf.other]
        if olist or is_list:
            other = f"{ocid}l[1]" if olist else f"{ocid}l"
            if is_list:
                return f"list_bool_or(list_transform({cid}l, lambda y: {tmpl.replace(L, 'y').replace(chr(1) + 'O' + chr(1), other)}))"
            return f"({tmpl.replace(L, cid + 'l').replace(chr(1) + 'O' + chr(1), other)})"
        return f"({tmpl.replace(L, cid + 'l').replace(chr(1) + 'O' + chr(1), ocid + 'l')})"
    if not is_list:
        return f"({tmpl.replace(F, cid).replace(L, cid + 'l')})"
    if leaf.null_test:
        neg = "IS NOT NULL" in tmpl
        return f"({cid} IS NOT NULL AND len({cid}) > 0)" if neg else f"({cid} IS NULL OR len({cid}) = 0)"
    body = tmpl.replace(F, "y").replace(L, "lower(y)")
    return f"list_bool_or(list_transform({cid}, lambda y: {body}))"
