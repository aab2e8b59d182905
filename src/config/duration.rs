//! Durations in the config: `500ms`, `5s`, `2min`, `1h`, or a bare number of milliseconds.

use std::time::Duration;

/// Parses durations like `500ms`, `5s`, `2min`, `1h`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" => n,
        "us" => n / 1000.0,
        "s" | "sec" | "secs" | "second" | "seconds" => n * 1000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => n * 60_000.0,
        "h" | "hour" | "hours" => n * 3_600_000.0,
        _ => return None,
    };
    Some(Duration::from_micros((ms * 1000.0) as u64))
}

pub(super) mod duration_str {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(ms) => Ok(Duration::from_millis(ms)),
            Raw::Str(s) => super::parse_duration(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid duration {s:?} (use e.g. \"5s\", \"500ms\")"
                ))
            }),
        }
    }
}

pub(super) mod opt_duration_str {
    use serde::Deserializer;
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        super::duration_str::deserialize(d).map(Some)
    }
}
