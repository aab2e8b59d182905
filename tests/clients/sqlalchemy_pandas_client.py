"""SQLAlchemy 2 (psycopg2 dialect) + pandas.read_sql: SCRAM over TLS; the dialect's connect
probes (hstore lookup in pg_type, version(), current_schema(), show transaction isolation
level, show standard_conforming_strings), pandas' has-table check over pg_class/pg_namespace;
ASK with a bound parameter, passthrough with a bound parameter, dtypes of the frames; a bad
statement, rollback, and a good one on the same connection."""
from clientlib import *  # noqa: F401,F403


def frame_rows(df):
    """(str, int, Decimal) tuples from a frame of the ASK result (floats via their repr)."""
    return [(r.source_db, int(r.orders), Decimal(str(r.revenue))) for r in df.itertuples(index=False)]


def run():
    import pandas as pd
    import sqlalchemy
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import URL

    url = URL.create("postgresql+psycopg2", username=USER, password=PASSWORD, host=HOST, port=PORT,
                     database=DBNAME, query={"sslmode": SSLMODE, "connect_timeout": "10"})
    step(f"SQLAlchemy {sqlalchemy.__version__}, pandas {pd.__version__}: connect {url!r}")
    engine = create_engine(url)
    with engine.connect() as conn:
        step("pandas.read_sql(text('ASK :q'), params)")
        df = pd.read_sql(text("ASK :q"), conn, params={"q": QUESTION})
        check_names(df.columns, ASK_COLUMNS, "read_sql ASK :q")
        check(str(df["orders"].dtype) == "int64", f"orders dtype {df['orders'].dtype}, want int64")
        check(str(df["source_db"].dtype) in ("object", "str", "string"), f"source_db dtype {df['source_db'].dtype}, want a string dtype")
        # pandas turns the driver's Decimal into float64 (coerce_float=True, the default)
        check(str(df["revenue"].dtype) == "float64", f"revenue dtype {df['revenue'].dtype}, want float64")
        check_ask_rows(frame_rows(df), "read_sql ASK :q")

        step("pandas.read_sql(plain string ASK) — pandas checks first whether it is a table name")
        df = pd.read_sql(ask_literal(), conn)
        check_names(df.columns, ASK_COLUMNS, "read_sql ASK literal")
        check_ask_rows(frame_rows(df), "read_sql ASK literal")

        step("pandas.read_sql passthrough with a bound parameter")
        df = pd.read_sql(text("SELECT id, customer, amount FROM orders WHERE id = :id"), conn, params={"id": PASSTHROUGH_ID})
        check_names(df.columns, PASSTHROUGH_COLUMNS, "read_sql passthrough")
        check(len(df) == 1, f"passthrough: {df!r}")
        r = df.iloc[0]
        check_passthrough_row((int(r["id"]), r["customer"], Decimal(str(r["amount"]))))

        step("Connection.execute passthrough: cursor description types")
        res = conn.execute(text("SELECT id, customer, amount FROM orders WHERE id = :id"), {"id": PASSTHROUGH_ID})
        check_oids([d[1] for d in res.cursor.description], PASSTHROUGH_OIDS, "execute passthrough")
        check_passthrough_row(res.one())
        conn.commit()

        step("bad statement: ASK 'unterminated")
        from sqlalchemy.exc import DBAPIError
        expect_sqlstate(lambda: conn.execute(text("ASK 'unterminated")), "42601",
                        lambda e: getattr(getattr(e, "orig", None), "pgcode", None) if isinstance(e, DBAPIError) else None,
                        "ASK 'unterminated")
        conn.rollback()
        step("good statement on the same connection")
        df = pd.read_sql(text("ASK :q"), conn, params={"q": QUESTION})
        check_ask_rows(frame_rows(df), "ASK after rollback")
    engine.dispose()


main(run)
