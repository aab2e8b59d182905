"""psqlODBC (driver "PostgreSQL Unicode") through pyodbc: SCRAM over TLS (SSLmode=require);
the driver's connect-time batch (`SET DateStyle = 'ISO';SET extra_float_digits = 2;show
transaction_isolation`), its `pg_type` lookup for `lo`, implicit BEGIN (pyodbc autocommit
off), SAVEPOINT/ROLLBACK around statements; `ASK ?` with the question as a parameter,
passthrough with an int parameter; a bad statement, rollback, and a good one on the same
connection."""
from clientlib import *  # noqa: F401,F403

DRIVER = "PostgreSQL Unicode"


def odbc_state(e):
    """The server's SQLSTATE as psqlODBC reports it (first element of the pyodbc error)."""
    return e.args[0] if e.args else None


def run():
    import pyodbc

    drivers = pyodbc.drivers()
    if DRIVER not in drivers:
        raise SystemExit(f"ODBC driver {DRIVER!r} not registered (have {drivers!r}): "
                         "apt-get install odbc-postgresql unixodbc (scripts/test does)")
    step(f"pyodbc {pyodbc.version}, driver {DRIVER!r}: connect SSLmode={SSLMODE}")
    conn_str = (f"DRIVER={{{DRIVER}}};SERVER={HOST};PORT={PORT};DATABASE={DBNAME};"
                f"UID={USER};PWD={{{PASSWORD}}};SSLmode={SSLMODE};")
    conn = pyodbc.connect(conn_str, timeout=10)
    try:
        cur = conn.cursor()
        step("ASK literal")
        cur.execute(ask_literal())
        check_names([d[0] for d in cur.description], ASK_COLUMNS, "ASK literal")
        kinds = [d[1] for d in cur.description]
        check(kinds[0] is str and kinds[1] is int and kinds[2] is Decimal,
              f"ASK literal: ODBC column types {kinds!r}, want [str, int, Decimal]")
        check_ask_rows(cur.fetchall(), "ASK literal")

        step("ASK ? (question as a parameter)")
        cur.execute("ASK ?", QUESTION)
        check_names([d[0] for d in cur.description], ASK_COLUMNS, "ASK ?")
        check_ask_rows(cur.fetchall(), "ASK ?")

        step("passthrough SELECT with an int parameter")
        cur.execute("SELECT id, customer, amount FROM orders WHERE id = ?", PASSTHROUGH_ID)
        check_names([d[0] for d in cur.description], PASSTHROUGH_COLUMNS, "passthrough")
        rows = cur.fetchall()
        check(len(rows) == 1, f"passthrough: rows {rows!r}")
        check_passthrough_row(rows[0])
        conn.commit()

        step("bad statement: SET dbguru.max_rows = -1")
        expect_sqlstate(lambda: cur.execute("SET dbguru.max_rows = -1"), "22023", odbc_state, "max_rows = -1")
        conn.rollback()
        step("good statement on the same connection")
        cur.execute("ASK ?", QUESTION)
        check_ask_rows(cur.fetchall(), "ASK ? after rollback")

        step("bad statement: ASK 'unterminated")
        expect_sqlstate(lambda: cur.execute("ASK 'unterminated"), "42601", odbc_state, "ASK 'unterminated")
        conn.rollback()
        cur.execute("SELECT id, customer, amount FROM orders WHERE id = ?", PASSTHROUGH_ID)
        check_passthrough_row(cur.fetchone(), "after rollback")
        conn.commit()

        def deallocate():
            try:
                cur.execute("DEALLOCATE ALL")
                conn.commit()
            finally:
                conn.rollback()

        # psqlODBC sends `DEALLOCATE "_PLAN0x..."` by itself when a statement handle is
        # re-prepared with other SQL, and ignores the answer; an error there leaves the
        # transaction aborted. DEALLOCATE must be answered by the proxy like Close.
        soft("DEALLOCATE ALL (as psqlODBC sends DEALLOCATE \"_PLAN0x...\" itself)", deallocate)
        cur.execute("ASK ?", QUESTION)
        check_ask_rows(cur.fetchall(), "ASK ? after DEALLOCATE")
    finally:
        conn.close()


main(run)
