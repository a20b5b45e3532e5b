//! Persons and their contact points: personal data sealed per person in the vault, found through
//! the keyed-hash blind index; corrections append new versions (R46).

use konsent_domain::contact::ContactValue;
use konsent_domain::crypto::{DataKey, sha256_hex};
use konsent_domain::ids::{ContactPointId, OrgUnitId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::{PersonData, RecipientClass};
use konsent_store::{PendingEvent, SideWrite, queries};

use crate::context::Konsent;
use crate::error::ServiceError;

/// A person to register.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// Personal data.
    pub data: PersonData,
    /// Consumer or business.
    pub recipient_class: RecipientClass,
    /// Owning org unit.
    pub org_unit: Option<OrgUnitId>,
    /// Contact points.
    pub contacts: Vec<ContactValue>,
}

/// The events and vault rows of a new person, ready to append (lets bulk paths batch many persons).
#[derive(Debug)]
pub struct PersonWrite {
    /// New person id.
    pub person_id: PersonId,
    /// New contact point ids, in the order given.
    pub contact_point_ids: Vec<ContactPointId>,
    /// Events.
    pub events: Vec<PendingEvent>,
    /// Vault rows.
    pub side: Vec<SideWrite>,
    /// The person's data key (to seal evidence files written in the same batch).
    pub dek: DataKey,
}

pub(crate) fn key_aad(tenant: TenantId, person: PersonId) -> Vec<u8> {
    format!("konsent/person-key/{tenant}/{person}").into_bytes()
}
pub(crate) fn data_aad(tenant: TenantId, person: PersonId, version: i64) -> Vec<u8> {
    format!("konsent/person-data/{tenant}/{person}/{version}").into_bytes()
}
fn contact_aad(tenant: TenantId, cp: ContactPointId) -> Vec<u8> {
    format!("konsent/contact/{tenant}/{cp}").into_bytes()
}

impl Konsent {
    /// Builds (does not write) everything that registers a person.
    pub fn person_write(&self, tenant: TenantId, actor: &Actor, p: &NewPerson) -> PersonWrite {
        let person_id = self.id(PersonId::from_parts);
        let dek = DataKey::from_bytes(self.random());
        let wrapped = self.keys.master().wrap(&dek, self.random(), &key_aad(tenant, person_id));
        let plain = serde_json::to_vec(&p.data).expect("person data serialises");
        let sealed = dek.seal(self.random(), &plain, &data_aad(tenant, person_id, 1));
        let data_hash = sha256_hex(&sealed);
        let mut events = vec![self.pending(
            actor,
            EventBody::PersonRegistered {
                person_id,
                recipient_class: p.recipient_class,
                org_unit: p.org_unit,
                data_hash: data_hash.clone(),
            },
        )];
        let mut side = vec![
            SideWrite::PersonKey { person_id, wrapped_key: wrapped, key_fp: self.keys.master().fingerprint() },
            SideWrite::PersonData { person_id, version: 1, sealed, sha256: data_hash },
        ];
        let mut contact_point_ids = Vec::with_capacity(p.contacts.len());
        for c in &p.contacts {
            let (cp, ev, sw) = self.contact_point_write(tenant, actor, person_id, &dek, c);
            events.push(ev);
            side.push(sw);
            contact_point_ids.push(cp);
        }
        PersonWrite { person_id, contact_point_ids, events, side, dek }
    }

    /// Builds (does not write) a new contact point of a person: its event and its sealed value.
    pub fn contact_point_write(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person_id: PersonId,
        dek: &DataKey,
        c: &ContactValue,
    ) -> (ContactPointId, PendingEvent, SideWrite) {
        let cp = self.id(ContactPointId::from_parts);
        let plain = serde_json::to_vec(c).expect("contact serialises");
        let sealed = dek.seal(self.random(), &plain, &contact_aad(tenant, cp));
        let value_hash = sha256_hex(&sealed);
        let ev = self.pending(
            actor,
            EventBody::ContactPointAdded {
                contact_point_id: cp,
                person_id,
                kind: c.kind(),
                blind_index: self.keys.blind_index(tenant).index(&c.match_key()),
                value_hash: value_hash.clone(),
            },
        );
        let side = SideWrite::ContactValue { contact_point_id: cp, person_id, sealed, sha256: value_hash };
        (cp, ev, side)
    }

