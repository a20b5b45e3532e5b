//! API keys: created per tenant with a role, shown once, stored as SHA-256 hashes.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use konsent_domain::crypto::sha256_hex;
use konsent_domain::ids::{ApiKeyId, OrgUnitId, TenantId};
use konsent_store::queries::{self, ApiKeyRow};
use serde::{Deserialize, Serialize};

use crate::context::Konsent;
use crate::error::ServiceError;

/// Roles of API keys and users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including keys and configuration.
    Admin,
    /// Texts, forms, segments, exports.
    Marketing,
    /// Check, log uses, record verbal consent and withdrawals.
    Agent,
    /// Evidence, proof packages, erasure, restriction.
    Compliance,
    /// CRM / dialer / newsletter integrations.
    Integration,
}

impl Role {
    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Marketing => "marketing",
            Self::Agent => "agent",
            Self::Compliance => "compliance",
            Self::Integration => "integration",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Admin, Self::Marketing, Self::Agent, Self::Compliance, Self::Integration]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role '{s}' (admin, marketing, agent, compliance, integration)"))
    }
}

const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// Creates a key and returns its secret (`knst_…`), which is never stored.
pub async fn create(
    k: &Konsent,
    tenant: TenantId,
    role: Role,
    org_unit: Option<OrgUnitId>,
    label: &str,
) -> Result<String, ServiceError> {
    let bytes: [u8; 32] = k.random();
    let secret: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    let key = format!("knst_{secret}");
    let row = ApiKeyRow {
        id: k.id(ApiKeyId::from_parts).to_string(),
        tenant_id: tenant,
        role: role.as_str().to_string(),
        org_unit_id: org_unit,
        label: label.to_string(),
        revoked: false,
    };
    queries::insert_api_key(&k.db, &row, &sha256_hex(key.as_bytes()), k.now()).await?;
    Ok(key)
}

/// How long a resolved key is trusted without asking the database again.
pub const KEY_CACHE_TTL: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// Resolved keys by hash, with the time they were read (spares the hot path a query per request).
#[derive(Debug, Default, Clone)]
pub struct KeyCache(Arc<Mutex<HashMap<String, (ApiKeyRow, jiff::Timestamp)>>>);

/// Resolves a presented key to its row, if valid and not revoked. A key is re-read from the
/// database at least every [`KEY_CACHE_TTL`].
pub async fn authenticate(k: &Konsent, presented: &str) -> Result<Option<ApiKeyRow>, ServiceError> {
    if !presented.starts_with("knst_") || presented.len() > 100 {
        return Ok(None);
    }
    let hash = sha256_hex(presented.as_bytes());
    let now = k.now();
    if let Some((row, at)) = k.key_cache.0.lock().unwrap_or_else(|e| e.into_inner()).get(&hash)
        && now - *at < KEY_CACHE_TTL
    {
        return Ok(Some(row.clone()));
    }
    let row = queries::api_key_by_hash(&k.db, &hash).await?.filter(|r| !r.revoked);
    let mut cache = k.key_cache.0.lock().unwrap_or_else(|e| e.into_inner());
    match &row {
        Some(r) => {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (r.clone(), now));
        }
        None => {
            cache.remove(&hash);
        }
    }
    Ok(row)
}
