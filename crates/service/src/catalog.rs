//! The tenant's catalogue: advertisers, org units and consent text versions (published texts are
//! immutable; a wording change is a new version, R10).

use jiff::Timestamp;
use konsent_domain::channel::CategoryDef;
use konsent_domain::consent::{LintIssue, Scope, lint_text};
use konsent_domain::ids::{AdvertiserId, EventId, TenantId, TextId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::Advertiser;
use konsent_domain::text::{ConsentTextVersion, PrivacyNoticeRef, TextState, body_sha256};
use konsent_store::{PendingEvent, queries};

use crate::context::Konsent;
use crate::error::{FieldError, ServiceError};

/// A text version to publish.
#[derive(Debug, Clone)]
pub struct NewText {
    /// Family key, e.g. `telefon-2026`.
    pub key: String,
    /// Language (`de`, `en`).
    pub language: String,
    /// Title.
    pub title: String,
    /// Exact body shown.
    pub body: String,
    /// Scope.
    pub scope: Scope,
    /// Valid from.
    pub valid_from: Timestamp,
    /// Valid until.
    pub valid_to: Option<Timestamp>,
    /// Privacy notice.
    pub privacy_notice: PrivacyNoticeRef,
}

impl Konsent {
    /// Builds the event that registers an advertiser.
    pub fn advertiser_event(&self, actor: &Actor, advertiser: Advertiser) -> PendingEvent {
        PendingEvent {
            event_id: self.id(EventId::from_parts),
            actor: actor.clone(),
            body: EventBody::AdvertiserRegistered { advertiser },
        }
    }

    /// Registers an advertiser (legal name, seat, address for service).
    pub async fn register_advertiser(
        &self,
        tenant: TenantId,
        actor: &Actor,
        advertiser: Advertiser,
    ) -> Result<AdvertiserId, ServiceError> {
        let id = advertiser.id;
        self.append(tenant, vec![self.advertiser_event(actor, advertiser)], vec![]).await?;
        Ok(id)
    }

    /// Defines (or relabels) a product category.
    pub async fn define_category(
        &self,
        tenant: TenantId,
        actor: &Actor,
        category: CategoryDef,
    ) -> Result<(), ServiceError> {
        for (field, v) in [("label_de", &category.label_de), ("label_en", &category.label_en)] {
            if v.trim().is_empty() || v.chars().count() > 200 {
                return Err(ServiceError::invalid(field, "must be 1-200 characters"));
            }
        }
        let ev = PendingEvent {
            event_id: self.id(EventId::from_parts),
            actor: actor.clone(),
            body: EventBody::CategoryDefined { category },
        };
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(())
    }

    /// Builds the next version of the text family `key` and lints it (R4–R10, R16) without
    /// storing anything: every finding, errors and warnings.
    pub async fn lint_new_text(
        &self,
        tenant: TenantId,
        t: NewText,
    ) -> Result<(ConsentTextVersion, Vec<LintIssue>), ServiceError> {
        let existing = queries::texts(&self.db, tenant).await?;
        let advertisers = queries::advertisers(&self.db, tenant).await?;
        let version = existing.iter().filter(|x| x.key == t.key).map(|x| x.version).max().unwrap_or(0) + 1;
        let text = self.text_version(t, version);
        let issues = lint_text(&text, &advertisers);
        Ok((text, issues))
    }

    /// Lints and publishes a new text version; lint errors block publishing. The version number
    /// continues the family of `key`.
    pub async fn publish_text(
        &self,
        tenant: TenantId,
        actor: &Actor,
        t: NewText,
    ) -> Result<ConsentTextVersion, ServiceError> {
        let (text, issues) = self.lint_new_text(tenant, t).await?;
        let errors: Vec<FieldError> = issues
            .into_iter()
            .filter(|i| i.is_error())
            .map(|i| FieldError { field: format!("lint.{}", i.code()), message: i.message_de() })
            .collect();
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let ev = PendingEvent {
            event_id: self.id(EventId::from_parts),
            actor: actor.clone(),
            body: EventBody::TextPublished { text: text.clone() },
        };
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(text)
    }

    /// Builds a published text version (not yet stored).
    pub fn text_version(&self, t: NewText, version: u32) -> ConsentTextVersion {
        ConsentTextVersion {
            id: self.id(TextId::from_parts),
            key: t.key,
            version,
            language: t.language,
            title: t.title,
            sha256: body_sha256(&t.body),
            body: t.body,
            scope: t.scope,
            valid_from: t.valid_from,
            valid_to: t.valid_to,
            privacy_notice: t.privacy_notice,
            state: TextState::Published,
        }
    }
}
