// node-postgres (`pg`): SCRAM over TLS; simple protocol without parameters, unnamed extended
// protocol (text) with them: `query({text: 'ASK $1', values: [q]})`; a named prepared
// passthrough statement; a bad statement and a good one on the same connection.
// Environment: DBGURU_HOST, DBGURU_PORT, DBGURU_USER, DBGURU_PASSWORD, DBGURU_DBNAME,
// DBGURU_SSLMODE, DBGURU_QUESTION. Expected data: see clientlib.py (same fixture).
'use strict';

let pg;
try {
  pg = require('pg');
} catch (e) {
  console.log(`MISSING NODE MODULE pg: ${e.message} (scripts/test runs npm install pg into $HOME/.cache/dbguru-node; set NODE_PATH)`);
  process.exit(3);
}
const assert = require('assert');

const env = process.env;
const QUESTION = env.DBGURU_QUESTION || "how many orders are there, and what's the revenue?";
const sqlLiteral = (s) => "'" + s.replace(/'/g, "''") + "'";
// int8 and numeric arrive as strings in node-postgres (no precision loss); OIDs say the type.
const ASK_COLUMNS = ['source_db', 'orders', 'revenue'];
const ASK_OIDS = [25, 20, 1700];
const ASK_ROWS = [['lite', '2', '3.75'], ['pg', '3', '35.75']];
const PT_COLUMNS = ['id', 'customer', 'amount'];
const PT_OIDS = [23, 25, 1700];

const step = (m) => console.log(`--- ${m}`);

function checkAsk(res, what) {
  assert.deepStrictEqual(res.fields.map((f) => f.name), ASK_COLUMNS, `${what}: column names`);
  assert.deepStrictEqual(res.fields.map((f) => f.dataTypeID), ASK_OIDS, `${what}: type OIDs (text=25 int8=20 numeric=1700)`);
  const rows = res.rows.map((r) => [r.source_db, r.orders, r.revenue]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const r of rows) {
    assert.strictEqual(typeof r[0], 'string', `${what}: source_db type`);
    // numeric text may carry trailing zeros; compare as numbers
    r[2] = String(Number(r[2]));
  }
  assert.deepStrictEqual(rows, ASK_ROWS, `${what}: rows`);
  console.log(`    ${what}: ${JSON.stringify(rows)}`);
}

function checkPassthrough(res, what) {
  assert.deepStrictEqual(res.fields.map((f) => f.name), PT_COLUMNS, `${what}: column names`);
  assert.deepStrictEqual(res.fields.map((f) => f.dataTypeID), PT_OIDS, `${what}: type OIDs (int4=23 text=25 numeric=1700)`);
  assert.strictEqual(res.rows.length, 1, `${what}: one row`);
  const r = res.rows[0];
  assert.strictEqual(r.id, 2, `${what}: id (int4 parsed as number)`);
  assert.strictEqual(r.customer, 'bob', `${what}: customer`);
  assert.strictEqual(Number(r.amount), 20.25, `${what}: amount`);
  console.log(`    ${what}: ${JSON.stringify(r)}`);
}

async function expectCode(promise, code, what) {
  try {
    await promise;
  } catch (e) {
    assert.strictEqual(e.code, code, `${what}: SQLSTATE ${e.code}, want ${code}: ${e.message}`);
    console.log(`    ${what}: raised ${e.code}: ${e.message}`);
    return;
  }
  throw new Error(`${what}: no error, want SQLSTATE ${code}`);
}

async function run() {
  const version = require('pg/package.json').version;
  step(`node ${process.version}, pg ${version}: connect ssl (sslmode=${env.DBGURU_SSLMODE || 'require'})`);
  const client = new pg.Client({
    host: env.DBGURU_HOST || '127.0.0.1',
    port: Number(env.DBGURU_PORT || 6543),
    user: env.DBGURU_USER || 'app',
    password: env.DBGURU_PASSWORD || '',
    database: env.DBGURU_DBNAME || 'dbguru',
    // sslmode=require: encrypt, do not verify the (self-signed) certificate
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 10000,
  });
  await client.connect();
  try {
    assert.ok(client.connection.stream.encrypted, 'connection is not using TLS');

    step('ASK literal (simple protocol)');
    checkAsk(await client.query('ASK ' + sqlLiteral(QUESTION)), 'ASK literal');

    step("query({text: 'ASK $1', values: [q]}) (unnamed extended protocol)");
    checkAsk(await client.query({ text: 'ASK $1', values: [QUESTION] }), 'ASK $1');

    step('passthrough SELECT with a parameter (unnamed extended)');
    checkPassthrough(await client.query('SELECT id, customer, amount FROM orders WHERE id = $1', [2]), 'passthrough');

    step('passthrough as a named prepared statement, three times');
    for (let i = 0; i < 3; i++) {
      checkPassthrough(
        await client.query({ name: 'order_by_id', text: 'SELECT id, customer, amount FROM orders WHERE id = $1', values: [2] }),
        `named #${i + 1}`,
      );
    }

    step('ASK $1 with rowMode array');
    const res = await client.query({ text: 'ASK $1', values: [QUESTION], rowMode: 'array' });
    assert.strictEqual(res.rows.length, 2, 'rowMode array: 2 rows');

    step("bad statement: ASK 'unterminated");
    await expectCode(client.query("ASK 'unterminated"), '42601', "ASK 'unterminated");
    step('good statement on the same connection');
    checkAsk(await client.query({ text: 'ASK $1', values: [QUESTION] }), 'ASK $1 after error');

    step('bad setting: SET dbguru.max_rows = -1');
    await expectCode(client.query('SET dbguru.max_rows = -1'), '22023', 'max_rows = -1');
    checkPassthrough(await client.query('SELECT id, customer, amount FROM orders WHERE id = $1', [2]), 'passthrough after error');
  } finally {
    await client.end();
  }
}

run().then(
  () => {
    console.log('OK');
    process.exit(0);
  },
  (e) => {
    console.log(e && e.stack ? e.stack : String(e));
    process.exit(1);
  },
);
