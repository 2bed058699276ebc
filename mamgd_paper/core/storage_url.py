"""Storage URLs shown without their secrets (standard library only).

A study storage may be an SQLAlchemy URL with a password
(``postgresql://user:secret@host/db``). Nothing the pipeline writes (logs,
run-time records, executed notebooks, error messages) and no process's
arguments may hold it: :func:`mask` gives the URL as SQLAlchemy's
``URL.render_as_string(hide_password=True)`` shows it (the password, and a
``password=`` query parameter, as ``***``), anything that is not a URL
unchanged. The URL itself travels only in the environment
(:data:`ENVIRONMENT`: the Makefile exports it to notebook 11's run, which
passes it on to its workers the same way).
"""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: The environment variable that carries the equal-budget storage to the
#: runner, the notebook and the workers (never a command-line argument).
ENVIRONMENT = "MAMGD_EQUAL_BUDGET_STORAGE"
#: What a password is replaced with (as SQLAlchemy shows it).
HIDDEN = "***"
_SECRET_KEYS = {"password", "passwd", "sslpassword"}


def mask(text):
    """``text`` with a URL's password (and password query parameters) masked.

    >>> mask("postgresql://user:secret@127.0.0.1:5432/db")
    'postgresql://user:***@127.0.0.1:5432/db'
    >>> mask("data/equal_budget.journal")
    'data/equal_budget.journal'
    """
    if text is None:
        return None
    text = str(text)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        # unparseable: hide everything between the scheme and the last "@"
        return re.sub(r"(?<=://).*@", HIDDEN + "@", text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{HIDDEN}@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
            query = urlencode([(k, HIDDEN if k.lower() in _SECRET_KEYS else v)
                               for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return text  # nothing secret (and urlunsplit would rewrite sqlite:///x as sqlite:/x)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_all(text, urls):
    """``text`` with every URL of ``urls`` replaced by its :func:`mask` (for
    messages that quote a URL, e.g. a driver's error)."""
    text = str(text)
    for url in urls:
        if url and "://" in str(url):
            text = text.replace(str(url), mask(url))
            parts = urlsplit(str(url))
            if parts.password:
                text = text.replace(parts.password, HIDDEN)
    return text
