//! Demo databases created on first start: an online shop (SQLite) and a sales warehouse
//! (DuckDB star schema).
//!
//! Both are generated from a fixed seed, so every installation gets the same rows, and they
//! share their concepts — the same 40 products in five categories, customers from the same
//! eight countries and cities, sales in 2023–2024 — so questions asked across both
//! databases give comparable answers. Money is computed in integer cents.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::config::DemoData;

/// Why a demo database could not be created.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file-system operation failed.
    #[error("cannot create demo database {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite refused to build the shop database.
    #[error("cannot build the SQLite demo database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// DuckDB refused to build the warehouse database.
    #[error("cannot build the DuckDB demo database: {0}")]
    Duckdb(#[from] duckdb::Error),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the demo database `kind` at `path` unless a file already exists there; returns
/// whether it created one. Parent directories are created. The database is built in a
/// temporary directory next to `path` and renamed into place, so an interrupted run never
/// leaves a partial database behind.
pub fn ensure_demo(kind: DemoData, path: &Path) -> Result<bool, DemoError> {
    if path.exists() {
        return Ok(false);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let file_name = path.file_name().ok_or_else(|| DemoError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".dbguru-demo-")
        .tempdir_in(dir)
        .map_err(io_error(dir))?;
    let building = staging.path().join(file_name);
    match kind {
        DemoData::Shop => write_sqlite(&building, &shop_tables())?,
        DemoData::Warehouse => write_duckdb(&building, &warehouse_tables())?,
    }
    if path.exists() {
        // Another process finished first; keep its file.
        return Ok(false);
    }
    fs::rename(&building, path).map_err(io_error(path))?;
    tracing::debug!(path = %path.display(), kind = ?kind, "created demo database");
    Ok(true)
}

// ---------------------------------------------------------------------------------------
// Generated tables
// ---------------------------------------------------------------------------------------

/// One generated value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Int(i64),
    Text(String),
    /// Money in cents.
    Cents(i64),
    /// Days since 1970-01-01.
    Date(i64),
}

/// A table: its DDL and its rows.
struct Table {
    name: &'static str,
    ddl: &'static str,
    rows: Vec<Vec<Cell>>,
}

/// splitmix64: a tiny deterministic PRNG.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index chosen with the given weights.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= *w;
        }
        weights.len().saturating_sub(1)
    }
}

struct Country {
    name: &'static str,
    weight: u32,
    cities: &'static [&'static str],
    first_names: &'static [&'static str],
    last_names: &'static [&'static str],
}

