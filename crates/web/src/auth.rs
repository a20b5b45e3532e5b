//! Authentication by API key (`Authorization: Bearer knst_…`) and the role matrix.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use konsent_domain::ids::{OrgUnitId, TenantId};
use konsent_domain::ledger::Actor;
use konsent_service::apikeys::{self, Role};

use crate::problem::ApiError;

/// What a caller may do. Each route names the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Ask the gate (`/v1/check`).
    Check,
    /// Log uses (calls, sends).
    LogUse,
    /// Record consents (web, verbal, import), withdrawals, objections.
    RecordConsent,
    /// Read persons, consents, timelines.
    ReadPersons,
    /// Create and correct persons.
    WritePersons,
    /// Manage advertisers, categories, texts.
    ManageCatalog,
    /// Read evidence details.
    ReadEvidence,
    /// Export lists.
    Export,
    /// Erase persons.
    Erase,
    /// Manage suppression entries.
    ManageSuppression,
    /// Manage API keys.
    ManageKeys,
    /// Approve a consent captured by someone else (four-eyes).
    ApproveConsent,
    /// Change the tenant's settings.
    ManageSettings,
    /// Register and remove webhooks, list and replay their deliveries.
    ManageWebhooks,
}

impl Permission {
    /// What is not allowed, German and English, for error messages.
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Self::Check => ("Kontakte prüfen", "check contacts"),
            Self::LogUse => ("Nutzungen protokollieren", "log uses"),
            Self::RecordConsent => ("Einwilligungen erfassen", "record consents"),
            Self::ReadPersons => ("Personen lesen", "read persons"),
            Self::WritePersons => ("Personen ändern", "change persons"),
            Self::ManageCatalog => {
                ("Werbende, Sparten und Texte verwalten", "manage advertisers, categories and texts")
            }
            Self::ReadEvidence => ("Nachweise lesen", "read evidence"),
            Self::Export => ("exportieren", "export"),
            Self::Erase => ("löschen", "erase"),
            Self::ManageSuppression => ("Werbesperren verwalten", "manage suppression entries"),
            Self::ManageKeys => ("API-Schlüssel verwalten", "manage API keys"),
            Self::ApproveConsent => ("Einwilligungen freigeben", "approve consents"),
            Self::ManageSettings => ("die Einstellungen ändern", "change the settings"),
            Self::ManageWebhooks => ("Webhooks verwalten", "manage webhooks"),
        }
    }
}

/// The role matrix: an agent may check, log uses and record a verbal consent, but may not read
/// evidence, export or erase.
pub fn allowed(role: Role, p: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Agent => matches!(p, Check | LogUse | RecordConsent | WritePersons),
        Role::Marketing => matches!(p, Check | LogUse | ReadPersons | ManageCatalog | Export | ManageSuppression),
        Role::Compliance => {
            matches!(
                p,
                Check
                    | ReadPersons
                    | WritePersons
                    | RecordConsent
                    | ReadEvidence
                    | Export
                    | Erase
                    | ManageSuppression
                    | ApproveConsent
            )
        }
        Role::Integration => {
            matches!(p, Check | LogUse | RecordConsent | ReadPersons | WritePersons | ManageSuppression)
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Tenant of the key: every query is scoped to it.
    pub tenant: TenantId,
    /// Role.
    pub role: Role,
    /// Key id (pseudonymous actor).
    pub key_id: String,
    /// Optional org-unit restriction.
    pub org_unit: Option<OrgUnitId>,
}

impl Caller {
    /// Fails with 403 unless the role has `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if allowed(self.role, p) { Ok(()) } else { Err(ApiError::forbidden(p.describe())) }
    }
    /// Whether an org-unit-restricted key may see a person owned by `person_org_unit`.
    pub fn sees(&self, person_org_unit: Option<OrgUnitId>) -> bool {
        self.org_unit.is_none_or(|mine| person_org_unit == Some(mine))
    }

    /// The ledger actor.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey(self.key_id.clone())
    }
}

impl FromRequestParts<crate::AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &crate::AppState) -> Result<Self, Self::Rejection> {
        let k = &s.k;
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let token = header.strip_prefix("Bearer ").ok_or_else(ApiError::unauthorized)?.trim();
        let row = apikeys::authenticate(k, token).await.map_err(ApiError::from)?.ok_or_else(ApiError::unauthorized)?;
        let role: Role = row.role.parse().map_err(|_| ApiError::unauthorized())?;
        Ok(Caller { tenant: row.tenant_id, role, key_id: row.id, org_unit: row.org_unit_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_may_check_and_log_but_not_read_evidence_export_or_erase() {
        assert!(allowed(Role::Agent, Permission::Check));
        assert!(allowed(Role::Agent, Permission::LogUse));
        assert!(allowed(Role::Agent, Permission::RecordConsent));
        for p in [Permission::ReadEvidence, Permission::Export, Permission::Erase, Permission::ManageKeys] {
            assert!(!allowed(Role::Agent, p), "{p:?}");
        }
        assert!(allowed(Role::Compliance, Permission::ReadEvidence));
        assert!(!allowed(Role::Marketing, Permission::ReadEvidence));
        // Webhooks send data out of the system and take it in: the admin's alone.
        for r in [Role::Agent, Role::Marketing, Role::Compliance, Role::Integration] {
            assert!(!allowed(r, Permission::ManageWebhooks), "{r:?}");
        }
        assert!(allowed(Role::Admin, Permission::ManageWebhooks));
    }
}
