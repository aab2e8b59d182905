"""Shared expectations and helpers for the Python client scripts of tests/it/clients.rs.

The fixture (see `fixture()` in tests/it/clients.rs) puts an `orders` table in a PostgreSQL
database `pg` (3 orders, revenue 35.75) and in a SQLite file `lite` (2 orders, revenue 3.75);
the scripted LLM answers every ASK with one `SELECT count(*) AS orders, sum(amount) AS revenue
FROM orders` per database, so every ASK returns these two rows. Plain SQL goes to `pg`.

Connection facts come from the environment: DBGURU_HOST, DBGURU_PORT, DBGURU_USER,
DBGURU_PASSWORD, DBGURU_DBNAME, DBGURU_SSLMODE, DBGURU_QUESTION.
"""
import os
import sys
import traceback
from decimal import Decimal

HOST = os.environ.get("DBGURU_HOST", "127.0.0.1")
PORT = int(os.environ.get("DBGURU_PORT", "6543"))
USER = os.environ.get("DBGURU_USER", "app")
PASSWORD = os.environ.get("DBGURU_PASSWORD", "")
DBNAME = os.environ.get("DBGURU_DBNAME", "dbguru")
SSLMODE = os.environ.get("DBGURU_SSLMODE", "require")
QUESTION = os.environ.get("DBGURU_QUESTION", "how many orders are there, and what's the revenue?")

# The combined ASK result, sorted by source_db.
ASK_COLUMNS = ["source_db", "orders", "revenue"]
ASK_ROWS = [("lite", 2, Decimal("3.75")), ("pg", 3, Decimal("35.75"))]
# PostgreSQL type OIDs of those columns: text, int8, numeric.
ASK_OIDS = [25, 20, 1700]

# The passthrough query (a parameter for the order id) and its answer for id = 2.
PASSTHROUGH_ID = 2
PASSTHROUGH_COLUMNS = ["id", "customer", "amount"]
PASSTHROUGH_ROW = (2, "bob", Decimal("20.25"))
# int4, text, numeric
PASSTHROUGH_OIDS = [23, 25, 1700]


def sql_literal(s):
    """A standard SQL string literal for s (quotes doubled)."""
    return "'" + s.replace("'", "''") + "'"


def ask_literal():
    """`ASK '<question>'` with the question quoted as a SQL literal."""
    return "ASK " + sql_literal(QUESTION)


def step(msg):
    print(f"--- {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_ask_rows(rows, what="ASK"):
    """rows: sequence of 3-tuples as the driver returned them. Checks values and Python types."""
    got = sorted((tuple(r) for r in rows), key=lambda r: str(r[0]))
    check(len(got) == 2, f"{what}: expected 2 rows, got {got!r}")
    for (src, n, rev), (wsrc, wn, wrev) in zip(got, ASK_ROWS):
        check(type(src) is str and src == wsrc, f"{what}: source_db {src!r} ({type(src).__name__}), want {wsrc!r} (str); rows {got!r}")
        check(type(n) is int and n == wn, f"{what}: orders {n!r} ({type(n).__name__}), want {wn!r} (int); rows {got!r}")
        check(isinstance(rev, Decimal) and rev == wrev, f"{what}: revenue {rev!r} ({type(rev).__name__}), want {wrev!r} (Decimal); rows {got!r}")
    print(f"    {what}: {got!r}", flush=True)


def check_passthrough_row(row, what="passthrough"):
    row = tuple(row)
    check(len(row) == 3, f"{what}: expected 3 columns, got {row!r}")
    i, c, a = row
    check(type(i) is int and i == PASSTHROUGH_ROW[0], f"{what}: id {i!r} ({type(i).__name__}), want 2 (int)")
    check(type(c) is str and c == PASSTHROUGH_ROW[1], f"{what}: customer {c!r}, want 'bob'")
    check(isinstance(a, Decimal) and a == PASSTHROUGH_ROW[2], f"{what}: amount {a!r} ({type(a).__name__}), want Decimal('20.25')")
    print(f"    {what}: {row!r}", flush=True)


def check_names(names, want, what):
    names = list(names)
    check(names == want, f"{what}: columns {names!r}, want {want!r}")


def check_oids(oids, want, what):
    oids = list(oids)
    check(oids == want, f"{what}: type OIDs {oids!r}, want {want!r} (text=25 int4=23 int8=20 numeric=1700)")


def expect_sqlstate(fn, sqlstate, code_of, what):
    """Runs fn(), which must raise; code_of(exc) must give `sqlstate`."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any driver error class
        code = code_of(e)
        check(code == sqlstate, f"{what}: SQLSTATE {code!r}, want {sqlstate!r}; error: {type(e).__name__}: {e}")
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        print(f"    {what}: raised {type(e).__name__} {code}: {first}", flush=True)
        return e
    raise AssertionError(f"{what}: no error raised, want SQLSTATE {sqlstate}")


FAILED_STEPS = []


def soft(name, fn):
    """Runs step fn(); a failure is printed and recorded (the script goes on, and fails at the end)."""
    step(name)
    try:
        fn()
    except Exception:  # noqa: BLE001
        traceback.print_exc(file=sys.stdout)
        print(f"    STEP FAILED: {name}", flush=True)
        FAILED_STEPS.append(name)


async def asoft(name, coro_fn):
    """Like soft() for a coroutine function."""
    step(name)
    try:
        await coro_fn()
    except Exception:  # noqa: BLE001
        traceback.print_exc(file=sys.stdout)
        print(f"    STEP FAILED: {name}", flush=True)
        FAILED_STEPS.append(name)


def main(fn):
    """Runs fn(); prints a traceback and exits 1 on failure (or when a soft() step failed),
    prints OK and exits 0 otherwise."""
    try:
        fn()
        if FAILED_STEPS:
            raise AssertionError(f"{len(FAILED_STEPS)} step(s) failed: {FAILED_STEPS!r}")
    except ImportError as e:
        print(f"MISSING PYTHON PACKAGE: {e} (scripts/test installs the drivers into $HOME/.cache/dbguru-venv)", flush=True)
        sys.exit(3)
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        sys.stdout.flush()
        sys.exit(1)
    print("OK", flush=True)
    sys.exit(0)
