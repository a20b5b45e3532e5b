//! The import run: the file's hash, resuming after the last committed row, and per row the
//! suppression match, the person (found by blind index or created), the imported consent as its
//! evidence decides, and opt-outs honoured here; batches commit with the progress.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;

use konsent_domain::consent::Source;
use konsent_domain::contact::ContactValue;
use konsent_domain::ids::{AdvertiserId, ContactPointId, PersonId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_domain::party::Advertiser;
use konsent_domain::settings::TenantSettings;
use konsent_domain::text::{ConsentTextVersion, TextState};
use konsent_formats::import::{RowError, open_seekable};
use konsent_store::ledger::Commit;
use konsent_store::{PendingEvent, SideWrite, queries};
use sha2::{Digest, Sha256};

use super::pipeline::{Flight, Step};
use super::{ImportOptions, ImportReport, RowProblem};
use crate::context::Konsent;
use crate::error::ServiceError;

/// What every row of one import shares.
pub(super) struct Env<'a> {
    pub(super) bi: konsent_domain::crypto::BlindIndexKey,
    pub(super) tenant: TenantId,
    pub(super) actor: &'a Actor,
    pub(super) opts: &'a ImportOptions,
    pub(super) text: ConsentTextVersion,
    pub(super) advertisers: Vec<Advertiser>,
    pub(super) ours: BTreeSet<AdvertiserId>,
    pub(super) settings: TenantSettings,
    pub(super) provider: String,
    pub(super) source: Source,
    pub(super) file_sha256: String,
    pub(super) import_id: String,
}

/// What a batch has made known before the store shows it: contacts created or suppressed,
/// data keys of new persons, persons who got a consent from this file.
#[derive(Default)]
pub(super) struct Known {
    /// Contact (hashed match key) → person and contact point created.
    pub(super) created: HashMap<u64, (PersonId, ContactPointId)>,
    /// Contacts (hashed match key) suppressed.
    pub(super) suppressed: HashSet<u64>,
    /// Data keys of the persons created (to add contact points to them).
    pub(super) keys: HashMap<PersonId, konsent_domain::crypto::DataKey>,
    /// Persons who got a consent from this file.
    pub(super) consented: HashSet<PersonId>,
    /// What an opt-out can withdraw of the consents this batch recorded, by person (not in a
    /// dry run), so that a later row's opt-out withdraws them before the store shows them.
    pub(super) consents: HashMap<PersonId, Vec<super::row::Withdrawable>>,
    /// A dry run's `created`, which it keeps for the whole file: contact (hashed match key) →
    /// numbers of the person and contact point the file would create, 8 bytes instead of two ids
    /// (32), and no entry in `consented` (each person an import creates gets its consent). So a
    /// dry run's memory grows by about a third as much a row.
    pub(super) dry_created: HashMap<u64, (u32, u32)>,
    /// Persons and contact points a dry run has numbered so far.
    pub(super) dry_numbered: (u32, u32),
}

/// The made-up ids a dry run answers for the persons and contact points it would create. Their
/// version nibble is 0, so they are never a store's id (UUIDv7).
const DRY_PERSON: u128 = 0xD4F0_0000_0000_0000 << 64;
const DRY_POINT: u128 = 0xD4F1_0000_0000_0000 << 64;

impl Known {
    /// Numbers a person a dry run would create, with the contacts (match keys) that find them.
    pub(super) fn dry_create(&mut self, contacts: impl Iterator<Item = u64>) {
        let (person, mut point) = self.dry_numbered;
        for k in contacts {
            self.dry_created.insert(k, (person, point));
            point = point.wrapping_add(1);
        }
        self.dry_numbered = (person.wrapping_add(1), point);
    }

    fn dry_found(&self, key: u64) -> Option<(PersonId, ContactPointId)> {
        self.dry_created.get(&key).map(|&(p, cp)| {
            (
                PersonId::from_uuid(uuid::Uuid::from_u128(DRY_PERSON | u128::from(p))),
                ContactPointId::from_uuid(uuid::Uuid::from_u128(DRY_POINT | u128::from(cp))),
            )
        })
    }
}

/// Whether `p` is a person a dry run would create (see [`Known::dry_created`]).
fn is_dry(p: PersonId) -> bool {
    p.as_uuid().as_u128() >> 64 == DRY_PERSON >> 64
}

/// Writes not yet committed, and what they make known before they are.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) events: Vec<PendingEvent>,
    pub(super) side: Vec<SideWrite>,
    /// Made known by this batch (in a dry run: by the whole file).
    pub(super) known: Known,
    /// The batches handed to the writer whose commit is not yet seen, each with what it made
    /// known (see [`super::pipeline`]).
    pub(super) flight: Flight,
    /// The store's holders and suppressions of every contact point of the current chunk.
    pub(super) lookup: queries::KeyLookup,
    pub(super) rows: u64,
}

pub(super) fn key(c: &ContactValue) -> u64 {
    let mut h = DefaultHasher::new();
    c.match_key().hash(&mut h);
    h.finish()
}

