//! Signup forms: defining them, serving them (each serve is logged with the text version shown),
//! and taking a submission: the person (found by e-mail or new), a consent bound to what was
//! ticked, `ConsentRequested` until verified, and the double opt-in mail when e-mail was ticked.

use std::collections::BTreeSet;

use konsent_domain::channel::Channel;
use konsent_domain::consent::{CaptureMethod, DeclarationRecipient, Evidence, Scope, Source, Validity};
use konsent_domain::contact::{AddressError, ContactValue, EmailAddress, PhoneE164, PostalAddress};
use konsent_domain::form::{FormDef, check_slug};
use konsent_domain::ids::{ContactPointId, EventId, PersonId, TenantId};
use konsent_domain::ledger::{Actor, EventBody};
use konsent_domain::party::{Advertiser, PersonData, RecipientClass};
use konsent_domain::text::{ConsentTextVersion, TextState};
use konsent_store::queries;

use crate::consents::NewConsent;
use crate::context::Konsent;
use crate::error::{FieldError, ServiceError};
use crate::persons::NewPerson;

/// A form as served: what the page shows, and the id that ties a submission to it.
#[derive(Debug, Clone)]
pub struct ServedForm {
    /// The form.
    pub form: FormDef,
    /// The text version shown in full.
    pub text: ConsentTextVersion,
    /// The advertisers the text names.
    pub advertisers: Vec<Advertiser>,
    /// Id of this serve (a hidden field of the page).
    pub serve_id: String,
}

/// What a person entered.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The serve id from the page.
    pub serve_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail address.
    pub email: String,
    /// Phone number.
    pub phone: String,
    /// Residential address: street and number, postcode, city (asked for phone advertising, R20).
    pub address: [String; 3],
    /// Ticked channels.
    pub channels: BTreeSet<Channel>,
    /// The honeypot field (people leave it empty; bots fill it).
    pub honeypot: String,
    /// The proof-of-work answer, when the form asks for one.
    pub pow: String,
    /// IP address and user agent (only their hash is kept with the evidence).
    pub request: (Option<String>, Option<String>),
}

/// How a submission ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Recorded; `doi` when a confirmation mail was queued.
    Recorded {
        /// A double opt-in mail was queued.
        doi: bool,
        /// Without a mail, when the number still needs verifying: a code went to it by text
        /// message, and this reference lets the next page take the code (R15).
        number: Option<String>,
    },
    /// Dropped without a trace (honeypot).
    Ignored,
}

/// How long a served page may be submitted.
const SERVE_VALIDITY_US: i64 = 24 * 3600 * 1_000_000;

impl Konsent {
    /// Defines (or changes) a form of the tenant; its channels must lie within its published text.
    pub async fn define_form(&self, tenant: TenantId, actor: &Actor, form: FormDef) -> Result<FormDef, ServiceError> {
        check_slug(&form.slug).map_err(|e| ServiceError::invalid("slug", e))?;
        if form.channels.is_empty() {
            return Err(ServiceError::invalid(
                "channels",
                "mindestens einen Kanal anbieten / offer at least one channel",
            ));
        }
        if let Some(o) = form.embed_origins.iter().find(|o| !konsent_domain::form::check_origin(o)) {
            return Err(ServiceError::invalid(
                "embed_origins",
                format!(
                    "{o:?} ist kein Ursprung wie https://www.makler.de / is not an origin like https://www.makler.de"
                ),
            ));
        }
        if form.title.trim().is_empty() || form.title.chars().count() > 200 {
            return Err(ServiceError::invalid("title", "1 bis 200 Zeichen / must be 1-200 characters"));
        }
        let text = queries::text(&self.db, tenant, form.text_id)
            .await?
            .filter(|t| t.state == TextState::Published)
            .ok_or_else(|| {
                ServiceError::invalid(
                    "text_id",
                    "kein veröffentlichter Einwilligungstext mit dieser ID / no such published consent text",
                )
            })?;
        let outside: Vec<&str> =
            form.channels.iter().filter(|c| !text.scope.channels.contains(c)).map(|c| c.as_str()).collect();
        if !outside.is_empty() {
            return Err(ServiceError::invalid(
                "channels",
                format!("vom Text nicht abgedeckt / not covered by the text: {}", outside.join(", ")),
            ));
        }
        // Phone consents name who received the declaration (R20): the form's own setting, or the
        // one advertiser its text names.
        let mut form = form;
        if form.offers_calls() {
            match &form.declaration_recipient {
                Some(r) if r.organisation.trim().is_empty() || r.agent_pseudonym.trim().is_empty() => {
                    return Err(ServiceError::invalid(
                        "declaration_recipient",
                        "Organisation und Kennung angeben / give organisation and agent_pseudonym",
                    ));
                }
                Some(_) => {}
                None => {
                    let advertisers = queries::advertisers(&self.db, tenant).await?;
                    form.declaration_recipient =
                        Some(default_recipient(&form, &text, &advertisers).ok_or_else(|| {
                            ServiceError::invalid(
                                "declaration_recipient",
                                "Der Text nennt mehrere Werbende: Empfänger der Erklärung angeben / the text names \
                             several advertisers: say who receives the declarations (R20)",
                            )
                        })?);
                }
            }
        } else {
            form.declaration_recipient = None;
        }
        if let Some((owner, _)) = queries::form(&self.db, &form.slug).await?
            && owner != tenant
        {
            return Err(ServiceError::Conflict(format!(
                "der Formularname ist vergeben / the form name {:?} is taken",
                form.slug
            )));
        }
        let ev = self.pending(actor, EventBody::FormDefined { form: Box::new(form.clone()) });
        self.append(tenant, vec![ev], vec![]).await?;
        Ok(form)
    }

