//! Erasure (Art. 17) as a plan: every stored item of a person is either deleted now or kept,
//! restricted, with a reason and an end date (R47, E8). Proof that must be kept outlives the
//! request (§ 7a UWG five years after the last use, R59; legal claims for other consents, D4);
//! a legal hold keeps everything (R61). Pure: the store applies the plan.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::attachment::AttachmentMeta;
use crate::consent::{ConsentRecord, Evidence};
use crate::ids::{ConsentId, ContactPointId};
use std::collections::BTreeMap;

use crate::retention::{Datenart, Loeschregel, consent_proof_until_in, default_rules, retain_until};

/// Why an item is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Proof of a consumer phone consent: five years after grant, last use and last change (§ 7a UWG).
    Uwg7a5y,
    /// Proof of another consent, kept for legal claims (three years to the end of the year, D4).
    LegalClaims,
    /// A legal hold (authority request, litigation, complaint) suspends deletion.
    LegalHold,
}

impl KeepReason {
    /// German explanation for the reply to the person.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Uwg7a5y => "Nachweispflicht nach § 7a UWG (fünf Jahre nach Erteilung und letzter Verwendung)",
            Self::LegalClaims => "Abwehr von Rechtsansprüchen (Art. 17 Abs. 3 lit. e DSGVO)",
            Self::LegalHold => "laufendes Verfahren oder Behördenanfrage (Löschung ausgesetzt)",
        }
    }

    /// English explanation.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Uwg7a5y => "proof duty under § 7a UWG (five years after grant and last use)",
            Self::LegalClaims => "defence of legal claims (Art. 17(3)(e) GDPR)",
            Self::LegalHold => "pending proceedings or authority request (deletion suspended)",
        }
    }
}

/// One stored item of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum Item {
    /// Name, residential address, birth date.
    PersonData,
    /// A contact point's value.
    ContactPoint {
        /// Id.
        id: ContactPointId,
    },
    /// The proof of a consent (record, evidence, withdrawal, uses relying on it).
    ConsentProof {
        /// Id.
        id: ConsentId,
    },
    /// A recording or scan.
    Attachment {
        /// SHA-256.
        sha256: String,
    },
    /// Queued messages, confirmation links and codes.
    PendingMessages,
}

impl Item {
    /// German name for the reply.
    pub fn label_de(&self) -> String {
        match self {
            Self::PersonData => "Name, Anschrift und Geburtsdatum".into(),
            Self::ContactPoint { .. } => "Kontaktweg (Telefonnummer, E-Mail-Adresse oder Anschrift)".into(),
            Self::ConsentProof { .. } => "Nachweis einer Einwilligung mit Verwendungen".into(),
            Self::Attachment { .. } => "Gesprächsaufzeichnung oder Scan".into(),
            Self::PendingMessages => "noch nicht versandte Nachrichten und Bestätigungslinks".into(),
        }
    }
}

/// What happens to an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Disposition {
    /// Deleted now.
    DeleteNow,
    /// Kept, restricted to compliance, until `until`.
    KeepRestricted {
        /// Why.
        reason: KeepReason,
        /// Until when (for a hold: its review date).
        until: Timestamp,
    },
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLine {
    /// The item.
    pub item: Item,
    /// What happens to it.
    pub disposition: Disposition,
}

/// What the planner looks at.
#[derive(Debug, Clone)]
pub struct ErasureInput<'a> {
    /// The person's consents as they are before the request.
    pub consents: &'a [ConsentRecord],
    /// The person's contact points.
    pub contact_points: &'a [ContactPointId],
    /// The person's evidence files.
    pub attachments: &'a [AttachmentMeta],
    /// An active legal hold: its review date.
    pub hold_until: Option<Timestamp>,
    /// Now.
    pub now: Timestamp,
    /// The tenant's rules in force.
    pub rules: &'a BTreeMap<Datenart, Loeschregel>,
}

/// Until when a consent's proof must be kept once the person asked for erasure now, or `None`
/// when it was never valid nor used (no proof duty).
pub fn proof_kept_until(
    c: &ConsentRecord,
    now: Timestamp,
    rules: &BTreeMap<Datenart, Loeschregel>,
) -> Option<(KeepReason, Timestamp)> {
    if c.granted_at.is_none() && c.last_use_at.is_none() {
        return None;
    }
    let d4 = rules.get(&Datenart::D4).copied().unwrap_or(default_rules()[&Datenart::D4]);
    match consent_proof_until_in(c, rules) {
        Some((until, Datenart::D1)) => Some((KeepReason::Uwg7a5y, until)),
        // A live non-phone consent ends with the request: kept for claims from now.
        Some((until, _)) => Some((KeepReason::LegalClaims, until)),
        None => Some((KeepReason::LegalClaims, retain_until(&d4, now))),
    }
    .filter(|(_, until)| *until > now)
}

