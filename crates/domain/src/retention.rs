//! The deletion concept after DIN 66398: Datenarten, their Löschregeln (section 6.3), exact
//! calendar arithmetic for `retain_until`, and the § 7a UWG clock (R59, E2).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ZonedDateTime};
use serde::{Deserialize, Serialize};

/// A kind of data with exactly one deletion rule (section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Datenart {
    /// D1 Consumer phone-consent evidence (record, text ref, verification evidence, recordings).
    D1,
    /// D2 Withdrawals and changes of D1.
    D2,
    /// D3 Phone use log (calls and attempts).
    D3,
    /// D4 Non-phone consent evidence (e-mail, SMS, WhatsApp, post).
    D4,
    /// D5 Message send logs (e-mail, SMS, WhatsApp).
    D5,
    /// D6 B2B phone justification and call log.
    D6,
    /// D7 Consent text versions and snapshots.
    D7,
    /// D8 Suppression entries (reviewed, not deleted on a clock).
    D8,
    /// D9 Unconfirmed DOI requests (clear data).
    D9,
    /// D10 Unconfirmed DOI minimal log (hashed).
    D10,
    /// D11 Marketing profile and segments based on consent.
    D11,
    /// D12 Prospect contact data without consent or contract.
    D12,
    /// D13 Data-subject request files.
    D13,
    /// D14 Audit logs (admin actions, evidence access).
    D14,
    /// D15 Backups.
    D15,
}

impl Datenart {
    /// All Datenarten in order.
    pub const ALL: [Datenart; 15] = [
        Self::D1,
        Self::D2,
        Self::D3,
        Self::D4,
        Self::D5,
        Self::D6,
        Self::D7,
        Self::D8,
        Self::D9,
        Self::D10,
        Self::D11,
        Self::D12,
        Self::D13,
        Self::D14,
        Self::D15,
    ];

    /// Stable code, e.g. `D1`.
    pub fn code(self) -> &'static str {
        match self {
            Self::D1 => "D1",
            Self::D2 => "D2",
            Self::D3 => "D3",
            Self::D4 => "D4",
            Self::D5 => "D5",
            Self::D6 => "D6",
            Self::D7 => "D7",
            Self::D8 => "D8",
            Self::D9 => "D9",
            Self::D10 => "D10",
            Self::D11 => "D11",
            Self::D12 => "D12",
            Self::D13 => "D13",
            Self::D14 => "D14",
            Self::D15 => "D15",
        }
    }

    /// German name for the deletion concept and the Art. 30 export.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::D1 => "Nachweise telefonischer Werbeeinwilligungen von Verbrauchern",
            Self::D2 => "Widerrufe und Änderungen telefonischer Werbeeinwilligungen",
            Self::D3 => "Protokoll der Werbeanrufe und Anrufversuche",
            Self::D4 => "Nachweise sonstiger Werbeeinwilligungen (E-Mail, SMS, WhatsApp, Post)",
            Self::D5 => "Versandprotokolle (E-Mail, SMS, WhatsApp)",
            Self::D6 => "Begründungen mutmaßlicher Einwilligung (B2B) und Anrufprotokoll",
            Self::D7 => "Fassungen der Einwilligungstexte",
            Self::D8 => "Werbesperrdatei (Sperreinträge)",
            Self::D9 => "Unbestätigte Double-Opt-in-Anfragen (Klardaten)",
            Self::D10 => "Protokoll unbestätigter Double-Opt-in-Anfragen (gehasht)",
            Self::D11 => "Werbeprofile und Segmente auf Einwilligungsbasis",
            Self::D12 => "Interessentendaten ohne Einwilligung oder Vertrag",
            Self::D13 => "Vorgänge zu Betroffenenrechten",
            Self::D14 => "Audit-Protokolle",
            Self::D15 => "Datensicherungen",
        }
    }
}

/// What starts the clock of a rule (DIN 66398; the concrete event is named per Datenart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartType {
    /// Creation of the object (e.g. call time, send time, backup creation).
    Creation,
    /// End of the process the object serves (e.g. last use, withdrawal, request closure).
    EndOfProcess,
    /// End of the contract or customer relationship.
    EndOfRelationship,
}

