//! Campaign segments (R29, R30, R31): the universe of one channel and advertiser evaluated by the
//! gate, every contact point in or out with its reasons, frozen with the hash of its member list;
//! Robinson lists imported as hashes; exports of a frozen segment for newsletter tools and
//! dialers, which leave out whoever opted out since freezing and may be logged as uses.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use konsent_domain::channel::Channel;
use konsent_domain::contact::{ContactKind, ContactValue};
use konsent_domain::gate::{CampaignPolicy, GateRequest};
use konsent_domain::ids::{SegmentId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::segment::{Member, SegmentSpec};
use konsent_store::{SideWrite, queries};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::context::Konsent;
use crate::error::ServiceError;

/// Contact points evaluated per page.
const PAGE: i64 = 500;

/// A frozen segment's summary.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSummary {
    /// Id.
    pub id: SegmentId,
    /// What it selects.
    pub spec: SegmentSpec,
    /// Contact points in the universe.
    pub members: u64,
    /// May be contacted.
    pub included: u64,
    /// Out, by reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Frozen at.
    pub frozen_at: Timestamp,
    /// Exports usable until.
    pub valid_until: Timestamp,
}

/// The hash the providers use for a Robinson list entry: SHA-256 (hex) of the lower-case e-mail
/// address or of the number in E.164 form (`+49…`).
pub fn robinson_hash(c: &ContactValue) -> String {
    let plain = match c {
        ContactValue::Email(e) => e.as_str().trim().to_lowercase(),
        ContactValue::Phone(p) => p.as_str().to_string(),
        other => other.match_key(),
    };
    hex::encode(Sha256::digest(plain.as_bytes()))
}

impl Konsent {
    /// Evaluates and freezes a segment: see the module documentation.
    pub async fn freeze_segment(
        &self,
        tenant: TenantId,
        actor: &Actor,
        spec: SegmentSpec,
    ) -> Result<SegmentSummary, ServiceError> {
        let advertisers = queries::advertisers(&self.db, tenant).await?;
        if !advertisers.iter().any(|a| a.id == spec.advertiser) {
            return Err(ServiceError::invalid(
                "advertiser",
                format!("kein Werbender {} in diesem Mandanten / no advertiser in this tenant", spec.advertiser),
            ));
        }
        if spec.name.trim().is_empty() {
            return Err(ServiceError::invalid("name", "Pflichtfeld / is required"));
        }
        let now = self.now();
        let mut policy = CampaignPolicy { robinson_required: spec.robinson.required, ..CampaignPolicy::default() };
        if let Some(m) = spec.staleness_months {
            policy.staleness_months.insert(spec.channel, m);
        }
        let robinson = self.robinson_set(tenant, &spec, now).await?;
        let req = GateRequest {
            channel: spec.channel,
            advertiser: spec.advertiser,
            categories: spec.categories.clone(),
            policy,
            now,
        };
        queries::refresh_statistics(&self.db).await?;
        let kind = spec.channel.contact_kind();
        let id = self.id(SegmentId::from_parts);
        let mut hasher = Sha256::new();
        let (mut members, mut included, mut seq) = (0u64, 0u64, 0i64);
        let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
        let mut after = None;
        loop {
            let page =
                queries::contact_points_page(&self.db, tenant, kind.as_str(), spec.org_unit, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.0);
            let keys: Vec<(String, ContactKind)> = page.iter().map(|(_, _, k)| (k.clone(), kind)).collect();
            let states = self.load_key_states(tenant, &keys).await?;
            let values = match &robinson {
                Some(_) => self.contact_values(tenant, &page.iter().map(|(cp, _, _)| *cp).collect::<Vec<_>>()).await?,
                None => Default::default(),
            };
            let mut rows = Vec::new();
            for (cp, person, key) in &page {
                let Some(state) = states.get(key) else { continue };
                let Some(p) = state.persons.iter().find(|p| p.person_id == *person && p.contact_point.id == *cp) else {
                    continue;
                };
                if !p.consents.iter().any(|c| spec.selects(c)) {
                    continue;
                }
                let mut r = req.clone();
                if let Some(set) = &robinson {
                    let listed = values.get(cp).is_some_and(|v| set.contains(&robinson_hash(v)));
                    r.policy.robinson_match = Some(listed);
                }
                let d = p.decide(&state.suppressions, &r);
                let m = Member {
                    person_id: *person,
                    contact_point_id: *cp,
                    included: d.allowed,
                    reasons: d.codes().into_iter().map(String::from).collect(),
                    consents: d.relied_on.clone(),
                };
                members += 1;
                if m.included {
                    included += 1;
                }
                for code in &m.reasons {
                    *by_reason.entry(code.clone()).or_default() += 1;
                }
                seq += 1;
                let line = serde_json::to_string(&m).unwrap_or_default();
                hasher.update(line.as_bytes());
                hasher.update(b"\n");
                rows.push((
                    seq,
                    m.person_id,
                    m.contact_point_id,
                    m.included,
                    serde_json::to_string(&m.reasons).unwrap_or_default(),
                    serde_json::to_string(&m.consents).unwrap_or_default(),
                ));
            }
            if !rows.is_empty() {
                let side = SideWrite::SegmentMembers { segment_id: id, members: rows };
                self.append(tenant, vec![], vec![side]).await?;
            }
        }
        let valid_until = spec.valid_until(now);
        let body = EventBody::SegmentFrozen {
            segment_id: id,
            spec: Box::new(spec.clone()),
            members,
            included,
            by_reason: by_reason.clone(),
            members_sha256: hex::encode(hasher.finalize()),
            valid_until,
            at: now,
        };
        self.append(tenant, vec![self.pending(actor, body)], vec![]).await?;
        Ok(SegmentSummary { id, spec, members, included, by_reason, frozen_at: now, valid_until })
    }

