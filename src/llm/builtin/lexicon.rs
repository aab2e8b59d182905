//! Words: singular forms, identifier splitting, the planner's fixed vocabulary, and
//! the tokenizer of questions.

// ───────────────────────────── words ─────────────────────────────

/// Singular form of one lowercase English word (good enough for table and column names).
pub(super) fn singular(w: &str) -> String {
    const SAME: &[&str] = &[
        "status", "address", "series", "species", "news", "bonus", "campus", "alias", "analysis",
        "basis", "canvas", "gas", "data", "sms", "bus", "virus", "axis", "process", "access",
    ];
    const IRREGULAR: &[(&str, &str)] = &[
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("mice", "mouse"),
        ("statuses", "status"),
        ("aliases", "alias"),
        ("analyses", "analysis"),
        ("buses", "bus"),
        ("processes", "process"),
    ];
    if SAME.contains(&w) {
        return w.to_string();
    }
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == w) {
        return (*s).to_string();
    }
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    for suffix in ["sses", "xes", "ches", "shes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..n - 2].to_string();
        }
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..n - 1].to_string();
    }
    w.to_string()
}

/// Splits an identifier or word into lowercase singular tokens: `_`, `.`, `-`, spaces and
/// camelCase boundaries separate tokens (`dim_customers` → dim, customer;
/// `OrderItems` → order, item; `customerID` → customer, id).
pub(super) fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                tokens.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens.iter().map(|t| singular(t)).collect()
}

/// The words of a table name that say what it holds: the last `.` part, without
/// warehouse prefixes (`dim_customer` → `[customer]`, `sales.fact_orders` → `[order]`).
pub(super) fn table_core(name: &str) -> Vec<String> {
    const PREFIXES: &[&str] = &[
        "dim", "fact", "fct", "tbl", "tb", "t", "vw", "v", "view", "stg", "raw", "src", "d", "f",
    ];
    const SUFFIXES: &[&str] = &["tbl", "table", "view", "vw", "dim", "fact"];
    let last = name.rsplit('.').next().unwrap_or(name);
    let mut toks = name_tokens(last);
    while toks.len() > 1 && PREFIXES.contains(&toks[0].as_str()) {
        toks.remove(0);
    }
    while toks.len() > 1 && toks.last().is_some_and(|t| SUFFIXES.contains(&t.as_str())) {
        toks.pop();
    }
    toks
}

/// How well the question's words name a table (by its core words): 4 exact, 3 head noun
/// (`online_order` for "order"), 2 contiguous part (`order_item` for "order"), 1 all
/// present, 0 no match. Subjects need 3 or more.
pub(super) fn match_subject(words: &[String], core: &[String]) -> u8 {
    if words.is_empty() || core.is_empty() {
        return 0;
    }
    if core == words {
        4
    } else if core.ends_with(words) {
        3
    } else if core.windows(words.len()).any(|w| w == words) {
        2
    } else if words.iter().all(|w| core.contains(w)) {
        1
    } else {
        0
    }
}

/// Other names for the same thing, tried only when no database matches the words used.
pub(super) fn synonyms(w: &str) -> &'static [&'static str] {
    match w {
        "order" => &["sale", "purchase", "transaction"],
        "sale" => &["order", "transaction"],
        "purchase" | "transaction" => &["order", "sale"],
        "customer" => &["client", "buyer", "user"],
        "client" | "buyer" => &["customer"],
        "product" => &["item", "article"],
        "item" | "article" => &["product"],
        "employee" => &["staff", "worker"],
        "staff" | "worker" => &["employee"],
        _ => &[],
    }
}

/// Words that name money, in measures ("total sales", "average order value").
pub(super) const MONEY_WORDS: &[&str] = &[
    "revenue", "sale", "amount", "value", "turnover", "income", "earning", "taking", "spend",
    "spending", "money", "gmv", "total",
];
/// Words that alone make a question a sum ("revenue by category").
pub(super) const SUM_TRIGGERS: &[&str] = &[
    "revenue",
    "revenues",
    "turnover",
    "income",
    "earnings",
    "gmv",
    "quantity",
    "quantities",
];
/// Amount-like column names, best first.
pub(super) const MONEY_COLUMNS: &[&str] = &[
    "revenue",
    "total_amount",
    "amount",
    "sales_amount",
    "total",
    "sales",
    "total_revenue",
    "net_amount",
    "gross_amount",
    "total_sales",
    "total_price",
    "subtotal",
];

