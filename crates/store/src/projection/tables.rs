//! The projection tables as one list — how each is cleared and dumped — with [`rebuild`] (from
//! the ledger alone) and [`dump`] (every row as text, to compare two states on one engine).

use konsent_domain::ids::TenantId;
use konsent_domain::ledger::{Entry, unfold};

use crate::db::Db;
use crate::error::StoreError;
use crate::vals;

/// Each projection table: (name, clearing statement, dump query in key order).
const PROJECTIONS: [(&str, &str, &str); 20] = [
    ("tenants", "DELETE FROM tenants", "SELECT id, name, created_at FROM tenants ORDER BY id"),
    (
        "advertisers",
        "DELETE FROM advertisers",
        "SELECT tenant_id, id, legal_name, data FROM advertisers ORDER BY tenant_id, id",
    ),
    (
        "org_units",
        "DELETE FROM org_units",
        "SELECT tenant_id, id, name, parent_id FROM org_units ORDER BY tenant_id, id",
    ),
    (
        "categories",
        "DELETE FROM categories",
        "SELECT tenant_id, code, label_de, label_en FROM categories ORDER BY tenant_id, code",
    ),
    (
        "consent_texts",
        "DELETE FROM consent_texts",
        "SELECT tenant_id, id, state, sha256, data FROM consent_texts ORDER BY tenant_id, id",
    ),
    (
        "persons",
        "DELETE FROM persons",
        "SELECT tenant_id, id, recipient_class, org_unit_id, data_hash, \
         data_version, created_at, updated_at, wrapped_key, key_fp, key_created_at, sealed_version, \
         sealed, sealed_sha256, sealed_at FROM persons ORDER BY tenant_id, id",
    ),
    (
        "contact_points",
        "DELETE FROM contact_points",
        "SELECT tenant_id, id, person_id, kind, blind_index, value_hash, \
         verified_at, verified_method, sealed, sealed_sha256 FROM contact_points ORDER BY tenant_id, id",
    ),
    (
        "consents",
        "DELETE FROM consents",
        "SELECT tenant_id, id, status, granted_at, \
         last_use_at, last_change_at, data FROM consents ORDER BY tenant_id, id",
    ),
    (
        "objections",
        "DELETE FROM objections",
        "SELECT tenant_id, seq, person_id, data FROM objections ORDER BY tenant_id, seq",
    ),
    (
        "withdrawals",
        "DELETE FROM withdrawals",
        "SELECT tenant_id, seq, consent_id, data FROM withdrawals ORDER BY tenant_id, seq",
    ),
    ("uses", "DELETE FROM uses", "SELECT tenant_id, id, data FROM uses ORDER BY tenant_id, id"),
    (
        "suppressions",
        "DELETE FROM suppressions",
        "SELECT tenant_id, id, key_hmac, data FROM suppressions ORDER BY tenant_id, id",
    ),
    ("bases", "DELETE FROM bases", "SELECT tenant_id, id, kind, data FROM bases ORDER BY tenant_id, id"),
    ("forms", "DELETE FROM forms", "SELECT tenant_id, slug, data FROM forms ORDER BY slug"),
    (
        "tenant_settings",
        "DELETE FROM tenant_settings",
        "SELECT tenant_id, settings, updated_at FROM tenant_settings ORDER BY tenant_id",
    ),
    (
        "restrictions",
        "DELETE FROM restrictions",
        "SELECT tenant_id, person_id, state, until FROM restrictions \
         ORDER BY tenant_id, person_id",
    ),
    (
        "holds",
        "DELETE FROM holds",
        "SELECT tenant_id, id, data, released_at FROM holds \
         ORDER BY tenant_id, id",
    ),
    (
        "requests",
        "DELETE FROM requests",
        "SELECT tenant_id, id, person_id, kind, due_at, \
         closed_at FROM requests ORDER BY tenant_id, id",
    ),
    (
        "segments",
        "DELETE FROM segments",
        "SELECT tenant_id, id, name, spec, counts, frozen_at, \
         valid_until FROM segments ORDER BY tenant_id, id",
    ),
    (
        "robinson_lists",
        "DELETE FROM robinson_lists",
        "SELECT tenant_id, list, entries, imported_at FROM robinson_lists \
         ORDER BY tenant_id, list",
    ),
];

/// Clears every projection and replays every tenant's ledger into it, in one transaction.
/// Returns the number of entries replayed. The vault's columns in `persons` and
/// `contact_points`, which the ledger does not hold, are copied aside first and put back after
/// the replay; a person or contact point holding sealed data that the ledger does not register
/// fails the rebuild, which then changes nothing.
pub async fn rebuild(db: &Db, tenants: &[TenantId]) -> Result<u64, StoreError> {
    const PAGE: i64 = 2000;
    let mut tx = db.begin().await?;
    crate::vault::keep_for_rebuild(&mut tx).await?;
    for (_, clear, _) in PROJECTIONS {
        tx.exec(clear, vec![]).await?;
    }
    let mut n = 0;
    for tenant in tenants {
        let mut after = 0i64;
        loop {
            let rows = tx
                .fetch_all(
                    "SELECT seq, payload, records FROM ledger WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    vals![tenant, after, PAGE],
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                after = r.i64(0)?;
                let corrupt = |e: String| StoreError::Corrupt(format!("entry {after} of tenant {tenant}: {e}"));
                let entry = Entry::decode(&r.bytes(1)?).map_err(|e| corrupt(e.to_string()))?;
                match r.opt_bytes(2)? {
                    // A batch entry: its records' events, in order.
                    Some(records) => {
                        let records = crate::ledger::unpack_records(&records)?;
                        for e in unfold(&entry, &records).map_err(|e| corrupt(e.to_string()))? {
                            super::apply(&mut tx, &e).await?;
                        }
                    }
                    None => super::apply(&mut tx, &entry).await?,
                }
                n += 1;
            }
        }
    }
    crate::vault::restore_after_rebuild(&mut tx).await?;
    tx.commit().await?;
    Ok(n)
}

/// Every projection row as text, in key order: two states are equal iff their dumps are.
pub async fn dump(db: &Db) -> Result<String, StoreError> {
    let mut out = String::new();
    for (name, _, sql) in PROJECTIONS {
        out.push_str("## ");
        out.push_str(name);
        out.push('\n');
        for r in db.fetch_all(sql, vec![]).await? {
            for i in 0..r.len() {
                if i > 0 {
                    out.push('|');
                }
                out.push_str(&r.render(i)?);
            }
            out.push('\n');
        }
    }
    Ok(out)
}