    /// The hashes of the campaign's Robinson list, when it must be matched (R31). A required
    /// match without a list, or with one older than allowed, matches nobody: the gate then
    /// blocks everyone with `robinson_check_missing`.
    async fn robinson_set(
        &self,
        tenant: TenantId,
        spec: &SegmentSpec,
        now: Timestamp,
    ) -> Result<Option<HashSet<String>>, ServiceError> {
        let Some(list) = spec.robinson.list.as_deref() else { return Ok(None) };
        let Some((_, imported)) = queries::robinson_list(&self.db, tenant, list).await? else {
            return Err(ServiceError::invalid(
                "robinson.list",
                format!("keine Robinsonliste '{list}' importiert / no Robinson list '{list}' imported"),
            ));
        };
        let max_age = jiff::SignedDuration::from_hours(24 * i64::from(spec.robinson.max_age_days.unwrap_or(90)));
        if now - imported > max_age {
            return Err(ServiceError::invalid(
                "robinson.list",
                format!(
                    "Liste '{list}' ist älter als {} Tage, bitte eine aktuelle importieren / the list is older than that; import a current one",
                    max_age.as_hours() / 24
                ),
            ));
        }
        Ok(Some(queries::robinson_hashes(&self.db, tenant, list).await?.into_iter().collect()))
    }

    /// A frozen segment.
    pub async fn segment(&self, tenant: TenantId, id: SegmentId) -> Result<SegmentSummary, ServiceError> {
        let row = queries::segment(&self.db, tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("segment {id}")))?;
        summary(row)
    }

    /// The tenant's frozen segments, newest first.
    pub async fn segments(&self, tenant: TenantId) -> Result<Vec<SegmentSummary>, ServiceError> {
        queries::segments(&self.db, tenant).await?.into_iter().map(summary).collect()
    }

    /// Imports a Robinson list: one SHA-256 hex per line (see [`robinson_hash`]); a header line
    /// and blank lines are skipped, anything else is an error naming the line.
    pub async fn import_robinson(
        &self,
        tenant: TenantId,
        actor: &Actor,
        list: &str,
        bytes: &[u8],
    ) -> Result<u64, ServiceError> {
        let list = list.trim();
        if list.is_empty() || list.len() > 100 {
            return Err(ServiceError::invalid(
                "list",
                "die Liste benennen (1–100 Zeichen), z. B. idi-2026-11 / name the list (1–100 characters), e.g. idi-2026-11",
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ServiceError::invalid("file", "ist kein UTF-8-Text / is not UTF-8 text"))?;
        let mut hashes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let h = line.trim().trim_matches('"').to_ascii_lowercase();
            if h.is_empty() || (i == 0 && !h.chars().all(|c| c.is_ascii_hexdigit())) {
                continue;
            }
            if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(ServiceError::invalid(
                    format!("line {}", i + 1),
                    "ist kein SHA-256-Hash (64 Hexziffern) / is not a SHA-256 hash (64 hex digits)",
                ));
            }
            hashes.push(h);
        }
        let n = hashes.len() as u64;
        let file_sha256 = konsent_domain::crypto::sha256_hex(bytes);
        let mut first = true;
        let mut chunks: Vec<Vec<String>> = hashes.chunks(5000).map(<[String]>::to_vec).collect();
        if chunks.is_empty() {
            chunks.push(vec![]);
        }
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let side = vec![SideWrite::RobinsonEntries { list: list.into(), replace: first, hashes: chunk }];
            first = false;
            let events = if i == last {
                let at = self.now();
                vec![self.pending(
                    actor,
                    EventBody::RobinsonListImported {
                        list: list.into(),
                        entries: n,
                        file_sha256: file_sha256.clone(),
                        at,
                    },
                )]
            } else {
                vec![]
            };
            self.append(tenant, events, side).await?;
        }
        Ok(n)
    }
}

fn summary(row: queries::SegmentRow) -> Result<SegmentSummary, ServiceError> {
    let spec: SegmentSpec =
        serde_json::from_str(&row.spec).map_err(|e| ServiceError::Conflict(format!("segment spec unreadable: {e}")))?;
    let counts: serde_json::Value = serde_json::from_str(&row.counts).unwrap_or_default();
    Ok(SegmentSummary {
        id: row.id,
        spec,
        members: counts["members"].as_u64().unwrap_or(0),
        included: counts["included"].as_u64().unwrap_or(0),
        by_reason: serde_json::from_value(counts["by_reason"].clone()).unwrap_or_default(),
        frozen_at: row.frozen_at,
        valid_until: row.valid_until,
    })
}

/// The channel a format writes.
pub fn format_channel(f: konsent_formats::export::ExportFormat) -> Option<Channel> {
    use konsent_formats::export::ExportFormat::*;
    match f {
        Mailchimp | CleverReach | HubSpot => Some(Channel::Email),
        Dialer => Some(Channel::PhoneLive),
        JsonLines => None,
    }
}

mod export;
pub use export::{ExportRequest, ExportSummary};
