"""The Makefile's variables, checked before any notebook runs.

``python3 -m mamgd_paper.core.make_variables QUICK=... SEEDS=... WORKERS=...
STORAGE_FILE=...`` prints the accepted values in a normal form (``QUICK=1 SEEDS=5
WORKERS=2 STORAGE=``, a URL's password masked), or ``error: <message>`` naming
the variable, its value (password masked) and what is accepted, and exits with
status 2. The Makefile calls it when it reads its rules (standard library only:
it runs with the system ``python3`` before the virtual environment exists) and
stops with that message.

``STORAGE`` may hold a password, and a command line is visible to every user
(``ps``), while make 4.3 gives ``$(shell ...)`` none of its exported
variables: the Makefile writes it to a file only its user can read
(``STORAGE_FILE=PATH``, mode 0600), which this command reads and deletes.
``STORAGE=VALUE`` is accepted too (tests, hand use).

What each variable does:

``QUICK`` (results): a smoke run into ``build/quick/``; 0/1, yes/no, true/false
in any case.
``SEEDS`` (results): network seeds, empty (each notebook's own number) or a
whole number from 1 to :data:`MAX_SEEDS`.
``WORKERS`` (how the work runs, not its results): processes that fill the
equal-budget studies, a whole number >= 1.
``STORAGE`` (how the work runs): the equal-budget study storage, empty (the
default journal file), a journal file path, or an SQLAlchemy URL
``sqlite:///path.db`` or ``postgresql://user@host[:port]/database`` (the
drivers the environment has: SQLite and psycopg).
"""

import os
import re
import sys

from mamgd_paper.core.storage_url import mask

TRUE, FALSE = ("1", "yes", "true"), ("0", "no", "false")
#: URL schemes STORAGE may use (SQLAlchemy dialect[+driver]) with a driver installed.
STORAGE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
#: The most network seeds a run takes (20 seeds of the five network tables take
#: about 2 hours on two cores; 100, about 10). A bound, so that a typo such as
#: SEEDS=99999999999999999999 stops here, not 20 s later deep inside a notebook.
MAX_SEEDS = 100


class MakeVariableError(ValueError):
    """A Makefile variable with a value it does not accept."""


def _reject(name, value, accepted):
    shown = mask(value) if name == "STORAGE" else value
    raise MakeVariableError(f"{name}={shown!r} is not accepted: {name} must be {accepted}.")


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
        if text and not os.path.isdir(os.path.dirname(os.path.abspath(text))):
            # never created: a typo must not make folders (as root, anywhere)
            _reject("STORAGE", value, "a journal file in a folder that exists (the "
                                      "folder is never created)")
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
    """Empty (each notebook's own number of seeds) or a whole number from 1 to
    :data:`MAX_SEEDS`."""
    if not value.strip():
        return ""
    text = value.strip()
    if (not re.fullmatch(r"[0-9]+", text) or len(text.lstrip("0")) > 6
            or not 1 <= int(text) <= MAX_SEEDS):
        _reject("SEEDS", value, f"empty (each notebook's own number) or a whole number "
                                f"from 1 to {MAX_SEEDS}")
    return str(int(text))


CHECKS = {"QUICK": quick, "SEEDS": seeds,
          "WORKERS": lambda v: count("WORKERS", v), "STORAGE": storage}


def check(assignments):
    """``{"QUICK": "yes", ...}`` -> the same names with normal-form values."""
    unknown = sorted(set(assignments) - set(CHECKS))
    if unknown:
        raise MakeVariableError(f"unknown variable(s) {', '.join(unknown)}")
    return {name: CHECKS[name](value) for name, value in assignments.items()}


def _read_storage_file(path):
    """The value the Makefile wrote to ``path`` (its final newline dropped); the
    file is deleted."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return text[:-1] if text.endswith("\n") else text


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        pairs = dict(arg.split("=", 1) for arg in argv)
        if "STORAGE_FILE" in pairs:
            path = pairs.pop("STORAGE_FILE")
            pairs["STORAGE"] = _read_storage_file(path) if path else ""
        checked = check(pairs)
        if "STORAGE" in checked:
            checked["STORAGE"] = mask(checked["STORAGE"])
    except (MakeVariableError, ValueError) as error:
        print(f"error: {error}")
        return 2
    print(" ".join(f"{name}={value}" for name, value in checked.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
