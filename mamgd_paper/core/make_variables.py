"""The Makefile's variables, checked before any notebook runs.

``python3 -m mamgd_paper.core.make_variables QUICK=... SEEDS=... WORKERS=...
STORAGE=...`` prints the accepted values in a normal form (``QUICK=1 SEEDS=5
WORKERS=2 STORAGE=``), or ``error: <message>`` naming the variable, its value
and what is accepted, and exits with status 2. The Makefile calls it when it
reads its rules (standard library only: it runs with the system ``python3``
before the virtual environment exists) and stops with that message.

What each variable does:

``QUICK`` (results): a smoke run into ``build/quick/``; 0/1, yes/no, true/false
in any case.
``SEEDS`` (results): network seeds, empty (each notebook's own number) or a
whole number >= 1.
``WORKERS`` (how the work runs, not its results): processes that fill the
equal-budget studies, a whole number >= 1.
``STORAGE`` (how the work runs): the equal-budget study storage, empty (the
default journal file), a journal file path, or an SQLAlchemy URL
``sqlite:///path.db`` or ``postgresql://user@host[:port]/database`` (the
drivers the environment has: SQLite and psycopg).
"""

import re
import sys

TRUE, FALSE = ("1", "yes", "true"), ("0", "no", "false")
#: URL schemes STORAGE may use (SQLAlchemy dialect[+driver]) with a driver installed.
STORAGE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class MakeVariableError(ValueError):
    """A Makefile variable with a value it does not accept."""


def _reject(name, value, accepted):
    raise MakeVariableError(f"{name}={value!r} is not accepted: {name} must be {accepted}.")


def quick(value):
    text = value.strip().lower()
    if text in TRUE:
        return "1"
    if text in FALSE:
        return "0"
    _reject("QUICK", value, "one of 0/1, no/yes, false/true (any case)")


def count(name, value):
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        _reject(name, value, "a whole number >= 1")
    return str(int(text))


def storage(value):
    text = value.strip()
    if not text or "://" not in text:
        if any(c in text for c in "\n\0"):
            _reject("STORAGE", value, "a journal file path or a database URL")
        return text
    scheme = text.split("://", 1)[0].lower()
    if scheme not in STORAGE_SCHEMES:
        _reject("STORAGE", value,
                "empty (data/equal_budget.journal), a journal file path, or a URL "
                "sqlite:///path.db or postgresql://user@host[:port]/database")
    if not text.split("://", 1)[1].strip("/"):
        _reject("STORAGE", value, "a URL with a database after the scheme")
    return text


def seeds(value):
    """Empty (each notebook's own number of seeds) or a whole number >= 1."""
    if not value.strip():
        return ""
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        _reject("SEEDS", value, "empty (each notebook's own number) or a whole number >= 1")
    return str(int(text))


CHECKS = {"QUICK": quick, "SEEDS": seeds,
          "WORKERS": lambda v: count("WORKERS", v), "STORAGE": storage}


def check(assignments):
    """``{"QUICK": "yes", ...}`` -> the same names with normal-form values."""
    unknown = sorted(set(assignments) - set(CHECKS))
    if unknown:
        raise MakeVariableError(f"unknown variable(s) {', '.join(unknown)}")
    return {name: CHECKS[name](value) for name, value in assignments.items()}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        pairs = dict(arg.split("=", 1) for arg in argv)
        checked = check(pairs)
    except (MakeVariableError, ValueError) as error:
        print(f"error: {error}")
        return 2
    print(" ".join(f"{name}={value}" for name, value in checked.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