    /// Registers a person with contact points.
    pub async fn register_person(
        &self,
        tenant: TenantId,
        actor: &Actor,
        p: &NewPerson,
    ) -> Result<PersonWrite, ServiceError> {
        let w = self.person_write(tenant, actor, p);
        self.append(tenant, w.events.clone(), w.side.clone()).await?;
        Ok(w)
    }

    pub async fn person_key(&self, tenant: TenantId, person: PersonId) -> Result<Option<DataKey>, ServiceError> {
        let Some(wrapped) = queries::person_key(&self.db, tenant, person).await? else { return Ok(None) };
        Ok(Some(self.keys.master().unwrap(&wrapped, &key_aad(tenant, person))?))
    }

    /// The current personal data of a person (`None` when unknown or erased).
    pub async fn person_data(&self, tenant: TenantId, person: PersonId) -> Result<Option<PersonData>, ServiceError> {
        let Some(dek) = self.person_key(tenant, person).await? else { return Ok(None) };
        let Some((version, sealed, _)) = queries::person_data(&self.db, tenant, person).await? else { return Ok(None) };
        let plain = dek.open(&sealed, &data_aad(tenant, person, version))?;
        Ok(Some(
            serde_json::from_slice(&plain)
                .map_err(|e| ServiceError::Conflict(format!("vault data unreadable: {e}")))?,
        ))
    }

    /// The value of a contact point (`None` when unknown or erased).
    pub async fn contact_value(
        &self,
        tenant: TenantId,
        person: PersonId,
        cp: ContactPointId,
    ) -> Result<Option<ContactValue>, ServiceError> {
        let Some(dek) = self.person_key(tenant, person).await? else { return Ok(None) };
        let Some(sealed) = queries::contact_value(&self.db, tenant, cp).await? else { return Ok(None) };
        let plain = dek.open(&sealed, &contact_aad(tenant, cp))?;
        Ok(Some(
            serde_json::from_slice(&plain)
                .map_err(|e| ServiceError::Conflict(format!("vault data unreadable: {e}")))?,
        ))
    }

    /// The values of many contact points in one query per 500 (bulk paths: exports, segments);
    /// erased or unknown ones are missing from the answer.
    pub async fn contact_values(
        &self,
        tenant: TenantId,
        contact_points: &[ContactPointId],
    ) -> Result<std::collections::HashMap<ContactPointId, ContactValue>, ServiceError> {
        let mut out = std::collections::HashMap::with_capacity(contact_points.len());
        for (cp, (person, wrapped, sealed)) in queries::sealed_contacts(&self.db, tenant, contact_points).await? {
            let dek = self.keys.master().unwrap(&wrapped, &key_aad(tenant, person))?;
            let plain = dek.open(&sealed, &contact_aad(tenant, cp))?;
            let value = serde_json::from_slice(&plain)
                .map_err(|e| ServiceError::Conflict(format!("vault data unreadable: {e}")))?;
            out.insert(cp, value);
        }
        Ok(out)
    }

    /// Persons that have this contact point (blind-index lookup), with the matching contact point.
    pub async fn find_by_contact(
        &self,
        tenant: TenantId,
        value: &ContactValue,
    ) -> Result<Vec<(PersonId, ContactPointId)>, ServiceError> {
        let bi = self.keys.blind_index(tenant).index(&value.match_key());
        Ok(queries::persons_by_blind_index(&self.db, tenant, &bi).await?)
    }

    /// Corrects a person's data (R46): a new sealed version and a correction event; history stays.
    pub async fn correct_person(
        &self,
        tenant: TenantId,
        actor: &Actor,
        person: PersonId,
        data: &PersonData,
        recipient_class: Option<RecipientClass>,
    ) -> Result<(), ServiceError> {
        let row = queries::person(&self.db, tenant, person)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("person {person}")))?;
        let dek = self
            .person_key(tenant, person)
            .await?
            .ok_or_else(|| ServiceError::Conflict("die Person wurde gelöscht / person was erased".into()))?;
        let version = row.data_version + 1;
        let sealed =
            dek.seal(self.random(), &serde_json::to_vec(data).expect("serialises"), &data_aad(tenant, person, version));
        let data_hash = sha256_hex(&sealed);
        let ev = self.pending(
            actor,
            EventBody::PersonCorrected { person_id: person, data_hash: data_hash.clone(), recipient_class },
        );
        let side = SideWrite::PersonData { person_id: person, version, sealed, sha256: data_hash };
        self.append(tenant, vec![ev], vec![side]).await?;
        Ok(())
    }
}
