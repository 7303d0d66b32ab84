"""Query values kept out of the logs.

URLs carry what a log must not: the one-minute socket token (`/live?token=…`), contact emails
and search text (`?email=…`, `?q=…`), and uvicorn logs every request's URL whole. A filter on
every log handler rewrites each query in a line to its parameter names (`?token=[redacted]`),
so a line still says which request it was. `tandem serve` gives uvicorn `server_log_config`;
other commands call `install` once logging is set up.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"
# A query: from `?` up to whitespace, a quote, an angle bracket or a fragment.
_QUERY = re.compile(r"\?[^\s\"'<>#]+")
_VALUE = re.compile(r"=[^&;]*")


def redact(text: str) -> str:
    """`text` with the value of every query parameter replaced, its names kept."""
    if "?" not in text:
        return text
    return _QUERY.sub(lambda query: _VALUE.sub("=" + REDACTED, query.group()), text)


def _clean(arg: object) -> object:
    if isinstance(arg, str):
        return redact(arg)
    if type(arg).__name__ == "URL":  # httpx's and starlette's URLs, logged as themselves
        return redact(str(arg))
    return arg


# `log.info(..., extra={KEEP_WHOLE: True})`: a line whose links are its point, for the
# operator to pass on (app/mail/send.py without a mail provider).
KEEP_WHOLE = "keep_whole"


class QueryRedaction(logging.Filter):
    """Redacts the record's arguments one by one, so formatters that read them (uvicorn's
    access log) still can; a query in the message template itself flattens the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, KEEP_WHOLE, False):
            return True  # written whole on purpose (the log-only mailer's emails)
        # A record that cannot be formatted fails later, in its handler, as it would unfiltered.
        with contextlib.suppress(Exception):
            self._redact(record)
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, Mapping):
            record.args = {name: _clean(value) for name, value in record.args.items()}
        elif record.args:
            record.args = tuple(_clean(arg) for arg in record.args)
        if isinstance(record.msg, str) and "?" in record.msg:
            if not record.args:
                record.msg = redact(record.msg)
            else:
                whole = record.getMessage()
                clean = redact(whole)
                if clean != whole:
                    record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is there: an error may quote the URL it failed on.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


def install(logger: logging.Logger | None = None) -> None:
    """Put the filter on every handler of `logger` (the root by default) that lacks it."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, QueryRedaction) for f in handler.filters):
            handler.addFilter(QueryRedaction())


def server_log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on each of its handlers, and Tandem's
    own loggers (through the root) written to stderr beside them, filtered the same way.
    Applied in every worker process uvicorn starts."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": f"{__name__}.QueryRedaction"}}
    config["formatters"]["tandem"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["tandem"] = {
        "class": "logging.StreamHandler",
        "formatter": "tandem",
        "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["tandem"], "level": level.upper()}
    return config
