//! Exports of a frozen segment: each included member checked again, written in a tool's format,
//! optionally logged as a use.

use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::gate::{CampaignPolicy, GateRequest};
use konsent_domain::ids::{SegmentId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_store::queries;
use serde::Serialize;

use super::{PAGE, format_channel};
use crate::context::Konsent;
use crate::error::ServiceError;

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest {
    /// The frozen segment.
    pub segment: SegmentId,
    /// The tool's format.
    pub format: konsent_formats::export::ExportFormat,
    /// Header language where the format has a choice.
    pub lang: konsent_formats::export::Lang,
    /// Log every written contact as a use.
    pub as_use: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    /// Contacts written.
    pub rows: u64,
    /// Included members whose consent, suppression or objection changed since freezing: left out.
    pub changed: u64,
    /// Members without the contact data the format needs (e.g. no e-mail address): left out.
    pub skipped: u64,
    /// Every written contact was logged as a use.
    pub as_use: bool,
}

impl Konsent {
    /// Writes the included members of a frozen segment in a tool's format. Each member is checked
    /// again first: whoever withdrew, objected or was suppressed since freezing is left out
    /// (honoured everywhere at once). With `as_use` every written contact is logged as a use of
    /// the consents relied on (R28). A segment past its validity is refused.
    pub async fn export_segment<W: std::io::Write>(
        &self,
        tenant: TenantId,
        actor: &Actor,
        request: &ExportRequest,
        out: W,
    ) -> Result<(W, ExportSummary), ServiceError> {
        use konsent_formats::export::{ExportContact, ExportOptions, ExportWriter};
        let ExportRequest { segment: id, format, lang, as_use } = *request;
        let seg = self.segment(tenant, id).await?;
        let now = self.now();
        if now > seg.valid_until {
            return Err(ServiceError::Conflict(format!(
                "segment {id} expired at {}; freeze a new one so the list reflects today's consents",
                seg.valid_until
            )));
        }
        if let Some(ch) = format_channel(format)
            && ch.contact_kind() != seg.spec.channel.contact_kind()
        {
            return Err(ServiceError::invalid(
                "format",
                format!("{} braucht ein Segment für {} / needs a segment of that channel", format.name(), ch.as_str()),
            ));
        }
        let options = ExportOptions {
            list_name: Some(seg.spec.name.clone()),
            campaign_id: Some(id.to_string()),
            valid_until: Some(seg.valid_until),
            language: lang,
        };
        let io = |e: konsent_formats::export::ExportError| ServiceError::Conflict(format!("export failed: {e}"));
        let mut w = ExportWriter::new(out, format, options).map_err(io)?;
        let advertiser = self.advertiser_name(tenant, seg.spec.advertiser).await?;
        let mut policy = CampaignPolicy { robinson_required: seg.spec.robinson.required, ..CampaignPolicy::default() };
        if let Some(m) = seg.spec.staleness_months {
            policy.staleness_months.insert(seg.spec.channel, m);
        }
        // Included members were not on the Robinson list when frozen.
        if seg.spec.robinson.list.is_some() {
            policy.robinson_match = Some(false);
        }
        let req = GateRequest {
            channel: seg.spec.channel,
            advertiser: seg.spec.advertiser,
            categories: seg.spec.categories.clone(),
            policy,
            now,
        };
        let kind = seg.spec.channel.contact_kind();
        let bi = self.keys.blind_index(tenant);
        let mut sum = ExportSummary { as_use, ..Default::default() };
        let mut after = 0;
        loop {
            let page = queries::segment_members(&self.db, tenant, id, after, PAGE, true).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let ids: Vec<_> = page.iter().map(|m| m.contact_point_id).collect();
            let mut found = self.contact_values(tenant, &ids).await?;
            let values: Vec<Option<ContactValue>> = page.iter().map(|m| found.remove(&m.contact_point_id)).collect();
            let keys: Vec<(String, ContactKind)> =
                values.iter().flatten().map(|v| (bi.index(&v.match_key()), kind)).collect();
            let states = self.load_key_states(tenant, &keys).await?;
            let mut uses = Vec::new();
            for (m, value) in page.iter().zip(values) {
                let Some(value) = value else {
                    sum.changed += 1;
                    continue;
                };
                let state = states.get(&bi.index(&value.match_key()));
                let p = state.and_then(|s| s.persons.iter().find(|p| p.person_id == m.person_id));
                let (Some(state), Some(p)) = (state, p) else {
                    sum.changed += 1;
                    continue;
                };
                let d = p.decide(&state.suppressions, &req);
                if !d.allowed {
                    sum.changed += 1;
                    continue;
                }
                let consent = d.relied_on.first().and_then(|c| p.consents.iter().find(|x| x.id == *c));
                let text = consent.and_then(|c| p.texts.iter().find(|t| t.id == c.text_id));
                let data = p.data.as_ref();
                let addr = data.and_then(|d| d.address.as_ref());
                let contact = ExportContact {
                    person_id: m.person_id.to_string(),
                    email: match &value {
                        ContactValue::Email(e) => Some(e.as_str().to_string()),
                        _ => None,
                    },
                    phone: match &value {
                        ContactValue::Phone(p) => Some(p.as_str().to_string()),
                        _ => None,
                    },
                    salutation: None,
                    first_name: data.map(|d| d.first_name.clone()).filter(|s| !s.is_empty()),
                    last_name: data.map(|d| d.last_name.clone()).filter(|s| !s.is_empty()),
                    company: None,
                    street: addr.map(|a| a.street.clone()),
                    postcode: addr.map(|a| a.postcode.clone()),
                    city: addr.map(|a| a.city.clone()),
                    country: addr.map(|a| a.country.clone()),
                    consent_id: consent.map(|c| c.id.to_string()).unwrap_or_default(),
                    channel: seg.spec.channel.as_str().to_string(),
                    consent_given_at: consent.map_or(now, |c| c.given_at),
                    consent_text_version: text.map(|t| format!("{} v{}", t.key, t.version)).unwrap_or_default(),
                    advertiser: advertiser.clone(),
                    tags: vec![],
                };
                match w.write(&contact) {
                    Ok(()) => sum.rows += 1,
                    Err(e) if e.is_row_error() => {
                        sum.skipped += 1;
                        continue;
                    }
                    Err(e) => return Err(io(e)),
                }
                if as_use {
                    let record = konsent_domain::usage::UseRecord {
                        id: self.id(konsent_domain::ids::UseId::from_parts),
                        person_id: m.person_id,
                        contact_point_id: m.contact_point_id,
                        channel: seg.spec.channel,
                        advertiser_id: seg.spec.advertiser,
                        consent_ids: d.relied_on.iter().copied().collect(),
                        campaign: Some(format!("segment {id}")),
                        executing_party: None,
                        agent_pseudonym: None,
                        outcome: konsent_domain::usage::UseOutcome::Sent,
                        at: now,
                        decision_snapshot: None,
                    };
                    uses.push(self.use_event(actor, record));
                }
            }
            if !uses.is_empty() {
                self.append(tenant, uses, vec![]).await?;
            }
        }
        let (out, rows) = w.finish().map_err(io)?;
        debug_assert_eq!(rows, sum.rows);
        let body = EventBody::SegmentExported {
            segment_id: id,
            format: format.name().to_string(),
            rows: sum.rows,
            changed: sum.changed,
            as_use,
            at: now,
        };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok((out, sum))
    }
}
