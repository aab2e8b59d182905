"""SQLAlchemy 2 reflection as ORMs, Alembic and pandas use it (tests/it/bi.rs): every
Inspector method, MetaData.reflect per schema, pandas.read_sql_table. Prints one
`step|value` line per fact; any exception fails the script (exit 1).
Usage: bi_sqlalchemy.py DRIVER PORT SCHEMA TABLE PARENT
(DRIVER: psycopg2 or psycopg; TABLE has a primary key `id`-like column and a foreign
key to PARENT)."""
import sys

import pandas as pd
from sqlalchemy import MetaData, create_engine, inspect

driver, port, schema, table, parent = sys.argv[1:6]
engine = create_engine(f"postgresql+{driver}://guru@127.0.0.1:{port}/dbguru?sslmode=disable")
insp = inspect(engine)


def out(step, value):
    print(f"{step}|{value}", flush=True)


out("schemas", schema in insp.get_schema_names())
out("tables", sorted(insp.get_table_names(schema=schema)))
out("views", sorted(insp.get_view_names(schema=schema)))
out("columns", [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table, schema=schema)])
pk = insp.get_pk_constraint(table, schema=schema)
out("pk", pk["constrained_columns"])
fks = insp.get_foreign_keys(table, schema=schema)
out("fks", sorted((tuple(f["constrained_columns"]), f["referred_schema"], f["referred_table"], tuple(f["referred_columns"])) for f in fks))
idx = insp.get_indexes(table, schema=schema)
out("indexes", sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in idx))
out("unique", insp.get_unique_constraints(table, schema=schema))
out("checks", insp.get_check_constraints(table, schema=schema))
out("comment", insp.get_table_comment(table, schema=schema))
md = MetaData()
md.reflect(bind=engine, schema=schema)
out("reflect", sorted(md.tables))
t = md.tables[f"{schema}.{table}"]
out("reflect_pk", [c.name for c in t.primary_key.columns])
out("reflect_fk", sorted(f"{fk.parent.name}->{fk.column.table.name}.{fk.column.name}" for fk in t.foreign_keys))
df = pd.read_sql_table(table, engine, schema=schema)
out("read_sql_table", list(df.columns))
