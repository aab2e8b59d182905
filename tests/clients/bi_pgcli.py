"""pgcli's completion refresh and \\dt (tests/it/bi.rs): PGExecute's metadata generators
as pgcli's completer calls them, then `\\dt SCHEMA.*` through pgspecial. Prints one
`step|value` line per fact; any exception fails the script (exit 1).
Usage: bi_pgcli.py PORT SCHEMA TABLE"""
import sys

from pgcli.pgexecute import PGExecute
from pgspecial.main import PGSpecial

port, schema, table = sys.argv[1], sys.argv[2], sys.argv[3]
ex = PGExecute("dbguru", "guru", None, "127.0.0.1", port, "", sslmode="disable")


def out(step, value):
    print(f"{step}|{value}", flush=True)


out("search_path", len(ex.search_path()) > 0)
out("schemata", schema in list(ex.schemata()))
tables = sorted(t for s, t in ex.tables() if s == schema)
out("tables", tables)
out("views", sorted(v for s, v in ex.views() if s == schema))
cols = [c[2] for c in ex.table_columns() if c[0] == schema and c[1] == table]
out("table_columns", cols)
out("functions", len([f for f in ex.functions() if f.schema_name == schema]))
out("datatypes", sorted(t for s, t in ex.datatypes() if s == schema))
fks = sorted(
    f"{fk.childtable}.{fk.childcolumn}->{fk.parenttable}.{fk.parentcolumn}"
    for fk in ex.foreignkeys()
    if fk.childschema == schema
)
out("foreignkeys", fks)
out("casing", type(list(ex.casing())).__name__)
special = PGSpecial()
rows = []
for result in ex.run(f"\\dt {schema}.*", pgspecial=special):
    cur = result[1]
    rows = sorted(r[1] for r in (cur or []))
out("dt", rows)
