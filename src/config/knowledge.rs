//! `[knowledge]`: business knowledge loaded from files at start.

use std::path::PathBuf;

use serde::Deserialize;

/// `[knowledge]`: files of glossary terms and example questions (TOML, with
/// `[[glossary]]` and `[[examples]]` tables; see `engine::knowledge::files`), relative to
/// the config file. Admins add more over the wire (`INSERT INTO dbguru.glossary …`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// The files, read once at start.
    #[serde(default)]
    pub files: Vec<PathBuf>,
}