const COUNTRIES: [Country; 8] = [
    Country {
        name: "United States",
        weight: 22,
        cities: &[
            "New York",
            "Chicago",
            "San Francisco",
            "Austin",
            "Seattle",
            "Boston",
        ],
        first_names: &[
            "James", "Mary", "Michael", "Jennifer", "David", "Linda", "Robert", "Emily", "Daniel",
            "Ashley",
        ],
        last_names: &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Taylor", "Clark",
        ],
    },
    Country {
        name: "Germany",
        weight: 18,
        cities: &["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt"],
        first_names: &[
            "Lukas",
            "Anna",
            "Jonas",
            "Laura",
            "Felix",
            "Lea",
            "Maximilian",
            "Sophie",
            "Paul",
            "Hannah",
        ],
        last_names: &[
            "Mueller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Hoffmann",
            "Koch",
        ],
    },
    Country {
        name: "United Kingdom",
        weight: 14,
        cities: &["London", "Manchester", "Edinburgh", "Bristol", "Leeds"],
        first_names: &[
            "Oliver", "Amelia", "Harry", "Isla", "George", "Olivia", "Jack", "Emily", "Charlie",
            "Grace",
        ],
        last_names: &[
            "Smith", "Jones", "Taylor", "Brown", "Evans", "Walker", "Wright", "Thompson",
            "Roberts", "O'Brien",
        ],
    },
    Country {
        name: "France",
        weight: 12,
        cities: &["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux"],
        first_names: &[
            "Louis", "Camille", "Gabriel", "Manon", "Hugo", "Chloe", "Arthur", "Ines", "Jules",
            "Lea",
        ],
        last_names: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau",
        ],
    },
    Country {
        name: "Canada",
        weight: 10,
        cities: &["Toronto", "Vancouver", "Montreal", "Calgary"],
        first_names: &[
            "Liam",
            "Emma",
            "Noah",
            "Charlotte",
            "William",
            "Ava",
            "Ethan",
            "Chloe",
            "Lucas",
            "Sophia",
        ],
        last_names: &[
            "Tremblay",
            "Roy",
            "Gagnon",
            "Smith",
            "Wilson",
            "MacDonald",
            "Campbell",
            "Lee",
            "Martin",
            "Brown",
        ],
    },
    Country {
        name: "Spain",
        weight: 8,
        cities: &["Madrid", "Barcelona", "Valencia", "Seville"],
        first_names: &[
            "Hugo",
            "Lucia",
            "Martin",
            "Sofia",
            "Pablo",
            "Maria",
            "Alejandro",
            "Paula",
            "Daniel",
            "Carmen",
        ],
        last_names: &[
            "Garcia",
            "Rodriguez",
            "Gonzalez",
            "Fernandez",
            "Lopez",
            "Martinez",
            "Sanchez",
            "Perez",
            "Gomez",
            "Ruiz",
        ],
    },
    Country {
        name: "Italy",
        weight: 8,
        cities: &["Rome", "Milan", "Turin", "Naples", "Florence"],
        first_names: &[
            "Leonardo",
            "Giulia",
            "Francesco",
            "Sofia",
            "Alessandro",
            "Aurora",
            "Lorenzo",
            "Chiara",
            "Matteo",
            "Martina",
        ],
        last_names: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco",
        ],
    },
    Country {
        name: "Netherlands",
        weight: 8,
        cities: &["Amsterdam", "Rotterdam", "Utrecht", "The Hague"],
        first_names: &[
            "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sara",
        ],
        last_names: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
        ],
    },
];

/// The product catalog both demo databases share: (name, category, price in cents).
const PRODUCTS: [(&str, &str, i64); 40] = [
    ("Wireless Mouse", "Electronics", 2499),
    ("Mechanical Keyboard", "Electronics", 8990),
    ("USB-C Hub", "Electronics", 3999),
    ("Noise-Cancelling Headphones", "Electronics", 19900),
    ("Bluetooth Speaker", "Electronics", 5995),
    ("HD Webcam", "Electronics", 4950),
    ("Fast Phone Charger", "Electronics", 1999),
    ("27-inch 4K Monitor", "Electronics", 32900),
    ("The Art of SQL", "Books", 3495),
    ("Data Science Handbook", "Books", 4200),
    ("Mystery at Midnight", "Books", 1299),
    ("Cooking for Everyone", "Books", 2450),
    ("A History of Europe", "Books", 2990),
    ("Learning Rust", "Books", 3999),
    ("Children's Picture Atlas", "Books", 1875),
    ("Collected Poems", "Books", 1420),
    ("Ceramic Coffee Mug", "Home", 999),
    ("Non-Stick Frying Pan", "Home", 3490),
    ("Cotton Bath Towel Set", "Home", 2750),
    ("LED Desk Lamp", "Home", 2999),
    ("Scented Candle", "Home", 1249),
    ("Kitchen Knife Set", "Home", 7900),
    ("Throw Pillow", "Home", 1990),
    ("Stainless Steel Kettle", "Home", 4495),
    ("Building Blocks Set", "Toys", 4999),
    ("Plush Teddy Bear", "Toys", 1999),
    ("Remote Control Car", "Toys", 6490),
    ("Jigsaw Puzzle 1000 Pieces", "Toys", 1750),
    ("Wooden Train Set", "Toys", 5400),
    ("Classic Board Game", "Toys", 2995),
    ("Arts and Crafts Kit", "Toys", 2240),
    ("Toy Kitchen Playset", "Toys", 8900),
    ("Yoga Mat", "Sports", 2500),
    ("Running Shoes", "Sports", 11990),
    ("Adjustable Dumbbells", "Sports", 14900),
    ("Tennis Racket", "Sports", 8950),
    ("Cycling Helmet", "Sports", 5999),
    ("Football", "Sports", 2495),
    ("Insulated Water Bottle", "Sports", 1499),
    ("Fitness Tracker", "Sports", 9900),
];

