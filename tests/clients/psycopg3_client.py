"""psycopg 3: SCRAM over TLS; ASK as a literal (simple protocol) and as `ASK %s` with the
question bound as a parameter (extended protocol); passthrough with an int parameter (psycopg
sends Python ints as binary int2); a bad statement and a good one on the same connection,
both in autocommit and in psycopg's default transaction mode."""
from clientlib import *  # noqa: F401,F403


def run():
    import psycopg

    step(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}, libpq {psycopg.pq.version()}) connect sslmode={SSLMODE}")
    conn = psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DBNAME,
                           sslmode=SSLMODE, connect_timeout=10, autocommit=True)
    check(conn.info.pgconn.ssl_in_use, "connection is not using TLS")
    with conn.cursor() as cur:
        step("ASK literal (simple protocol)")
        cur.execute(ask_literal())
        check_names([d.name for d in cur.description], ASK_COLUMNS, "ASK literal")
        check_oids([d.type_code for d in cur.description], ASK_OIDS, "ASK literal")
        check_ask_rows(cur.fetchall(), "ASK literal")

        step("ASK %s (extended protocol, question bound)")
        cur.execute("ASK %s", (QUESTION,))
        check_names([d.name for d in cur.description], ASK_COLUMNS, "ASK %s")
        check_oids([d.type_code for d in cur.description], ASK_OIDS, "ASK %s")
        check_ask_rows(cur.fetchall(), "ASK %s")

        step("ASK %s with binary results")
        with conn.cursor(binary=True) as bcur:
            bcur.execute("ASK %s", (QUESTION,))
            check_oids([d.type_code for d in bcur.description], ASK_OIDS, "ASK %s binary")
            check_ask_rows(bcur.fetchall(), "ASK %s binary")

        step("passthrough SELECT with an int parameter")
        cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
        check_names([d.name for d in cur.description], PASSTHROUGH_COLUMNS, "passthrough")
        check_oids([d.type_code for d in cur.description], PASSTHROUGH_OIDS, "passthrough")
        rows = cur.fetchall()
        check(len(rows) == 1, f"passthrough: rows {rows!r}")
        check_passthrough_row(rows[0])

        step("passthrough 6 times: psycopg prepares it server-side (named _pg3_N) from the 5th")
        for i in range(6):
            cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
            check_passthrough_row(cur.fetchone(), f"passthrough #{i + 1}")

        step("ASK %s 6 times (prepared server-side from the 5th)")
        for i in range(6):
            cur.execute("ASK %s", (QUESTION,))
            check_ask_rows(cur.fetchall(), f"ASK %s #{i + 1}")

        step("bad statement: ASK 'unterminated")
        expect_sqlstate(lambda: cur.execute("ASK 'unterminated"), "42601", lambda e: e.sqlstate, "ASK 'unterminated")
        step("good statement on the same connection")
        cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
        check_passthrough_row(cur.fetchone(), "after error")

        step("bad setting: SET dbguru.max_rows = -1")
        expect_sqlstate(lambda: cur.execute("SET dbguru.max_rows = -1"), "22023", lambda e: e.sqlstate, "max_rows = -1")
        cur.execute("ASK %s", (QUESTION,))
        check_ask_rows(cur.fetchall(), "ASK after error")
    conn.close()

    step("default (transactional) mode: BEGIN implicit, error, rollback, good statement")
    conn = psycopg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DBNAME,
                           sslmode=SSLMODE, connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute("ASK %s", (QUESTION,))
        check_ask_rows(cur.fetchall(), "ASK in transaction")
        expect_sqlstate(lambda: cur.execute("ASK 'unterminated"), "42601", lambda e: e.sqlstate, "error in transaction")
        conn.rollback()
        cur.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
        check_passthrough_row(cur.fetchone(), "after rollback")
    conn.commit()

    def nested():
        # conn.transaction() nested = SAVEPOINT / ROLLBACK TO SAVEPOINT (Django atomic and
        # SQLAlchemy begin_nested work the same way): after the inner block's error is
        # rolled back to the savepoint, the outer transaction is usable again (status INTRANS).
        from psycopg.pq import TransactionStatus
        with conn.transaction():
            conn.execute("SELECT id FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
            try:
                with conn.transaction():
                    conn.execute("ASK 'unterminated")
            except psycopg.errors.SyntaxError:
                pass
            status = conn.info.transaction_status
            check(status == TransactionStatus.INTRANS,
                  f"after ROLLBACK TO SAVEPOINT the ReadyForQuery status is {status.name}, want INTRANS")
            # An error over the extended protocol (a bound parameter forces
            # Parse/Bind/Execute/Sync), raised by the target database itself, aborts the
            # block as in PostgreSQL; the savepoint psycopg sets recovers it.
            try:
                with conn.transaction():
                    conn.execute("SELECT no_such_column FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
            except psycopg.errors.UndefinedColumn:
                pass
            status = conn.info.transaction_status
            check(status == TransactionStatus.INTRANS,
                  f"after ROLLBACK TO SAVEPOINT of an extended-protocol error the status is {status.name}, want INTRANS")
            cur = conn.execute("SELECT id, customer, amount FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
            check_passthrough_row(cur.fetchone(), "after ROLLBACK TO SAVEPOINT")
        check(conn.info.transaction_status == TransactionStatus.IDLE, f"status {conn.info.transaction_status.name} after COMMIT")
        # Without a savepoint an error aborts the block until ROLLBACK, as in PostgreSQL.
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT no_such_column FROM orders WHERE id = %s", (PASSTHROUGH_ID,))
        except psycopg.errors.UndefinedColumn:
            pass
        status = conn.info.transaction_status
        check(status == TransactionStatus.INERROR,
              f"after an error outside a savepoint the status is {status.name}, want INERROR")
        try:
            conn.execute("SELECT 1")
            check(False, "a statement in an aborted block must fail")
        except psycopg.errors.InFailedSqlTransaction:
            pass
        conn.execute("ROLLBACK")
        check(conn.info.transaction_status == TransactionStatus.IDLE, "status after ROLLBACK")

    conn.autocommit = True
    soft("nested transaction: SAVEPOINT, error, ROLLBACK TO SAVEPOINT, go on", nested)
    conn.close()


main(run)
