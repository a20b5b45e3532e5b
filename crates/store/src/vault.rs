//! The vault's columns in the rows they belong to (migration 10): a person's wrapped data key
//! and the current sealed version of their data in `persons`, a contact point's sealed value in
//! `contact_points`; the versions a correction replaced in `person_data`. An append's vault writes
//! for the persons and contact points it registers go into those rows' inserts ([`Pending`]);
//! the others update stored rows ([`write`]), and erasure sets the columns to NULL ([`erase`]).

use std::collections::{HashMap, HashSet};

use konsent_domain::ids::{ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::EventBody;

use crate::db::{Tx, Val};
use crate::error::StoreError;
use crate::ledger::PendingEvent;
use crate::side::SideWrite;
use crate::vals;

/// A person's vault columns, in the order of `persons` after `updated_at`: `wrapped_key`,
/// `key_fp`, `key_created_at`, `sealed_version`, `sealed`, `sealed_sha256`, `sealed_at`.
pub(crate) const PERSON_COLUMNS: usize = 7;
/// A contact point's vault columns, after `verified_method`: `sealed`, `sealed_sha256`.
pub(crate) const POINT_COLUMNS: usize = 2;

#[derive(Debug, Default)]
struct PersonVault {
    key: Option<(Vec<u8>, String)>,
    data: Option<(i64, Vec<u8>, String)>,
}

/// The vault writes of one append for the persons and contact points it registers, until their
/// rows are built.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    persons: HashMap<PersonId, PersonVault>,
    points: HashMap<ContactPointId, (PersonId, Vec<u8>, String)>,
}

impl Pending {
    /// Takes out of `side` the first key, the first data version and the first contact value
    /// for each person and contact point that `events` register; answers them and the rest of
    /// `side` in order.
    pub(crate) fn take(events: &[PendingEvent], side: Vec<SideWrite>) -> (Self, Vec<SideWrite>) {
        let mut persons = HashSet::new();
        let mut points = HashSet::new();
        for ev in events {
            match &ev.body {
                EventBody::PersonRegistered { person_id, .. } => {
                    persons.insert(*person_id);
                }
                EventBody::ContactPointAdded { contact_point_id, person_id, .. } => {
                    points.insert((*contact_point_id, *person_id));
                }
                _ => {}
            }
        }
        let mut p = Pending::default();
        if persons.is_empty() && points.is_empty() {
            return (p, side);
        }
        let mut rest = Vec::with_capacity(side.len());
        for s in side {
            match s {
                SideWrite::PersonKey { person_id, wrapped_key, key_fp }
                    if persons.contains(&person_id) && p.persons.get(&person_id).is_none_or(|v| v.key.is_none()) =>
                {
                    p.persons.entry(person_id).or_default().key = Some((wrapped_key, key_fp));
                }
                SideWrite::PersonData { person_id, version, sealed, sha256 }
                    if persons.contains(&person_id) && p.persons.get(&person_id).is_none_or(|v| v.data.is_none()) =>
                {
                    p.persons.entry(person_id).or_default().data = Some((version, sealed, sha256));
                }
                SideWrite::ContactValue { contact_point_id, person_id, sealed, sha256 }
                    if points.contains(&(contact_point_id, person_id)) && !p.points.contains_key(&contact_point_id) =>
                {
                    p.points.insert(contact_point_id, (person_id, sealed, sha256));
                }
                other => rest.push(other),
            }
        }
        (p, rest)
    }

    /// The vault columns of the row registering `person` at `at` (NULL where this append
    /// writes none), taken out of what is pending.
    pub(crate) fn person_columns(&mut self, person: PersonId, at: i64) -> Vec<Val> {
        let v = self.persons.remove(&person).unwrap_or_default();
        let (key, fp) = v.key.map_or((None, None), |(k, fp)| (Some(k), Some(fp)));
        let key_at = key.as_ref().map(|_| at);
        let (version, sealed, sha) = match v.data {
            Some((version, sealed, sha)) => (Some(version), Some(sealed), Some(sha)),
            None => (None, None, None),
        };
        let data_at = sealed.as_ref().map(|_| at);
        vals![key, fp, key_at, version, sealed, sha, data_at]
    }