const EMAIL_DOMAINS: [&str; 4] = [
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
];

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Relative sales volume per month (holiday season peaks).
const MONTH_WEIGHTS: [u32; 12] = [85, 80, 90, 90, 95, 95, 90, 90, 95, 100, 120, 140];

/// How many items of a product a consumer buys at once: weights for 1..=5.
const QUANTITY_WEIGHTS: [u32; 5] = [50, 30, 12, 5, 3];

/// First and last day of the sales period (2023-01-01..=2024-12-31) in days since 1970.
fn sales_period() -> (i64, i64) {
    (days_from_civil(2023, 1, 1), days_from_civil(2024, 12, 31))
}

/// A customer of either database.
struct Person {
    name: String,
    email: String,
    country: &'static str,
    city: &'static str,
}

fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
    let weights: Vec<u32> = COUNTRIES.iter().map(|c| c.weight).collect();
    let mut emails = HashSet::new();
    (0..n)
        .map(|_| {
            let country = &COUNTRIES[rng.weighted(&weights)];
            let first = *rng.pick(country.first_names);
            let last = *rng.pick(country.last_names);
            let local = format!("{}.{}", email_part(first), email_part(last));
            let domain = *rng.pick(&EMAIL_DOMAINS);
            let mut email = format!("{local}@{domain}");
            let mut k = 2;
            while !emails.insert(email.clone()) {
                email = format!("{local}{k}@{domain}");
                k += 1;
            }
            Person {
                name: format!("{first} {last}"),
                email,
                country: country.name,
                city: rng.pick::<&str>(country.cities),
            }
        })
        .collect()
}