/// The plan: every item deleted now or kept restricted with reason and date.
pub fn plan(input: &ErasureInput<'_>) -> Vec<PlanLine> {
    let now = input.now;
    let keep = |reason, until| Disposition::KeepRestricted { reason, until };
    if let Some(review) = input.hold_until {
        // A hold keeps everything at least until its review; a longer legal duty stays as it is.
        return plan(&ErasureInput { hold_until: None, ..input.clone() })
            .into_iter()
            .map(|l| {
                let disposition = match (&l.item, l.disposition) {
                    (Item::PendingMessages, d) => d,
                    (_, Disposition::KeepRestricted { reason, until }) if until >= review => keep(reason, until),
                    _ => keep(KeepReason::LegalHold, review),
                };
                PlanLine { item: l.item, disposition }
            })
            .collect();
    }
    let kept: Vec<(&ConsentRecord, KeepReason, Timestamp)> =
        input.consents.iter().filter_map(|c| proof_kept_until(c, now, input.rules).map(|(r, u)| (c, r, u))).collect();
    let mut lines: Vec<PlanLine> = input
        .consents
        .iter()
        .map(|c| {
            let disposition = match kept.iter().find(|(k, _, _)| k.id == c.id) {
                Some((_, r, u)) => keep(*r, *u),
                None => Disposition::DeleteNow,
            };
            PlanLine { item: Item::ConsentProof { id: c.id }, disposition }
        })
        .collect();
    // The longest duty of what refers to an item decides (E4).
    let longest = |pred: &dyn Fn(&ConsentRecord) -> bool| {
        kept.iter()
            .filter(|(c, _, _)| pred(c))
            .max_by_key(|(_, r, u)| (*u, *r == KeepReason::Uwg7a5y))
            .map(|(_, r, u)| keep(*r, *u))
    };
    // Names and address are part of the § 7a documentation (R20) and of any claim.
    lines.insert(
        0,
        PlanLine { item: Item::PersonData, disposition: longest(&|_| true).unwrap_or(Disposition::DeleteNow) },
    );
    for id in input.contact_points {
        let d = longest(&|c| c.contact_points.contains(id)).unwrap_or(Disposition::DeleteNow);
        lines.push(PlanLine { item: Item::ContactPoint { id: *id }, disposition: d });
    }
    for a in input.attachments {
        let names = |c: &ConsentRecord| {
            c.evidence.iter().any(|e| match e {
                Evidence::CallRecording { recording_hash: h, .. } | Evidence::PaperScan { scan_hash: h, .. } => {
                    h.eq_ignore_ascii_case(&a.sha256)
                }
                _ => false,
            })
        };
        let d = longest(&names).unwrap_or(Disposition::DeleteNow);
        lines.push(PlanLine { item: Item::Attachment { sha256: a.sha256.clone() }, disposition: d });
    }
    lines.push(PlanLine { item: Item::PendingMessages, disposition: Disposition::DeleteNow });
    lines
}

/// The latest date anything of the plan is kept to (`None`: everything goes now).
pub fn kept_until(lines: &[PlanLine]) -> Option<Timestamp> {
    lines
        .iter()
        .filter_map(|l| match l.disposition {
            Disposition::KeepRestricted { until, .. } => Some(until),
            Disposition::DeleteNow => None,
        })
        .max()
}

/// The reply to the person (German, then English), listing what was deleted and what is kept,
/// why and until when (R47).
pub fn reply(lines: &[PlanLine]) -> String {
    let date = |t: Timestamp| {
        let d = crate::time::utc_date(t);
        format!("{:02}.{:02}.{}", d.day(), d.month(), d.year())
    };
    let mut deleted: Vec<String> = Vec::new();
    let mut kept: Vec<String> = Vec::new();
    for l in lines {
        let what = l.item.label_de();
        match &l.disposition {
            Disposition::DeleteNow => {
                if !deleted.contains(&what) {
                    deleted.push(what);
                }
            }
            Disposition::KeepRestricted { reason, until } => {
                let line = format!("{what}: gesperrt aufbewahrt bis {} – {}", date(*until), reason.label_de());
                if !kept.contains(&line) {
                    kept.push(line);
                }
            }
        }
    }
    let mut out = String::from("Ihr Antrag auf Löschung (Art. 17 DSGVO) wurde ausgeführt.\n\nGelöscht:\n");
    for d in &deleted {
        out.push_str(&format!("- {d}\n"));
    }
    if deleted.is_empty() {
        out.push_str("- (nichts sofort löschbar)\n");
    }
    if !kept.is_empty() {
        out.push_str("\nAufbewahrt, aber für jede andere Verwendung gesperrt (Art. 17 Abs. 3, Art. 18 DSGVO):\n");
        for k in &kept {
            out.push_str(&format!("- {k}\n"));
        }
        out.push_str("Danach wird es ohne weiteren Antrag gelöscht.\n");
    }
    out.push_str(
        "\nIhre Kontaktdaten stehen als verschlüsselter Prüfwert auf unserer Werbesperrliste, damit Sie nicht \
         erneut angesprochen werden.\n\nYour erasure request (Art. 17 GDPR) has been carried out. Deleted: ",
    );
    out.push_str(&format!("{} item(s). ", lines.iter().filter(|l| l.disposition == Disposition::DeleteNow).count()));
    if let Some(u) = kept_until(lines) {
        out.push_str(&format!("Kept restricted because the law requires it, at the latest until {}; ", date(u)));
        out.push_str("then deleted without further request. ");
    }
    out.push_str("Your contact details are on our suppression list as a keyed hash only.\n");
    out
}

pub mod sweep;
#[cfg(test)]
mod tests;
