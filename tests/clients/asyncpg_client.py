"""asyncpg: SCRAM over TLS; always the extended protocol with named statements, Describe of
the STATEMENT (before any parameter is bound) + Flush, binary parameters and BINARY results.
A literal ASK, `fetch("ASK $1", q)`, a prepared statement's attributes, passthrough with an
int parameter; a bad statement and a good one on the same connection. Each step runs even
when an earlier one failed; the script fails at the end listing the failed steps."""
import asyncio

from clientlib import *  # noqa: F401,F403


async def arun():
    import asyncpg

    step(f"asyncpg {asyncpg.__version__} connect ssl={SSLMODE}")
    conn = await asyncpg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database=DBNAME,
                                 ssl=SSLMODE, timeout=10, command_timeout=60)

    async def ask_literal_fetch():
        rows = await conn.fetch(ask_literal())
        check(len(rows) > 0, f"no rows: {rows!r}")
        check_names(list(rows[0].keys()), ASK_COLUMNS, "ASK literal")
        check_ask_rows([tuple(r) for r in rows], "ASK literal")

    async def ask_literal_prepared():
        stmt = await conn.prepare(ask_literal())
        attrs = stmt.get_attributes()
        check_names([a.name for a in attrs], ASK_COLUMNS, "prepared ASK literal")
        check_oids([a.type.oid for a in attrs], ASK_OIDS, "prepared ASK literal")
        check_ask_rows([tuple(r) for r in await stmt.fetch()], "prepared ASK literal")

    async def ask_param_fetch():
        rows = await conn.fetch("ASK $1", QUESTION)
        check(len(rows) > 0, f"no rows: {rows!r}")
        check_names(list(rows[0].keys()), ASK_COLUMNS, "ASK $1")
        check_ask_rows([tuple(r) for r in rows], "ASK $1")

    async def ask_param_prepared():
        stmt = await conn.prepare("ASK $1")
        params = [t.name for t in stmt.get_parameters()]
        check(params == ["text"], f"ASK $1 parameters: {params!r}, want ['text']")
        attrs = stmt.get_attributes()
        check_names([a.name for a in attrs], ASK_COLUMNS, "prepared ASK $1")
        check_oids([a.type.oid for a in attrs], ASK_OIDS, "prepared ASK $1")
        check_ask_rows([tuple(r) for r in await stmt.fetch(QUESTION)], "prepared ASK $1")

    async def passthrough():
        row = await conn.fetchrow("SELECT id, customer, amount FROM orders WHERE id = $1", PASSTHROUGH_ID)
        check(row is not None, "passthrough: no row")
        check_passthrough_row(tuple(row))

    async def passthrough_described():
        stmt = await conn.prepare("SELECT id, customer, amount FROM orders WHERE id = $1")
        attrs = stmt.get_attributes()
        check_names([a.name for a in attrs], PASSTHROUGH_COLUMNS, "passthrough")
        check_oids([a.type.oid for a in attrs], PASSTHROUGH_OIDS, "passthrough")
        params = [t.name for t in stmt.get_parameters()]
        check(params == ["int4"], f"passthrough parameters: {params!r}, want ['int4'] (as PostgreSQL infers)")

    async def expect(sql, code):
        try:
            await conn.execute(sql)
        except asyncpg.PostgresError as e:
            check(e.sqlstate == code, f"{sql}: SQLSTATE {e.sqlstate!r}, want {code!r}: {e}")
            print(f"    raised {type(e).__name__} {e.sqlstate}: {e}", flush=True)
            return
        raise AssertionError(f"{sql}: no error, want SQLSTATE {code}")

    async def good_after_errors():
        rows = await conn.fetch(ask_literal())
        check_ask_rows([tuple(r) for r in rows], "ASK after errors")
        val = await conn.fetchval("SELECT amount FROM orders WHERE id = 2")
        check(val == PASSTHROUGH_ROW[2], f"fetchval: {val!r}")

    try:
        await asoft("fetch(ASK literal): Describe runs the ASK, binary results", ask_literal_fetch)
        await asoft("prepare(ASK literal): attributes and types", ask_literal_prepared)
        await asoft("fetch('ASK $1', question)", ask_param_fetch)
        await asoft("prepare('ASK $1'): parameter and result types", ask_param_prepared)
        await asoft("passthrough fetchrow with an int parameter", passthrough)
        await asoft("passthrough prepare: parameter and result types", passthrough_described)
        await asoft("bad statement: ASK 'unterminated", lambda: expect("ASK 'unterminated", "42601"))
        await asoft("bad setting: SET dbguru.max_rows = -1", lambda: expect("SET dbguru.max_rows = -1", "22023"))
        await asoft("good statements on the same connection", good_after_errors)
    finally:
        await conn.close()


main(lambda: asyncio.run(arun()))
