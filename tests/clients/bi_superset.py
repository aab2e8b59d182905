"""Apache Superset 6.1 as a user drives it (tests/it/bi.rs), through its REST API with
Flask's test client: register the database, list schemas and tables, load table
metadata, create a dataset per table, run a chart query (GROUP BY + count) and SQL Lab
queries. Prints one `step|value` line per fact; any failure exits 1.

Usage: bi_superset.py HOME PORT SPEC...  where SPEC is SCHEMA.TABLE.GROUPCOLUMN; and
optional `--sql QUERY` arguments for SQL Lab (the row count is printed).
HOME: a temporary directory for Superset's own metadata database (created by
`superset db upgrade`/`init` before, with SUPERSET_CONFIG_PATH pointing at
HOME/superset_config.py)."""
import json
import sys

home, port = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
specs, sqls = [], []
while rest:
    a = rest.pop(0)
    if a == "--sql":
        sqls.append(rest.pop(0))
    else:
        specs.append(a)

from superset.app import create_app  # noqa: E402

app = create_app()


def out(step, value):
    print(f"{step}|{value}", flush=True)


def check(resp, step):
    if resp.status_code >= 400:
        raise SystemExit(f"{step}: HTTP {resp.status_code}: {resp.get_data(as_text=True)[:2000]}")
    return resp.get_json()


if True:
    c = app.test_client()
    tok = check(
        c.post("/api/v1/security/login", json={"username": "admin", "password": "admin", "provider": "db", "refresh": True}),
        "login",
    )["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    uri = f"postgresql+psycopg2://guru@127.0.0.1:{port}/dbguru?sslmode=disable"
    db = check(
        c.post(
            "/api/v1/database/",
            json={"database_name": "dbguru", "sqlalchemy_uri": uri, "expose_in_sqllab": True, "allow_run_async": False},
            headers=h,
        ),
        "register",
    )
    dbid = db["id"]
    out("register", "ok")
    schemas = check(c.get(f"/api/v1/database/{dbid}/schemas/", headers=h), "schemas")["result"]
    for spec in specs:
        schema, table, group = spec.split(".")
        out(f"{schema}:schema_listed", schema in schemas)
        q = f"(schema_name:{schema},force:!t)"
        tables = check(c.get(f"/api/v1/database/{dbid}/tables/?q={q}", headers=h), "tables")["result"]
        out(f"{schema}:tables", sorted(t["value"] for t in tables))
        meta = check(
            c.get(f"/api/v1/database/{dbid}/table_metadata/?name={table}&schema={schema}", headers=h),
            "table_metadata",
        )
        out(f"{schema}:meta_columns", [col["name"] for col in meta["columns"]])
        out(f"{schema}:meta_pk", (meta.get("primaryKey") or {}).get("column_names"))
        out(f"{schema}:meta_fks", sorted(f"{fk['column_names']}->{fk['referred_table']}" for fk in meta.get("foreignKeys", [])))
        out(f"{schema}:meta_indexes", sorted(ix["name"] for ix in meta.get("indexes", [])))
        ds = check(
            c.post("/api/v1/dataset/", json={"database": dbid, "schema": schema, "table_name": table}, headers=h),
            "dataset",
        )
        dsid = ds["id"]
        cols = check(c.get(f"/api/v1/dataset/{dsid}", headers=h), "dataset_get")["result"]["columns"]
        out(f"{schema}:dataset_columns", sorted(col["column_name"] for col in cols))
        qc = {
            "datasource": {"id": dsid, "type": "table"},
            "queries": [{"columns": [group], "metrics": ["count"], "orderby": [["count", False]], "row_limit": 1000}],
            "result_format": "json",
            "result_type": "full",
        }
        data = check(c.post("/api/v1/chart/data", json=qc, headers=h), "chart_data")["result"][0]
        out(f"{schema}:chart_groups", len(data["data"]))
        out(f"{schema}:chart_total", sum(r["count"] for r in data["data"]))
    for i, sql in enumerate(sqls):
        r = check(
            c.post("/api/v1/sqllab/execute/", json={"database_id": dbid, "sql": sql, "runAsync": False, "schema": None}, headers=h),
            f"sqllab {sql}",
        )
        out(f"sqllab{i}:rows", len(r.get("data") or []))
        out(f"sqllab{i}:columns", [col["column_name"] if isinstance(col, dict) else col for col in (r.get("columns") or [])])