/// How far an import is: rows read, and the position in the file (for a bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows read so far.
    pub rows: u64,
    /// Bytes of the file read so far (for a ZIP: the position in the archive).
    pub bytes: u64,
    /// Size of the file.
    pub total_bytes: u64,
}

/// The uploaded file, telling [`Progress`] where the reader is.
struct Tracked {
    inner: std::fs::File,
    position: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl std::io::Seek for Tracked {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let at = self.inner.seek(to)?;
        self.position.store(at, std::sync::atomic::Ordering::Relaxed);
        Ok(at)
    }
}

impl Batch {
    /// The person and contact point this batch or one in flight created for a contact.
    pub(super) fn created(&self, key: u64) -> Option<(PersonId, ContactPointId)> {
        self.known
            .created
            .get(&key)
            .or_else(|| self.flight.known().rev().find_map(|k| k.created.get(&key)))
            .copied()
            .or_else(|| self.known.dry_found(key))
    }

    /// Whether this batch or one in flight suppressed a contact.
    pub(super) fn is_suppressed(&self, key: u64) -> bool {
        self.known.suppressed.contains(&key) || self.flight.known().any(|k| k.suppressed.contains(&key))
    }

    /// Marks a contact suppressed; `false` when it already was (here or in flight).
    pub(super) fn suppress(&mut self, key: u64) -> bool {
        !self.flight.known().any(|k| k.suppressed.contains(&key)) && self.known.suppressed.insert(key)
    }

    /// The data key of a person created by this batch or one in flight.
    pub(super) fn key_of(&self, p: PersonId) -> Option<konsent_domain::crypto::DataKey> {
        self.known.keys.get(&p).or_else(|| self.flight.known().rev().find_map(|k| k.keys.get(&p))).cloned()
    }

    /// Whether the person got a consent from this file in this batch or one in flight.
    pub(super) fn has_consented(&self, p: PersonId) -> bool {
        self.known.consented.contains(&p) || self.flight.known().any(|k| k.consented.contains(&p)) || is_dry(p)
    }

    /// What an opt-out can withdraw of the consents this batch or one in flight recorded
    /// for a person.
    pub(super) fn recorded(&self, p: PersonId) -> impl Iterator<Item = &super::row::Withdrawable> {
        self.flight.known().chain([&self.known]).flat_map(move |k| k.consents.get(&p).into_iter().flatten())
    }

    /// Suppression entries of a contact point as the store had them before this chunk.
    pub(super) fn suppressions<'b>(
        &'b self,
        env: &Env<'_>,
        c: &ContactValue,
    ) -> &'b [konsent_domain::suppression::SuppressionEntry] {
        self.lookup.suppressions.get(&env.bi.index(&c.match_key())).map(Vec::as_slice).unwrap_or_default()
    }

    /// Persons holding a contact point as the store had them before this chunk.
    pub(super) fn holders(&self, env: &Env<'_>, c: &ContactValue) -> Vec<(PersonId, ContactPointId)> {
        self.lookup.holders.get(&env.bi.index(&c.match_key())).cloned().unwrap_or_default()
    }
}

impl From<RowError> for RowProblem {
    fn from(e: RowError) -> Self {
        RowProblem { row: e.row, file: e.file, field: e.field, message: e.message }
    }
}

