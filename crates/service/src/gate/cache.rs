//! The gate's cache of [`KeyState`]s, validated by the ledger itself: before every use it looks at
//! the tenant's chain head (from the [`HeadWatch`](konsent_store::HeadWatch): this process's
//! commits at once, other processes' by notification) and drops whatever the entries since its
//! last look touched (persons, keyed hashes; the whole tenant for catalogue changes). So it never
//! answers from a state the database has moved past — also when another process or `konsent
//! serve` instance wrote, once that commit's notification has arrived.
//!
//! A state loaded while the head moved is used for that one answer but not kept (the refresh that
//! moved the head may already have passed over the entries it misses).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::Mutex as AsyncMutex;

use konsent_domain::ids::{AdvertiserId, PersonId, TenantId};
use konsent_domain::ledger::{Entry, EventBody};

use super::state::KeyState;

/// Keys kept per tenant before the cache starts over.
const MAX_KEYS: usize = 500_000;
/// Entries read to refresh; a longer gap (a bulk import) starts over instead.
const MAX_DELTA: u64 = 20_000;

#[derive(Debug, Default)]
pub(crate) struct TenantCache {
    /// Chain head the cache reflects.
    pub head: u64,
    keys: HashMap<String, Arc<KeyState>>,
    person_keys: HashMap<PersonId, Vec<String>>,
    /// The tenant's advertiser ids, once read (dropped with every catalogue change).
    pub advertisers: Option<Arc<BTreeSet<AdvertiserId>>>,
}

impl TenantCache {
    pub(crate) fn get(&self, key: &str) -> Option<Arc<KeyState>> {
        self.keys.get(key).cloned()
    }

    /// Keeps a state loaded at `loaded_at` (the head read before loading), if nothing moved since.
    pub(crate) fn put(&mut self, loaded_at: u64, key: String, state: Arc<KeyState>) {
        if loaded_at != self.head {
            return;
        }
        if self.keys.len() >= MAX_KEYS {
            self.clear();
        }
        for p in &state.persons {
            self.person_keys.entry(p.person_id).or_default().push(key.clone());
        }
        self.keys.insert(key, state);
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.person_keys.clear();
        self.advertisers = None;
    }

    /// Whether the gap to `head` is too long to replay.
    pub(crate) fn gap_too_long(&self, head: u64) -> bool {
        head.saturating_sub(self.head) > MAX_DELTA
    }

    /// Drops what one ledger entry touched.
    pub(crate) fn invalidate(&mut self, person: Option<PersonId>, entry: Option<&Entry>) {
        if let Some(p) = person
            && let Some(keys) = self.person_keys.remove(&p)
        {
            for k in keys {
                self.keys.remove(&k);
            }
        }
        match entry.map(|e| &e.body) {
            Some(EventBody::ContactPointAdded { blind_index, .. }) => {
                self.keys.remove(blind_index);
            }
            Some(EventBody::SuppressionAdded { entry }) => {
                self.keys.remove(&entry.key_hmac);
            }
            Some(
                EventBody::AdvertiserRegistered { .. }
                | EventBody::TextPublished { .. }
                | EventBody::TextRetired { .. }
                | EventBody::CategoryDefined { .. },
            ) => self.clear(),
            _ => {}
        }
    }
}

/// All tenants' caches.
#[derive(Debug, Default, Clone)]
pub struct GateCache {
    tenants: Arc<Mutex<HashMap<TenantId, Arc<AsyncMutex<TenantCache>>>>>,
}

impl GateCache {
    pub(crate) fn tenant(&self, t: TenantId) -> Arc<AsyncMutex<TenantCache>> {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner()).entry(t).or_default().clone()
    }
}
