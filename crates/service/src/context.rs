//! The service context: database, keys, injected clock and entropy; opening a data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use konsent_domain::ids::TenantId;
use konsent_domain::time::{Clock, Entropy, random_array, unix_millis};
use konsent_store::{Appended, Db, GroupCommit, HeadWatch, PendingEvent, SideWrite, migrate, queries};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;
use crate::keys::Keyring;
use konsent_domain::ledger::EventBody;

/// Name of the marker file of a data directory.
pub const MARKER: &str = "installation.json";

/// Contents of the marker file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installation {
    /// Data directory format.
    pub format: u32,
    /// Random id tying the data dir, its keys and its database together.
    pub installation_id: String,
    /// When `init` ran.
    pub created_at: Timestamp,
}

/// Everything a use case needs.
#[derive(Clone)]
pub struct Konsent {
    /// Database.
    pub db: Db,
    /// Keys.
    pub keys: Keyring,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub entropy: Arc<dyn Entropy>,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The group-committing ledger writer.
    pub appender: GroupCommit,
    /// Every tenant's chain head, kept current without queries (validates the gate cache).
    pub heads: HeadWatch,
    /// The gate's ledger-validated cache.
    pub gate_cache: crate::gate::GateCache,
    /// Recently resolved API keys.
    pub key_cache: crate::apikeys::KeyCache,
    /// Whose turn it is to import, per tenant (one import of a tenant at a time).
    pub import_turns: crate::imports::ImportTurns,
    /// Whether an SMTP server is configured (otherwise mails land in `DATA_DIR/outbox/`).
    pub mail_configured: bool,
    /// Public address of this installation, for links in mails.
    pub public_url: String,
    /// Where webhooks may go, how often they are tried (`[webhooks]` in the configuration).
    pub webhooks: konsent_domain::webhook::HookPolicy,
    /// The prefixes of the numbers text messages may go to (`sms.allowed_prefixes`); empty: all.
    pub sms_prefixes: Vec<String>,
}

/// The numbers text messages go to by default: Germany, Austria and Switzerland.
pub const SMS_PREFIXES: [&str; 3] = ["+49", "+43", "+41"];

impl std::fmt::Debug for Konsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Konsent").field("data_dir", &self.data_dir).field("engine", &self.db.engine()).finish()
    }
}

/// Default database URL of a data directory.
pub fn default_db_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("konsent.db").display())
}

/// Reads the marker; distinguishes a missing from a foreign data dir.
pub fn read_marker(data_dir: &Path) -> Result<Installation, ServiceError> {
    let shown = data_dir.display().to_string();
    let path = data_dir.join(MARKER);
    match std::fs::read_to_string(&path) {
        Ok(s) => serde_json::from_str(&s).map_err(|_| ServiceError::ForeignDataDir(shown)),
        Err(_) if !data_dir.exists() => Err(ServiceError::NoDataDir(shown)),
        Err(_) if is_empty_dir(data_dir) => Err(ServiceError::NoDataDir(shown)),
        Err(_) => Err(ServiceError::ForeignDataDir(shown)),
    }
}

pub(crate) fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map(|mut d| d.next().is_none()).unwrap_or(false)
}

