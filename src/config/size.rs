//! Byte sizes in `proxy.toml`: a number of bytes or a string with a unit.

/// Parses sizes like `1048576`, `512kB`, `64MB`, `1MiB`, `2GiB` (k/M/G are 1024-based,
/// as in PostgreSQL's settings).
pub fn parse_byte_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    usize::try_from(n.checked_mul(mult)?).ok()
}

pub(super) mod byte_size {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Str(String),
        }
        let invalid = |s: &str| {
            serde::de::Error::custom(format!(
                "invalid size {s:?} (use e.g. 1048576, \"512kB\", \"64MB\")"
            ))
        };
        match Raw::deserialize(d)? {
            Raw::Num(n) => usize::try_from(n).map_err(|_| invalid(&n.to_string())),
            Raw::Str(s) => super::parse_byte_size(&s).ok_or_else(|| invalid(&s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_byte_size("1048576"), Some(1 << 20));
        assert_eq!(parse_byte_size("64MB"), Some(64 << 20));
        assert_eq!(parse_byte_size("512 kB"), Some(512 << 10));
        assert_eq!(parse_byte_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_byte_size("-1"), None);
        assert_eq!(parse_byte_size("1.5MB"), None);
        assert_eq!(parse_byte_size("99999999999999999999"), None);
        assert_eq!(parse_byte_size("3 lightyears"), None);
    }

    #[test]
    fn memory_bounds_parse_and_are_validated() {
        let cfg = Config::load(None).expect("embedded default parses");
        assert_eq!(cfg.llm.max_reply_bytes, 1 << 20);
        assert_eq!(cfg.cache.result_bytes, 64 << 20);
        let base = "[[users]]\nname = \"a\"\nauth = \"trust\"\n";
        let cfg = Config::from_toml(
            &format!("{base}[llm]\nmax_reply_bytes = \"2MiB\"\n[cache]\nresult_bytes = 4096\n"),
            Path::new("."),
        )
        .expect("sizes parse");
        assert_eq!(cfg.llm.max_reply_bytes, 2 << 20);
        assert_eq!(cfg.cache.result_bytes, 4096);
        let err = Config::from_toml(
            &format!("{base}[llm]\nmax_reply_bytes = 10\n"),
            Path::new("."),
        )
        .expect_err("too small")
        .to_string();
        assert!(err.contains("llm.max_reply_bytes"), "{err}");
        let err = Config::from_toml(
            &format!("{base}[llm]\nhistory_turns = 100000\n"),
            Path::new("."),
        )
        .expect_err("too many")
        .to_string();
        assert!(err.contains("llm.history_turns"), "{err}");
        let err = Config::from_toml(
            &format!("{base}[cache]\nresult_bytes = \"lots\"\n"),
            Path::new("."),
        )
        .expect_err("not a size")
        .to_string();
        assert!(
            err.contains("result_bytes") && err.contains("lots"),
            "{err}"
        );
    }
}