fn file_sha256(path: &Path) -> Result<String, ServiceError> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| ServiceError::invalid("file", format!("kann nicht geöffnet werden / cannot open: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| ServiceError::invalid("file", format!("kann nicht gelesen werden / cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl Konsent {
    /// Imports a file; see the module documentation. After each batch the writer has taken,
    /// `progress` is told how far the run is; it answers `false` to stop there: everything
    /// handed on is committed before the report returns, and the next run resumes after it.
    pub async fn import_file(
        &self,
        tenant: TenantId,
        actor: &Actor,
        path: &Path,
        opts: &ImportOptions,
        progress: &(dyn Fn(Progress) -> bool + Send + Sync),
    ) -> Result<ImportReport, ServiceError> {
        let text = queries::text(&self.db, tenant, opts.text_id)
            .await?
            .filter(|t| t.state != TextState::Draft)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "text_id",
                    "kein veröffentlichter Einwilligungstext mit dieser ID / no such published consent text",
                )
            })?;
        let ours = opts.advertisers.clone().unwrap_or_else(|| text.scope.advertisers.clone());
        if ours.is_empty() || !ours.is_subset(&text.scope.advertisers) {
            return Err(ServiceError::invalid(
                "advertisers",
                "nur Werbende, die der Einwilligungstext nennt / must be advertisers the consent text names",
            ));
        }
        let file_sha256 = file_sha256(path)?;
        let provider = opts.provider.clone().unwrap_or_else(|| tool_name(opts.format).into());
        let source = match &opts.third_party_contract {
            Some(c) => Source::ThirdParty { provider: provider.clone(), contract_ref: Some(c.clone()) },
            None => Source::FirstParty,
        };
        let import_id = konsent_domain::crypto::sha256_hex(
            format!(
                "{file_sha256}|{}|{}|{ours:?}|{provider}|{:?}|{:?}",
                opts.format.as_str(),
                opts.text_id,
                opts.third_party_contract,
                opts.mapping.as_ref().map(|m| format!("{m:?}"))
            )
            .as_bytes(),
        );
        // From here on the import reads what it will change: it waits for the tenant's running
        // import to end (a dry run changes nothing and does not wait).
        let _turn = match opts.dry_run {
            true => None,
            false => Some(self.import_turns.take(tenant).await),
        };
        let mut report = ImportReport {
            import_id: import_id.clone(),
            file_sha256: file_sha256.clone(),
            format: opts.format.as_str().into(),
            dry_run: opts.dry_run,
            ..Default::default()
        };
        let mut resume = 0;
        match queries::import_state(&self.db, tenant, &import_id).await? {
            Some((state, _, stored)) if state == "done" => {
                let mut r: ImportReport = serde_json::from_str(&stored).unwrap_or(report);
                r.already_imported = true;
                r.dry_run = opts.dry_run;
                return Ok(r);
            }
            Some((_, rows_done, stored)) if !opts.dry_run => {
                if let Ok(r) = serde_json::from_str::<ImportReport>(&stored) {
                    report = r;
                }
                resume = rows_done.max(0) as u64;
                report.resumed_after = resume;
            }
            _ => {}
        }
        let file = std::fs::File::open(path)
            .map_err(|e| ServiceError::invalid("file", format!("kann nicht geöffnet werden / cannot open: {e}")))?;
        let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let position = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tracked = Tracked { inner: file, position: position.clone() };
        let name = path.file_name().and_then(|n| n.to_str());
        let at = move |rows: u64| Progress {
            rows,
            bytes: position.load(std::sync::atomic::Ordering::Relaxed).min(total_bytes),
            total_bytes,
        };
        let rows = open_seekable(tracked, name, opts.format, opts.mapping.as_ref())
            .map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        report.encoding = rows.encoding().as_str().into();
        report.delimiter = match rows.delimiter() {
            '\t' => "tab".into(),
            d => d.to_string(),
        };
        report.columns = rows.columns().iter().map(|c| (c.field.to_string(), c.header.clone())).collect();
        let env = Env {
            bi: self.keys.blind_index(tenant),
            tenant,
            actor,
            opts,
            advertisers: queries::advertisers(&self.db, tenant).await?,
            settings: queries::tenant_settings(&self.db, tenant).await?,
            text,
            ours,
            provider,
            source,
            file_sha256,
            import_id,
        };
        let mut batch = Batch { flight: Flight::after(resume), ..Default::default() };
        let mut n: u64 = 0;
        let mut chunk = Vec::new();
        let mut chunks: u64 = 0;
        for item in rows {
            n += 1;
            if n <= resume {
                continue;
            }
            report.rows = n;
            chunk.push(item);
            let in_transaction = (n - resume) % opts.batch_rows.max(1);
            if chunk.len() as u64 >= opts.chunk_rows.clamp(1, opts.batch_rows.max(1)) || in_transaction == 0 {
                // Batches within a transaction leave it open for the next one.
                let commit = if in_transaction == 0 { Commit::Lazy } else { Commit::Open };
                let step = Step { rows_done: n, done: false, commit };
                let chunk = std::mem::take(&mut chunk);
                if let Some(stopped) =
                    self.step(&env, chunk, &mut batch, &mut report, step, &progress_at(&at, progress)).await?
                {
                    return Ok(stopped);
                }
                chunks += 1;
                // The tables grow under the import: keep the planner's picture of them current.
                if chunks.is_power_of_two() || chunks.is_multiple_of(64) {
                    queries::refresh_statistics(&self.db).await?;
                }
            }
        }
        report.rows = report.rows.max(n);
        let step = Step { rows_done: n, done: true, commit: Commit::Durable };
        if let Some(stopped) =
            self.step(&env, chunk, &mut batch, &mut report, step, &progress_at(&at, progress)).await?
        {
            return Ok(stopped);
        }
        self.land(&mut batch).await?;
        if !opts.dry_run {
            queries::refresh_statistics(&self.db).await?;
        }
        progress(Progress { rows: n, bytes: total_bytes, total_bytes });
        Ok(report)
    }
}

fn progress_at<'a>(
    at: &'a (dyn Fn(u64) -> Progress + Send + Sync),
    progress: &'a (dyn Fn(Progress) -> bool + Send + Sync),
) -> impl Fn(u64) -> bool + Send + Sync + 'a {
    move |rows| progress(at(rows))
}

fn tool_name(f: konsent_formats::import::Format) -> &'static str {
    use konsent_formats::import::Format::*;
    match f {
        Mailchimp => "Mailchimp",
        CleverReach => "CleverReach",
        HubSpot => "HubSpot",
        Generic => "Maklerverwaltung",
    }
}