    /// Serves a form: logs which text version is shown and returns it with the serve id.
    pub async fn serve_form(&self, slug: &str) -> Result<Option<(TenantId, ServedForm)>, ServiceError> {
        let Some((tenant, form)) = queries::form(&self.db, slug).await? else { return Ok(None) };
        let Some(text) = queries::text(&self.db, tenant, form.text_id).await? else { return Ok(None) };
        let advertisers: Vec<Advertiser> = queries::advertisers(&self.db, tenant)
            .await?
            .into_iter()
            .filter(|a| text.scope.advertisers.contains(&a.id))
            .collect();
        let serve_id = self.id(EventId::from_parts).to_string();
        queries::form_served(&self.db, &serve_id, tenant, slug, &text, self.now().as_microsecond()).await?;
        Ok(Some((tenant, ServedForm { form, text, advertisers, serve_id })))
    }

    /// Takes a submission of form `slug`. Every invalid field is named.
    pub async fn submit_form(&self, slug: &str, s: Submission) -> Result<Submitted, ServiceError> {
        if !s.honeypot.trim().is_empty() {
            tracing::info!(form = slug, "honeypot filled: submission dropped");
            return Ok(Submitted::Ignored);
        }
        let (tenant, form) =
            queries::form(&self.db, slug).await?.ok_or_else(|| ServiceError::NotFound(format!("form {slug}")))?;
        let now = self.now();
        let mut errors = Vec::new();
        let err = |f: &str, m: &str| FieldError { field: f.into(), message: m.into() };
        match queries::form_serve(&self.db, &s.serve_id, slug).await? {
            Some((_, at)) if now.as_microsecond() - at <= SERVE_VALIDITY_US => {}
            _ => errors.push(err(
                "serve_id",
                "Die Seite ist veraltet, bitte neu laden / the page is too old or unknown: please reload it",
            )),
        }
        if form.proof_of_work && !konsent_domain::form::pow_ok(&s.serve_id, s.pow.trim()) {
            errors.push(err("pow", "Dieses Formular braucht JavaScript für den Spamschutz / this form needs JavaScript for its spam protection; please enable it and reload"));
        }
        if s.channels.is_empty() {
            errors.push(err("channels", "Bitte mindestens ein Kästchen ankreuzen / tick at least one box"));
        }
        if !s.channels.is_subset(&form.channels) {
            errors.push(err(
                "channels",
                "Dieser Kanal wird hier nicht angeboten / a ticked channel is not offered by this form",
            ));
        }
        if s.first_name.trim().is_empty() {
            errors.push(err("first_name", "Pflichtfeld / required"));
        }
        if s.last_name.trim().is_empty() {
            errors.push(err("last_name", "Pflichtfeld / required"));
        }
        let email = match EmailAddress::parse(s.email.trim()) {
            Ok(e) => Some(e),
            Err(e) if !s.email.trim().is_empty() => {
                errors.push(FieldError { field: "email".into(), message: e.to_string() });
                None
            }
            Err(_) => None,
        };
        let phone = match PhoneE164::parse(s.phone.trim()) {
            Ok(p) => Some(p),
            Err(e) if !s.phone.trim().is_empty() => {
                errors.push(FieldError { field: "phone".into(), message: e.to_string() });
                None
            }
            Err(_) => None,
        };
        let wants_email = s.channels.contains(&Channel::Email);
        let wants_phone = s.channels.iter().any(|c| !matches!(c, Channel::Email | Channel::Post));
        if wants_email && email.is_none() && s.email.trim().is_empty() {
            errors.push(err("email", "Für E-Mail erforderlich / required for e-mail"));
        }
        if wants_phone && phone.as_ref().is_some_and(|p| self.check_sms_number(p).is_err()) {
            // The number is verified by a text message, which does not go to every country.
            errors.push(err(
                "phone",
                "an Rufnummern mit dieser Landesvorwahl können wir keine SMS schicken / we cannot send a text \
                 message to numbers with this country code",
            ));
        }
        if wants_phone && phone.is_none() && s.phone.trim().is_empty() {
            errors.push(err(
                "phone",
                "Für Telefon, SMS und Messenger erforderlich / required for phone, SMS and messenger",
            ));
        }
        // Phone advertising to a consumer needs the residential address (R20); other channels
        // never ask for it (R12).
        let address = if s.channels.iter().any(|c| c.is_phone()) {
            let [street, postcode, city] = &s.address;
            for (field, v) in [("street", street), ("postcode", postcode), ("city", city)] {
                if v.trim().is_empty() {
                    errors.push(err(field, "Für Telefonwerbung erforderlich / required for phone advertising"));
                }
            }
            match PostalAddress::new(street, postcode, city, "DE") {
                Ok(a) => Some(a),
                Err(e) => {
                    if !errors.iter().any(|x| matches!(x.field.as_str(), "street" | "postcode" | "city")) {
                        // Named by the field the person fills in; the value is not echoed.
                        let field = match &e {
                            AddressError::BadPostcode => "postcode",
                            AddressError::TooLong(f) | AddressError::Missing(f) => f,
                            AddressError::BadCountry(_) => "address",
                        };
                        errors.push(FieldError { field: field.into(), message: e.to_string() });
                    }
                    None
                }
            }
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let mut contacts = Vec::new();
        contacts.extend(email.map(ContactValue::Email));
        contacts.extend(phone.map(ContactValue::Phone));
        // The person: one on record only when they hold every contact given and the form adds
        // nothing to them. A form is not signed in, so it never changes a person: a number or an
        // address typed next to someone else's e-mail address starts a person of its own, whose
        // number the SMS code then verifies.
        let mut existing: Option<(PersonId, BTreeSet<ContactPointId>)> = None;
        if let Some(first) = contacts.first() {
            'holders: for (p, cp) in self.find_by_contact(tenant, first).await? {
                let mut cps = BTreeSet::from([cp]);
                for c in &contacts[1..] {
                    match self.find_by_contact(tenant, c).await?.into_iter().find(|(q, _)| *q == p) {
                        Some((_, cp)) => {
                            cps.insert(cp);
                        }
                        None => continue 'holders,
                    }
                }
                if address.is_some() && self.person_data(tenant, p).await?.is_none_or(|d| d.address.is_none()) {
                    continue;
                }
                existing = Some((p, cps));
                break;
            }
        }
        let (person_id, cps) = match existing {
            Some(found) => found,
            None => {
                let np = NewPerson {
                    data: PersonData {
                        first_name: s.first_name.trim().to_string(),
                        last_name: s.last_name.trim().to_string(),
                        address: address.clone(),
                        birth_date: None,
                    },
                    recipient_class: RecipientClass::Consumer,
                    org_unit: None,
                    contacts: contacts.clone(),
                };
                let w = self.register_person(tenant, &Actor::System, &np).await?;
                (w.person_id, w.contact_point_ids.into_iter().collect())
            }
        };
        let text = queries::text(&self.db, tenant, form.text_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("consent text".into()))?;
        let nc = NewConsent {
            person_id,
            contact_points: cps,
            text_id: text.id,
            scope: Scope {
                advertisers: text.scope.advertisers.clone(),
                product_categories: text.scope.product_categories.clone(),
                channels: s.channels.clone(),
            },
            capture_method: CaptureMethod::WebForm,
            declaration_recipient: if s.channels.iter().any(|c| c.is_phone()) {
                // A form defined before forms named a recipient gets the same default now.
                match &form.declaration_recipient {
                    Some(r) => Some(r.clone()),
                    None => default_recipient(&form, &text, &queries::advertisers(&self.db, tenant).await?),
                }
            } else {
                None
            },
            source: Source::FirstParty,
            affirmative_action: true,
            given_at: now,
            capture_offset_seconds: 0,
            evidence: vec![Evidence::WebForm {
                at: now,
                form_ref: format!("/f/{slug}"),
                form_version: s.serve_id.clone(),
                affirmative_action: true,
                request_details: Some(self.request_details_hash(s.request.0.as_deref(), s.request.1.as_deref())),
            }],
            validity: Validity::Endless,
            renews: None,
        };
        let a = self.record_consent(tenant, &Actor::System, nc).await?;
        let doi = wants_email && !a.record.status.is_valid_for_processing();
        if doi {
            let base = self.public_url.clone();
            self.request_doi(tenant, &Actor::System, a.record.id, &base).await?;
        }
        // Without a mail to click, the code goes to the number now and the next page asks for it.
        let number = if !doi && crate::otp::number_pending(&a.missing) {
            self.request_otp(tenant, &Actor::System, a.record.id).await?;
            Some(self.form_code_token(tenant, a.record.id))
        } else {
            None
        };
        Ok(Submitted::Recorded { doi, number })
    }
}

/// Who receives a form's declarations when the form does not say: the one advertiser its text
/// names, through the form (`None` when the text names several).
fn default_recipient(
    form: &FormDef,
    text: &ConsentTextVersion,
    advertisers: &[Advertiser],
) -> Option<DeclarationRecipient> {
    let named: Vec<&Advertiser> = advertisers.iter().filter(|a| text.scope.advertisers.contains(&a.id)).collect();
    let [one] = named.as_slice() else { return None };
    Some(DeclarationRecipient {
        organisation: one.legal_name.clone(),
        agent_pseudonym: format!("Webformular /f/{}", form.slug),
    })
}
