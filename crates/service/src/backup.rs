//! Backup and restore (R62, E11): `konsent backup` copies a SQLite database while it runs; the
//! deletion journal (`DATA_DIR/deletion-journal.jsonl`, outside the database, no personal data:
//! person ids and keyed hashes) records every erasure and suppression, and after any restore it
//! is replayed before the data is used, so an older backup never brings back an erased person or
//! an objection.

use std::io::Write;
use std::path::{Path, PathBuf};

use konsent_domain::consent::ConsentStatus;
use konsent_domain::ids::TenantId;
use konsent_domain::ledger::{Actor, EventBody};
use konsent_store::{PendingEvent, queries};
use serde::{Deserialize, Serialize};

use crate::context::Konsent;
use crate::error::ServiceError;

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct JournalLine {
    tenant: TenantId,
    event: EventBody,
}

/// The journal's path in a data directory.
pub fn journal_path(data_dir: &Path) -> PathBuf {
    data_dir.join("deletion-journal.jsonl")
}

/// What a replay re-applied.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Journal lines read.
    pub lines: u64,
    /// Suppression entries that the restored database lacked.
    pub suppressions: u64,
    /// Erasures that the restored database lacked.
    pub erasures: u64,
    /// Persons whose key was destroyed again.
    pub keys_destroyed: u64,
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> ServiceError + '_ {
    move |e| ServiceError::Io(p.display().to_string(), e)
}

/// Whether an event goes to the deletion journal: erasures and suppressions, which a database
/// restored from a backup must not lack (R62).
pub(crate) fn journaled(e: &EventBody) -> bool {
    matches!(e, EventBody::SuppressionAdded { .. } | EventBody::ErasureRequested { .. } | EventBody::VaultErased { .. })
}

impl Konsent {
    /// Appends the erasures and suppressions among `events` to the journal (durably).
    pub(crate) fn journal(&self, tenant: TenantId, events: &[&EventBody]) -> Result<(), ServiceError> {
        let lines: Vec<String> = events
            .iter()
            .filter(|e| journaled(e))
            .filter_map(|e| serde_json::to_string(&JournalLine { tenant, event: (*e).clone() }).ok())
            .collect();
        if lines.is_empty() {
            return Ok(());
        }
        let path = journal_path(&self.data_dir);
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?;
        for l in lines {
            writeln!(f, "{l}").map_err(io(&path))?;
        }
        f.sync_data().map_err(io(&path))
    }

    /// Copies the SQLite database to `out` (consistent, while serving).
    pub async fn backup(&self, out: &Path) -> Result<u64, ServiceError> {
        if out.exists() {
            return Err(ServiceError::invalid(
                "out",
                format!("{} gibt es schon, bitte eine neue Datei wählen / exists; choose a new file", out.display()),
            ));
        }
        queries::sqlite_backup(&self.db, &out.display().to_string()).await?;
        Ok(std::fs::metadata(out).map_err(io(out))?.len())
    }

    /// Re-applies every journal line the (restored) database lacks. Idempotent.
    pub async fn replay_journal(&self) -> Result<ReplayReport, ServiceError> {
        let path = journal_path(&self.data_dir);
        let mut r = ReplayReport::default();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(r),
            Err(e) => return Err(io(&path)(e)),
        };
        let actor = Actor::System;
        for (i, line) in text.lines().enumerate() {
            let l: JournalLine = serde_json::from_str(line)
                .map_err(|e| ServiceError::Conflict(format!("{} line {}: {e}", path.display(), i + 1)))?;
            r.lines += 1;
            let t = l.tenant;
            match &l.event {
                EventBody::SuppressionAdded { entry } => {
                    if queries::suppression_exists(&self.db, t, entry.id).await? {
                        continue;
                    }
                    self.append(t, vec![self.pending(&actor, l.event.clone())], vec![]).await?;
                    r.suppressions += 1;
                }
                EventBody::ErasureRequested { person_id, plan, .. } => {
                    if queries::person(&self.db, t, *person_id).await?.is_none()
                        || queries::restriction(&self.db, t, *person_id).await?.is_some()
                    {
                        continue;
                    }
                    let now = self.now();
                    let mut events: Vec<PendingEvent> = queries::consents_of(&self.db, t, *person_id)
                        .await?
                        .iter()
                        .filter(|c| c.status.is_valid_for_processing() || c.status == ConsentStatus::Requested)
                        .map(|c| self.withdrawal_event(&actor, c.id, None, "erasure_replayed", now))
                        .collect();
                    events.push(self.pending(&actor, l.event.clone()));
                    let (ev, side) = self.vault_deletion(&actor, *person_id, plan, false, now);
                    events.push(ev);
                    self.append(t, events, vec![side]).await?;
                    r.erasures += 1;
                }
                EventBody::VaultErased { person_id, key_destroyed: true, .. } => {
                    if queries::person_key(&self.db, t, *person_id).await?.is_none() {
                        continue;
                    }
                    let (ev, side) = self.vault_deletion(&actor, *person_id, &[], true, self.now());
                    self.append(t, vec![ev], vec![side]).await?;
                    r.keys_destroyed += 1;
                }
                _ => {}
            }
        }
        Ok(r)
    }
}

/// Puts a SQLite backup in place of the data directory's database (the server must be
/// stopped). Checks that the file is a SQLite database first; keeps the replaced one as
/// `konsent.db.before-restore`.
pub fn restore_sqlite_file(data_dir: &Path, backup: &Path) -> Result<(), ServiceError> {
    let head = std::fs::read(backup).map_err(io(backup))?;
    if !head.starts_with(b"SQLite format 3\0") {
        return Err(ServiceError::invalid(
            "backup",
            format!("{} ist keine SQLite-Datenbank / is no SQLite database", backup.display()),
        ));
    }
    let db = data_dir.join("konsent.db");
    let tmp = data_dir.join("konsent.db.restoring");
    std::fs::write(&tmp, &head).map_err(io(&tmp))?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io(&tmp))?;
    if db.exists() {
        std::fs::rename(&db, data_dir.join("konsent.db.before-restore")).map_err(io(&db))?;
    }
    for ext in ["konsent.db-wal", "konsent.db-shm"] {
        let p = data_dir.join(ext);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    std::fs::rename(&tmp, &db).map_err(io(&db))
}
