//! Progress of file imports (resume and re-import).

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

/// An import's state: `running` or `done`, rows committed, and its report (JSON).
pub async fn import_state(
    db: &Db,
    tenant: konsent_domain::ids::TenantId,
    id: &str,
) -> Result<Option<(String, i64, String)>, StoreError> {
    let r = db
        .fetch_optional(
            "SELECT state, rows_done, report FROM imports WHERE tenant_id = $1 AND id = $2",
            vals![tenant, id],
        )
        .await?;
    r.map(|r| Ok((r.text(0)?, r.i64(1)?, r.text(2)?))).transpose()
}
