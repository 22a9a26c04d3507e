"""The command of a Kubernetes ``pods/exec`` request, as its URI carries it, for the redact stage.

``kubectl exec POD -- CMD ARG...`` (and any client of the API's exec subresource) sends the command as repeated
``command`` query parameters, one argument each, URL-encoded (client-go's ``url.Values.Encode``: ``+`` a space,
``%2F`` a slash, the keys sorted): ``/api/v1/namespaces/NS/pods/POD/exec?command=sh&command=-c&command=mysql+-p...
&container=c&stdout=true``. The API server's audit log keeps it in ``requestURI`` (its JSON writes ``&`` as
``\\u0026``) and the k8s_audit format maps it to ``http_request.url.query_string``. The command-line detectors, which
read a command as words between spaces, see none of it. :func:`exec_text` gives the command lines (each request's
arguments decoded and joined by spaces, one a line), and :func:`redact_exec` redacts them with the caller's detectors
and writes each changed argument back URL-encoded around its placeholder (the other arguments as they were).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote_plus, unquote_plus

from secpipe.transforms.protect._audit import _PLACEHOLDER, redact_words

#: one ``command`` parameter of a query: at the start of a text (a query string alone), after ``?``, ``&`` or JSON's
#: ``\u0026``; its value up to the next parameter, a quote, a space or the fragment
PARAM = re.compile(r'(?:^|(?<=[?&])|(?<=\\u0026))command=([^&\s"\'\\#<>]*)')
#: what may stand between two parameters of one query (other parameters): a text with something else between two
#: ``command`` parameters holds two requests
_SAME_QUERY = re.compile(r'(?:[&][^&\s"\'\\#<>?]*|\\u0026[^&\s"\'\\#<>?]*)*[&]?(?:\\u0026)?')


def _requests(text: str) -> list[list[re.Match[str]]]:
    """The ``command`` parameters of ``text``, grouped by the query (request) they are in, in order."""
    groups: list[list[re.Match[str]]] = []
    last = None
    for m in PARAM.finditer(text):
        if last is not None and _SAME_QUERY.fullmatch(text, last.end(), m.start()):
            groups[-1].append(m)
        else:
            groups.append([m])
        last = m
    return groups


def exec_text(text: str) -> str | None:
    """The command lines of ``text``'s exec requests, one a line, the arguments decoded and space-separated (None:
    no ``command`` parameter)."""
    groups = _requests(text)
    if not groups:
        return None
    return "\n".join(" ".join(unquote_plus(m.group(1)) for m in g) for g in groups)


def _encode(word: str) -> str:
    """``word`` URL-encoded as client-go's QueryEscape writes a value, its placeholders as they are."""
    pieces = _PLACEHOLDER.split(word)
    marks = _PLACEHOLDER.findall(word)
    return "".join(quote_plus(p, safe="") + (marks[k] if k < len(marks) else "") for k, p in enumerate(pieces))


def redact_exec(text: str, redact: Callable[[str], tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """``text`` with the secrets ``redact`` finds in its exec requests' command lines replaced in the arguments that
    hold them (each such argument URL-encoded again around its placeholder); (new text, the secret types found)."""
    kinds: list[str] = []
    edits: list[tuple[int, int, str]] = []
    for group in _requests(text):
        words = [unquote_plus(m.group(1)) for m in group]
        new_words = redact_words(words, redact, kinds)
        if new_words is None:
            continue
        for m, old, new in zip(group, words, new_words, strict=True):
            if new != old:
                edits.append((m.start(1), m.end(1), _encode(new)))
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text, kinds
