// pgJDBC (/usr/share/java/postgresql.jar): SCRAM over TLS (sslmode=require, no certificate
// verification), once in the default extended mode (int parameters binary; server-side named
// statements after prepareThreshold=5 executions) and once with preferQueryMode=simple
// (parameters interpolated by the driver). Each mode: ASK literal with ResultSetMetaData
// types, PreparedStatement `ASK ?`, passthrough PreparedStatement with setInt, a bad
// statement and a good one on the same connection.
// Environment: DBGURU_HOST, DBGURU_PORT, DBGURU_USER, DBGURU_PASSWORD, DBGURU_DBNAME,
// DBGURU_SSLMODE, DBGURU_QUESTION. Expected data: see clientlib.py (same fixture).
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class JdbcClient {
    static String env(String k, String d) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() ? d : v;
    }

    static final String QUESTION = env("DBGURU_QUESTION", "how many orders are there, and what's the revenue?");

    static void check(boolean cond, String msg) {
        if (!cond) throw new AssertionError(msg);
    }

    static void step(String m) {
        System.out.println("--- " + m);
        System.out.flush();
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static void checkAsk(ResultSet rs, String what) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        check(md.getColumnCount() == 3, what + ": column count " + md.getColumnCount());
        String[] names = {"source_db", "orders", "revenue"};
        String[] typeNames = {"text", "int8", "numeric"};
        int[] types = {Types.VARCHAR, Types.BIGINT, Types.NUMERIC};
        for (int i = 0; i < 3; i++) {
            check(md.getColumnLabel(i + 1).equals(names[i]), what + ": column " + (i + 1) + " is " + md.getColumnLabel(i + 1) + ", want " + names[i]);
            check(md.getColumnTypeName(i + 1).equals(typeNames[i]), what + ": column " + names[i] + " type " + md.getColumnTypeName(i + 1) + ", want " + typeNames[i]);
            check(md.getColumnType(i + 1) == types[i], what + ": column " + names[i] + " java.sql.Types " + md.getColumnType(i + 1) + ", want " + types[i]);
        }
        List<String> rows = new ArrayList<>();
        while (rs.next()) {
            Object src = rs.getObject(1), n = rs.getObject(2), rev = rs.getObject(3);
            check(src instanceof String, what + ": source_db is " + (src == null ? "null" : src.getClass().getName()));
            check(n instanceof Long, what + ": orders is " + (n == null ? "null" : n.getClass().getName()) + ", want Long");
            check(rev instanceof BigDecimal, what + ": revenue is " + (rev == null ? "null" : rev.getClass().getName()) + ", want BigDecimal");
            rows.add(src + "|" + n + "|" + ((BigDecimal) rev).stripTrailingZeros().toPlainString());
        }
        rows.sort(null);
        check(rows.equals(List.of("lite|2|3.75", "pg|3|35.75")), what + ": rows " + rows);
        System.out.println("    " + what + ": " + rows);
    }

    static void checkPassthrough(ResultSet rs, String what) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        check(md.getColumnCount() == 3, what + ": column count " + md.getColumnCount());
        check(md.getColumnTypeName(1).equals("int4"), what + ": id type " + md.getColumnTypeName(1));
        check(md.getColumnTypeName(2).equals("text"), what + ": customer type " + md.getColumnTypeName(2));
        check(md.getColumnTypeName(3).equals("numeric"), what + ": amount type " + md.getColumnTypeName(3));
        check(rs.next(), what + ": no row");
        Object id = rs.getObject(1);
        check(id instanceof Integer && (Integer) id == 2, what + ": id " + id);
        check("bob".equals(rs.getString(2)), what + ": customer " + rs.getString(2));
        check(rs.getBigDecimal(3).compareTo(new BigDecimal("20.25")) == 0, what + ": amount " + rs.getBigDecimal(3));
        check(!rs.next(), what + ": more than one row");
        System.out.println("    " + what + ": 2|bob|20.25");
    }

    static void expectState(Statement st, String sql, String state, String what) {
        try {
            st.execute(sql);
        } catch (SQLException e) {
            check(state.equals(e.getSQLState()), what + ": SQLSTATE " + e.getSQLState() + ", want " + state + ": " + e.getMessage());
            System.out.println("    " + what + ": raised " + e.getSQLState() + ": " + e.getMessage().split("\n")[0]);
            return;
        }
        throw new AssertionError(what + ": no error, want SQLSTATE " + state);
    }

    static void runMode(String mode) throws Exception {
        String url = "jdbc:postgresql://" + env("DBGURU_HOST", "127.0.0.1") + ":" + env("DBGURU_PORT", "6543") + "/" + env("DBGURU_DBNAME", "dbguru");
        Properties p = new Properties();
        p.setProperty("user", env("DBGURU_USER", "app"));
        p.setProperty("password", env("DBGURU_PASSWORD", ""));
        p.setProperty("sslmode", env("DBGURU_SSLMODE", "require"));
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        if (!mode.isEmpty()) p.setProperty("preferQueryMode", mode);
        String label = mode.isEmpty() ? "default" : "preferQueryMode=" + mode;
        step("[" + label + "] connect " + url + " sslmode=" + p.getProperty("sslmode"));
        try (Connection c = DriverManager.getConnection(url, p)) {
            soft(label, "Statement: ASK literal", () -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("ASK " + literal(QUESTION))) {
                    checkAsk(rs, "ASK literal");
                }
            });
            soft(label, "PreparedStatement: ASK ?", () -> {
                try (PreparedStatement ps = c.prepareStatement("ASK ?")) {
                    ps.setString(1, QUESTION);
                    try (ResultSet rs = ps.executeQuery()) {
                        checkAsk(rs, "ASK ?");
                    }
                }
            });
            soft(label, "PreparedStatement passthrough with setInt, 6 times (server-prepared from the 5th)", () -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, customer, amount FROM orders WHERE id = ?")) {
                    for (int i = 1; i <= 6; i++) {
                        ps.setInt(1, 2);
                        try (ResultSet rs = ps.executeQuery()) {
                            checkPassthrough(rs, "passthrough #" + i);
                        }
                    }
                }
            });
            // (pgJDBC rejects an unterminated quote itself, without sending it: use errors
            // only the proxy can raise.)
            soft(label, "bad statement: ASK ... ON nosuchdb", () -> {
                try (Statement st = c.createStatement()) {
                    expectState(st, "ASK 'which orders?' ON nosuchdb", "42704", "ASK ... ON nosuchdb");
                }
            });
            soft(label, "bad setting: SET dbguru.max_rows = -1", () -> {
                try (Statement st = c.createStatement()) {
                    expectState(st, "SET dbguru.max_rows = -1", "22023", "max_rows = -1");
                }
            });
            soft(label, "good statements on the same connection", () -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("ASK " + literal(QUESTION))) {
                    checkAsk(rs, "ASK after errors");
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT id, customer, amount FROM orders WHERE id = ?")) {
                    ps.setInt(1, 2);
                    try (ResultSet rs = ps.executeQuery()) {
                        checkPassthrough(rs, "passthrough after errors");
                    }
                }
            });
        }
    }

    interface Step {
        void run() throws Exception;
    }

    static final List<String> FAILED = new ArrayList<>();

    /** Runs one step; a failure is printed and recorded, and the next step runs. */
    static void soft(String mode, String name, Step s) {
        step("[" + mode + "] " + name);
        try {
            s.run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("    STEP FAILED: [" + mode + "] " + name);
            FAILED.add("[" + mode + "] " + name);
        }
    }

    public static void main(String[] args) {
        try {
            Class.forName("org.postgresql.Driver");
            System.out.println("pgJDBC " + org.postgresql.util.DriverInfo.DRIVER_FULL_NAME + ", Java " + System.getProperty("java.version"));
            runMode("");
            runMode("simple");
            if (!FAILED.isEmpty()) throw new AssertionError(FAILED.size() + " step(s) failed: " + FAILED);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
        System.out.println("OK");
        System.exit(0);
    }
}
