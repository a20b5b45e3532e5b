//! Reconciliation with a newsletter tool (R39, R63): its export read back and every address
//! compared with what the gate says here — subscribed there but not allowed here (to unsubscribe
//! there now), and unsubscribed or bounced there but still allowed here (to import).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use konsent_domain::channel::Channel;
use konsent_domain::contact::{ContactValue, EmailAddress};
use konsent_domain::gate::CampaignPolicy;
use konsent_domain::ids::{AdvertiserId, TenantId};
use konsent_formats::import::{Format, SourceStatus, open_path};
use serde::Serialize;

use crate::context::Konsent;
use crate::error::ServiceError;
use crate::gate::CheckRequest;

/// One address where the tool and Konsent disagree.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Row in the export (and file inside a ZIP).
    pub row: u64,
    /// File inside a ZIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The tool's record id, to find it there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The address (the operator acts on it in the tool).
    pub email: String,
    /// The tool's status.
    pub status_there: String,
    /// Why Konsent does not allow e-mail advertising (gate reason codes), when it does not.
    pub reasons_here: Vec<String>,
}

/// The comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reconciliation {
    /// Rows read.
    pub rows: u64,
    /// Subscribed there and allowed here.
    pub in_sync: u64,
    /// Subscribed there but not allowed here: unsubscribe them in the tool.
    pub subscribed_there_blocked_here: Vec<Mismatch>,
    /// Unsubscribed, bounced or complained there but still allowed here: import the export.
    pub opted_out_there_allowed_here: Vec<Mismatch>,
    /// Rows without a usable address.
    pub unreadable: u64,
    /// Blocked rows by reason code.
    pub by_reason: BTreeMap<String, u64>,
}

impl Konsent {
    /// Compares a tool's export with the gate for e-mail advertising by `advertiser`.
    pub async fn reconcile(
        &self,
        tenant: TenantId,
        path: &Path,
        format: Format,
        mapping: Option<&konsent_formats::import::Mapping>,
        advertiser: AdvertiserId,
    ) -> Result<Reconciliation, ServiceError> {
        let rows = open_path(path, format, mapping).map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        let mut out = Reconciliation::default();
        let mut batch = Vec::new();
        for row in rows {
            out.rows += 1;
            let Ok(row) = row else {
                out.unreadable += 1;
                continue;
            };
            let Some(email) = row.email.as_deref().and_then(|e| EmailAddress::parse(e).ok()) else {
                out.unreadable += 1;
                continue;
            };
            batch.push((row, email));
            if batch.len() == 500 {
                self.compare(tenant, advertiser, std::mem::take(&mut batch), &mut out).await?;
            }
        }
        self.compare(tenant, advertiser, batch, &mut out).await?;
        Ok(out)
    }

    async fn compare(
        &self,
        tenant: TenantId,
        advertiser: AdvertiserId,
        batch: Vec<(konsent_formats::import::ImportRow, EmailAddress)>,
        out: &mut Reconciliation,
    ) -> Result<(), ServiceError> {
        let reqs: Vec<CheckRequest> = batch
            .iter()
            .map(|(_, e)| CheckRequest {
                contact: ContactValue::Email(e.clone()),
                channel: Channel::Email,
                advertiser,
                categories: BTreeSet::new(),
                policy: CampaignPolicy::default(),
                campaign: None,
            })
            .collect();
        let decisions = self.check_many(tenant, &reqs).await?;
        for ((row, email), d) in batch.into_iter().zip(decisions) {
            let d = d?;
            let subscribed = row.status == SourceStatus::Subscribed;
            let opted_out =
                matches!(row.status, SourceStatus::Unsubscribed | SourceStatus::Cleaned | SourceStatus::Complained);
            let reasons: Vec<String> = d.decision.codes().into_iter().map(String::from).collect();
            let mismatch = || Mismatch {
                row: row.row,
                file: row.file.clone(),
                external_id: row.external_id.clone(),
                email: email.as_str().to_string(),
                status_there: row.status.as_str().to_string(),
                reasons_here: reasons.clone(),
            };
            if subscribed && !d.decision.allowed {
                for r in &reasons {
                    *out.by_reason.entry(r.clone()).or_default() += 1;
                }
                out.subscribed_there_blocked_here.push(mismatch());
            } else if subscribed {
                out.in_sync += 1;
            } else if opted_out && d.decision.allowed {
                out.opted_out_there_allowed_here.push(mismatch());
            }
        }
        Ok(())
    }
}