impl Konsent {
    /// Opens an initialised data directory and its database; migrates the schema.
    pub async fn open(
        data_dir: &Path,
        db_url: Option<&str>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Result<Self, ServiceError> {
        let marker = read_marker(data_dir)?;
        let keys = Keyring::load(data_dir)?;
        let url = db_url.map(str::to_string).unwrap_or_else(|| default_db_url(data_dir));
        let db = Db::connect(&url, 8).await?;
        migrate::migrate(&db, clock.now().as_microsecond()).await?;
        match queries::installation_get(&db, "installation_id").await? {
            Some(id) if id == marker.installation_id => {}
            Some(found) => return Err(ServiceError::ForeignDatabase { expected: marker.installation_id, found }),
            None => {
                return Err(ServiceError::Conflict(format!(
                    "the database at {} is not initialised for this data directory: run `konsent init` with the same --database-url",
                    konsent_store::db::redact_url(&url)
                )));
            }
        }
        Ok(Self::assemble(db, keys, clock, entropy, data_dir))
    }

    /// Puts the context together and starts the ledger writer.
    pub fn assemble(db: Db, keys: Keyring, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>, data_dir: &Path) -> Self {
        let heads = HeadWatch::start(db.clone());
        let appender = GroupCommit::start(db.clone(), heads.clone());
        Self {
            heads,
            db,
            keys,
            clock,
            entropy,
            data_dir: data_dir.to_path_buf(),
            appender,
            gate_cache: Default::default(),
            key_cache: Default::default(),
            import_turns: Default::default(),
            mail_configured: false,
            public_url: "http://127.0.0.1:8080".into(),
            webhooks: Default::default(),
            sms_prefixes: SMS_PREFIXES.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// Refuses a text message to a number outside the allowed prefixes (`sms.allowed_prefixes`).
    pub fn check_sms_number(&self, number: &konsent_domain::contact::PhoneE164) -> Result<(), ServiceError> {
        if number.sms_allowed(&self.sms_prefixes) {
            return Ok(());
        }
        Err(ServiceError::invalid(
            "phone",
            "an Rufnummern mit dieser Landesvorwahl schicken wir keine SMS / text messages do not go to numbers with \
             this country code (sms.allowed_prefixes)",
        ))
    }

    /// Appends events (and sealed vault rows) to the tenant's ledger, durably, recorded now. The
    /// events receivers subscribe to become webhook deliveries in the same transaction: a
    /// delivery exists if and only if its event committed.
    pub async fn append(
        &self,
        tenant: TenantId,
        events: Vec<PendingEvent>,
        side: Vec<SideWrite>,
    ) -> Result<Vec<Appended>, ServiceError> {
        self.submit_folding(tenant, events, side, None).await?.committed(self).await
    }

    /// [`Konsent::append`] for a batch of many persons (an import): the events that create
    /// persons, contact points and consents go into one batch entry by `actor`, one record per
    /// person, with the Merkle root of the records in the entry; the rest follow as entries.
    /// `commit` says whether a power failure may take it back because its import resumes after
    /// the last durable batch, and whether its transaction stays open for the import's next
    /// batch (see `konsent_store::ledger::Commit`).
    /// It returns once the writer has the batch: await [`Submission::when_taken`] before handing it
    /// the next (the batch's memory is then free) and [`Submission::committed`] for the outcome.
    pub(crate) async fn submit_batch(
        &self,
        tenant: TenantId,
        actor: &konsent_domain::ledger::Actor,
        label: String,
        events: Vec<PendingEvent>,
        side: Vec<SideWrite>,
        commit: konsent_store::ledger::Commit,
    ) -> Result<Submission, ServiceError> {
        let folding = konsent_store::ledger::Folding {
            event_id: self.id(konsent_domain::ids::EventId::from_parts),
            actor: actor.clone(),
            label,
            commit,
        };
        self.submit_folding(tenant, events, side, Some(folding)).await
    }

    async fn submit_folding(
        &self,
        tenant: TenantId,
        events: Vec<PendingEvent>,
        mut side: Vec<SideWrite>,
        folding: Option<konsent_store::ledger::Folding>,
    ) -> Result<Submission, ServiceError> {
        let hooks = self.hook_items(tenant, &events).await?;
        if !hooks.is_empty() {
            side.push(SideWrite::Webhook(konsent_store::side::WebhookWrite::Deliveries(hooks)));
        }
        // Erasures and suppressions also go to the deletion journal, outside the database, so a
        // restored backup can be brought up to date before use (R62).
        let journaled: Vec<EventBody> =
            events.iter().filter(|e| crate::backup::journaled(&e.body)).map(|e| e.body.clone()).collect();
        let inner = self.appender.submit(tenant, self.now(), events, side, folding).await?;
        Ok(Submission { tenant, inner, journaled })
    }

    /// A keyed hash of a request's IP address and user agent for evidence: it can confirm given
    /// details later but, unlike a plain hash, cannot be reversed by trying all IPv4 addresses.
    pub fn request_details_hash(&self, ip: Option<&str>, user_agent: Option<&str>) -> String {
        let ua: Option<String> = user_agent.map(|u| u.chars().take(300).collect());
        let details = serde_json::json!({"ip": ip, "user_agent": ua});
        let key = self.keys.master().derive(b"konsent-request-details-v1");
        hex::encode(konsent_domain::crypto::hmac256(&key, details.to_string().as_bytes()))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A new time-ordered id of any kind, e.g. `k.id(PersonId::from_parts)`.
    pub fn id<T>(&self, make: fn(u64, [u8; 10]) -> T) -> T {
        make(unix_millis(self.now()), random_array(&*self.entropy))
    }

    /// An event to append, caused by `actor`, with a fresh id.
    pub(crate) fn pending(&self, actor: &konsent_domain::ledger::Actor, body: EventBody) -> PendingEvent {
        PendingEvent { event_id: self.id(konsent_domain::ids::EventId::from_parts), actor: actor.clone(), body }
    }

    /// Random bytes.
    pub fn random<const N: usize>(&self) -> [u8; N] {
        random_array(&*self.entropy)
    }
}

/// An append handed to the ledger writer (see [`Konsent::submit_batch`]).
#[derive(Debug)]
pub(crate) struct Submission {
    tenant: TenantId,
    inner: konsent_store::Submitted,
    /// Erasures and suppressions, journaled once committed.
    journaled: Vec<EventBody>,
}

impl Submission {
    /// Resolves when the writer has the append in its transaction; borrows nothing.
    pub(crate) fn when_taken(&mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.inner.when_taken()
    }

    /// Waits for the commit, then journals the append's erasures and suppressions.
    pub(crate) async fn committed(self, k: &Konsent) -> Result<Vec<Appended>, ServiceError> {
        let Submission { tenant, inner, journaled } = self;
        let r = inner.committed().await;
        landed(k, tenant, &journaled, r)
    }

    /// [`Submission::committed`] if the commit is known already, without waiting.
    pub(crate) fn try_committed(&mut self, k: &Konsent) -> Option<Result<Vec<Appended>, ServiceError>> {
        let r = self.inner.try_committed()?;
        Some(landed(k, self.tenant, &self.journaled, r))
    }
}

/// A commit's outcome in the service's terms, the append's erasures and suppressions journaled.
fn landed(
    k: &Konsent,
    tenant: TenantId,
    journaled: &[EventBody],
    r: Result<Vec<Appended>, konsent_store::StoreError>,
) -> Result<Vec<Appended>, ServiceError> {
    let appended = r.map_err(|e| match e {
        konsent_store::StoreError::Refused { ended: true, detail } => ServiceError::Ended(detail),
        konsent_store::StoreError::Refused { ended: false, detail } => ServiceError::Conflict(format!(
            "der Stand hat sich inzwischen geändert, bitte neu laden / the state changed meanwhile: {detail}"
        )),
        e => ServiceError::Store(e),
    })?;
    if !journaled.is_empty() {
        k.journal(tenant, &journaled.iter().collect::<Vec<_>>())?;
    }
    Ok(appended)
}
