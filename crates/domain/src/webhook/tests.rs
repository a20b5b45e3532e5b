use super::*;

#[test]
fn signature_matches_the_standard_webhooks_example() {
    // The example of the Standard Webhooks specification and its reference libraries.
    let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = br#"{"test": 2432232314}"#;
    let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_eq!(secret_string(&key), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
}

#[test]
fn backoff_grows_and_stays_within_its_jitter() {
    assert_eq!(backoff(1, 128).as_secs(), 30);
    for j in [0u8, 255] {
        let s = backoff(1, j).as_secs();
        assert!((27..=33).contains(&s), "{s}");
    }
    assert!(backoff(2, 128) > backoff(1, 128));
    assert!((3240..=3960).contains(&backoff(4, 128).as_secs()));
    assert_eq!(backoff(20, 128), backoff(6, 128));
}

#[test]
fn event_names_round_trip() {
    for e in HookEvent::ALL {
        assert_eq!(e.as_str().parse::<HookEvent>().unwrap(), e);
        assert_eq!(serde_json::to_value(e).unwrap(), serde_json::json!(e.as_str()));
    }
    assert!("consent.everything".parse::<HookEvent>().is_err());
}
