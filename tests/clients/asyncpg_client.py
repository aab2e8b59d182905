"""asyncpg: SCRAM over TLS; always the extended protocol with named statements, Describe
before Bind, binary parameters and BINARY results. `fetch("ASK $1", q)`, a literal ASK,
a prepared statement's attributes, passthrough with an int parameter; a bad statement and
a good one on the same connection."""
import asyncio

from clientlib import *  # noqa: F401,F403


async def arun():
    import asyncpg

    step(f"asyncpg {asyncpg.__version__} connect ssl={SSLMODE}")
    conn = await asyncpg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database=DBNAME,
                                 ssl=SSLMODE, timeout=10, command_timeout=60)
    try:
        check(conn.get_settings() is not None, "no settings")

        step("fetch('ASK $1', question)")
        rows = await conn.fetch("ASK $1", QUESTION)
        check(len(rows) > 0, f"ASK $1: no rows: {rows!r}")
        check_names(list(rows[0].keys()), ASK_COLUMNS, "ASK $1")
        check_ask_rows([tuple(r) for r in rows], "ASK $1")

        step("fetch(ASK literal)")
        rows = await conn.fetch(ask_literal())
        check_ask_rows([tuple(r) for r in rows], "ASK literal")

        step("prepare('ASK $1'): parameter and result types")
        stmt = await conn.prepare("ASK $1")
        params = [t.name for t in stmt.get_parameters()]
        check(params == ["text"], f"ASK $1 parameters: {params!r}, want ['text']")
        attrs = stmt.get_attributes()
        check_names([a.name for a in attrs], ASK_COLUMNS, "prepared ASK $1")
        check_oids([a.type.oid for a in attrs], ASK_OIDS, "prepared ASK $1")
        check_ask_rows([tuple(r) for r in await stmt.fetch(QUESTION)], "prepared ASK $1")

        step("passthrough fetchrow with an int parameter (binary int4)")
        stmt = await conn.prepare("SELECT id, customer, amount FROM orders WHERE id = $1")
        attrs = stmt.get_attributes()
        check_names([a.name for a in attrs], PASSTHROUGH_COLUMNS, "passthrough")
        check_oids([a.type.oid for a in attrs], PASSTHROUGH_OIDS, "passthrough")
        row = await conn.fetchrow("SELECT id, customer, amount FROM orders WHERE id = $1", PASSTHROUGH_ID)
        check(row is not None, "passthrough: no row")
        check_passthrough_row(tuple(row))

        step("bad statement: ASK 'unterminated")
        try:
            await conn.fetch("ASK 'unterminated")
        except asyncpg.PostgresError as e:
            check(e.sqlstate == "42601", f"ASK 'unterminated: SQLSTATE {e.sqlstate!r}, want '42601': {e}")
            print(f"    raised {type(e).__name__} {e.sqlstate}: {e}", flush=True)
        else:
            raise AssertionError("ASK 'unterminated: no error")

        step("bad setting: SET dbguru.max_rows = -1")
        try:
            await conn.execute("SET dbguru.max_rows = -1")
        except asyncpg.PostgresError as e:
            check(e.sqlstate == "22023", f"max_rows = -1: SQLSTATE {e.sqlstate!r}, want '22023': {e}")
            print(f"    raised {type(e).__name__} {e.sqlstate}: {e}", flush=True)
        else:
            raise AssertionError("SET dbguru.max_rows = -1: no error")

        step("good statements on the same connection")
        rows = await conn.fetch("ASK $1", QUESTION)
        check_ask_rows([tuple(r) for r in rows], "ASK $1 after errors")
        val = await conn.fetchval("SELECT amount FROM orders WHERE id = $1", PASSTHROUGH_ID)
        check(val == PASSTHROUGH_ROW[2], f"fetchval: {val!r}")
    finally:
        await conn.close()


main(lambda: asyncio.run(arun()))
