//! Live mode's gate: the acceptance suite may touch real AWS accounts only when asked twice and
//! only in accounts the person running it listed.
//!
//! `IMAGECOPIER_ACC_BACKEND=live` alone is not enough: `TF_ACC=1` (Terraform's own switch for
//! acceptance tests that create real infrastructure) and `IMAGECOPIER_ACC_ALLOW_SPEND=1` must be
//! set too, and every account STS reports for the configured credentials (the default chain, and
//! the profiles `IMAGECOPIER_ACC_ALTERNATE_PROFILE` and `IMAGECOPIER_ACC_THIRD_PROFILE` when set)
//! must be in `IMAGECOPIER_ACC_ALLOWED_ACCOUNTS`. Account ids are always discovered, never
//! constants. The tests that may run live, by tier, are listed in `acceptance-tests/live-tests.txt`
//! (see `tests/live_manifest.rs`); running them against real accounts is the next step of issue 32.

use std::collections::{BTreeMap, BTreeSet};

/// The variables the gate reads, by name.
pub const ALLOW_SPEND: &str = "IMAGECOPIER_ACC_ALLOW_SPEND";
/// Comma-separated 12-digit account ids the live run may touch.
pub const ALLOWED_ACCOUNTS: &str = "IMAGECOPIER_ACC_ALLOWED_ACCOUNTS";
/// Profiles for the second and third accounts (targets), in the aws provider's style.
pub const ALTERNATE_PROFILE: &str = "IMAGECOPIER_ACC_ALTERNATE_PROFILE";
/// See [`ALTERNATE_PROFILE`].
pub const THIRD_PROFILE: &str = "IMAGECOPIER_ACC_THIRD_PROFILE";

/// What the gate needs from the environment, checked before any AWS call: `TF_ACC=1`,
/// `IMAGECOPIER_ACC_ALLOW_SPEND=1` and a non-empty allow-list of 12-digit ids. `env` is the
/// process environment (a map, so it can be tested); the allow-list on success.
pub fn check_switches(env: &BTreeMap<String, String>) -> Result<BTreeSet<String>, String> {
    let get = |name: &str| {
        env.get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    if get("TF_ACC") != "1" {
        return Err("live mode creates real AWS resources: set TF_ACC=1 to run it".to_owned());
    }
    if get(ALLOW_SPEND) != "1" {
        return Err(format!(
            "live mode spends money in real accounts (snapshot storage, KMS keys): set {ALLOW_SPEND}=1 to agree"
        ));
    }
    let listed = get(ALLOWED_ACCOUNTS);
    let mut allowed = BTreeSet::new();
    for id in listed.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "{ALLOWED_ACCOUNTS}: {id:?} is not a 12-digit account id"
            ));
        }
        allowed.insert(id.to_owned());
    }
    if allowed.is_empty() {
        return Err(format!(
            "{ALLOWED_ACCOUNTS} is empty: list every account the live run may touch (comma-separated)"
        ));
    }
    Ok(allowed)
}

/// The profiles whose accounts the run uses: the default chain (`None`), then the alternate and
/// third profiles when set.
pub fn profiles(env: &BTreeMap<String, String>) -> Vec<Option<String>> {
    let mut found = vec![None];
    for name in [ALTERNATE_PROFILE, THIRD_PROFILE] {
        if let Some(profile) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            found.push(Some(profile.to_owned()));
        }
    }
    found
}

/// Refuses an account STS reported that is not on the allow-list, naming the profile.
pub fn check_accounts(
    allowed: &BTreeSet<String>,
    reported: &[(Option<String>, String)],
) -> Result<(), String> {
    for (profile, account) in reported {
        if !allowed.contains(account) {
            let whose = profile
                .as_deref()
                .map_or("the default credentials".to_owned(), |p| {
                    format!("profile {p}")
                });
            return Err(format!(
                "{whose} act in account {account}, which is not in {ALLOWED_ACCOUNTS}; live mode stops before touching it"
            ));
        }
    }
    Ok(())
}

/// The account each of `profiles` acts in, from STS GetCallerIdentity with the normal credential
/// chain (no endpoint override).
pub fn discover_accounts(
    profiles: &[Option<String>],
) -> Result<Vec<(Option<String>, String)>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("starting a runtime for STS: {err}"))?;
    runtime.block_on(async {
        let mut found = Vec::new();
        for profile in profiles {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(profile) = profile {
                loader = loader.profile_name(profile);
            }
            let config = loader.load().await;
            let identity = aws_sdk_sts::Client::new(&config)
                .get_caller_identity()
                .send()
                .await
                .map_err(|err| format!("STS GetCallerIdentity ({profile:?}): {err:?}"))?;
            let account = identity.account().unwrap_or_default().to_owned();
            found.push((profile.clone(), account));
        }
        Ok(found)
    })
}

/// The whole gate, on the real environment: the switches, then the accounts STS reports.
pub fn gate() -> Result<Vec<(Option<String>, String)>, String> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let allowed = check_switches(&env)?;
    let reported = discover_accounts(&profiles(&env))?;
    check_accounts(&allowed, &reported)?;
    Ok(reported)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn both_switches_and_an_allow_list_are_needed() {
        let full = [
            ("TF_ACC", "1"),
            (ALLOW_SPEND, "1"),
            (ALLOWED_ACCOUNTS, "111111111111, 222222222222"),
        ];
        let allowed = check_switches(&env(&full)).expect("all set");
        assert_eq!(allowed.len(), 2);
        for missing in 0..full.len() {
            let partial: Vec<_> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, p)| *p)
                .collect();
            let refused = check_switches(&env(&partial)).expect_err("refused");
            assert!(refused.contains(full[missing].0), "{refused}");
        }
        let typo = check_switches(&env(&[
            ("TF_ACC", "1"),
            (ALLOW_SPEND, "1"),
            (ALLOWED_ACCOUNTS, "11111111111"),
        ]));
        assert!(typo.is_err_and(|e| e.contains("12-digit")));
    }

    #[test]
    fn an_account_off_the_list_is_refused_naming_its_profile() {
        let allowed: BTreeSet<String> = ["111111111111".to_owned()].into();
        let fine = [(None, "111111111111".to_owned())];
        assert!(check_accounts(&allowed, &fine).is_ok());
        let stranger = [
            (None, "111111111111".to_owned()),
            (Some("targets".to_owned()), "999999999999".to_owned()),
        ];
        let refused = check_accounts(&allowed, &stranger).expect_err("refused");
        assert!(
            refused.contains("profile targets") && refused.contains("999999999999"),
            "{refused}"
        );
    }

    #[test]
    fn the_default_chain_comes_first_then_the_named_profiles() {
        let found = profiles(&env(&[(THIRD_PROFILE, "c"), (ALTERNATE_PROFILE, "b")]));
        assert_eq!(
            found,
            vec![None, Some("b".to_owned()), Some("c".to_owned())]
        );
    }
}