fn email_part(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A day in the sales period, with more sales towards the holidays.
fn sales_day(rng: &mut Rng) -> i64 {
    let (start, end) = sales_period();
    loop {
        let day = rng.range(start, end);
        let (_, month, _) = civil_from_days(day);
        let weight = MONTH_WEIGHTS[(month - 1) as usize];
        if (rng.below(140) as u32) < weight {
            return day;
        }
    }
}

fn quantity(rng: &mut Rng) -> i64 {
    rng.weighted(&QUANTITY_WEIGHTS) as i64 + 1
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// The shop: customers, products, orders and their items.
/// Seed of the shop's generator (its first draws are the customers).
const SHOP_SEED: u64 = 0x5EED_0001_5409;

fn shop_tables() -> Vec<Table> {
    let mut rng = Rng(SHOP_SEED);
    let (_, period_end) = sales_period();

    let signup_start = days_from_civil(2022, 1, 1);
    let signup_end = days_from_civil(2024, 6, 30);
    let customers: Vec<(Person, i64)> = people(&mut rng, 200)
        .into_iter()
        .map(|p| {
            let day = rng.range(signup_start, signup_end);
            (p, day)
        })
        .collect();
    let earliest = customers
        .iter()
        .enumerate()
        .min_by_key(|(_, (_, day))| *day)
        .map_or(0, |(i, _)| i);
    let customer_rows = customers
        .iter()
        .enumerate()
        .map(|(i, (p, day))| {
            let at = format!(
                "{} {:02}:{:02}:{:02}",
                date_text(*day),
                rng.range(7, 22),
                rng.range(0, 59),
                rng.range(0, 59)
            );
            vec![
                Cell::Int(i as i64 + 1),
                text(&p.name),
                text(&p.email),
                text(p.country),
                text(p.city),
                text(at),
            ]
        })
        .collect();

    let product_rows = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, (name, category, cents))| {
            vec![
                Cell::Int(i as i64 + 1),
                text(*name),
                text(*category),
                Cell::Cents(*cents),
                Cell::Int(rng.range(0, 500)),
            ]
        })
        .collect();

    let mut order_rows = Vec::with_capacity(1000);
    let mut item_rows = Vec::with_capacity(2600);
    for order_id in 1..=1000i64 {
        let day = sales_day(&mut rng);
        // a customer who had signed up by then
        let customer = (0..50)
            .map(|_| rng.below(customers.len()))
            .find(|&c| customers[c].1 <= day)
            .unwrap_or(earliest);
        let age = period_end - day;
        let status = if age < 7 {
            ["pending", "shipped"][rng.weighted(&[60, 40])]
        } else if age < 21 {
            ["shipped", "delivered", "cancelled"][rng.weighted(&[50, 40, 10])]
        } else {
            ["delivered", "cancelled"][rng.weighted(&[88, 12])]
        };
        let mut total = 0;
        let mut chosen = HashSet::new();
        for _ in 0..rng.range(1, 4) {
            let product = rng.below(PRODUCTS.len());
            if !chosen.insert(product) {
                continue;
            }
            let q = quantity(&mut rng);
            let price = PRODUCTS[product].2;
            total += q * price;
            item_rows.push(vec![
                Cell::Int(item_rows.len() as i64 + 1),
                Cell::Int(order_id),
                Cell::Int(product as i64 + 1),
                Cell::Int(q),
                Cell::Cents(price),
            ]);
        }
        order_rows.push(vec![
            Cell::Int(order_id),
            Cell::Int(customer as i64 + 1),
            Cell::Date(day),
            text(status),
            Cell::Cents(total),
        ]);
    }

    vec![
        Table {
            name: "customers",
            ddl: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, \
                  country TEXT, city TEXT, created_at TEXT)",
            rows: customer_rows,
        },
        Table {
            name: "products",
            ddl: "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT, \
                  price REAL, stock INTEGER)",
            rows: product_rows,
        },
        Table {
            name: "orders",
            ddl: "CREATE TABLE orders (id INTEGER PRIMARY KEY, \
                  customer_id INTEGER REFERENCES customers(id), order_date TEXT, status TEXT, \
                  total_amount REAL)",
            rows: order_rows,
        },
        Table {
            name: "order_items",
            ddl: "CREATE TABLE order_items (id INTEGER PRIMARY KEY, \
                  order_id INTEGER REFERENCES orders(id), product_id INTEGER REFERENCES products(id), \
                  quantity INTEGER, unit_price REAL)",
            rows: item_rows,
        },
    ]
}

/// Indexes for the shop's join columns.
const SHOP_INDEXES: &str = "CREATE INDEX orders_customer_id ON orders(customer_id);
CREATE INDEX orders_order_date ON orders(order_date);
CREATE INDEX order_items_order_id ON order_items(order_id);
CREATE INDEX order_items_product_id ON order_items(product_id);";