/// A calendar period: years, months and days added in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Period {
    /// Whole years.
    #[serde(default)]
    pub years: u16,
    /// Whole months.
    #[serde(default)]
    pub months: u16,
    /// Whole days.
    #[serde(default)]
    pub days: u16,
}

impl Period {
    /// No time at all.
    pub const ZERO: Period = Period { years: 0, months: 0, days: 0 };

    /// `n` years.
    pub const fn years(n: u16) -> Self {
        Self { years: n, months: 0, days: 0 }
    }
    /// `n` months.
    pub const fn months(n: u16) -> Self {
        Self { years: 0, months: n, days: 0 }
    }
    /// `n` days.
    pub const fn days(n: u16) -> Self {
        Self { years: 0, months: 0, days: n }
    }

    fn span(self) -> Result<Span, jiff::Error> {
        Span::new().try_years(self.years)?.try_months(self.months)?.try_days(self.days)
    }
}

/// A deletion rule (Löschregel): start event, retention (Vorhaltefrist), deletion cycle, and
/// whether the retention runs to the end of a calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loeschregel {
    /// What starts the clock.
    pub start: StartType,
    /// How long the object is kept after the start.
    pub vorhaltefrist: Period,
    /// How much later the deletion run must have deleted it at the latest (E3).
    pub deletion_cycle: Period,
    /// Round the end of the retention up to the end of its calendar year (E2).
    pub end_of_year: bool,
}

/// The default rules of section 6.3 (to be confirmed by the DPO).
pub fn default_rules() -> BTreeMap<Datenart, Loeschregel> {
    use Datenart::*;
    use StartType::*;
    let rule = |start, vorhaltefrist, deletion_cycle, end_of_year| Loeschregel {
        start,
        vorhaltefrist,
        deletion_cycle,
        end_of_year,
    };
    let month = Period::months(1);
    BTreeMap::from([
        (D1, rule(EndOfProcess, Period::years(5), month, false)),
        (D2, rule(EndOfProcess, Period::years(5), month, false)),
        (D3, rule(Creation, Period::years(5), month, false)),
        (D4, rule(EndOfProcess, Period::years(3), month, true)),
        (D5, rule(Creation, Period::years(3), month, true)),
        (D6, rule(Creation, Period::years(3), month, true)),
        (D7, rule(EndOfProcess, Period::ZERO, month, false)),
        (D8, rule(Creation, Period::years(5), Period::ZERO, false)),
        (D9, rule(EndOfProcess, Period::days(30), Period::days(1), false)),
        (D10, rule(Creation, Period::months(6), month, false)),
        (D11, rule(EndOfProcess, Period::ZERO, Period::days(1), false)),
        (D12, rule(EndOfProcess, Period::months(12), month, false)),
        (D13, rule(EndOfProcess, Period::years(3), month, true)),
        (D14, rule(Creation, Period::years(5), month, false)),
        (D15, rule(Creation, Period::days(90), Period::ZERO, false)),
    ])
}

