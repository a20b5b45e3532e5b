//! First-time initialisation of a data directory: keys, database, default tenant, admin API key.

use std::path::Path;
use std::sync::Arc;

use konsent_domain::channel::default_categories;
use konsent_domain::ids::{EventId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::time::{Clock, Entropy, unix_millis};
use konsent_store::{Db, PendingEvent, migrate, queries};
use serde::Serialize;

use crate::apikeys::{self, Role};
use crate::context::{Installation, Konsent, MARKER, default_db_url, is_empty_dir};
use crate::error::ServiceError;
use crate::keys::Keyring;

/// What `init` created; `api_key` is shown once and never stored in clear.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The default tenant.
    pub tenant_id: TenantId,
    /// Admin API key for that tenant.
    pub api_key: String,
    /// Data directory.
    pub data_dir: String,
    /// Database (password redacted).
    pub database: String,
    /// Public key that verifies the ledger checkpoints (hex).
    pub public_key: String,
}

/// Initialises `data_dir` (creating it) and the database; fails if either belongs to something else.
pub async fn init(
    data_dir: &Path,
    db_url: Option<&str>,
    tenant_name: &str,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
) -> Result<(Konsent, InitReport), ServiceError> {
    let shown = data_dir.display().to_string();
    if data_dir.join(MARKER).exists() {
        return Err(ServiceError::AlreadyInitialised(shown));
    }
    if data_dir.exists() && !is_empty_dir(data_dir) {
        return Err(ServiceError::ForeignDataDir(shown));
    }
    let url = db_url.map(str::to_string).unwrap_or_else(|| default_db_url(data_dir));
    konsent_store::db::parse_url(&url)?;
    std::fs::create_dir_all(data_dir).map_err(|e| ServiceError::Io(shown.clone(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| ServiceError::Io(shown.clone(), e))?;
    }
    let db = match Db::connect(&url, 8).await {
        Ok(db) => db,
        Err(e) => {
            let _ = std::fs::remove_dir(data_dir);
            return Err(e.into());
        }
    };
    migrate::migrate(&db, clock.now().as_microsecond()).await?;
    if let Some(found) = queries::installation_get(&db, "installation_id").await? {
        return Err(ServiceError::Conflict(format!(
            "the database already belongs to Konsent installation {found}; use its data directory, or an empty database"
        )));
    }
    let keys = Keyring::create(data_dir, &*entropy)?;
    let k = Konsent::assemble(db, keys, clock, entropy, data_dir);
    let installation_id = konsent_domain::ids::uuid_v7(unix_millis(k.now()), k.random()).to_string();
    let marker = Installation { format: 1, installation_id: installation_id.clone(), created_at: k.now() };
    let marker_json = serde_json::to_string_pretty(&marker).map_err(|e| ServiceError::Conflict(e.to_string()))?;
    std::fs::write(data_dir.join(MARKER), marker_json).map_err(|e| ServiceError::Io(shown.clone(), e))?;
    queries::installation_set(&k.db, "installation_id", &installation_id).await?;

    let tenant = create_tenant(&k, tenant_name).await?;
    let api_key = apikeys::create(&k, tenant, Role::Admin, None, "init: admin").await?;
    crate::checkpoint::seal_all(&k).await?;
    let report = InitReport {
        tenant_id: tenant,
        api_key,
        data_dir: shown,
        database: konsent_store::db::redact_url(&url),
        public_key: hex::encode(k.keys.public().to_bytes()),
    };
    Ok((k, report))
}

/// Creates a tenant with the default product categories.
pub async fn create_tenant(k: &Konsent, name: &str) -> Result<TenantId, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::invalid("tenant_name", "1 bis 200 Zeichen / must be 1-200 characters"));
    }
    let tenant = k.id(TenantId::from_parts);
    let mut events = vec![PendingEvent {
        event_id: k.id(EventId::from_parts),
        actor: Actor::System,
        body: EventBody::TenantCreated { name: name.to_string() },
    }];
    for category in default_categories() {
        events.push(PendingEvent {
            event_id: k.id(EventId::from_parts),
            actor: Actor::System,
            body: EventBody::CategoryDefined { category },
        });
    }
    k.append(tenant, events, vec![]).await?;
    Ok(tenant)
}
