//! OpenAPI shapes of domain types: the domain crate stays free of utoipa, so the few domain types
//! that appear in request and response bodies are mirrored here as doc-only types. Enum mirrors
//! convert both ways with exhaustive matches (a new domain variant does not compile until it is
//! mirrored); the tests below keep every mirror's JSON equal to the domain type's.

mod consent;

use std::collections::BTreeMap;

use konsent_domain::channel::Channel as DChannel;
use konsent_domain::consent::CaptureMethod as DCaptureMethod;
use konsent_domain::gate::CampaignPolicy as DCampaignPolicy;
use konsent_domain::party::RecipientClass as DRecipientClass;
use konsent_domain::suppression::SuppressionReason as DSuppressionReason;
use konsent_domain::usage::UseOutcome as DUseOutcome;
use konsent_service::apikeys::Role as DRole;
use serde::Serialize;
use utoipa::ToSchema;

pub(crate) use self::consent::{EvidenceDoc, SourceDoc, ValidityDoc};

/// Declares a doc-only mirror of a unit-variant domain enum (snake_case codes) with conversions
/// both ways, so adding a variant on either side fails to compile until the other follows.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident as $schema:ident = $domain:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[schema(as = $schema)]
        pub(crate) enum $name {
            $($(#[$vdoc])* $variant),+
        }
        impl From<$domain> for $name {
            fn from(d: $domain) -> Self {
                match d { $($domain::$variant => Self::$variant),+ }
            }
        }
        impl From<$name> for $domain {
            fn from(m: $name) -> Self {
                match m { $($name::$variant => Self::$variant),+ }
            }
        }
        #[cfg(test)]
        impl $name {
            const ALL: &[Self] = &[$(Self::$variant),+];
        }
    };
}

mirror_enum! {
    /// Kontaktkanal / contact channel (R2).
    ChannelDoc as Channel = DChannel {
        /// Call by a live agent.
        PhoneLive,
        /// Automated calling machine, prerecorded message, voice bot.
        PhoneAutomated,
        /// Fax.
        Fax,
        /// E-mail.
        Email,
        /// SMS / MMS.
        Sms,
        /// WhatsApp and other messengers.
        MessengerWhatsapp,
        /// Addressed post.
        Post,
    }
}

mirror_enum! {
    /// Was bei der Nutzung geschah / what happened in a use: `attempt` and `connected` for phone
    /// channels, `sent` for messages.
    UseOutcomeDoc as UseOutcome = DUseOutcome {
        /// Dialled, not answered (still a use).
        Attempt,
        /// Call connected.
        Connected,
        /// Message sent.
        Sent,
    }
}

mirror_enum! {
    /// Rolle eines API-Schlüssels / role of an API key (decides what the key may do).
    RoleDoc as Role = DRole {
        /// Everything, including keys.
        Admin,
        /// Catalogue, suppressions, exports.
        Marketing,
        /// Check, log uses, record verbal consent.
        Agent,
        /// Evidence, exports, erasure.
        Compliance,
        /// CRM / dialer / newsletter integrations.
        Integration,
    }
}

mirror_enum! {
    /// Sperrgrund / why a contact point is suppressed.
    SuppressionReasonDoc as SuppressionReason = DSuppressionReason {
        /// Art. 21 objection.
        Objection,
        /// Withdrawal of consent.
        Withdrawal,
        /// Spam complaint.
        Complaint,
        /// Hard bounce / invalid address.
        Bounce,
        /// Robinson list match.
        Robinson,
        /// Erasure of the person (Art. 17).
        Erasure,
        /// Manually added.
        Manual,
    }
}

mirror_enum! {
    /// Art und Weise der Erklärung / how the declaration reached us.
    CaptureMethodDoc as CaptureMethod = DCaptureMethod {
        /// Web form.
        WebForm,
        /// During a phone call with an agent.
        PhoneCall,
        /// In person in an advisory meeting.
        InPerson,
        /// Signed paper form.
        Paper,
        /// Imported from another system.
        Import,
        /// Through the API by an integration.
        Api,
    }
}

