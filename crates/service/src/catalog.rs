//! The tenant's catalogue: advertisers, org units and consent text versions (published texts are
//! immutable; a wording change is a new version, R10).

use jiff::Timestamp;
use konsent_domain::channel::CategoryDef;
use konsent_domain::consent::{LintIssue, Scope, lint_text};
use konsent_domain::ids::{AdvertiserId, TenantId, TextId};
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
    /// The legal name of a tenant's advertiser (empty when there is none with that id), as
    /// messages, letters and exports name it.
    pub(crate) async fn advertiser_name(&self, tenant: TenantId, id: AdvertiserId) -> Result<String, ServiceError> {
        Ok(queries::advertisers(&self.db, tenant)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .map(|a| a.legal_name)
            .unwrap_or_default())
    }

    /// Builds the event that registers an advertiser.
    pub fn advertiser_event(&self, actor: &Actor, advertiser: Advertiser) -> PendingEvent {
        self.pending(actor, EventBody::AdvertiserRegistered { advertiser })
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
                return Err(ServiceError::invalid(field, "1 bis 200 Zeichen / must be 1-200 characters"));
            }
        }
        let ev = self.pending(actor, EventBody::CategoryDefined { category });
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
        let version = self.next_version(tenant, &t.key).await?;
        let text = self.text_version(t, version);
        let issues = lint_text(&text, &queries::advertisers(&self.db, tenant).await?);
        Ok((text, issues))
    }

    /// The version number the next publication of family `key` gets (drafts do not count).
    async fn next_version(&self, tenant: TenantId, key: &str) -> Result<u32, ServiceError> {
        let existing = queries::texts(&self.db, tenant).await?;
        Ok(existing
            .iter()
            .filter(|x| x.key == key && x.state != TextState::Draft)
            .map(|x| x.version)
            .max()
            .unwrap_or(0)
            + 1)
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
        self.publish_linted(tenant, actor, text, &issues).await
    }

    async fn publish_linted(
        &self,
        tenant: TenantId,
        actor: &Actor,
        mut text: ConsentTextVersion,
        issues: &[LintIssue],
    ) -> Result<ConsentTextVersion, ServiceError> {
        let errors: Vec<FieldError> = issues
            .iter()
            .filter(|i| i.is_error())
            .map(|i| FieldError {
                field: format!("lint.{}", i.code()),
                message: format!("{} / {}", i.message_de(), i.message_en()),
            })
            .collect();
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        text.state = TextState::Published;
        let ev = self.pending(actor, EventBody::TextPublished { text: Box::new(text.clone()) });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(text)
    }

    /// Saves a draft: a new one (`id` = `None`) or over an existing draft. Drafts may fail the
    /// linter; the findings come back with the draft so an editor can fix them before publishing.
    pub async fn save_draft(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: Option<TextId>,
        t: NewText,
    ) -> Result<(ConsentTextVersion, Vec<LintIssue>), ServiceError> {
        if let Some(id) = id {
            self.draft(tenant, id).await?;
        }
        let (mut text, issues) = self.lint_new_text(tenant, t).await?;
        if let Some(id) = id {
            text.id = id;
        }
        text.state = TextState::Draft;
        let ev = self.pending(actor, EventBody::TextDraftSaved { text: Box::new(text.clone()) });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok((text, issues))
    }

    /// Publishes a draft under its id, with the next version number of its family, after linting
    /// it again (advertisers may have changed since it was saved).
    pub async fn publish_draft(
        &self,
        tenant: TenantId,
        actor: &Actor,
        id: TextId,
    ) -> Result<ConsentTextVersion, ServiceError> {
        let mut text = self.draft(tenant, id).await?;
        text.version = self.next_version(tenant, &text.key).await?;
        let issues = lint_text(&text, &queries::advertisers(&self.db, tenant).await?);
        self.publish_linted(tenant, actor, text, &issues).await
    }

    /// Discards a draft.
    pub async fn discard_draft(&self, tenant: TenantId, actor: &Actor, id: TextId) -> Result<(), ServiceError> {
        self.draft(tenant, id).await?;
        let ev = self.pending(actor, EventBody::TextDraftDiscarded { text_id: id });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(())
    }

    /// Retires a published version: no longer offered on forms; consents given under it stay valid.
    pub async fn retire_text(&self, tenant: TenantId, actor: &Actor, id: TextId) -> Result<(), ServiceError> {
        let text = self.text(tenant, id).await?;
        if text.state != TextState::Published {
            return Err(ServiceError::Conflict(format!(
                "text {id} is {}, only a published text can be retired",
                state_name(text.state)
            )));
        }
        let ev = self.pending(actor, EventBody::TextRetired { text_id: id });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(())
    }

    /// One text version of the tenant.
    pub async fn text(&self, tenant: TenantId, id: TextId) -> Result<ConsentTextVersion, ServiceError> {
        queries::text(&self.db, tenant, id).await?.ok_or_else(|| ServiceError::NotFound(format!("text {id}")))
    }

    /// A text that must still be a draft.
    async fn draft(&self, tenant: TenantId, id: TextId) -> Result<ConsentTextVersion, ServiceError> {
        let text = self.text(tenant, id).await?;
        if text.state != TextState::Draft {
            return Err(ServiceError::Conflict(format!(
                "text {id} is {} and can no longer change (R10): save a new draft of family {:?} instead",
                state_name(text.state),
                text.key
            )));
        }
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

fn state_name(s: TextState) -> &'static str {
    match s {
        TextState::Draft => "a draft",
        TextState::Published => "published",
        TextState::Retired => "retired",
    }
}