/// The warehouse: a star schema of sales facts.
fn warehouse_tables() -> Vec<Table> {
    let mut rng = Rng(0x5EED_0002_D0C8);
    const SEGMENTS: [&str; 3] = ["Consumer", "Small Business", "Corporate"];

    let customers: Vec<(Person, usize)> = people(&mut rng, 180)
        .into_iter()
        .map(|p| {
            let segment = rng.weighted(&[55, 25, 20]);
            (p, segment)
        })
        .collect();
    // The shared key: two of every three warehouse customers are shop customers too,
    // known by the same email (the shop's customer with the same index), so joins of
    // shop.customers and warehouse.dim_customer on email find them.
    let shop_people = people(&mut Rng(SHOP_SEED), 200);
    let shared_email = |i: usize, own: &str| match shop_people.get(i) {
        Some(s) if i % 3 != 2 => s.email.clone(),
        _ if shop_people.iter().any(|s| s.email == own) => format!("wh.{own}"),
        _ => own.to_string(),
    };
    let customer_rows = customers
        .iter()
        .enumerate()
        .map(|(i, (p, segment))| {
            vec![
                Cell::Int(i as i64 + 1),
                text(&p.name),
                text(shared_email(i, &p.email)),
                text(p.country),
                text(p.city),
                text(SEGMENTS[*segment]),
            ]
        })
        .collect();

    let product_rows = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, (name, category, cents))| {
            vec![
                Cell::Int(i as i64 + 1),
                text(*name),
                text(*category),
                Cell::Cents(*cents),
            ]
        })
        .collect();

    let (start, end) = sales_period();
    let date_rows = (start..=end)
        .map(|day| {
            let (y, m, _) = civil_from_days(day);
            vec![
                Cell::Int(date_key(day)),
                Cell::Date(day),
                Cell::Int(y),
                Cell::Int(i64::from((m - 1) / 3 + 1)),
                Cell::Int(i64::from(m)),
                text(MONTH_NAMES[(m - 1) as usize]),
            ]
        })
        .collect();

    let sale_rows = (1..=3000i64)
        .map(|sale_id| {
            let day = sales_day(&mut rng);
            let customer = rng.below(customers.len());
            let product = rng.below(PRODUCTS.len());
            let q = match customers[customer].1 {
                2 => rng.range(2, 12),
                1 => rng.range(1, 6),
                _ => quantity(&mut rng),
            };
            let discount = *rng.pick(&[0, 0, 0, 0, 5, 10, 15]);
            let revenue = (q * PRODUCTS[product].2 * (100 - discount) + 50) / 100;
            vec![
                Cell::Int(sale_id),
                Cell::Int(date_key(day)),
                Cell::Int(customer as i64 + 1),
                Cell::Int(product as i64 + 1),
                Cell::Int(q),
                Cell::Cents(revenue),
            ]
        })
        .collect();

    vec![
        Table {
            name: "dim_customer",
            ddl: "CREATE TABLE dim_customer (customer_key INTEGER PRIMARY KEY, customer_name VARCHAR, \
                  email VARCHAR, country VARCHAR, city VARCHAR, segment VARCHAR)",
            rows: customer_rows,
        },
        Table {
            name: "dim_product",
            ddl: "CREATE TABLE dim_product (product_key INTEGER PRIMARY KEY, product_name VARCHAR, \
                  category VARCHAR, list_price DECIMAL(10,2))",
            rows: product_rows,
        },
        Table {
            name: "dim_date",
            ddl: "CREATE TABLE dim_date (date_key INTEGER PRIMARY KEY, date DATE, year INTEGER, \
                  quarter INTEGER, month INTEGER, month_name VARCHAR)",
            rows: date_rows,
        },
        Table {
            name: "fact_sales",
            ddl: "CREATE TABLE fact_sales (sale_id BIGINT PRIMARY KEY, date_key INTEGER, \
                  customer_key INTEGER, product_key INTEGER, quantity INTEGER, revenue DECIMAL(12,2))",
            rows: sale_rows,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------

fn write_sqlite(path: &Path, tables: &[Table]) -> Result<(), DemoError> {
    use rusqlite::types::Value;
    let mut conn = rusqlite::Connection::open(path)?;
    let tx = conn.transaction()?;
    for table in tables {
        tx.execute_batch(table.ddl)?;
        let width = table.rows.first().map_or(0, Vec::len);
        let placeholders = vec!["?"; width].join(", ");
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {} VALUES ({placeholders})",
            table.name
        ))?;
        for row in &table.rows {
            insert.execute(rusqlite::params_from_iter(row.iter().map(
                |cell| match cell {
                    Cell::Int(i) => Value::Integer(*i),
                    Cell::Text(s) => Value::Text(s.clone()),
                    Cell::Cents(c) => Value::Real(*c as f64 / 100.0),
                    Cell::Date(d) => Value::Text(date_text(*d)),
                },
            )))?;
        }
    }
    tx.execute_batch(SHOP_INDEXES)?;
    tx.commit()?;
    conn.execute_batch("ANALYZE")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// Rows per INSERT statement when writing DuckDB.
const DUCKDB_INSERT_ROWS: usize = 500;

fn write_duckdb(path: &Path, tables: &[Table]) -> Result<(), DemoError> {
    let conn = duckdb::Connection::open(path)?;
    conn.execute_batch("BEGIN TRANSACTION")?;
    for table in tables {
        conn.execute_batch(table.ddl)?;
        for chunk in table.rows.chunks(DUCKDB_INSERT_ROWS) {
            let values: Vec<String> = chunk
                .iter()
                .map(|row| {
                    let cells: Vec<String> = row.iter().map(duckdb_literal).collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            conn.execute_batch(&format!(
                "INSERT INTO {} VALUES {}",
                table.name,
                values.join(", ")
            ))?;
        }
    }
    conn.execute_batch("COMMIT; CHECKPOINT;")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

fn duckdb_literal(cell: &Cell) -> String {
    match cell {
        Cell::Int(i) => i.to_string(),
        Cell::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Cell::Cents(c) => {
            let sign = if *c < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
        }
        Cell::Date(d) => format!("DATE '{}'", date_text(*d)),
    }
}

// ---------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, days since 1970-01-01)
// ---------------------------------------------------------------------------------------

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn date_text(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `yyyymmdd` as an integer.
fn date_key(days: i64) -> i64 {
    let (y, m, d) = civil_from_days(days);
    y * 10_000 + i64::from(m) * 100 + i64::from(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_count(conn: &rusqlite::Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    fn duck_count(conn: &duckdb::Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).expect(sql)
    }

    #[test]
    fn calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date_text(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(date_key(days_from_civil(2023, 12, 31)), 20231231);
        let (start, end) = sales_period();
        assert_eq!(end - start + 1, 731);
        for day in start..=end {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn shop_is_created_once_and_consistent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested").join("shop.sqlite");
        assert!(ensure_demo(DemoData::Shop, &path).expect("create"));
        assert!(!ensure_demo(DemoData::Shop, &path).expect("exists"));
        // nothing but the database is left in the directory
        let entries: Vec<_> = fs::read_dir(path.parent().expect("parent"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(entries, [std::ffi::OsString::from("shop.sqlite")]);

        let conn = rusqlite::Connection::open(&path).expect("open");
        assert_eq!(sqlite_count(&conn, "SELECT count(*) FROM customers"), 200);
        assert_eq!(sqlite_count(&conn, "SELECT count(*) FROM products"), 40);
        assert_eq!(sqlite_count(&conn, "SELECT count(*) FROM orders"), 1000);
        let items = sqlite_count(&conn, "SELECT count(*) FROM order_items");
        assert!((2000..=3000).contains(&items), "{items} items");
        assert_eq!(
            sqlite_count(&conn, "SELECT count(DISTINCT category) FROM products"),
            5
        );
        assert_eq!(
            sqlite_count(&conn, "SELECT count(DISTINCT country) FROM customers"),
            8
        );
        assert_eq!(
            sqlite_count(&conn, "SELECT count(DISTINCT email) FROM customers"),
            200
        );
        // every order's total is the sum of its items, to the cent
        assert_eq!(
            sqlite_count(
                &conn,
                "SELECT count(*) FROM orders o WHERE abs(o.total_amount - \
                 (SELECT round(sum(quantity * unit_price), 2) FROM order_items i WHERE i.order_id = o.id)) > 0.001"
            ),
            0
        );
        assert_eq!(
            sqlite_count(
                &conn,
                "SELECT count(*) FROM orders WHERE order_date NOT BETWEEN '2023-01-01' AND '2024-12-31' \
                 OR status NOT IN ('pending', 'shipped', 'delivered', 'cancelled') \
                 OR customer_id NOT IN (SELECT id FROM customers)"
            ),
            0
        );
        // orders come after the customer signed up
        assert_eq!(
            sqlite_count(
                &conn,
                "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id \
                 WHERE o.order_date < substr(c.created_at, 1, 10)"
            ),
            0
        );
    }

    #[test]
    fn shop_and_warehouse_share_customer_emails() {
        let emails = |tables: Vec<Table>, name: &str, col: usize| -> Vec<String> {
            tables
                .into_iter()
                .find(|t| t.name == name)
                .expect("table")
                .rows
                .into_iter()
                .filter_map(|r| match &r[col] {
                    Cell::Text(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        };
        let shop: HashSet<String> = emails(shop_tables(), "customers", 2).into_iter().collect();
        let warehouse = emails(warehouse_tables(), "dim_customer", 2);
        assert_eq!(warehouse.len(), 180);
        assert_eq!(
            warehouse.iter().collect::<HashSet<_>>().len(),
            180,
            "warehouse emails stay unique"
        );
        assert_eq!(warehouse.iter().filter(|e| shop.contains(*e)).count(), 120);
    }

    #[test]
    fn warehouse_is_created_and_consistent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("warehouse.duckdb");
        assert!(ensure_demo(DemoData::Warehouse, &path).expect("create"));
        assert!(!ensure_demo(DemoData::Warehouse, &path).expect("exists"));
        let entries = fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(entries, 1, "only the database file is left");

        let conn = duckdb::Connection::open(&path).expect("open");
        assert_eq!(duck_count(&conn, "SELECT count(*) FROM dim_customer"), 180);
        assert_eq!(duck_count(&conn, "SELECT count(*) FROM dim_product"), 40);
        assert_eq!(duck_count(&conn, "SELECT count(*) FROM dim_date"), 731);
        assert_eq!(duck_count(&conn, "SELECT count(*) FROM fact_sales"), 3000);
        assert_eq!(
            duck_count(
                &conn,
                "SELECT count(*) FROM fact_sales f \
                 LEFT JOIN dim_date d USING (date_key) LEFT JOIN dim_customer c USING (customer_key) \
                 LEFT JOIN dim_product p USING (product_key) \
                 WHERE d.date IS NULL OR c.customer_name IS NULL OR p.product_name IS NULL"
            ),
            0
        );
        assert_eq!(
            duck_count(&conn, "SELECT count(*) FROM dim_date WHERE date_key <> CAST(strftime(date, '%Y%m%d') AS INTEGER)"),
            0
        );
        assert_eq!(
            duck_count(&conn, "SELECT count(*) FROM dim_date WHERE quarter <> quarter(date) OR month <> month(date)"),
            0
        );
        // revenue never exceeds the list price and is positive
        assert_eq!(
            duck_count(
                &conn,
                "SELECT count(*) FROM fact_sales f JOIN dim_product p USING (product_key) \
                 WHERE f.revenue > f.quantity * p.list_price OR f.revenue <= 0"
            ),
            0
        );
        let price: String = conn
            .query_row(
                "SELECT CAST(list_price AS VARCHAR) FROM dim_product WHERE product_name = 'Learning Rust'",
                [],
                |r| r.get(0),
            )
            .expect("price");
        assert_eq!(price, "39.99");
    }

    #[test]
    fn data_is_deterministic_and_shared() {
        let a = shop_tables();
        let b = shop_tables();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.rows, y.rows, "{}", x.name);
        }
        let w = warehouse_tables();
        let shop_products: Vec<&Cell> = a[1].rows.iter().map(|r| &r[1]).collect();
        let warehouse_products: Vec<&Cell> = w[1].rows.iter().map(|r| &r[1]).collect();
        assert_eq!(shop_products, warehouse_products);
        let categories: HashSet<&str> = PRODUCTS.iter().map(|p| p.1).collect();
        assert_eq!(categories.len(), 5);
    }
}
