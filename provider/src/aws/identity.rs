//! Who the credentials are: account checks and partition parsing.

use super::errors::AwsError;

/// Refuses an account excluded by `allowed_account_ids` (when not empty) or
/// listed in `forbidden_account_ids`. This guards against running a
/// configuration with the wrong credentials, so both lists are checked.
pub fn check_account(
    account_id: &str,
    allowed: &[String],
    forbidden: &[String],
) -> Result<(), AwsError> {
    if !allowed.is_empty() && !allowed.iter().any(|a| a == account_id) {
        return Err(AwsError::account_not_allowed(
            account_id,
            &format!("allowed: {}", allowed.join(", ")),
        ));
    }
    if forbidden.iter().any(|f| f == account_id) {
        return Err(AwsError::account_not_allowed(account_id, "forbidden"));
    }
    Ok(())
}

/// The partition of the caller ARN STS GetCallerIdentity reported, or the
/// error for an answer that is not an ARN.
pub(super) fn caller_partition(caller_arn: &str) -> Result<String, AwsError> {
    partition_from_arn(caller_arn)
        .map(str::to_owned)
        .ok_or_else(|| {
            AwsError::config(format!(
                "STS GetCallerIdentity returned an unexpected caller ARN {caller_arn:?}"
            ))
        })
}

/// The partition (`aws`, `aws-cn`, `aws-us-gov`, ...) of an ARN such as
/// `arn:aws-cn:sts::123456789012:assumed-role/r/s`, or `None` if `arn` is not
/// an ARN.
pub fn partition_from_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(partition)) if !partition.is_empty() => Some(partition),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn account_allow_and_forbid_table() {
        /// (account, allowed, forbidden, expected error or None for Ok)
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<&'a str>);
        let cases: &[Case] = &[
            ("111111111111", &[], &[], None),
            ("111111111111", &["111111111111"], &[], None),
            ("111111111111", &["333333333333", "111111111111"], &[], None),
            (
                "222222222222",
                &["111111111111"],
                &[],
                Some("AWS account ID not allowed: 222222222222 (allowed: 111111111111)"),
            ),
            (
                "222222222222",
                &["111111111111", "333333333333"],
                &[],
                Some(
                    "AWS account ID not allowed: 222222222222 \
                     (allowed: 111111111111, 333333333333)",
                ),
            ),
            ("111111111111", &[], &["222222222222"], None),
            (
                "222222222222",
                &[],
                &["222222222222"],
                Some("AWS account ID not allowed: 222222222222 (forbidden)"),
            ),
            // An account in both lists is refused: forbidding is the safer reading.
            (
                "222222222222",
                &["222222222222"],
                &["222222222222"],
                Some("AWS account ID not allowed: 222222222222 (forbidden)"),
            ),
        ];
        for (account, allowed, forbidden, want) in cases {
            let got = check_account(account, &ids(allowed), &ids(forbidden))
                .err()
                .map(|e| e.to_string());
            assert_eq!(got.as_deref(), *want, "account {account}");
        }
    }

    #[test]
    fn partitions_from_caller_arns() {
        let cases = [
            ("arn:aws:iam::111111111111:user/alice", Some("aws")),
            (
                "arn:aws:sts::222222222222:assumed-role/x/terraform",
                Some("aws"),
            ),
            (
                "arn:aws-cn:sts::111111111111:assumed-role/r/s",
                Some("aws-cn"),
            ),
            ("arn:aws-us-gov:iam::111111111111:root", Some("aws-us-gov")),
            ("arn::iam::111111111111:root", None),
            ("aws:iam::111111111111:root", None),
            ("", None),
        ];
        for (arn, want) in cases {
            assert_eq!(partition_from_arn(arn), want, "{arn}");
        }
    }
}