mirror_enum! {
    /// Verbraucher oder Unternehmer / consumer or business (decides which § 7 UWG rules apply).
    RecipientClassDoc as RecipientClass = DRecipientClass {
        /// A consumer (§ 13 BGB); the default.
        Consumer,
        /// Another market participant (business).
        Business,
    }
}

/// Postanschrift / postal address.
#[derive(Serialize, ToSchema)]
#[schema(as = PostalAddress)]
pub(crate) struct PostalAddressDoc {
    /// Street and house number.
    #[schema(example = "Lindenstraße 5")]
    street: String,
    /// Postcode (five digits for `DE`).
    #[schema(example = "50667")]
    postcode: String,
    /// City.
    #[schema(example = "Köln")]
    city: String,
    /// ISO 3166-1 alpha-2 country code; default `DE`.
    #[schema(required = false, default = "DE", example = "DE")]
    country: String,
}

/// Umfang / what a consent or text covers: named advertisers × product categories × channels.
#[derive(Serialize, ToSchema)]
#[schema(as = Scope)]
pub(crate) struct ScopeDoc {
    /// Advertiser ids, each named (R7).
    advertisers: Vec<uuid::Uuid>,
    /// Product category codes (Sparten), e.g. `insurance`.
    #[schema(example = json!(["insurance"]))]
    product_categories: Vec<String>,
    /// Channels, each named (R9).
    channels: Vec<ChannelDoc>,
}

/// Verweis auf die Datenschutzhinweise / the privacy notice version linked to a text.
#[derive(Serialize, ToSchema)]
#[schema(as = PrivacyNoticeRef)]
pub(crate) struct PrivacyNoticeRefDoc {
    /// URL of the privacy notice.
    #[schema(example = "https://makler.example/datenschutz")]
    url: String,
    /// Its version label.
    #[schema(example = "2026-01")]
    version: String,
}

/// Empfänger der Erklärung / who received the declaration (pseudonymised).
#[derive(Serialize, ToSchema)]
#[schema(as = DeclarationRecipient)]
pub(crate) struct DeclarationRecipientDoc {
    /// Receiving organisation (e.g. call centre or broker firm).
    organisation: String,
    /// Pseudonymous agent/employee code.
    agent_pseudonym: String,
}

/// Werbendes Unternehmen / an advertiser: a legal entity that consents name.
#[derive(Serialize, ToSchema)]
#[schema(as = Advertiser)]
pub(crate) struct AdvertiserDoc {
    /// Id.
    id: uuid::Uuid,
    /// Legal name (Firma).
    legal_name: String,
    /// Registered seat (Sitz).
    seat: String,
    /// Address for service (ladungsfähige Anschrift).
    address_for_service: PostalAddressDoc,
}

/// Sparte / a product category.
#[derive(Serialize, ToSchema)]
#[schema(as = Category)]
pub(crate) struct CategoryDoc {
    /// Code: 2-40 characters of `a-z`, `0-9`, `_`.
    #[schema(example = "insurance", pattern = "^[a-z0-9_]{2,40}$")]
    code: String,
    /// German label.
    #[schema(example = "Versicherungen")]
    label_de: String,
    /// English label.
    #[schema(example = "Insurance")]
    label_en: String,
}

/// Kampagnenregeln / the policy of one campaign. Every field is optional; an omitted field takes
/// the default shown.
#[derive(Serialize, ToSchema)]
#[serde(default)]
#[schema(as = CampaignPolicy)]
pub(crate) struct CampaignPolicyDoc {
    /// Months without grant or use after which a consent is stale, per channel code (R29); a
    /// channel not listed has no limit.
    staleness_months: BTreeMap<String, u16>,
    /// Minimum age of the person (R11).
    min_age: i16,
    /// The campaign must be matched against a Robinson list (R31).
    robinson_required: bool,
    /// Result of the Robinson match: `true` = listed, `null` = not checked.
    robinson_match: Option<bool>,
    /// Phone only: whether the call presents a valid caller id; `false` blocks (R32), `null` =
    /// not known here.
    caller_id_presented: Option<bool>,
    /// The campaign may rely on § 7(3) UWG for e-mail to existing customers (R34).
    allow_existing_customer: bool,
}

