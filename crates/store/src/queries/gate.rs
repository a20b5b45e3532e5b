//! Everything the gate needs for many keyed hashes at once, in a handful of `IN (…)` queries per
//! chunk instead of about ten queries per contact point: the bulk path of scrub and batch checks.

use std::collections::HashMap;

use jiff::Timestamp;
use konsent_domain::basis::DocumentedBasis;
use konsent_domain::consent::{ConsentRecord, Scope};
use konsent_domain::ids::{ConsentId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::EventBody;
use konsent_domain::suppression::SuppressionEntry;

use crate::db::{Db, Row, Val};
use crate::error::StoreError;

use super::{ContactPointRow, PersonRow, ts};

/// Ids or keys per `IN (…)` list. Binding a parameter through sqlx on SQLite looks its name up
/// in a list of all of them, so a list costs the square of its length: an import's lookup of
/// 2,000 keys in lists of 500 spent 3 % of the import's CPU there. Lists of 100 cost a fifth of
/// that, for a few more statements.
const CHUNK: usize = 100;

/// The sealed personal data of a person: wrapped key, newest version, its ciphertext.
#[derive(Debug, Clone)]
pub struct SealedPerson {
    /// The person's data key, wrapped by the master key.
    pub wrapped_key: Vec<u8>,
    /// Version of the newest data.
    pub version: i64,
    /// Its ciphertext.
    pub sealed: Vec<u8>,
}

/// What the store holds for a set of keyed hashes.
#[derive(Debug, Default)]
pub struct GateRows {
    /// `(keyed hash, person, contact point)` for every contact point with one of the hashes.
    pub matches: Vec<(String, PersonId, ContactPointRow)>,
    /// The persons matched.
    pub persons: HashMap<PersonId, PersonRow>,
    /// Their consent records.
    pub consents: HashMap<PersonId, Vec<ConsentRecord>>,
    /// Their objection events.
    pub objections: HashMap<PersonId, Vec<EventBody>>,
    /// Their withdrawn scopes.
    pub withdrawals: HashMap<PersonId, Vec<(ConsentId, Scope, Timestamp)>>,
    /// Their documented bases.
    pub bases: HashMap<PersonId, Vec<DocumentedBasis>>,
    /// Their sealed data (absent when erased).
    pub vault: HashMap<PersonId, SealedPerson>,
    /// Suppression entries by keyed hash.
    pub suppressions: HashMap<String, Vec<SuppressionEntry>>,
}

/// `$2, $3, …` for `n` values after the tenant.
fn placeholders(n: usize) -> String {
    (0..n).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ")
}

/// Runs `sql` (with `{in}` for the list) once per chunk of `items`, the tenant bound as `$1`.
async fn each_chunk<T, F>(db: &Db, tenant: TenantId, sql: &'static str, items: &[T], mut f: F) -> Result<(), StoreError>
where
    T: Clone + Into<Val>,
    F: FnMut(Row) -> Result<(), StoreError>,
{
    for chunk in items.chunks(CHUNK) {
        let q = sql.replace("{in}", &placeholders(chunk.len()));
        let mut args = Vec::with_capacity(chunk.len() + 1);
        args.push(Val::from(tenant));
        args.extend(chunk.iter().cloned().map(Into::into));
        for r in db.fetch_all_built(q, args).await? {
            f(r)?;
        }
    }
    Ok(())
}

/// Persons (with whether they are restricted) and their consents, for sorted distinct ids.
async fn persons_and_consents(
    db: &Db,
    tenant: TenantId,
    ids: &[PersonId],
) -> Result<(HashMap<PersonId, PersonRow>, HashMap<PersonId, Vec<ConsentRecord>>), StoreError> {
    let pid = |r: &Row| -> Result<PersonId, StoreError> { r.id(0) };
    let mut persons = HashMap::new();
    let mut consents: HashMap<PersonId, Vec<ConsentRecord>> = HashMap::new();
    each_chunk(
        db,
        tenant,
        "SELECT id, recipient_class, org_unit_id, data_version, CAST(CASE WHEN EXISTS (SELECT 1 FROM restrictions r \
         WHERE r.tenant_id = persons.tenant_id AND r.person_id = persons.id) THEN 1 ELSE 0 END AS BIGINT) \
         FROM persons WHERE tenant_id = $1 AND id IN ({in})",
        ids,
        |r| {
            let p = PersonRow {
                id: pid(&r)?,
                recipient_class: r.text(1)?,
                org_unit_id: r.opt_id(2)?,
                data_version: r.i64(3)?,
                restricted: r.i64(4)? == 1,
            };
            persons.insert(p.id, p);
            Ok(())
        },
    )
    .await?;
    each_chunk(
        db,
        tenant,
        "SELECT person_id, data FROM consents WHERE tenant_id = $1 AND person_id IN ({in}) ORDER BY given_at, id",
        ids,
        |r| {
            consents.entry(pid(&r)?).or_default().push(crate::consent_data::decode(&r, 1)?);
            Ok(())
        },
    )
    .await?;
    Ok((persons, consents))
}

/// Loads what the gate needs for `keys` (deduplicated by the caller).
pub async fn gate_rows(db: &Db, tenant: TenantId, keys: &[String]) -> Result<GateRows, StoreError> {
    let mut g = GateRows {
        matches: holders_of_keys(db, tenant, keys).await?,
        suppressions: suppressions_of_keys(db, tenant, keys).await?,
        ..GateRows::default()
    };
    let mut ids: Vec<PersonId> = g.matches.iter().map(|(_, p, _)| *p).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(g);
    }
    let pid = |r: &Row| -> Result<PersonId, StoreError> { r.id(0) };
    (g.persons, g.consents) = persons_and_consents(db, tenant, &ids).await?;
    each_chunk(
        db,
        tenant,
        "SELECT person_id, data FROM objections WHERE tenant_id = $1 AND person_id IN ({in}) ORDER BY seq",
        &ids,
        |r| {
            g.objections.entry(pid(&r)?).or_default().push(serde_json::from_str(&r.text(1)?)?);
            Ok(())
        },
    )
    .await?;
    each_chunk(
        db,
        tenant,
        "SELECT person_id, consent_id, data, at FROM withdrawals WHERE tenant_id = $1 AND person_id IN ({in}) ORDER BY seq",
        &ids,
        |r| {
            let w = (r.id(1)?, serde_json::from_str(&r.text(2)?)?, ts(r.i64(3)?)?);
            g.withdrawals.entry(pid(&r)?).or_default().push(w);
            Ok(())
        },
    )
    .await?;
    each_chunk(
        db,
        tenant,
        "SELECT person_id, data FROM bases WHERE tenant_id = $1 AND person_id IN ({in}) ORDER BY id",
        &ids,
        |r| {
            g.bases.entry(pid(&r)?).or_default().push(serde_json::from_str(&r.text(1)?)?);
            Ok(())
        },
    )
    .await?;
    each_chunk(
        db,
        tenant,
        "SELECT id, wrapped_key, sealed_version, sealed FROM persons \
         WHERE tenant_id = $1 AND id IN ({in}) AND wrapped_key IS NOT NULL AND sealed IS NOT NULL",
        &ids,
        |r| {
            // One row a person: the current version is in the person's row (migration 10).
            g.vault
                .insert(pid(&r)?, SealedPerson { wrapped_key: r.bytes(1)?, version: r.i64(2)?, sealed: r.bytes(3)? });
            Ok(())
        },
    )
    .await?;
    Ok(g)
}

/// What is known under many keyed hashes at once, for bulk paths (imports): the persons and
/// contact points holding each key, each key's suppression entries, and the holders' person rows
/// and consents; four queries per 500 keys.
#[derive(Debug, Default)]
pub struct KeyLookup {
    /// Key → (person, contact point), oldest first.
    pub holders: HashMap<String, Vec<(PersonId, konsent_domain::ids::ContactPointId)>>,
    /// Key → suppression entries.
    pub suppressions: HashMap<String, Vec<SuppressionEntry>>,
    /// The holders as persons (with whether they are restricted).
    pub persons: HashMap<PersonId, PersonRow>,
    /// The holders' consents, oldest first.
    pub consents: HashMap<PersonId, Vec<ConsentRecord>>,
}

/// See [`KeyLookup`].
pub async fn key_lookup(db: &Db, tenant: TenantId, keys: &[String]) -> Result<KeyLookup, StoreError> {
    let mut holders: HashMap<String, Vec<(PersonId, konsent_domain::ids::ContactPointId)>> = HashMap::new();
    for (key, person, cp) in holders_of_keys(db, tenant, keys).await? {
        holders.entry(key).or_default().push((person, cp.id));
    }
    // A later export of a list finds most of its persons: their records come in two queries per
    // chunk, not two per row.
    let mut ids: Vec<PersonId> = holders.values().flatten().map(|(p, _)| *p).collect();
    ids.sort_unstable();
    ids.dedup();
    let (persons, consents) = persons_and_consents(db, tenant, &ids).await?;
    Ok(KeyLookup { holders, suppressions: suppressions_of_keys(db, tenant, keys).await?, persons, consents })
}

/// Every contact point holding one of the keyed hashes, with its person, oldest first.
async fn holders_of_keys(
    db: &Db,
    tenant: TenantId,
    keys: &[String],
) -> Result<Vec<(String, PersonId, ContactPointRow)>, StoreError> {
    let mut out = Vec::new();
    each_chunk(
        db,
        tenant,
        "SELECT blind_index, person_id, id, kind, verified_at, verified_method FROM contact_points \
         WHERE tenant_id = $1 AND blind_index IN ({in}) ORDER BY created_at, id",
        &keys.iter().map(|k| crate::value::blind_key(db.engine(), k)).collect::<Vec<_>>(),
        |r| {
            let key = r.blind_key(0)?;
            let cp = ContactPointRow {
                id: r.id(2)?,
                kind: r.text(3)?,
                blind_index: key.clone(),
                verified_at: r.opt_i64(4)?.map(ts).transpose()?,
                verified_method: r.opt_text(5)?,
            };
            out.push((key, r.id(1)?, cp));
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// The suppression entries of the keyed hashes.
async fn suppressions_of_keys(
    db: &Db,
    tenant: TenantId,
    keys: &[String],
) -> Result<HashMap<String, Vec<SuppressionEntry>>, StoreError> {
    let mut out: HashMap<String, Vec<SuppressionEntry>> = HashMap::new();
    each_chunk(
        db,
        tenant,
        "SELECT key_hmac, data FROM suppressions WHERE tenant_id = $1 AND key_hmac IN ({in}) ORDER BY created_at, id",
        keys,
        |r| {
            out.entry(r.text(0)?).or_default().push(serde_json::from_str(&r.text(1)?)?);
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// The sealed values of many contact points with their person's wrapped key (erased persons have
/// none and are left out): contact point → (person, wrapped key, sealed value).
pub async fn sealed_contacts(
    db: &Db,
    tenant: TenantId,
    contact_points: &[ContactPointId],
) -> Result<HashMap<ContactPointId, (PersonId, Vec<u8>, Vec<u8>)>, StoreError> {
    let mut out = HashMap::new();
    each_chunk(
        db,
        tenant,
        "SELECT cp.id, cp.person_id, p.wrapped_key, cp.sealed FROM contact_points cp \
         JOIN persons p ON p.tenant_id = cp.tenant_id AND p.id = cp.person_id \
         WHERE cp.tenant_id = $1 AND cp.id IN ({in}) AND cp.sealed IS NOT NULL AND p.wrapped_key IS NOT NULL",
        contact_points,
        |r| {
            out.insert(r.id(0)?, (r.id(1)?, r.bytes(2)?, r.bytes(3)?));
            Ok(())
        },
    )
    .await?;
    Ok(out)
}
