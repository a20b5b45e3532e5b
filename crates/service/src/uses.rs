//! Logging uses (calls, sends) against a gate decision (R28): the signed decision token proves
//! what the gate said; the use's ledger entry stores that snapshot and moves the § 7a clock (R23).

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use konsent_domain::ids::{TenantId, UseId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::usage::{UseOutcome, UseRecord};

use crate::context::Konsent;
use crate::error::ServiceError;
use crate::gate::verify_token;

/// How long a decision may be relied on (a dialer checks right before dialling).
pub const DECISION_MAX_AGE: SignedDuration = SignedDuration::from_mins(60);

/// A use to log.
#[derive(Debug, Clone)]
pub struct NewUse {
    /// The decision token from `check`.
    pub decision_token: String,
    /// Attempt, connected call or sent message.
    pub outcome: UseOutcome,
    /// When it happened (default: now); not before the decision, not in the future.
    pub at: Option<Timestamp>,
    /// Campaign id.
    pub campaign: Option<String>,
    /// Executing party (call centre).
    pub executing_party: Option<String>,
    /// Pseudonymous agent code.
    pub agent_pseudonym: Option<String>,
}

impl Konsent {
    /// Logs a use. Refused unless the token is genuine, of this tenant, allowed, recent and
    /// names a known contact point (R28).
    pub async fn record_use(&self, tenant: TenantId, actor: &Actor, u: NewUse) -> Result<UseRecord, ServiceError> {
        let now = self.now();
        let snap = verify_token(self, tenant, &u.decision_token)
            .ok_or_else(|| ServiceError::invalid("decision_id", "keine Entscheidung dieses Mandanten, oder sie wurde verändert / not a decision of this tenant, or it was altered"))?;
        if !snap.allowed {
            return Err(ServiceError::Conflict(format!(
                "the gate blocked this contact ({}); a blocked decision cannot be used",
                snap.reasons.join(", ")
            )));
        }
        if now - snap.decided_at > DECISION_MAX_AGE {
            return Err(ServiceError::Conflict(format!(
                "the decision is older than {} minutes: check again right before the contact",
                DECISION_MAX_AGE.as_mins()
            )));
        }
        let at = u.at.unwrap_or(now);
        if at < snap.decided_at || at > now + SignedDuration::from_mins(1) {
            return Err(ServiceError::invalid(
                "at",
                "muss zwischen der Entscheidung und jetzt liegen / must lie between the decision and now",
            ));
        }
        if u.outcome == UseOutcome::Sent && snap.channel.is_phone()
            || u.outcome != UseOutcome::Sent && !snap.channel.is_phone()
        {
            return Err(ServiceError::invalid(
                "outcome",
                format!("passt nicht zum Kanal / does not fit channel {}", snap.channel),
            ));
        }
        let (Some(person_id), Some(contact_point_id)) = (snap.person_id, snap.contact_point_id) else {
            return Err(ServiceError::Conflict("the decision names no known contact point".into()));
        };
        let record = UseRecord {
            id: self.id(UseId::from_parts),
            person_id,
            contact_point_id,
            channel: snap.channel,
            advertiser_id: snap.advertiser,
            consent_ids: snap.relied_on.iter().copied().collect::<BTreeSet<_>>(),
            campaign: u.campaign.or(snap.campaign.clone()),
            executing_party: u.executing_party,
            agent_pseudonym: u.agent_pseudonym,
            outcome: u.outcome,
            at,
            decision_snapshot: Some(serde_json::to_value(&snap).map_err(|e| ServiceError::Conflict(e.to_string()))?),
        };
        let ev = self.pending(actor, EventBody::UseRecorded { record: Box::new(record.clone()) });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(record)
    }
}
