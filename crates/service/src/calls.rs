//! A dialer's call log as CSV: each row an attempt or a connected call, logged as a use of the
//! consents it relied on so the § 7a clock moves (R23, R59). Rows are matched to persons by the
//! number's keyed hash; a call to a number without a valid consent is recorded and reported (it
//! happened, and the proof of that matters too). Re-importing the same file changes nothing.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use konsent_domain::channel::Channel;
use konsent_domain::contact::{ContactValue, PhoneE164};
use konsent_domain::crypto::sha256;
use konsent_domain::ids::{AdvertiserId, TenantId, UseId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::usage::{UseOutcome, UseRecord};
use konsent_store::queries;
use serde::Serialize;

use crate::context::Konsent;
use crate::error::{FieldError, ServiceError};
use crate::table::Table;

const PHONE: &[&str] = &["phone", "number", "telefon", "telefonnummer", "rufnummer", "msisdn", "callee"];
const TIME: &[&str] = &["time", "timestamp", "attempt_at", "started_at", "start", "zeit", "zeitpunkt", "datum_uhrzeit"];
const OUTCOME: &[&str] = &["outcome", "result", "status", "ergebnis", "disposition"];
const ADVERTISER: &[&str] = &["advertiser", "advertiser_id", "werbender", "auftraggeber"];
const CAMPAIGN: &[&str] = &["campaign", "kampagne", "campaign_id"];
const AGENT: &[&str] = &["agent", "agent_id", "agent_pseudonym", "mitarbeiter"];
const PARTY: &[&str] = &["executing_party", "call_centre", "callcenter", "dienstleister"];

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CallLogReport {
    /// Data rows read.
    pub rows: u64,
    /// Uses recorded now.
    pub recorded: u64,
    /// Rows already imported before (same file and row).
    pub already_imported: u64,
    /// Recorded calls to numbers with no valid consent for the advertiser (rows).
    pub without_consent: Vec<u64>,
    /// Rows refused, each naming its field.
    pub errors: Vec<FieldError>,
}

fn outcome(s: &str) -> Option<UseOutcome> {
    match s.trim().to_lowercase().as_str() {
        "connected" | "answered" | "verbunden" | "erreicht" | "gespräch" | "talk" => Some(UseOutcome::Connected),
        "attempt" | "no_answer" | "noanswer" | "busy" | "voicemail" | "failed" | "nicht erreicht" | "besetzt"
        | "keine antwort" | "mailbox" => Some(UseOutcome::Attempt),
        _ => None,
    }
}

/// A call time: RFC 3339 with offset, or a local time (`2026-12-04 10:15[:00]`, `04.12.2026 10:15`)
/// in Germany's time zone.
fn call_time(s: &str, berlin: Option<&TimeZone>) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let civil = s
        .replace(' ', "T")
        .parse::<DateTime>()
        .or_else(|_| DateTime::strptime("%d.%m.%Y %H:%M:%S", s))
        .or_else(|_| DateTime::strptime("%d.%m.%Y %H:%M", s))
        .map_err(|_| format!("'{s}' is no time (use 2026-12-04T10:15:00+01:00 or 04.12.2026 10:15)"))?;
    let tz = berlin.ok_or("a time without offset needs the Europe/Berlin zone, which this system lacks (tzdata)")?;
    civil.to_zoned_datetime(tz.clone()).map(|z| z.timestamp()).map_err(|e| e.to_string())
}