    /// The vault columns of the row registering `point`, taken out of what is pending.
    pub(crate) fn point_columns(&mut self, point: ContactPointId) -> Vec<Val> {
        match self.points.remove(&point) {
            Some((_, sealed, sha)) => vals![Some(sealed), Some(sha)],
            None => vals![None::<Vec<u8>>, None::<String>],
        }
    }

    /// What no registered row took (none, unless an event was not applied as a registration),
    /// as side writes for [`write`].
    pub(crate) fn into_rest(self) -> Vec<SideWrite> {
        let mut out = Vec::new();
        for (person_id, v) in self.persons {
            if let Some((wrapped_key, key_fp)) = v.key {
                out.push(SideWrite::PersonKey { person_id, wrapped_key, key_fp });
            }
            if let Some((version, sealed, sha256)) = v.data {
                out.push(SideWrite::PersonData { person_id, version, sealed, sha256 });
            }
        }
        for (contact_point_id, (person_id, sealed, sha256)) in self.points {
            out.push(SideWrite::ContactValue { contact_point_id, person_id, sealed, sha256 });
        }
        out
    }
}

fn stored(n: u64, what: &str) -> Result<u64, StoreError> {
    if n == 0 {
        return Err(StoreError::NotFound(format!("the {what} this vault write is for")));
    }
    Ok(n)
}

/// Writes a vault side write into the stored row of its person or contact point (a new data
/// version moves the current one into `person_data` first). Fails when the row is not stored,
/// so nothing sealed is dropped. Other side writes are not the vault's and write nothing.
pub(crate) async fn write(tx: &mut Tx, tenant: TenantId, now: i64, s: SideWrite) -> Result<u64, StoreError> {
    match s {
        SideWrite::PersonKey { person_id, wrapped_key, key_fp } => stored(
            tx.exec(
                "UPDATE persons SET wrapped_key = $3, key_fp = $4, key_created_at = $5 WHERE tenant_id = $1 AND id = $2",
                vals![tenant, person_id, wrapped_key, key_fp, now],
            )
            .await?,
            "person",
        ),
        SideWrite::PersonData { person_id, version, sealed, sha256 } => {
            tx.exec(
                "INSERT INTO person_data (tenant_id, person_id, version, sealed, sha256, created_at) \
                 SELECT tenant_id, id, sealed_version, sealed, sealed_sha256, sealed_at FROM persons \
                 WHERE tenant_id = $1 AND id = $2 AND sealed IS NOT NULL",
                vals![tenant, person_id],
            )
            .await?;
            stored(
                tx.exec(
                    "UPDATE persons SET sealed_version = $3, sealed = $4, sealed_sha256 = $5, sealed_at = $6 \
                     WHERE tenant_id = $1 AND id = $2",
                    vals![tenant, person_id, version, sealed, sha256, now],
                )
                .await?,
                "person",
            )
        }
        SideWrite::ContactValue { contact_point_id, person_id, sealed, sha256 } => stored(
            tx.exec(
                "UPDATE contact_points SET sealed = $4, sealed_sha256 = $5 WHERE tenant_id = $1 AND id = $2 AND person_id = $3",
                vals![tenant, contact_point_id, person_id, sealed, sha256],
            )
            .await?,
            "contact point",
        ),
        _ => Ok(0),
    }
}