/// A calendar period a date column can be grouped or filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Period {
    Year,
    Quarter,
    Month,
    Day,
}

impl Period {
    pub(super) fn from_word(w: &str) -> Option<Period> {
        match w {
            "year" | "yearly" | "annual" | "annually" => Some(Period::Year),
            "month" | "monthly" => Some(Period::Month),
            "quarter" | "quarterly" => Some(Period::Quarter),
            "day" | "daily" | "date" => Some(Period::Day),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Period::Year => "year",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Day => "day",
        }
    }

    /// `strftime`-style format (SQLite, DuckDB, MySQL).
    pub(super) fn strftime(self) -> &'static str {
        match self {
            Period::Year | Period::Quarter => "%Y",
            Period::Month => "%Y-%m",
            Period::Day => "%Y-%m-%d",
        }
    }

    /// `to_char` format (PostgreSQL).
    pub(super) fn to_char(self) -> &'static str {
        match self {
            Period::Year => "YYYY",
            Period::Quarter => "YYYY-\"Q\"Q",
            Period::Month => "YYYY-MM",
            Period::Day => "YYYY-MM-DD",
        }
    }
}

// ───────────────────────────── tokens ─────────────────────────────

/// One token of a question.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A word: lowercase, and as typed (for values such as place names).
    Word { lower: String, orig: String },
    /// A quoted literal, unquoted.
    Quoted(String),
    /// A number as typed (digits, optional sign and decimal point).
    Number(String),
    /// A calendar date written `YYYY-MM-DD` (never split into numbers).
    Date(String),
    /// A comparison operator.
    Op(&'static str),
}

pub(super) fn tokenize(q: &str) -> Vec<Tok> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if matches!(c, '\'' | '"' | '‘' | '“' | '’' | '”') {
            let close: &[char] = match c {
                '\'' => &['\''],
                '"' => &['"'],
                _ => &['’', '”', '\'', '"'],
            };
            let mut j = i + 1;
            let mut s = String::new();
            let mut closed = false;
            while j < chars.len() {
                if close.contains(&chars[j]) {
                    if chars[j] == '\'' && chars.get(j + 1) == Some(&'\'') {
                        s.push('\'');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                s.push(chars[j]);
                j += 1;
            }
            if closed {
                out.push(Tok::Quoted(s));
                i = j + 1;
            } else {
                i += 1;
            }
            continue;
        }
        let op2: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op = match op2.as_str() {
            "<=" => Some(("<=", 2)),
            ">=" => Some((">=", 2)),
            "!=" | "<>" => Some(("<>", 2)),
            "==" => Some(("=", 2)),
            _ => match c {
                '=' => Some(("=", 1)),
                '<' => Some(("<", 1)),
                '>' => Some((">", 1)),
                _ => None,
            },
        };
        if let Some((op, len)) = op {
            out.push(Tok::Op(op));
            i += len;
            continue;
        }
        if c.is_ascii_digit() {
            if let Some(d) = date_at(&chars, i) {
                out.push(Tok::Date(d));
                i += 10;
                continue;
            }
        }
        let negative = c == '-'
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
            && matches!(out.last(), Some(Tok::Op(_)) | None);
        if c.is_ascii_digit() || negative {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())))
            {
                i += 1;
            }
            if i < chars.len() && is_word_char(chars[i]) {
                // "3rd", "2024q1": a word, not a number.
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                let orig: String = chars[start..i].iter().collect();
                out.push(Tok::Word {
                    lower: orig.to_lowercase(),
                    orig,
                });
            } else {
                out.push(Tok::Number(chars[start..i].iter().collect()));
            }
            continue;
        }
        if is_word_char(c) {
            let start = i;
            while i < chars.len() {
                let d = chars[i];
                let inner = (d == '-' || d == '\'' || d == '’')
                    && i > start
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if is_word_char(d) || inner {
                    i += 1;
                } else {
                    break;
                }
            }
            let mut orig: String = chars[start..i].iter().collect();
            for poss in ["'s", "'S", "’s", "’S"] {
                if orig.len() > poss.len() + 1 && orig.ends_with(poss) {
                    orig.truncate(orig.len() - poss.len());
                }
            }
            out.push(Tok::Word {
                lower: orig.to_lowercase(),
                orig,
            });
            continue;
        }
        i += 1; // punctuation
    }
    out
}

