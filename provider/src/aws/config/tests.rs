//! Unit tests for the settings rules: no network, no process environment.

use std::collections::HashMap;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_types::retry::RetryMode;
use aws_types::region::Region;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use aws_types::SdkConfig;

use super::*;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn debug_never_shows_secrets() {
    let settings = ProviderSettings {
        region: s("eu-west-1"),
        access_key: s(ACCESS_KEY),
        secret_key: s(SECRET_KEY),
        token: s(TOKEN),
        assume_role: Some(AssumeRole {
            role_arn: "arn:aws:iam::222222222222:role/x".to_owned(),
            ..AssumeRole::default()
        }),
        ..ProviderSettings::default()
    };
    for shown in [format!("{settings:?}"), format!("{settings:#?}")] {
        assert!(!shown.contains(SECRET_KEY), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(!shown.contains(ACCESS_KEY), "{shown}");
        // Still useful for debugging: which kind of key, and the rest of the block.
        assert!(shown.contains("AKIA****"), "{shown}");
        assert!(shown.contains("eu-west-1"), "{shown}");
        assert!(shown.contains("role/x"), "{shown}");
    }
}

#[test]
fn static_credentials_table() {
    let creds = |ak: Option<&str>, sk: Option<&str>, token: Option<&str>| ProviderSettings {
        access_key: ak.map(str::to_owned),
        secret_key: sk.map(str::to_owned),
        token: token.map(str::to_owned),
        ..ProviderSettings::default()
    };
    // (settings, Ok(has credentials) or Err(message fragment))
    let cases: Vec<(ProviderSettings, Result<bool, &str>)> = vec![
        (creds(None, None, None), Ok(false)),
        (creds(Some(""), Some(""), None), Ok(false)),
        (creds(Some(ACCESS_KEY), Some(SECRET_KEY), None), Ok(true)),
        (
            creds(Some(ACCESS_KEY), Some(SECRET_KEY), Some(TOKEN)),
            Ok(true),
        ),
        (
            creds(Some(ACCESS_KEY), None, None),
            Err("secret_key is not"),
        ),
        (
            creds(None, Some(SECRET_KEY), None),
            Err("access_key is not"),
        ),
        (creds(None, None, Some(TOKEN)), Err("token is set")),
    ];
    for (settings, want) in cases {
        let got = static_credentials(&settings)
            .map(|c| c.is_some())
            .map_err(|e| e.to_string());
        match (&got, want) {
            (Ok(got), Ok(want)) => assert_eq!(*got, want, "{settings:?}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
            _ => panic!("{settings:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[tokio::test]
async fn static_credentials_carry_the_session_token() {
    let settings = ProviderSettings {
        access_key: s(ACCESS_KEY),
        secret_key: s(SECRET_KEY),
        token: s(TOKEN),
        ..ProviderSettings::default()
    };
    let creds = static_credentials(&settings)
        .ok()
        .flatten()
        .expect("credentials from a full key pair");
    let loaded = creds
        .provide_credentials()
        .await
        .expect("static credentials load");
    assert_eq!(loaded.access_key_id(), ACCESS_KEY);
    assert_eq!(loaded.session_token(), Some(TOKEN));
}

#[test]
fn retry_precedence_table() {
    // (max_retries, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, Ok((attempts, mode)) or Err(fragment))
    type Case = (
        Option<u32>,
        Option<&'static str>,
        Option<&'static str>,
        Result<(u32, RetryMode), &'static str>,
    );
    let cases: &[Case] = &[
        (
            None,
            None,
            None,
            Ok((DEFAULT_MAX_RETRIES + 1, RetryMode::Standard)),
        ),
        // max_retries counts retries: 0 is a single attempt.
        (Some(0), None, None, Ok((1, RetryMode::Standard))),
        (Some(1), None, None, Ok((2, RetryMode::Standard))),
        (Some(5), Some("9"), None, Ok((6, RetryMode::Standard))),
        (None, Some("9"), None, Ok((9, RetryMode::Standard))),
        (
            None,
            Some(" 4 "),
            Some("adaptive"),
            Ok((4, RetryMode::Adaptive)),
        ),
        (None, None, Some("legacy"), Ok((26, RetryMode::Standard))),
        (
            Some(u32::MAX),
            None,
            None,
            Ok((u32::MAX, RetryMode::Standard)),
        ),
        (None, Some("0"), None, Err("AWS_MAX_ATTEMPTS")),
        (None, Some("many"), None, Err("AWS_MAX_ATTEMPTS")),
        // An explicit max_retries makes a broken AWS_MAX_ATTEMPTS irrelevant.
        (Some(2), Some("many"), None, Ok((3, RetryMode::Standard))),
        (None, None, Some("eager"), Err("AWS_RETRY_MODE")),
    ];
    for (max_retries, attempts_env, mode_env, want) in cases {
        let env = |name: &str| match name {
            "AWS_MAX_ATTEMPTS" => attempts_env.map(str::to_owned),
            "AWS_RETRY_MODE" => mode_env.map(str::to_owned),
            _ => None,
        };
        let got = retry_config(*max_retries, env)
            .map(|c| (c.max_attempts(), c.mode()))
            .map_err(|e| e.to_string());
        match (&got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{max_retries:?} {attempts_env:?}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
            _ => panic!("{max_retries:?} {attempts_env:?} {mode_env:?}: got {got:?}"),
        }
    }
}

#[test]
fn missing_region_is_a_clear_error() {
    assert_eq!(
        require_region(None, None).map_err(|e| e.to_string()),
        Err(
            "configuring AWS client: The region is not set: set region in the provider \
             configuration or AWS_REGION"
                .to_owned()
        )
    );
    assert!(require_region(Some(&Region::from_static("")), None).is_err());
    let with_profile = require_region(None, Some("bake")).map_err(|e| e.to_string());
    assert!(
        matches!(&with_profile, Err(m) if m.ends_with("or region in profile \"bake\"")),
        "{with_profile:?}"
    );
    assert_eq!(
        require_region(Some(&Region::from_static("eu-west-1")), Some("bake")).ok(),
        Some("eu-west-1".to_owned())
    );
}

#[test]
fn assume_role_validation() {
    let role = |arn: &str, secs: Option<u64>| AssumeRole {
        role_arn: arn.to_owned(),
        duration: secs.map(Duration::from_secs),
        ..AssumeRole::default()
    };
    let arn = "arn:aws:iam::222222222222:role/x";
    assert!(validate_assume_role(&role(arn, None)).is_ok());
    assert!(validate_assume_role(&role(arn, Some(900))).is_ok());
    assert!(validate_assume_role(&role(arn, Some(43_200))).is_ok());
    assert!(validate_assume_role(&role(arn, Some(899))).is_err());
    assert!(validate_assume_role(&role(arn, Some(43_201))).is_err());
    assert!(validate_assume_role(&role(" ", None)).is_err());
}

/// Stands in for the SDK's environment and shared-config lookup: answers
/// `AWS_ENDPOINT_URL_<SERVICE>` from a map, the way the SDK names them.
#[derive(Debug)]
struct FakeServiceConfig(HashMap<String, String>);

impl LoadServiceConfig for FakeServiceConfig {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let name = format!("{}_{}", key.env(), key.service_id().to_uppercase());
        self.0.get(&name).cloned()
    }
}

#[test]
fn endpoint_precedence_table() {
    let env = |vars: &[(&str, &str)]| {
        FakeServiceConfig(
            vars.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    };
    let explicit = Endpoints {
        ec2: s("http://explicit-ec2"),
        sts: s(""),
        kms: None,
        rbin: None,
    };
    /// (endpoints block, service-specific env, global AWS_ENDPOINT_URL, service, want)
    type Case = (
        Endpoints,
        FakeServiceConfig,
        Option<&'static str>,
        Service,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (Endpoints::default(), env(&[]), None, Service::Ec2, None),
        (
            Endpoints::default(),
            env(&[]),
            Some("http://global"),
            Service::Kms,
            Some("http://global"),
        ),
        (
            Endpoints::default(),
            env(&[("AWS_ENDPOINT_URL_STS", "http://sts-env")]),
            Some("http://global"),
            Service::Sts,
            Some("http://sts-env"),
        ),
        (
            Endpoints::default(),
            env(&[("AWS_ENDPOINT_URL_STS", "http://sts-env")]),
            Some("http://global"),
            Service::Ec2,
            Some("http://global"),
        ),
        (
            explicit.clone(),
            env(&[("AWS_ENDPOINT_URL_EC2", "http://ec2-env")]),
            Some("http://global"),
            Service::Ec2,
            Some("http://explicit-ec2"),
        ),
        // An empty string in the block counts as not set.
        (
            explicit.clone(),
            env(&[("AWS_ENDPOINT_URL_STS", "http://sts-env")]),
            None,
            Service::Sts,
            Some("http://sts-env"),
        ),
    ];
    for (endpoints, service_env, global, service, want) in cases {
        let mut sdk = SdkConfig::builder().service_config(service_env);
        sdk.set_endpoint_url(global.map(str::to_owned));
        let got = resolve_endpoint(&endpoints, &sdk.build(), service);
        assert_eq!(got.as_deref(), want, "{service:?} {endpoints:?} {global:?}");
    }
}

#[test]
fn regional_endpoints_name_their_region_and_local_ones_none() {
    let cases = [
        ("https://ec2.eu-west-1.amazonaws.com", Some("eu-west-1")),
        (
            "https://vpce-0a1b2c3d-e4f5.ec2.us-gov-west-1.vpce.amazonaws.com/",
            Some("us-gov-west-1"),
        ),
        (
            "https://kms.cn-north-1.amazonaws.com.cn:443",
            Some("cn-north-1"),
        ),
        ("ec2.ap-southeast-5.amazonaws.com", Some("ap-southeast-5")),
        ("http://127.0.0.1:4566", None),
        ("http://localhost:4566", None),
        ("https://ec2.amazonaws.com", None),
        ("https://my-proxy-1.example.com", None),
        ("https://us-east-1.example.com", Some("us-east-1")),
        ("https://eu-proxy-1.example.com", None),
    ];
    for (url, region) in cases {
        assert_eq!(region_in_url(url), region, "{url}");
    }
}
