// pgJDBC DatabaseMetaData as DBeaver, DataGrip, Metabase and Tableau use it (tests/it/bi.rs).
// Prints one line per fact, "<step>|<value>", so the test compares dbguru with a real
// PostgreSQL holding the same tables. Any exception fails the program (exit 1).
// Environment: DBGURU_HOST, DBGURU_PORT, DBGURU_USER, DBGURU_DBNAME, DBGURU_SCHEMA,
// DBGURU_TABLE (a table with a primary key), DBGURU_PARENT (the table it references).
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.Properties;
import java.util.TreeSet;

public class BiJdbcMeta {
    static String env(String k) {
        String v = System.getenv(k);
        if (v == null) throw new IllegalStateException(k + " not set");
        return v;
    }

    static void out(String step, Object v) {
        System.out.println(step + "|" + v);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + env("DBGURU_HOST") + ":" + env("DBGURU_PORT") + "/" + env("DBGURU_DBNAME");
        Properties p = new Properties();
        p.setProperty("user", env("DBGURU_USER"));
        p.setProperty("sslmode", "disable");
        String schema = env("DBGURU_SCHEMA"), table = env("DBGURU_TABLE"), parent = env("DBGURU_PARENT");
        try (Connection c = DriverManager.getConnection(url, p)) {
            DatabaseMetaData md = c.getMetaData();
            TreeSet<String> schemas = new TreeSet<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            out("schemas", schemas.contains(schema));
            TreeSet<String> tables = new TreeSet<>();
            try (ResultSet rs = md.getTables(null, schema, "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            out("tables", tables);
            StringBuilder cols = new StringBuilder();
            try (ResultSet rs = md.getColumns(null, schema, table, "%")) {
                while (rs.next()) cols.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getInt("ORDINAL_POSITION")).append(' ');
            }
            out("columns", cols.toString().trim());
            StringBuilder pk = new StringBuilder();
            try (ResultSet rs = md.getPrimaryKeys(null, schema, table)) {
                while (rs.next()) pk.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getInt("KEY_SEQ")).append(' ');
            }
            out("primary_keys", pk.toString().trim());
            StringBuilder fk = new StringBuilder();
            try (ResultSet rs = md.getImportedKeys(null, schema, table)) {
                while (rs.next()) fk.append(rs.getString("FKCOLUMN_NAME")).append("->").append(rs.getString("PKTABLE_SCHEM")).append('.').append(rs.getString("PKTABLE_NAME")).append('.').append(rs.getString("PKCOLUMN_NAME")).append(' ');
            }
            out("imported_keys", fk.toString().trim());
            StringBuilder ex = new StringBuilder();
            try (ResultSet rs = md.getExportedKeys(null, schema, parent)) {
                while (rs.next()) ex.append(rs.getString("FKTABLE_NAME")).append('.').append(rs.getString("FKCOLUMN_NAME")).append(' ');
            }
            out("exported_keys", ex.toString().trim());
            TreeSet<String> idx = new TreeSet<>();
            try (ResultSet rs = md.getIndexInfo(null, schema, table, false, false)) {
                while (rs.next()) {
                    if (rs.getString("INDEX_NAME") == null) continue;
                    idx.add(rs.getString("INDEX_NAME") + ":" + rs.getString("COLUMN_NAME") + ":" + (rs.getBoolean("NON_UNIQUE") ? "nonunique" : "unique"));
                }
            }
            out("index_info", idx);
            TreeSet<String> types = new TreeSet<>();
            try (ResultSet rs = md.getTypeInfo()) {
                while (rs.next()) types.add(rs.getString("TYPE_NAME"));
            }
            out("type_info", types.contains("int4") && types.contains("text") && types.contains("numeric"));
            int fns = 0;
            try (ResultSet rs = md.getFunctions(null, schema, "%")) {
                while (rs.next()) fns++;
            }
            out("functions", fns);
            TreeSet<String> tt = new TreeSet<>();
            try (ResultSet rs = md.getTableTypes()) {
                while (rs.next()) tt.add(rs.getString(1));
            }
            out("table_types", tt.contains("TABLE") && tt.contains("VIEW"));
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + schema + "." + table + " LIMIT 1")) {
                ResultSetMetaData r = rs.getMetaData();
                StringBuilder s = new StringBuilder();
                for (int i = 1; i <= r.getColumnCount(); i++) s.append(r.getColumnLabel(i)).append(' ');
                out("resultset_columns", s.toString().trim());
            }
        }
    }
}
