//! Current-state tables as projections of the ledger: [`apply`] folds one entry in,
//! [`rebuild`] recreates every projection from the ledger alone.

mod tables;
pub use tables::{dump, rebuild};

use jiff::Timestamp;
use konsent_domain::basis::DocumentedBasis;
use konsent_domain::consent::{ConsentRecord, ConsentStatus, Scope};
use konsent_domain::ids::{ConsentId, TenantId};
use konsent_domain::ledger::{Entry, EventBody};

use crate::bulk::{CONTACT_POINTS, PERSONS, Table};
use crate::consent_data;
use crate::db::{Engine, Tx};
use crate::error::StoreError;
use crate::vals;

fn us(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The `consents` row of a consent record on `engine`, given the record's JSON when the caller
/// has serialised it already (`data` is in [`consent_data`]'s form).
fn consent_row(
    engine: Engine,
    tenant: TenantId,
    c: &ConsentRecord,
    json: Option<String>,
) -> Result<Vec<crate::db::Val>, StoreError> {
    Ok(vals![
        tenant,
        c.id,
        c.person_id,
        c.status.as_str(),
        c.text_id,
        us(c.given_at),
        c.granted_at.map(us),
        c.last_use_at.map(us),
        us(c.last_change_at),
        consent_data::encode(engine, c, json)?
    ])
}

/// Writes all columns of a consent record.
pub(crate) async fn put_consent(tx: &mut Tx, tenant: TenantId, c: &ConsentRecord) -> Result<(), StoreError> {
    let row = consent_row(tx.engine(), tenant, c, None)?;
    tx.exec(crate::bulk::one(&crate::bulk::CONSENTS), row).await?;
    Ok(())
}

/// The row that registering a person or a contact point inserts, with its table (the queued and
/// the direct path write the same row). Its vault columns come from `vault` (an append's vault
/// writes); a replay has none and leaves them NULL for `rebuild` to put back.
fn registration_row(
    engine: Engine,
    t: TenantId,
    at: i64,
    body: &EventBody,
    vault: Option<&mut crate::vault::Pending>,
) -> Option<(&'static Table, Vec<crate::db::Val>)> {
    let mut none = crate::vault::Pending::default();
    let vault = vault.unwrap_or(&mut none);
    Some(match body {
        EventBody::PersonRegistered { person_id, recipient_class, org_unit, data_hash } => {
            let mut row = vals![t, person_id, recipient_class.as_str(), *org_unit, data_hash.clone(), 1_i64, at, at];
            row.extend(vault.person_columns(*person_id, at));
            (&PERSONS, row)
        }
        EventBody::ContactPointAdded { contact_point_id, person_id, kind, blind_index, value_hash } => {
            let mut row = vals![
                t,
                contact_point_id,
                person_id,
                kind.as_str(),
                crate::value::blind_key(engine, blind_index),
                value_hash.clone(),
                at,
                None::<i64>,
                None::<String>
            ];
            row.extend(vault.point_columns(*contact_point_id));
            (&CONTACT_POINTS, row)
        }
        _ => return None,
    })
}

/// Applies one ledger entry like [`apply`], queueing the inserts of new persons, contact points
/// and consents in `bulk`; anything else writes what is queued first.
pub(crate) async fn apply_bulk(tx: &mut Tx, bulk: &mut crate::bulk::Bulk, e: &Entry) -> Result<(), StoreError> {
    apply_bulk_with(tx, bulk, e, None).await
}

/// [`apply_bulk`], given the JSON of the consent a `consent_recorded` entry records when the
/// caller has serialised it already (a batch entry's record holds the same bytes).
pub(crate) async fn apply_bulk_with(
    tx: &mut Tx,
    bulk: &mut crate::bulk::Bulk,
    e: &Entry,
    consent_json: Option<String>,
) -> Result<(), StoreError> {
    let t = e.tenant;
    let at = us(e.recorded_at);
    if let Some((table, row)) = registration_row(tx.engine(), t, at, &e.body, Some(&mut bulk.vault)) {
        match e.body {
            EventBody::ContactPointAdded { contact_point_id, .. } => bulk.push_contact_point(contact_point_id, row),
            _ => bulk.push(table, row),
        }
        return Ok(());
    }
    let queued = match &e.body {
        EventBody::ContactPointVerified { contact_point_id, method, at: when } => {
            bulk.verify_contact_point(*contact_point_id, us(*when), method)
        }
        EventBody::ConsentRecorded { consent } => {
            bulk.push_consent(consent.id, consent_row(tx.engine(), t, consent, consent_json)?)
        }
        _ => false,
    };
    if queued {
        return Ok(());
    }
    bulk.flush(tx).await?;
    check_status_change(tx, t, &e.body).await?;
    apply(tx, e).await
}

/// Refuses a new status change decided on a status that is no longer the stored one (a
/// withdrawal committed in between), one that would make an ended consent valid again (R39,
/// R43), and any edge the status machine does not have (`check_transition`; whether there is new
/// evidence is the service's check): nothing of the append is written. Only appends are checked;
/// a rebuild replays what the ledger holds.
async fn check_status_change(tx: &mut Tx, tenant: TenantId, body: &EventBody) -> Result<(), StoreError> {
    let EventBody::ConsentStatusChanged { consent_id, from, to, .. } = body else { return Ok(()) };
    // The status column alone: the record's JSON is read once, by `apply`.
    let stored: ConsentStatus = tx
        .fetch_optional("SELECT status FROM consents WHERE tenant_id = $1 AND id = $2", vals![tenant, consent_id])
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("event refers to unknown consent {consent_id}")))?
        .text(0)?
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("consent {consent_id} has an unknown status")))?;
    let refused = |detail: String| StoreError::Refused { ended: stored.has_ended(), detail };
    if stored != *from || (stored.has_ended() && to.is_valid_for_processing()) {
        return Err(refused(format!("consent {consent_id} is {stored} now, not {from}; it does not become {to}")));
    }
    konsent_domain::consent::check_transition(stored, *to, true)
        .map_err(|e| refused(format!("consent {consent_id}: {e}")))
}