// ───────────────────────────── intent ─────────────────────────────

/// Words that carry no meaning for the planner.
pub(super) const FILLER: &[&str] = &[
    "please",
    "pls",
    "kindly",
    "me",
    "us",
    "i",
    "we",
    "you",
    "they",
    "want",
    "need",
    "would",
    "like",
    "to",
    "know",
    "can",
    "could",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "what",
    "whats",
    "what's",
    "which",
    "who",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "the",
    "a",
    "an",
    "there",
    "our",
    "my",
    "your",
    "their",
    "its",
    "it",
    "all",
    "every",
    "current",
    "currently",
    "exist",
    "exists",
    "existing",
    "stored",
    "recorded",
    "registered",
    "available",
    "database",
    "databases",
    "db",
    "table",
    "tables",
    "record",
    "records",
    "row",
    "rows",
    "entry",
    "entries",
    "some",
    "any",
    "so",
    "far",
    "altogether",
    "overall",
    "just",
    "only",
    "also",
    "about",
    "hey",
    "hi",
    "now",
    "then",
    "that",
    "this",
    "these",
    "those",
    "how",
    "placed",
    "made",
    "make",
    "generate",
    "generated",
    "earn",
    "earned",
    "when",
    "and",
    "or",
    "on",
    "at",
    "ever",
    "we've",
    "i'd",
    "let",
    "lets",
    "let's",
    "ok",
    "okay",
    "thanks",
    "thank",
    "return",
    "returns",
    "sold",
    "selling",
    "compare",
    "comparison",
    "versus",
    "vs",
    "both",
    "live",
    "lives",
    "living",
    "located",
    "based",
    "come",
    "comes",
    "distinct",
    "different",
    "unique",
];
/// Verbs that ask for rows.
pub(super) const LIST_VERBS: &[&str] = &[
    "list", "show", "display", "give", "get", "find", "fetch", "see", "view", "print",
];
/// Words that end a phrase (a clause starts).
pub(super) const CLAUSE_WORDS: &[&str] = &[
    "per",
    "by",
    "each",
    "where",
    "whose",
    "with",
    "having",
    "in",
    "from",
    "for",
    "of",
    "and",
    "or",
    "during",
    "sorted",
    "ordered",
    "grouped",
    "top",
    "limit",
    "desc",
    "descending",
    "asc",
    "ascending",
];
/// Words that start a superlative after "with" ("products with the highest price").
pub(super) const SUPERLATIVE_UP: &[&str] = &[
    "highest", "largest", "biggest", "greatest", "most", "max", "maximum",
];
pub(super) const SUPERLATIVE_DOWN: &[&str] =
    &["lowest", "smallest", "least", "fewest", "min", "minimum"];

pub(super) fn is_filler(w: &str) -> bool {
    FILLER.contains(&w) || LIST_VERBS.contains(&w)
}

pub(super) fn is_comparison_word(w: &str) -> bool {
    matches!(
        w,
        "is" | "are"
            | "was"
            | "were"
            | "equals"
            | "equal"
            | "equal_to"
            | "not"
            | "over"
            | "above"
            | "under"
            | "below"
            | "more"
            | "less"
            | "fewer"
            | "greater"
            | "than"
            | "at"
            | "least"
            | "most"
            | "exceeding"
            | "to"
    )
}

