//! What the virtual catalog reads from the sources besides tables: foreign keys and
//! indexes (`Backend::introspect_keys`, through the schema cache).

use std::collections::HashMap;

use crate::config::UserConfig;
use crate::keys::KeyInfo;

impl crate::engine::Engine {
    /// Foreign keys and indexes of every connection `user` may use, by connection name,
    /// from the schema cache (a connection that cannot be read is left out, so its
    /// tables show no keys rather than the catalog failing).
    pub async fn catalog_keys(&self, user: &UserConfig) -> HashMap<String, KeyInfo> {
        let futs = self
            .conns
            .iter()
            .filter(|c| user.may_use(&c.cfg.name))
            .map(|c| async move { (c.cfg.name.clone(), self.cached_schema(c).await) });
        futures::future::join_all(futs)
            .await
            .into_iter()
            .filter_map(|(n, r)| match r {
                Ok((s, _)) => Some((n, KeyInfo::clone(&s.keys))),
                Err(e) => {
                    tracing::debug!(connection = %n, error = %e, "keys not introspected");
                    None
                }
            })
            .collect()
    }
}
