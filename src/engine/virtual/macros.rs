//! The PostgreSQL functions clients call, as DuckDB macros over the virtual catalog.
//! They live in DuckDB's `main` schema, which is searched before DuckDB's own
//! `pg_catalog` macros (those describe DuckDB's tables, never the federated catalog).

use super::Context;

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The macros that depend only on the catalog (created once per cached catalog).
pub const STATIC: &str = r#"
CREATE TYPE name AS VARCHAR;
CREATE TYPE int2vector AS SMALLINT[];
CREATE TYPE oidvector AS BIGINT[];
CREATE MACRO format_type(t, m) AS (SELECT CASE WHEN __ft.typid = 1700 AND m >= 4
  THEN 'numeric(' || (((m - 4) >> 16) & 65535) || ',' || ((m - 4) & 65535) || ')' ELSE __ft.name END
  FROM main.__format_type AS __ft WHERE __ft.typid = t);
CREATE MACRO pg_get_userbyid(r) AS CASE WHEN r IS NULL THEN NULL ELSE 'dbguru' END;
CREATE MACRO pg_get_indexdef(i) AS (SELECT __ix.def FROM main.__indexdef AS __ix WHERE __ix.oid = i),
  (i, c, p) AS CASE WHEN coalesce(c, 0) = 0 THEN (SELECT __ix.def FROM main.__indexdef AS __ix WHERE __ix.oid = i)
  ELSE (SELECT __ia.attname FROM pgc.pg_attribute AS __ia WHERE __ia.attrelid = i AND __ia.attnum = c) END;
CREATE MACRO pg_get_constraintdef(c) AS (SELECT __cd.def FROM main.__constraintdef AS __cd WHERE __cd.oid = c),
  (c, p) AS (SELECT __cd.def FROM main.__constraintdef AS __cd WHERE __cd.oid = c);
CREATE MACRO __regclass_name(o) AS CASE WHEN o = 0 THEN '-' ELSE coalesce(
  (SELECT __rc.name FROM main.__regclass AS __rc WHERE __rc.oid = o), CAST(o AS VARCHAR)) END;
CREATE MACRO __regtype_name(o) AS CASE WHEN o = 0 THEN '-' ELSE coalesce(
  (SELECT __ft.name FROM main.__format_type AS __ft WHERE __ft.typid = o), CAST(o AS VARCHAR)) END;
CREATE MACRO __regnamespace_name(o) AS coalesce(
  (SELECT __ns.nspname FROM pgc.pg_namespace AS __ns WHERE __ns.oid = o), CAST(o AS VARCHAR));