/// Country names for the usual abbreviations ("US" but not "us", which is a pronoun).
pub(super) fn country_abbreviation(word: &str) -> Option<&'static str> {
    match word {
        "US" | "USA" | "usa" | "America" | "america" => Some("United States"),
        "UK" | "uk" | "Britain" | "britain" => Some("United Kingdom"),
        "Holland" | "holland" => Some("Netherlands"),
        _ => None,
    }
}

/// `-12`, `3.5`: digits with an optional sign and decimal part (safe to write unquoted).
pub(super) fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// "new york" → "New York"; text with any capital letter is kept as typed.
pub(super) fn title_case(s: &str) -> String {
    if s.chars().any(char::is_uppercase) {
        return s.to_string();
    }
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `YYYY-MM-DD` date starting at `i` (a valid calendar day, not followed by a digit).
fn date_at(chars: &[char], i: usize) -> Option<String> {
    let s: String = chars.get(i..i + 10)?.iter().collect();
    if chars.get(i + 10).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return None;
    }
    let y: i32 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(s)
}

/// Days in month `m` (1-12) of year `y`.
pub(super) fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day after `YYYY-MM-DD`.
pub(super) fn next_day(date: &str) -> Option<String> {
    let y: i32 = date.get(0..4)?.parse().ok()?;
    let m: u32 = date.get(5..7)?.parse().ok()?;
    let d: u32 = date.get(8..10)?.parse().ok()?;
    Some(if d < days_in_month(y, m) {
        format!("{y:04}-{m:02}-{:02}", d + 1)
    } else if m < 12 {
        format!("{y:04}-{:02}-01", m + 1)
    } else {
        format!("{:04}-01-01", y + 1)
    })
}

/// The first day of month `m` (may be 13: January of the next year).
pub(super) fn month_start(y: i32, m: u32) -> String {
    if m > 12 {
        format!("{:04}-{:02}-01", y + 1, m - 12)
    } else {
        format!("{y:04}-{m:02}-01")
    }
}

/// The month a word names (`march`, `mar`), 1-12.
pub(super) fn month_number(w: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = w.trim_end_matches('.');
    MONTHS
        .iter()
        .position(|m| {
            *m == w || (w.len() == 3 && m.starts_with(w)) || (w == "sept" && *m == "september")
        })
        .map(|p| p as u32 + 1)
}

/// The quarter a word names (`q1`..`q4`), 1-4.
pub(super) fn quarter_number(w: &str) -> Option<u32> {
    match w {
        "q1" => Some(1),
        "q2" => Some(2),
        "q3" => Some(3),
        "q4" => Some(4),
        _ => None,
    }
}

/// Whether `words` (lowercase, joined by spaces) name a country. The list is general
/// knowledge, not the demo's data: a place that is not a country needs a column's sampled
/// values to be placed.
pub(super) fn is_country(name: &str) -> bool {
    const COUNTRIES: &[&str] = &[
        "argentina",
        "australia",
        "austria",
        "belgium",
        "brazil",
        "bulgaria",
        "canada",
        "chile",
        "china",
        "colombia",
        "croatia",
        "czech republic",
        "czechia",
        "denmark",
        "egypt",
        "estonia",
        "finland",
        "france",
        "germany",
        "greece",
        "hungary",
        "iceland",
        "india",
        "indonesia",
        "ireland",
        "israel",
        "italy",
        "japan",
        "kenya",
        "latvia",
        "lithuania",
        "luxembourg",
        "malaysia",
        "mexico",
        "morocco",
        "netherlands",
        "new zealand",
        "nigeria",
        "norway",
        "pakistan",
        "peru",
        "philippines",
        "poland",
        "portugal",
        "romania",
        "russia",
        "saudi arabia",
        "serbia",
        "singapore",
        "slovakia",
        "slovenia",
        "south africa",
        "south korea",
        "korea",
        "spain",
        "sweden",
        "switzerland",
        "taiwan",
        "thailand",
        "turkey",
        "ukraine",
        "united arab emirates",
        "united kingdom",
        "united states",
        "vietnam",
    ];
    COUNTRIES.contains(&name.to_lowercase().as_str())
}
