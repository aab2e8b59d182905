"""psycopg2: SCRAM over TLS; simple protocol only (parameters are interpolated by the
client, so `ASK %s` arrives as `ASK 'question with '' doubled'`); implicit BEGIN unless
autocommit; a bad statement, rollback, then a good one on the same connection."""
from clientlib import *  # noqa: F401,F403


def run():
    import psycopg2
    import psycopg2.extensions

    step(f"psycopg2 {psycopg2.__version__} (libpq {psycopg2.extensions.libpq_version()}) connect sslmode={SSLMODE}")
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DBNAME,
                            sslmode=SSLMODE, connect_timeout=10)
    check(conn.info.ssl_in_use, "connection is not using TLS")
    cur = conn.cursor()

    step("ASK %s (client-side interpolation, inside psycopg2's implicit transaction)")
    cur.execute("ASK %s", (QUESTION,))
    check_names([d.name for d in cur.description], ASK_COLUMNS, "ASK %s")
    check_oids([d.type_code for d in cur.description], ASK_OIDS, "ASK %s")
    check_ask_rows(cur.fetchall(), "ASK %s")

    step("passthrough SELECT with an int parameter")
    cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
    check_names([d.name for d in cur.description], PASSTHROUGH_COLUMNS, "passthrough")
    check_oids([d.type_code for d in cur.description], PASSTHROUGH_OIDS, "passthrough")
    rows = cur.fetchall()
    check(len(rows) == 1, f"passthrough: rows {rows!r}")
    check_passthrough_row(rows[0])
    conn.commit()

    step("bad statement: SET dbguru.max_rows = -1")
    expect_sqlstate(lambda: cur.execute("SET dbguru.max_rows = -1"), "22023", lambda e: e.pgcode, "max_rows = -1")
    conn.rollback()
    step("good statement on the same connection")
    cur.execute(ask_literal())
    check_ask_rows(cur.fetchall(), "ASK after rollback")
    conn.commit()

    step("autocommit: bad statement then a good one")
    conn.autocommit = True
    expect_sqlstate(lambda: cur.execute("ASK 'unterminated"), "42601", lambda e: e.pgcode, "ASK 'unterminated")
    cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
    check_passthrough_row(cur.fetchone(), "after error")
    conn.close()


main(run)