impl From<DCampaignPolicy> for CampaignPolicyDoc {
    fn from(d: DCampaignPolicy) -> Self {
        let DCampaignPolicy {
            staleness_months,
            min_age,
            robinson_required,
            robinson_match,
            caller_id_presented,
            allow_existing_customer,
        } = d;
        Self {
            staleness_months: staleness_months.into_iter().map(|(c, m)| (c.as_str().to_string(), m)).collect(),
            min_age,
            robinson_required,
            robinson_match,
            caller_id_presented,
            allow_existing_customer,
        }
    }
}

impl Default for CampaignPolicyDoc {
    fn default() -> Self {
        DCampaignPolicy::default().into()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use konsent_domain::channel::{CategoryDef, ProductCategory};
    use konsent_domain::consent::{DeclarationRecipient, Scope};
    use konsent_domain::contact::PostalAddress;
    use konsent_domain::ids::AdvertiserId;
    use konsent_domain::party::Advertiser;
    use konsent_domain::text::PrivacyNoticeRef;
    use serde_json::Value;
    use utoipa::PartialSchema;

    use super::*;

    fn same_codes<M: Serialize + Copy, D: Serialize + From<M>>(all: &[M]) {
        for &m in all {
            assert_eq!(serde_json::to_value(m).unwrap(), serde_json::to_value(D::from(m)).unwrap());
        }
    }

    #[test]
    fn enum_mirrors_use_the_domain_codes() {
        same_codes::<_, DChannel>(ChannelDoc::ALL);
        same_codes::<_, DUseOutcome>(UseOutcomeDoc::ALL);
        same_codes::<_, DRole>(RoleDoc::ALL);
        same_codes::<_, DSuppressionReason>(SuppressionReasonDoc::ALL);
        same_codes::<_, DCaptureMethod>(CaptureMethodDoc::ALL);
        same_codes::<_, DRecipientClass>(RecipientClassDoc::ALL);
        assert_eq!(ChannelDoc::ALL.len(), DChannel::ALL.len());
    }

    /// Property names of a mirror's schema.
    fn props<T: PartialSchema>() -> BTreeSet<String> {
        let v = serde_json::to_value(T::schema()).unwrap();
        v["properties"].as_object().expect("object schema").keys().cloned().collect()
    }

    fn keys(v: impl Serialize) -> BTreeSet<String> {
        let v: Value = serde_json::to_value(v).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn struct_mirrors_have_the_domain_fields() {
        let address = PostalAddress::new("Lindenstraße 5", "50667", "Köln", "DE").unwrap();
        let advertiser = AdvertiserId::from_parts(1, [0; 10]);
        assert_eq!(props::<PostalAddressDoc>(), keys(&address));
        assert_eq!(props::<ScopeDoc>(), keys(Scope::default()));
        let notice = PrivacyNoticeRef { url: "u".into(), version: "v".into() };
        assert_eq!(props::<PrivacyNoticeRefDoc>(), keys(notice));
        let recipient = DeclarationRecipient { organisation: "o".into(), agent_pseudonym: "a".into() };
        assert_eq!(props::<DeclarationRecipientDoc>(), keys(recipient));
        let a = Advertiser::new(advertiser, "Muster GmbH", "Köln", address).unwrap();
        assert_eq!(props::<AdvertiserDoc>(), keys(a));
        let code = ProductCategory::parse("insurance").unwrap();
        let c = CategoryDef { code, label_de: "Versicherungen".into(), label_en: "Insurance".into() };
        assert_eq!(props::<CategoryDoc>(), keys(c));
        let policy = DCampaignPolicy::default();
        assert_eq!(
            serde_json::to_value(&policy).unwrap(),
            serde_json::to_value(CampaignPolicyDoc::from(policy)).unwrap()
        );
    }
}
