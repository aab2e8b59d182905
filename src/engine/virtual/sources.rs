//! What the virtual catalog reads from the sources besides `introspect`: foreign keys
//! and indexes (`Backend::introspect_keys`).

use std::collections::HashMap;
use std::time::Duration;

use crate::config::UserConfig;
use crate::keys::KeyInfo;

impl crate::engine::Engine {
    /// Foreign keys and indexes of every connection `user` may use, by connection name
    /// (introspected now, in parallel; a connection that fails or takes over 10 s is
    /// left out, so its tables show no keys rather than the catalog failing).
    pub async fn catalog_keys(&self, user: &UserConfig) -> HashMap<String, KeyInfo> {
        let futs = self
            .conns
            .iter()
            .filter(|c| user.may_use(&c.cfg.name))
            .map(|c| async move {
                let r = tokio::time::timeout(Duration::from_secs(10), c.backend.introspect_keys())
                    .await;
                (c.cfg.name.clone(), r)
            });
        futures::future::join_all(futs)
            .await
            .into_iter()
            .filter_map(|(n, r)| match r {
                Ok(Ok(k)) => Some((n, k)),
                Ok(Err(e)) => {
                    tracing::debug!(connection = %n, error = %e, "keys not introspected");
                    None
                }
                Err(_) => None,
            })
            .collect()
    }
}
