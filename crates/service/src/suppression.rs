//! The suppression list (Werbesperrdatei): keyed hashes of contact points never to be contacted
//! or re-imported for a scope (R30, R44, R63).

use konsent_domain::contact::ContactValue;
use konsent_domain::ids::{SuppressionId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::suppression::{SuppressionEntry, SuppressionReason, SuppressionScope};
use konsent_store::queries;

use crate::context::Konsent;
use crate::error::ServiceError;

impl Konsent {
    /// Adds a suppression entry for a contact point; only its keyed hash is stored.
    pub async fn suppress(
        &self,
        tenant: TenantId,
        actor: &Actor,
        contact: &ContactValue,
        scope: SuppressionScope,
        reason: SuppressionReason,
        source: &str,
    ) -> Result<SuppressionEntry, ServiceError> {
        let entry = self.suppression_entry(tenant, contact, scope, reason, source);
        let ev = self.pending(actor, EventBody::SuppressionAdded { entry: entry.clone() });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(entry)
    }

    /// A suppression entry for a contact point (its keyed hash only), for callers that append it
    /// together with other events.
    pub(crate) fn suppression_entry(
        &self,
        tenant: TenantId,
        contact: &ContactValue,
        scope: SuppressionScope,
        reason: SuppressionReason,
        source: &str,
    ) -> SuppressionEntry {
        SuppressionEntry {
            id: self.id(SuppressionId::from_parts),
            key_hmac: self.keys.blind_index(tenant).index(&contact.match_key()),
            key_kind: contact.kind(),
            scope,
            reason,
            created_at: self.now(),
            source: source.chars().take(100).collect(),
        }
    }

    /// Suppression entries matching a contact point.
    pub async fn suppressions_for(
        &self,
        tenant: TenantId,
        contact: &ContactValue,
    ) -> Result<Vec<SuppressionEntry>, ServiceError> {
        let key = self.keys.blind_index(tenant).index(&contact.match_key());
        Ok(queries::suppressions_by_key(&self.db, tenant, &key).await?)
    }
}
