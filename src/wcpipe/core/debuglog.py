"""`--debug`: botocore's own debug log of every HTTP exchange on stderr, as `aws --debug` shows
it, with what must never be printed taken out.

aws-cli's `--debug` turns on DEBUG for the `botocore` logger (awscli/clidriver.py,
`_set_logging`); botocore then logs each request it sends (botocore/endpoint.py: "Sending http
request", with its headers) and each response body (botocore/parsers.py: "Response body").
Those carry the request signature and, for some operations, a secret: the Redshift admin password
in CreateCluster/ModifyCluster and CreateNamespace, the secret's value in Create/PutSecretValue
and GetSecretValue. Every record passes `redact` before it is written:

- the value of an `Authorization` or `X-Amz-Security-Token` header;
- the value after any key that names a password, a secret string, a secret access key or a
  session token, in JSON, in repr'd bytes (escaped quotes) and in query strings;
- any value registered with `hide` (a password wcpipe generated or read), also as it appears
  percent-encoded (a query-protocol body), XML- or HTML-escaped (a query-protocol response that
  quotes it) and JSON-escaped.
"""

from __future__ import annotations

import logging
import re
import sys
import threading

MASK = "***"

_HEADER = re.compile(r"""((?:Authorization|X-Amz-Security-Token)['"]?\s*:\s*b?['"])[^'"]*""", re.I)
_KEYED = re.compile(
    r"""((?:[A-Za-z]*password|secretstring|secretaccesskey|sessiontoken|secret_access_key)"""
    r"""\\*["']?\s*[:=]\s*b?\\*["']?)([^,}&'\s]+)""",
    re.I,
)
_hidden: set[str] = set()
_lock = threading.Lock()
_LOGGERS = ("botocore", "boto3", "urllib3")


def hide(value: str | None) -> None:
    """Never print `value` in the debug log (a password generated or read), in any of the
    encodings a request or response carries it in."""
    if not value:
        return
    import html
    import json
    from urllib.parse import quote, quote_plus

    forms = {
        value,
        quote(value, safe=""),
        quote_plus(value, safe=""),
        html.escape(value, quote=True),
        html.escape(value, quote=True).replace("&#x27;", "&apos;"),
        json.dumps(value)[1:-1],
        json.dumps(json.dumps(value)[1:-1])[1:-1],
    }
    with _lock:
        _hidden.update(forms)


def redact(text: str) -> str:
    """The known values first (whole, in each encoding), then whatever follows a key that names
    a secret (a value of no known one, cut where the value seems to end)."""
    with _lock:
        hidden = sorted(_hidden, key=len, reverse=True)
    for value in hidden:
        text = text.replace(value, MASK)
    text = _HEADER.sub(lambda m: m.group(1) + MASK, text)
    return _KEYED.sub(lambda m: m.group(1) + MASK, text)


class _Redacting(logging.Handler):
    """Writes each record, redacted, to the stderr of the moment (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = redact(self.format(record))
            sys.stderr.write(line + "\n")
        except Exception:  # a log line must never break the command
            self.handleError(record)


_handler = _Redacting()
_handler.setFormatter(
    logging.Formatter("%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s")
)


def enable(on: bool) -> None:
    """Turn the HTTP debug log on or off (idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if on:
            if _handler not in logger.handlers:
                logger.addHandler(_handler)
            logger.setLevel(logging.DEBUG)
        elif _handler in logger.handlers:
            logger.removeHandler(_handler)
            logger.setLevel(logging.NOTSET)
