//! One import of a tenant at a time: a second one waits until the first has ended. Two imports
//! planned side by side would not see each other's new persons (each looks up what is committed
//! and what it made itself), so an address in both files became two persons; on SQLite they also
//! shared the ledger writer's open transaction, and one's failing batch took the other's back.
//! Dry runs write nothing and do not wait. The turns are this process's: imports run by separate
//! processes into one tenant at once are not supported (docs/operations.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use konsent_domain::ids::TenantId;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Every tenant's turn to import.
#[derive(Debug, Default, Clone)]
pub struct ImportTurns {
    tenants: Arc<Mutex<HashMap<TenantId, Arc<AsyncMutex<()>>>>>,
}

impl ImportTurns {
    /// Waits for `tenant`'s turn; the turn passes on when the guard is dropped.
    pub(crate) async fn take(&self, tenant: TenantId) -> OwnedMutexGuard<()> {
        let turn = self.tenants.lock().unwrap_or_else(|e| e.into_inner()).entry(tenant).or_default().clone();
        if let Ok(guard) = turn.clone().try_lock_owned() {
            return guard;
        }
        tracing::info!(%tenant, "an import waits for the tenant's running import to end");
        turn.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenants_second_import_waits_and_another_tenants_does_not() {
        let turns = ImportTurns::default();
        let a = TenantId::from_parts(1, [1; 10]);
        let b = TenantId::from_parts(1, [2; 10]);
        let first = turns.take(a).await;
        let _other = tokio::time::timeout(std::time::Duration::from_secs(5), turns.take(b))
            .await
            .expect("another tenant's import does not wait");
        let second = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take(a).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "the second import of a tenant waits");
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(5), second)
            .await
            .expect("the turn passes on")
            .expect("no panic");
    }
}
