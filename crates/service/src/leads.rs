//! The Prüfpflicht before a phone campaign (R24): every lead of a list is checked against the gate
//! (valid consent for this advertiser, § 7a completeness, suppression, objection, staleness) and
//! comes back allowed or blocked with reason codes; the check itself goes into the ledger.

use std::collections::{BTreeMap, BTreeSet};

use konsent_domain::channel::{Channel, ProductCategory};
use konsent_domain::contact::{ContactValue, PhoneE164};
use konsent_domain::crypto::sha256_hex;
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::{AdvertiserId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;
use crate::gate::CheckRequest;
use crate::table::Table;

const PHONE: &[&str] = &["phone", "telefon", "telefonnummer", "rufnummer", "mobile", "mobil", "number", "msisdn"];
const REF: &[&str] = &["ref", "id", "lead_id", "referenz", "kundennummer"];

/// The campaign a lead list is checked for.
#[derive(Debug, Clone)]
pub struct LeadCampaign {
    /// Advertiser.
    pub advertiser: AdvertiserId,
    /// Product categories advertised.
    pub categories: BTreeSet<ProductCategory>,
    /// Campaign id.
    pub campaign: Option<String>,
}

/// One lead as given.
#[derive(Debug, Clone)]
pub struct Lead {
    /// The caller's reference (row number when none).
    pub reference: String,
    /// The number as written.
    pub phone: String,
}

/// The verdict on one lead.
#[derive(Debug, Clone, Serialize)]
pub struct LeadResult {
    /// Reference.
    pub reference: String,
    /// Normalised number (E.164), if it parsed.
    pub phone: Option<String>,
    /// May be called.
    pub allowed: bool,
    /// Reason codes (empty when allowed).
    pub reasons: Vec<String>,
    /// German explanation.
    pub reasons_de: Vec<String>,
    /// English explanation.
    pub reasons_en: Vec<String>,
    /// Consents the call would rely on.
    pub consent_ids: Vec<String>,
}

/// The report of a lead check.
#[derive(Debug, Clone, Serialize)]
pub struct LeadReport {
    /// Leads checked.
    pub total: u64,
    /// Allowed.
    pub allowed: u64,
    /// Blocked.
    pub blocked: u64,
    /// Blocked leads per reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Per lead, in input order.
    pub leads: Vec<LeadResult>,
}

impl LeadReport {
    /// The report as CSV (`;`, German spreadsheet default), safe against formula injection.
    pub fn to_csv(&self) -> String {
        let safe = |s: &str| {
            let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
            if s.contains([';', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
        };
        let mut out = String::from("ref;telefon;erlaubt;gruende;begruendung;einwilligungen\n");
        for l in &self.leads {
            out.push_str(&format!(
                "{};{};{};{};{};{}\n",
                safe(&l.reference),
                // Konsent's own E.164 (`+` and digits): no formula, and dialers need the `+`.
                l.phone.as_deref().unwrap_or_default(),
                if l.allowed { "ja" } else { "nein" },
                safe(&l.reasons.join(",")),
                safe(&l.reasons_de.join(" | ")),
                l.consent_ids.join(",")
            ));
        }
        out
    }
}

/// Reads a lead list (CSV with a phone column, optional reference column).
pub fn leads_from_csv(bytes: &[u8]) -> Result<Vec<Lead>, ServiceError> {
    let t = Table::parse(bytes)?;
    let phone = t.require("phone", PHONE)?;
    let reference = t.column(REF);
    Ok(t.rows
        .iter()
        .map(|(row, cells)| Lead {
            reference: reference
                .map(|c| cells[c].clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| format!("row {row}")),
            phone: cells[phone].clone(),
        })
        .collect())
}

impl Konsent {
    /// Checks every lead for a live phone campaign of `advertiser`; records the check.
    pub async fn check_leads(
        &self,
        tenant: TenantId,
        actor: &Actor,
        c: LeadCampaign,
        leads: &[Lead],
        list_sha256: Option<String>,
    ) -> Result<LeadReport, ServiceError> {
        let mut results: Vec<Option<LeadResult>> = vec![None; leads.len()];
        let mut reqs = Vec::new();
        let mut at = Vec::new();
        for (i, l) in leads.iter().enumerate() {
            match PhoneE164::parse(&l.phone) {
                Ok(p) => {
                    reqs.push(CheckRequest {
                        contact: ContactValue::Phone(p),
                        channel: Channel::PhoneLive,
                        advertiser: c.advertiser,
                        categories: c.categories.clone(),
                        policy: CampaignPolicy::default(),
                        campaign: c.campaign.clone(),
                    });
                    at.push(i);
                }
                Err(e) => {
                    // The parser's message is "German / English": each list gets its half.
                    let msg = e.to_string();
                    let (de, en) = msg.split_once(" / ").unwrap_or((&msg, &msg));
                    results[i] = Some(LeadResult {
                        reference: l.reference.clone(),
                        phone: None,
                        allowed: false,
                        reasons: vec!["invalid_number".into()],
                        reasons_de: vec![format!("keine gültige Rufnummer: {de}")],
                        reasons_en: vec![format!("not a valid phone number: {en}")],
                        consent_ids: vec![],
                    })
                }
            }
        }
        for (chunk_reqs, chunk_at) in reqs.chunks(1000).zip(at.chunks(1000)) {
            let outcomes = self.check_many(tenant, chunk_reqs).await?;
            for ((o, &i), req) in outcomes.into_iter().zip(chunk_at).zip(chunk_reqs) {
                let o = o?;
                let d = &o.decision;
                results[i] = Some(LeadResult {
                    reference: leads[i].reference.clone(),
                    phone: match &req.contact {
                        ContactValue::Phone(p) => Some(p.as_str().to_string()),
                        _ => None,
                    },
                    allowed: d.allowed,
                    reasons: d.reasons.iter().map(|r| r.code().to_string()).collect(),
                    reasons_de: d.reasons.iter().map(|r| r.label_de().to_string()).collect(),
                    reasons_en: d.reasons.iter().map(|r| r.label_en().to_string()).collect(),
                    consent_ids: d.relied_on.iter().map(|c| c.to_string()).collect(),
                });
            }
        }
        let leads_out: Vec<LeadResult> = results.into_iter().flatten().collect();
        let mut by_reason = BTreeMap::new();
        for l in leads_out.iter().filter(|l| !l.allowed) {
            for r in &l.reasons {
                *by_reason.entry(r.clone()).or_insert(0) += 1;
            }
        }
        let allowed = leads_out.iter().filter(|l| l.allowed).count() as u64;
        let total = leads_out.len() as u64;
        let list_sha256 = list_sha256.unwrap_or_else(|| {
            sha256_hex(leads.iter().map(|l| format!("{};{}\n", l.reference, l.phone)).collect::<String>().as_bytes())
        });
        let ev = EventBody::LeadsChecked {
            advertiser: c.advertiser,
            campaign: c.campaign,
            leads: total,
            allowed,
            list_sha256,
        };
        self.append(tenant, vec![self.pending(actor, ev)], vec![]).await?;
        Ok(LeadReport { total, allowed, blocked: total - allowed, by_reason, leads: leads_out })
    }
}
