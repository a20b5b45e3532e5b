//! The form `consents.data` keeps a consent record in: MessagePack on SQLite, JSON on PostgreSQL;
//! reading takes either, so rows written before the change read as they are.
//!
//! SQLite's import writes about 1,200 bytes of JSON per consent; the same record as MessagePack
//! with its fields by position (ids as 16 bytes, no field names) is about 500, and the consents
//! table is the largest an import writes (BENCHMARKS.md, "Session 17"). The ledger keeps the
//! record's JSON either way: this is the projection's copy only, and `rebuild` writes it anew.
//!
//! Fields by position means the layout is the order of the fields of [`ConsentRecord`] and of
//! the types in it. A field added **at the end** of a struct or an evidence kind with
//! `#[serde(default)]` reads old rows (a shorter array gives its default); a field removed,
//! renamed into another place or inserted in the middle does not, and then needs a migration
//! that rebuilds the projection from the ledger. `stored_form_of_every_field_is_stable` below
//! holds bytes written by this version and fails when such a change would misread them.

use konsent_domain::consent::ConsentRecord;

use crate::db::{Engine, Row, Val};
use crate::error::StoreError;
use crate::native;

/// The value for `consents.data` on `engine`. `json`: the record's JSON when the caller has
/// serialised it already (a batch record holds the same bytes), used on PostgreSQL.
pub(crate) fn encode(engine: Engine, c: &ConsentRecord, json: Option<String>) -> Result<Val, StoreError> {
    Ok(match engine {
        Engine::Sqlite => {
            Val::Bytes(rmp_serde::to_vec(c).map_err(|e| StoreError::Corrupt(format!("consent {}: {e}", c.id)))?)
        }
        Engine::Postgres => Val::Text(match json {
            Some(j) => j,
            None => serde_json::to_string(c)?,
        }),
    })
}

/// Whether stored bytes are a record's JSON: it starts with `{`, which as MessagePack would be the
/// number 123, never a record (an array).
fn is_json(b: &[u8]) -> bool {
    b.first() == Some(&b'{')
}

/// Decodes stored bytes of either form.
pub(crate) fn decode_bytes(b: &[u8]) -> Result<ConsentRecord, StoreError> {
    if is_json(b) {
        return Ok(serde_json::from_slice(b)?);
    }
    rmp_serde::from_slice(b).map_err(|e| StoreError::Corrupt(format!("consent record in consents.data: {e}")))
}