impl Konsent {
    /// Imports a dialer's call log. `advertiser` applies to rows without an advertiser column.
    pub async fn import_call_log(
        &self,
        tenant: TenantId,
        actor: &Actor,
        csv: &[u8],
        advertiser: Option<AdvertiserId>,
    ) -> Result<CallLogReport, ServiceError> {
        let table = Table::parse(csv)?;
        let (c_phone, c_time) = (table.require("phone", PHONE)?, table.require("time", TIME)?);
        let (c_out, c_adv) = (table.column(OUTCOME), table.column(ADVERTISER));
        if c_adv.is_none() && advertiser.is_none() {
            return Err(ServiceError::invalid(
                "advertiser",
                "den Werbenden angeben oder der Datei eine Spalte advertiser geben / name the advertiser, or give the file an advertiser column",
            ));
        }
        let (c_camp, c_agent, c_party) = (table.column(CAMPAIGN), table.column(AGENT), table.column(PARTY));
        let known: BTreeSet<AdvertiserId> =
            queries::advertisers(&self.db, tenant).await?.into_iter().map(|a| a.id).collect();
        let berlin = TimeZone::get("Europe/Berlin").ok();
        let file_hash = sha256(csv);
        let now = self.now();
        let mut report = CallLogReport { rows: table.rows.len() as u64, ..Default::default() };
        let mut pending = Vec::new();
        for (row, cells) in &table.rows {
            let err = |field: &str, message: String| FieldError { field: format!("row {row}: {field}"), message };
            let phone = match PhoneE164::parse(&cells[c_phone]) {
                Ok(p) => p,
                Err(e) => {
                    report.errors.push(err(&table.headers[c_phone], e.to_string()));
                    continue;
                }
            };
            let at = match call_time(&cells[c_time], berlin.as_ref()) {
                Ok(t) if t <= now => t,
                Ok(_) => {
                    report.errors.push(err(&table.headers[c_time], "lies in the future".into()));
                    continue;
                }
                Err(e) => {
                    report.errors.push(err(&table.headers[c_time], e));
                    continue;
                }
            };
            let outcome = match c_out.map(|c| cells[c].as_str()).filter(|s| !s.is_empty()) {
                None => UseOutcome::Attempt,
                Some(s) => match outcome(s) {
                    Some(o) => o,
                    None => {
                        let field = &table.headers[c_out.unwrap_or_default()];
                        report.errors.push(err(field, format!("'{s}' is neither connected nor an attempt")));
                        continue;
                    }
                },
            };
            let adv = match c_adv.map(|c| cells[c].as_str()).filter(|s| !s.is_empty()) {
                Some(s) => match s.parse::<AdvertiserId>().ok().filter(|a| known.contains(a)) {
                    Some(a) => a,
                    None => {
                        report
                            .errors
                            .push(err(&table.headers[c_adv.unwrap_or_default()], format!("no advertiser '{s}'")));
                        continue;
                    }
                },
                None => match advertiser.filter(|a| known.contains(a)) {
                    Some(a) => a,
                    None => {
                        report.errors.push(err("advertiser", "the advertiser given is not known".into()));
                        continue;
                    }
                },
            };
            let found = self.find_by_contact(tenant, &ContactValue::Phone(phone)).await?;
            let Some(&(person_id, contact_point_id)) = found.first() else {
                report.errors.push(err(
                    &table.headers[c_phone],
                    "this number is not known to Konsent: the call had no recorded consent".into(),
                ));
                continue;
            };
            let consents = queries::consents_of(&self.db, tenant, person_id).await?;
            let relied: BTreeSet<_> = consents
                .iter()
                .filter(|c| {
                    c.status.is_valid_for_processing()
                        && !c.approval_pending
                        && c.contact_points.contains(&contact_point_id)
                        && c.scope.channels.contains(&Channel::PhoneLive)
                        && c.scope.advertisers.contains(&adv)
                        && c.granted_at.is_some_and(|g| g <= at)
                })
                .map(|c| c.id)
                .collect();
            if relied.is_empty() {
                report.without_consent.push(*row);
            }
            // The same file row always gets the same id: a second import of the file is a no-op.
            let mut seed = file_hash.to_vec();
            seed.extend_from_slice(&row.to_be_bytes());
            let r: [u8; 10] = sha256(&seed)[..10].try_into().unwrap_or_default();
            let text = |c: Option<usize>| c.map(|c| cells[c].clone()).filter(|s| !s.is_empty());
            pending.push(UseRecord {
                id: UseId::from_parts(at.as_millisecond().max(0) as u64, r),
                person_id,
                contact_point_id,
                channel: Channel::PhoneLive,
                advertiser_id: adv,
                consent_ids: relied,
                campaign: text(c_camp),
                executing_party: text(c_party),
                agent_pseudonym: text(c_agent),
                outcome,
                at,
                decision_snapshot: None,
            });
        }
        for chunk in pending.chunks(500) {
            let ids: Vec<_> = chunk.iter().map(|u| u.id).collect();
            let have = queries::existing_uses(&self.db, tenant, &ids).await?;
            let events: Vec<_> = chunk
                .iter()
                .filter(|u| !have.contains(&u.id))
                .map(|u| self.pending(actor, EventBody::UseRecorded { record: Box::new(u.clone()) }))
                .collect();
            report.already_imported += (chunk.len() - events.len()) as u64;
            report.recorded += events.len() as u64;
            if !events.is_empty() {
                self.append(tenant, events, vec![]).await?;
            }
        }
        Ok(report)
    }
}