/// Adds a calendar period in UTC. Days past a month's end are clamped to its last day (jiff's
/// behaviour: 2024-02-29 + 1 year = 2025-02-28). Saturates at jiff's largest timestamp, which no
/// real retention reaches.
fn add(start: Timestamp, period: Period) -> Timestamp {
    period
        .span()
        .and_then(|span| start.to_zoned_datetime(TimeZone::UTC).checked_add(span))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

/// The first instant of the calendar year after the one containing `t` (UTC): the moment a
/// retention "to the end of the year" ends.
fn end_of_year(t: Timestamp) -> Timestamp {
    let z = t.to_zoned_datetime(TimeZone::UTC);
    jiff::civil::date(z.year(), 1, 1)
        .checked_add(Span::new().years(1))
        .and_then(|d| d.to_zoned_datetime(TimeZone::UTC))
        .map(|z: ZonedDateTime| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

/// The instant the retention of an object ends (E2): `start + vorhaltefrist` in UTC calendar
/// arithmetic, rounded up to the end of that calendar year when the rule says so. From this
/// instant on the object may be deleted.
pub fn retain_until(rule: &Loeschregel, start: Timestamp) -> Timestamp {
    let raw = add(start, rule.vorhaltefrist);
    if rule.end_of_year { end_of_year(raw) } else { raw }
}

/// The latest start whose retention under `rule` may have ended by `now`: anything started
/// later is certainly still kept (a cheap bound for selecting candidates; the exact date is
/// [`retain_until`]).
pub fn started_before(rule: &Loeschregel, now: Timestamp) -> Timestamp {
    rule.vorhaltefrist
        .span()
        .and_then(|span| now.to_zoned_datetime(TimeZone::UTC).checked_sub(span))
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

/// The latest instant by which the object must be gone (E3): `retain_until + deletion_cycle`.
pub fn deletion_due(rule: &Loeschregel, start: Timestamp) -> Timestamp {
    add(retain_until(rule, start), rule.deletion_cycle)
}

/// The § 7a UWG clock (R23, R59, E2): `max(granted_at, last_use_at, last_change_at)` plus exactly
/// five calendar years in UTC, without year-end rounding. A 29 February start ends on 28 February.
pub fn uwg7a_retain_until(
    granted_at: Timestamp,
    last_use_at: Option<Timestamp>,
    last_change_at: Timestamp,
) -> Timestamp {
    let start = granted_at.max(last_change_at).max(last_use_at.unwrap_or(granted_at));
    add(start, Period::years(5))
}

/// The deadline of a data-subject request: one calendar month after receipt (Art. 12(3) GDPR).
pub fn request_due(received: Timestamp) -> Timestamp {
    add(received, Period::months(1))
}

/// A legal hold (R61, E5): litigation, an authority request, a pending rights request or a
/// complaint suspends every deletion of the person's data until it is released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// Id.
    pub id: crate::ids::HoldId,
    /// The person whose data is held.
    pub person_id: crate::ids::PersonId,
    /// `litigation`, `authority_request`, `dsar_pending` or `complaint`.
    pub reason: String,
    /// Who answers for it (name or role, no personal data of the person).
    pub owner: String,
    /// When it must be reviewed.
    pub review_at: Timestamp,
    /// When it was placed.
    pub placed_at: Timestamp,
    /// When it was released.
    pub released_at: Option<Timestamp>,
}

/// Until when the proof of a consent must at least be kept, and by which rule: a consumer phone
/// consent by the § 7a clock (D1, moving with every use and change); any other consent three years
/// after it ended, to the end of that year (D4). `None` while a non-phone consent is still live
/// (its proof is kept as long as it is used, R60).
pub fn consent_proof_until(record: &crate::consent::ConsentRecord) -> Option<(Timestamp, Datenart)> {
    consent_proof_until_in(record, &default_rules())
}

/// [`consent_proof_until`] under a tenant's rules.
pub fn consent_proof_until_in(
    record: &crate::consent::ConsentRecord,
    rules: &BTreeMap<Datenart, Loeschregel>,
) -> Option<(Timestamp, Datenart)> {
    let phone = record.scope.channels.iter().any(|c| c.is_phone());
    if phone && record.recipient_class == crate::party::RecipientClass::Consumer {
        let granted = record.granted_at.unwrap_or(record.given_at);
        return Some((uwg7a_retain_until(granted, record.last_use_at, record.last_change_at), Datenart::D1));
    }
    if record.status.is_valid_for_processing() || record.status == crate::consent::ConsentStatus::Requested {
        return None;
    }
    let d4 = rules.get(&Datenart::D4).copied().unwrap_or(default_rules()[&Datenart::D4]);
    // The later of withdrawal or expiry (the last change) and the last use.
    let start = record.last_change_at.max(record.last_use_at.unwrap_or(record.last_change_at));
    Some((retain_until(&d4, start), Datenart::D4))
}

pub mod concept;
#[cfg(test)]
mod tests;