/// Erases from the vault: the person's data (every version) with `data`, the values of
/// `points`, and with `destroy_key` the key and everything sealed under it (crypto-shredding).
/// Answers the rows changed.
pub(crate) async fn erase(
    tx: &mut Tx,
    tenant: TenantId,
    person: PersonId,
    data: bool,
    points: &[ContactPointId],
    destroy_key: bool,
) -> Result<u64, StoreError> {
    let mut n = 0;
    if data || destroy_key {
        n += tx
            .exec(
                "UPDATE persons SET sealed_version = NULL, sealed = NULL, sealed_sha256 = NULL, sealed_at = NULL \
                 WHERE tenant_id = $1 AND id = $2",
                vals![tenant, person],
            )
            .await?;
        n += tx.exec("DELETE FROM person_data WHERE tenant_id = $1 AND person_id = $2", vals![tenant, person]).await?;
    }
    if destroy_key {
        for sql in [
            "UPDATE contact_points SET sealed = NULL, sealed_sha256 = NULL WHERE tenant_id = $1 AND person_id = $2",
            "UPDATE persons SET wrapped_key = NULL, key_fp = NULL, key_created_at = NULL WHERE tenant_id = $1 AND id = $2",
        ] {
            n += tx.exec(sql, vals![tenant, person]).await?;
        }
    }
    for cp in points {
        n += tx
            .exec(
                "UPDATE contact_points SET sealed = NULL, sealed_sha256 = NULL \
                 WHERE tenant_id = $1 AND person_id = $2 AND id = $3",
                vals![tenant, person, *cp],
            )
            .await?;
    }
    Ok(n)
}

/// For `rebuild`, which clears `persons` and `contact_points` and replays them from the ledger:
/// copies their vault columns into two tables of the rebuild's transaction (on disk: a million
/// persons' sealed data does not fit a temporary table in memory), before the clearing.
pub(crate) async fn keep_for_rebuild(tx: &mut Tx) -> Result<(), StoreError> {
    tx.exec_script(
        "DROP TABLE IF EXISTS rebuild_person_vault; DROP TABLE IF EXISTS rebuild_point_vault; \
         CREATE TABLE rebuild_person_vault AS SELECT tenant_id, id, wrapped_key, key_fp, key_created_at, \
         sealed_version, sealed, sealed_sha256, sealed_at FROM persons WHERE wrapped_key IS NOT NULL OR sealed IS NOT NULL; \
         CREATE TABLE rebuild_point_vault AS SELECT tenant_id, id, person_id, sealed, sealed_sha256 FROM contact_points \
         WHERE sealed IS NOT NULL;"
            .to_string(),
    )
    .await
}

async fn count(tx: &mut Tx, sql: &'static str) -> Result<u64, StoreError> {
    let r = tx.fetch_optional(sql, vec![]).await?;
    Ok(r.map(|r| r.i64(0)).transpose()?.unwrap_or(0).max(0) as u64)
}

/// Puts back what [`keep_for_rebuild`] copied, after the replay; fails (and so the rebuild
/// changes nothing) when a person or contact point holding sealed data was not replayed.
pub(crate) async fn restore_after_rebuild(tx: &mut Tx) -> Result<(), StoreError> {
    let persons = count(tx, "SELECT count(*) FROM rebuild_person_vault").await?;
    let points = count(tx, "SELECT count(*) FROM rebuild_point_vault").await?;
    let put_persons = tx
        .exec(
            "UPDATE persons SET wrapped_key = v.wrapped_key, key_fp = v.key_fp, key_created_at = v.key_created_at, \
             sealed_version = v.sealed_version, sealed = v.sealed, sealed_sha256 = v.sealed_sha256, sealed_at = v.sealed_at \
             FROM rebuild_person_vault v WHERE persons.tenant_id = v.tenant_id AND persons.id = v.id",
            vec![],
        )
        .await?;
    let put_points = tx
        .exec(
            "UPDATE contact_points SET sealed = v.sealed, sealed_sha256 = v.sealed_sha256 FROM rebuild_point_vault v \
             WHERE contact_points.tenant_id = v.tenant_id AND contact_points.id = v.id \
             AND contact_points.person_id = v.person_id",
            vec![],
        )
        .await?;
    if put_persons != persons || put_points != points {
        return Err(StoreError::Corrupt(format!(
            "the ledger does not register {} of {persons} persons and {} of {points} contact points holding sealed \
             data; nothing was rebuilt, so none of it is lost",
            persons - put_persons.min(persons),
            points - put_points.min(points)
        )));
    }
    tx.exec_script("DROP TABLE rebuild_person_vault; DROP TABLE rebuild_point_vault;".to_string()).await
}