async fn load_consent(tx: &mut Tx, tenant: TenantId, id: ConsentId) -> Result<ConsentRecord, StoreError> {
    let row = tx
        .fetch_optional("SELECT data FROM consents WHERE tenant_id = $1 AND id = $2", vals![tenant, id])
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("event refers to unknown consent {id}")))?;
    consent_data::decode(&row, 0)
}

/// Applies one ledger entry to the projections.
pub async fn apply(tx: &mut Tx, e: &Entry) -> Result<(), StoreError> {
    let t = e.tenant;
    let at = us(e.recorded_at);
    match &e.body {
        EventBody::TenantCreated { name } => {
            tx.exec(
                "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                vals![t, name.clone(), at],
            )
            .await?;
        }
        EventBody::AdvertiserRegistered { advertiser } => {
            tx.exec(
                "INSERT INTO advertisers (tenant_id, id, legal_name, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET legal_name = excluded.legal_name, data = excluded.data",
                vals![t, advertiser.id, advertiser.legal_name.clone(), serde_json::to_string(advertiser)?],
            )
            .await?;
        }
        EventBody::OrgUnitCreated { org_unit } => {
            tx.exec(
                "INSERT INTO org_units (tenant_id, id, name, parent_id) VALUES ($1, $2, $3, $4)",
                vals![t, org_unit.id, org_unit.name.clone(), org_unit.parent],
            )
            .await?;
        }
        EventBody::CategoryDefined { category } => {
            tx.exec(
                "INSERT INTO categories (tenant_id, code, label_de, label_en) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, code) DO UPDATE SET label_de = excluded.label_de, label_en = excluded.label_en",
                vals![t, category.code.as_str(), category.label_de.clone(), category.label_en.clone()],
            )
            .await?;
        }
        EventBody::FormDefined { form } => {
            tx.exec(
                "INSERT INTO forms (slug, tenant_id, data) VALUES ($1, $2, $3) \
                 ON CONFLICT (slug) DO UPDATE SET data = excluded.data WHERE forms.tenant_id = excluded.tenant_id",
                vals![form.slug.clone(), t, serde_json::to_string(form)?],
            )
            .await?;
        }
        EventBody::TextDraftSaved { text } | EventBody::TextPublished { text } => {
            // A draft may be saved over and published; a published version never changes again.
            let state = if matches!(&e.body, EventBody::TextPublished { .. }) { "published" } else { "draft" };
            tx.exec(
                "INSERT INTO consent_texts (tenant_id, id, text_key, version, language, state, sha256, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, id) DO UPDATE SET text_key = excluded.text_key, version = excluded.version, \
                 language = excluded.language, state = excluded.state, sha256 = excluded.sha256, data = excluded.data \
                 WHERE consent_texts.state = 'draft'",
                vals![
                    t,
                    text.id,
                    text.key.clone(),
                    i64::from(text.version),
                    text.language.clone(),
                    state,
                    text.sha256.clone(),
                    serde_json::to_string(text)?
                ],
            )
            .await?;
        }
        EventBody::TextDraftDiscarded { text_id } => {
            tx.exec(
                "DELETE FROM consent_texts WHERE tenant_id = $1 AND id = $2 AND state = 'draft'",
                vals![t, text_id],
            )
            .await?;
        }
        EventBody::TextRetired { text_id } => {
            tx.exec(
                "UPDATE consent_texts SET state = 'retired' WHERE tenant_id = $1 AND id = $2 AND state = 'published'",
                vals![t, text_id],
            )
            .await?;
        }
        EventBody::PersonCorrected { person_id, data_hash, recipient_class } => {
            tx.exec(
                "UPDATE persons SET data_hash = $3, data_version = data_version + 1, updated_at = $4, \
                 recipient_class = COALESCE($5, recipient_class) WHERE tenant_id = $1 AND id = $2",
                vals![t, person_id, data_hash.clone(), at, recipient_class.map(|c| c.as_str().to_string())],
            )
            .await?;
        }
        EventBody::PersonRegistered { .. } | EventBody::ContactPointAdded { .. } => {
            if let Some((table, row)) = registration_row(tx.engine(), t, at, &e.body, None) {
                tx.exec(crate::bulk::one(table), row).await?;
            }
        }
        EventBody::ContactPointVerified { contact_point_id, method, at: when } => {
            tx.exec(
                "UPDATE contact_points SET verified_at = $3, verified_method = $4 WHERE tenant_id = $1 AND id = $2",
                vals![t, contact_point_id, us(*when), method.clone()],
            )
            .await?;
        }
        EventBody::ConsentRecorded { consent } => put_consent(tx, t, consent).await?,
        EventBody::EvidenceAdded { consent_id, evidence } => {
            let mut c = load_consent(tx, t, *consent_id).await?;
            c.evidence.push(evidence.clone());
            c.last_change_at = e.recorded_at;
            put_consent(tx, t, &c).await?;
        }
        // Kept in the ledger for the proof; the token itself lives in `doi_tokens`.
        EventBody::DoiRequested { .. } | EventBody::ReceiptIssued { .. } | EventBody::OtpSent { .. } => {}
        // Every request of a data subject is tracked against its one-month deadline.
        EventBody::AccessRequested { person_id, via, at: when } => {
            tx.exec(
                "INSERT INTO requests (tenant_id, id, person_id, kind, via, received_at, due_at, closed_at) \
                 VALUES ($1, $2, $3, 'access', $4, $5, $6, NULL)",
                vals![
                    t,
                    // Requests are named by the text of their receipt's event id (`RequestRow::id`).
                    e.event_id.to_string(),
                    person_id,
                    via.clone(),
                    us(*when),
                    us(konsent_domain::retention::request_due(*when))
                ],
            )
            .await?;
        }
        EventBody::RequestClosed { request_id, at: when, .. } => {
            tx.exec(
                "UPDATE requests SET closed_at = $1 WHERE tenant_id = $2 AND id = $3 AND closed_at IS NULL",
                vals![us(*when), t, request_id.clone()],
            )
            .await?;
        }
        EventBody::ConsentStatusChanged { consent_id, to, at: when, .. } => {
            let mut c = load_consent(tx, t, *consent_id).await?;
            c.status = *to;
            if to.is_valid_for_processing() {
                c.granted_at = Some(*when);
                c.approval_pending = false;
            }
            c.last_change_at = *when;
            put_consent(tx, t, &c).await?;
        }
        EventBody::ConsentWithdrawn { consent_id, scope_delta, at: when, .. } => {
            let mut c = load_consent(tx, t, *consent_id).await?;
            // Remember what was withdrawn (R41: no fallback to another basis for it).
            let withdrawn = match scope_delta {
                Some(d) => Scope {
                    advertisers: if d.advertisers.is_empty() {
                        c.scope.advertisers.clone()
                    } else {
                        d.advertisers.clone()
                    },
                    product_categories: d.product_categories.clone(),
                    channels: if d.channels.is_empty() { c.scope.channels.clone() } else { d.channels.clone() },
                },
                None => c.scope.clone(),
            };
            tx.exec(
                "INSERT INTO withdrawals (tenant_id, seq, consent_id, person_id, data, at) VALUES ($1, $2, $3, $4, $5, $6)",
                vals![t, e.seq as i64, consent_id, c.person_id, serde_json::to_string(&withdrawn)?, us(*when)],
            )
            .await?;
            match scope_delta {
                Some(delta) => {
                    c.scope = c.scope.without(delta);
                    if c.scope.is_empty() {
                        c.status = ConsentStatus::Withdrawn;
                    }
                }
                None => c.status = ConsentStatus::Withdrawn,
            }
            c.last_change_at = *when;
            put_consent(tx, t, &c).await?;
        }
        EventBody::ObjectionRecorded { person_id, at: when, .. } => {
            tx.exec(
                "INSERT INTO objections (tenant_id, seq, person_id, data, at) VALUES ($1, $2, $3, $4, $5)",
                vals![t, e.seq as i64, person_id, serde_json::to_string(&e.body)?, us(*when)],
            )
            .await?;
        }
        EventBody::UseRecorded { record } => {
            tx.exec(
                "INSERT INTO uses (tenant_id, id, person_id, contact_point_id, channel, advertiser_id, at, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vals![
                    t,
                    record.id,
                    record.person_id,
                    record.contact_point_id,
                    record.channel.as_str(),
                    record.advertiser_id,
                    us(record.at),
                    serde_json::to_string(record)?
                ],
            )
            .await?;
            for id in &record.consent_ids {
                let mut c = load_consent(tx, t, *id).await?;
                c.last_use_at = Some(c.last_use_at.map_or(record.at, |u| u.max(record.at)));
                put_consent(tx, t, &c).await?;
            }
        }
        EventBody::SuppressionAdded { entry } => {
            tx.exec(
                "INSERT INTO suppressions (tenant_id, id, key_hmac, key_kind, reason, created_at, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vals![
                    t,
                    entry.id,
                    entry.key_hmac.clone(),
                    entry.key_kind.as_str(),
                    serde_json::to_value(entry.reason)?.as_str().unwrap_or("manual").to_string(),
                    us(entry.created_at),
                    serde_json::to_string(entry)?
                ],
            )
            .await?;
        }
        EventBody::BasisDocumented { basis } => {
            let (id, person, kind) = match basis {
                DocumentedBasis::ExistingCustomer(b) => (b.id, b.person_id, "existing_customer"),
                DocumentedBasis::PresumedBusinessConsent(b) => (b.id, b.person_id, "presumed_business_consent"),
            };
            tx.exec(
                "INSERT INTO bases (tenant_id, id, person_id, kind, data) VALUES ($1, $2, $3, $4, $5)",
                vals![t, id, person, kind, serde_json::to_string(basis)?],
            )
            .await?;
        }
        EventBody::ConsentApproved { consent_id, at: when } => {
            let mut c = load_consent(tx, t, *consent_id).await?;
            c.approval_pending = false;
            c.last_change_at = *when;
            put_consent(tx, t, &c).await?;
        }
        EventBody::TenantSettingsChanged { settings } => {
            tx.exec(
                "INSERT INTO tenant_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
                vals![t, serde_json::to_string(settings)?, us(e.recorded_at)],
            )
            .await?;
        }
        EventBody::ErasureRequested { person_id, kept_until, at: when, .. } => {
            tx.exec(
                "INSERT INTO restrictions (tenant_id, person_id, state, until, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, person_id) DO UPDATE SET state = excluded.state, until = excluded.until, \
                 updated_at = excluded.updated_at",
                vals![t, person_id, "restricted", kept_until.map(us), us(*when)],
            )
            .await?;
        }
        EventBody::VaultErased { person_id, key_destroyed: true, at: when, .. } => {
            tx.exec(
                "INSERT INTO restrictions (tenant_id, person_id, state, until, updated_at) VALUES ($1, $2, 'erased', NULL, $3) \
                 ON CONFLICT (tenant_id, person_id) DO UPDATE SET state = 'erased', until = NULL, updated_at = excluded.updated_at",
                vals![t, person_id, us(*when)],
            )
            .await?;
        }
        EventBody::RestrictionRequested { person_id, at: when, .. } => {
            // An erasure's restriction (or the erasure itself) stays what it is.
            tx.exec(
                "INSERT INTO restrictions (tenant_id, person_id, state, until, updated_at) VALUES ($1, $2, 'art18', NULL, $3) \
                 ON CONFLICT (tenant_id, person_id) DO NOTHING",
                vals![t, person_id, us(*when)],
            )
            .await?;
        }
        EventBody::RestrictionLifted { person_id, .. } => {
            tx.exec(
                "DELETE FROM restrictions WHERE tenant_id = $1 AND person_id = $2 AND state = 'art18'",
                vals![t, person_id],
            )
            .await?;
        }
        EventBody::HoldPlaced { hold } => {
            tx.exec(
                "INSERT INTO holds (tenant_id, id, person_id, data, released_at) VALUES ($1, $2, $3, $4, NULL)",
                vals![t, hold.id, hold.person_id, serde_json::to_string(hold)?],
            )
            .await?;
        }
        EventBody::HoldReleased { hold_id, at: when } => {
            tx.exec("UPDATE holds SET released_at = $1 WHERE tenant_id = $2 AND id = $3", vals![us(*when), t, hold_id])
                .await?;
        }
        // Kept in the ledger for the proof and the audit; the files live in `attachments`.
        EventBody::SegmentFrozen { segment_id, spec, members, included, by_reason, valid_until, at: when, .. } => {
            let counts = serde_json::json!({"members": members, "included": included, "by_reason": by_reason});
            tx.exec(
                "INSERT INTO segments (tenant_id, id, name, spec, counts, frozen_at, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vals![
                    t,
                    segment_id,
                    spec.name.clone(),
                    serde_json::to_string(spec)?,
                    counts.to_string(),
                    us(*when),
                    us(*valid_until)
                ],
            )
            .await?;
        }
        EventBody::RobinsonListImported { list, entries, at: when, .. } => {
            tx.exec(
                "INSERT INTO robinson_lists (tenant_id, list, entries, imported_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, list) DO UPDATE SET entries = excluded.entries, imported_at = excluded.imported_at",
                vals![t, list.clone(), *entries as i64, us(*when)],
            )
            .await?;
        }
        EventBody::RetentionRun { requests, .. } => {
            for id in requests {
                tx.exec("DELETE FROM requests WHERE tenant_id = $1 AND id = $2", vals![t, id.clone()]).await?;
            }
        }
        EventBody::VaultErased { .. } | EventBody::RestrictedDataRead { .. } => {}
        EventBody::AttachmentStored { .. }
        | EventBody::AttachmentRead { .. }
        | EventBody::ProofExported { .. }
        | EventBody::LeadsChecked { .. }
        | EventBody::ImportCompleted { .. }
        | EventBody::SegmentExported { .. } => {}
        // Its records' events are applied one by one (the append and the rebuild unfold them).
        EventBody::Batch { .. } => {}
        // The endpoint rows hold sealed secrets and are written as side rows of these entries.
        EventBody::WebhookCreated { .. } | EventBody::WebhookDeleted { .. } | EventBody::WebhookSecretSet { .. } => {}
    }
    Ok(())
}