CREATE MACRO __regrole_name(o) AS CASE WHEN o = 10 THEN 'dbguru' ELSE CAST(o AS VARCHAR) END;
CREATE MACRO __regclass_keep(o) AS o;
CREATE MACRO __regtype_keep(o) AS o;
CREATE MACRO __regnamespace_keep(o) AS o;
CREATE MACRO __regrole_keep(o) AS o;
CREATE MACRO pg_table_is_visible(o) AS true;
CREATE MACRO pg_type_is_visible(o) AS true;
CREATE MACRO pg_function_is_visible(o) AS true;
CREATE MACRO pg_collation_is_visible(o) AS true;
CREATE MACRO pg_opclass_is_visible(o) AS true;
CREATE MACRO pg_is_other_temp_schema(o) AS false;
CREATE MACRO pg_partition_ancestors(r) AS unnest([CAST(r AS BIGINT)]);
CREATE MACRO pg_partition_root(r) AS CAST(NULL AS BIGINT);
CREATE MACRO pg_relation_is_publishable(o) AS false;
CREATE MACRO pg_is_in_recovery() AS false;
CREATE MACRO has_table_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_schema_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_database_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true;
CREATE MACRO has_any_column_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_function_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_sequence_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO has_type_privilege(a, b) AS true, (a, b, c) AS true;
CREATE MACRO pg_has_role(a, b) AS true, (a, b, c) AS true;
CREATE MACRO obj_description(o) AS CAST(NULL AS VARCHAR), (o, c) AS (SELECT __d.description FROM pgc.pg_description AS __d WHERE __d.objoid = o AND __d.objsubid = 0);
CREATE MACRO col_description(o, n) AS (SELECT __d.description FROM pgc.pg_description AS __d WHERE __d.objoid = o AND __d.objsubid = n);
CREATE MACRO shobj_description(o, c) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_expr(e, r) AS CAST(NULL AS VARCHAR), (e, r, p) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_viewdef(v) AS CAST(NULL AS VARCHAR), (v, p) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_triggerdef(t) AS CAST(NULL AS VARCHAR), (t, p) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_functiondef(f) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_function_arguments(f) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_function_identity_arguments(f) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_function_result(f) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_serial_sequence(t, c) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_get_partkeydef(t) AS CAST(NULL AS VARCHAR);
CREATE MACRO pg_encoding_to_char(e) AS CASE WHEN e = 6 THEN 'UTF8' WHEN e = 0 THEN 'SQL_ASCII' ELSE '' END;
CREATE MACRO pg_char_to_encoding(e) AS CASE WHEN upper(e) IN ('UTF8', 'UTF-8') THEN 6 ELSE -1 END;
CREATE MACRO getdatabaseencoding() AS 'UTF8';
CREATE MACRO array_upper(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN len(a) END;
CREATE MACRO array_lower(a, d) AS CASE WHEN d = 1 AND len(a) > 0 THEN 1 END;
CREATE MACRO _pg_expandarray(a) AS unnest(list_transform(generate_series(1, len(a)), lambda __i: {'x': a[__i], 'n': __i}));
"#;

/// The macros of one session (`current_schemas`, `pg_backend_pid()`, `current_setting`,
/// …): temporary, so they are private to the DuckDB connection of one query.
pub fn session(ctx: &Context) -> String {
    let schemas: Vec<String> = ctx.search_path.iter().map(|s| quote(s)).collect();
    let implicit: Vec<String> = std::iter::once(quote("pg_catalog"))
        .chain(schemas.iter().cloned())
        .collect();
    let settings: Vec<String> = ctx
        .settings
        .iter()
        .map(|(k, v)| format!("({}, {})", quote(k), quote(v)))
        .collect();
    let mut sql = String::from(
        "CREATE TEMP TABLE __settings (name VARCHAR, setting VARCHAR);\n\
         CREATE TEMP MACRO current_setting(n) AS (SELECT __s.setting FROM temp.main.__settings AS __s WHERE __s.name = lower(n)),\n\
         (n, m) AS (SELECT __s.setting FROM temp.main.__settings AS __s WHERE __s.name = lower(n));\n",
    );
    sql.push_str(&format!(
        "CREATE TEMP MACRO current_schemas(b) AS CASE WHEN b THEN [{}] ELSE CAST([{}] AS VARCHAR[]) END;\n",
        implicit.join(", "),
        schemas.join(", ")
    ));
    sql.push_str(&format!(
        "CREATE TEMP MACRO current_schema() AS {};\n",
        ctx.search_path
            .first()
            .map(|s| quote(s))
            .unwrap_or_else(|| "CAST(NULL AS VARCHAR)".into())
    ));
    sql.push_str(&format!(
        "CREATE TEMP MACRO pg_backend_pid() AS CAST({} AS INTEGER);\n",
        ctx.backend_pid
    ));
    sql.push_str(&format!(
        "CREATE TEMP MACRO txid_current() AS CAST({} AS BIGINT);\n",
        ctx.txid
    ));
    sql.push_str(&format!(
        "CREATE TEMP MACRO version() AS {};\n",
        quote(&format!(
            "PostgreSQL {} on x86_64-pc-linux-gnu, compiled by rustc",
            ctx.server_version
        ))
    ));
    if !settings.is_empty() {
        sql.push_str(&format!(
            "INSERT INTO temp.main.__settings VALUES {};\n",
            settings.join(", ")
        ));
    }
    sql
}