/// The consent record in column `i` of `row` (a `data` column of `consents`).
pub(crate) fn decode(row: &Row, i: usize) -> Result<ConsentRecord, StoreError> {
    match row {
        Row::Pg(_) => Ok(serde_json::from_str(&row.text(i)?)?),
        // The writer's own connection tells a TEXT value (a row written before MessagePack) apart.
        Row::Native(r) => match native::column(r, i)? {
            rusqlite::types::Value::Text(s) => decode_bytes(s.as_bytes()),
            _ => decode_bytes(&row.bytes(i)?),
        },
        // sqlx hands out a TEXT value's bytes as well.
        Row::Sqlite(_) => decode_bytes(&row.bytes(i)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record using every evidence kind and every optional field, as JSON (the ledger's form).
    const FULL: &str = r#"{"id":"01a249b2-81a9-71b2-9908-a9c7e1997c13","person_id":"01a249b2-81a8-7a68-97e0-9659afb96610",
      "contact_points":["01a249b2-81a8-7bdf-85d4-e311407fff44","01a249b2-81a8-7bdf-85d4-e311407fff45"],
      "text_id":"01a249b2-8111-7257-813a-50380d80aadb",
      "text_sha256":"e3a2c94a6e25a44b4e23edf4ca88384bbfd11dbd915a1e436c980b73cf7543ad","language":"de",
      "scope":{"advertisers":["01a249b2-8107-74f5-b694-81fd0231d0b7"],"product_categories":["building_savings","insurance"],"channels":["email","phone_live"]},
      "status":"ConsentWithdrawn","recipient_class":"business","capture_method":"phone_call",
      "declaration_recipient":{"organisation":"Callcenter Nord GmbH","agent_pseudonym":"A-17"},
      "source":{"party":"third_party","provider":"Leadhaus","contract_ref":"V-2024-3"},"affirmative_action":true,
      "given_at":"2025-07-27T14:25:32Z","capture_offset_seconds":7200,"recorded_at":"2025-07-27T14:25:33.5Z",
      "granted_at":"2025-07-27T14:30:00Z","last_use_at":"2025-09-01T10:00:00Z","last_change_at":"2026-01-02T03:04:05.123456789Z",
      "evidence":[
        {"kind":"web_form","at":"2025-07-27T14:25:32Z","form_ref":"kontakt","form_version":"3","affirmative_action":true,"request_details":"aa"},
        {"kind":"web_form","at":"2025-07-27T14:25:32Z","form_ref":"kontakt","form_version":"3","affirmative_action":false,"request_details":null},
        {"kind":"email_doi","contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff44","sent_at":"2025-07-27T14:26:00Z","message_id":"<m@x>","token_hash":"bb","confirmed_at":"2025-07-27T14:28:30Z","request_details":"cc"},
        {"kind":"otp","contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff45","sent_at":"2025-07-27T14:26:00Z","verified_at":"2025-07-27T14:27:00Z"},
        {"kind":"call_recording","contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff45","recording_hash":"dd","recording_consent":true,"script_version":"s1","agent_pseudonym":"A-17","at":"2025-07-27T14:20:00Z"},
        {"kind":"text_confirmation","contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff44","sent_at":"2025-07-27T14:31:00Z","confirmed_at":"2025-07-27T15:00:00Z"},
        {"kind":"paper_scan","scan_hash":"ee","form_version":"P-2","signature_date":"2025-07-20","original_location":"Ordner 3"},
        {"kind":"in_person_attestation","advisor_pseudonym":"B-4","at":"2025-07-20T09:00:00Z","identity_checked":true},
        {"kind":"inbound_message","contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff45","at":"2025-07-21T09:00:00Z"},
        {"kind":"import","provider":"Mailchimp","file_hash":"ff","row":2,"contract_ref":null,"reported_optin_at":"2025-07-27T14:25:32Z","reported_confirm_at":null,"reported_ip":true,"confirmed_contact_point":"01a249b2-81a8-7bdf-85d4-e311407fff44"},
        {"kind":"import","provider":"HubSpot","file_hash":"ff","row":3,"contract_ref":"C-1","reported_optin_at":null,"reported_confirm_at":null,"reported_ip":false}
      ],
      "validity":{"type":"until_time","until":"2027-01-01T00:00:00Z"},"approval_pending":true,
      "renews":"01a249b2-81a9-71b2-9908-a9c7e1997c12"}"#;

    fn full() -> ConsentRecord {
        serde_json::from_str(FULL).expect("fixture")
    }

    #[test]
    fn every_field_round_trips_and_the_stored_form_is_smaller() {
        let c = full();
        let Val::Bytes(b) = encode(Engine::Sqlite, &c, None).unwrap() else { panic!("SQLite stores bytes") };
        assert_eq!(decode_bytes(&b).unwrap(), c);
        let json = serde_json::to_string(&c).unwrap();
        assert!(b.len() * 2 < json.len(), "{} bytes against {} of JSON", b.len(), json.len());
        let Val::Text(t) = encode(Engine::Postgres, &c, None).unwrap() else { panic!("PostgreSQL stores text") };
        assert_eq!(t, json);
        // Rows written as JSON before read the same.
        assert_eq!(decode_bytes(json.as_bytes()).unwrap(), c);
        // The other variants of the small enums, and the fields that may be left out.
        for (from, to) in [
            (r#""type":"until_time","until":"2027-01-01T00:00:00Z""#, r#""type":"until_event","event":"contract_end""#),
            (r#""type":"until_time","until":"2027-01-01T00:00:00Z""#, r#""type":"endless""#),
            (
                r#"{"party":"third_party","provider":"Leadhaus","contract_ref":"V-2024-3"}"#,
                r#"{"party":"first_party"}"#,
            ),
            (r#","renews":"01a249b2-81a9-71b2-9908-a9c7e1997c12""#, ""),
            (r#""approval_pending":true,"#, ""),
        ] {
            let c: ConsentRecord = serde_json::from_str(&FULL.replace(from, to)).expect(to);
            let Val::Bytes(b) = encode(Engine::Sqlite, &c, None).unwrap() else { unreachable!() };
            assert_eq!(decode_bytes(&b).unwrap(), c, "{to}");
        }
    }

    /// Bytes this version wrote for [`FULL`]. If this fails, a change to `ConsentRecord` or a type
    /// in it moved fields: stored rows would be misread (see the module's documentation).
    const FULL_STORED: &str = concat!(
        "dc0017c41001a249b281a971b29908a9c7e1997c13c41001a249b281a87a6897e09659afb9661092c41001a249b281a8",
        "7bdf85d4e311407fff44c41001a249b281a87bdf85d4e311407fff45c41001a249b281117257813a50380d80aadbd940",
        "653361326339346136653235613434623465323365646634636138383338346262666431316462643931356131653433",
        "36633938306237336366373534336164a264659391c41001a249b2810774f5b69481fd0231d0b792b06275696c64696e",
        "675f736176696e6773a9696e737572616e636592aa70686f6e655f6c697665a5656d61696cb0436f6e73656e74576974",
        "68647261776ea8627573696e657373aa70686f6e655f63616c6c92b443616c6c63656e746572204e6f726420476d6248",
        "a4412d313793ab74686972645f7061727479a84c65616468617573a8562d323032342d33c3b4323032352d30372d3237",
        "5431343a32353a33325acd1c20b6323032352d30372d32375431343a32353a33332e355ab4323032352d30372d323754",
        "31343a33303a30305ab4323032352d30392d30315431303a30303a30305abe323032362d30312d30325430333a30343a",
        "30352e3132333435363738395a9b96a87765625f666f726db4323032352d30372d32375431343a32353a33325aa76b6f",
        "6e74616b74a133c3a2616196a87765625f666f726db4323032352d30372d32375431343a32353a33325aa76b6f6e7461",
        "6b74a133c2c097a9656d61696c5f646f69c41001a249b281a87bdf85d4e311407fff44b4323032352d30372d32375431",
        "343a32363a30305aa53c6d40783ea26262b4323032352d30372d32375431343a32383a33305aa2636394a36f7470c410",
        "01a249b281a87bdf85d4e311407fff45b4323032352d30372d32375431343a32363a30305ab4323032352d30372d3237",
        "5431343a32373a30305a97ae63616c6c5f7265636f7264696e67c41001a249b281a87bdf85d4e311407fff45a26464c3",
        "a27331a4412d3137b4323032352d30372d32375431343a32303a30305a94b1746578745f636f6e6669726d6174696f6e",
        "c41001a249b281a87bdf85d4e311407fff44b4323032352d30372d32375431343a33313a30305ab4323032352d30372d",
        "32375431353a30303a30305a95aa70617065725f7363616ea26565a3502d32aa323032352d30372d3230a84f72646e65",
        "72203394b5696e5f706572736f6e5f6174746573746174696f6ea3422d34b4323032352d30372d32305430393a30303a",
        "30305ac393af696e626f756e645f6d657373616765c41001a249b281a87bdf85d4e311407fff45b4323032352d30372d",
        "32315430393a30303a30305a99a6696d706f7274a94d61696c6368696d70a2666602c0b4323032352d30372d32375431",
        "343a32353a33325ac0c3c41001a249b281a87bdf85d4e311407fff4498a6696d706f7274a748756253706f74a2666603",
        "a3432d31c0c0c292aa756e74696c5f74696d65b4323032372d30312d30315430303a30303a30305ac3c41001a249b281",
        "a971b29908a9c7e1997c12",
    );

    #[test]
    fn stored_form_of_every_field_is_stable() {
        let Val::Bytes(b) = encode(Engine::Sqlite, &full(), None).unwrap() else { unreachable!() };
        assert_eq!(hex::encode(&b), FULL_STORED);
        assert_eq!(decode_bytes(&hex::decode(FULL_STORED).unwrap()).unwrap(), full());
    }

    #[test]
    fn a_damaged_row_is_an_error_naming_the_column() {
        let Val::Bytes(b) = encode(Engine::Sqlite, &full(), None).unwrap() else { unreachable!() };
        let err = decode_bytes(&b[..b.len() / 2]).unwrap_err().to_string();
        assert!(err.contains("consents.data"), "{err}");
    }
}
