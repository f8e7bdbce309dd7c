//! `provider::imagecopier::key_policy_statements(account_ids,
//! organization_arns, organizational_unit_arns)`: the KMS key policy
//! statements that let other accounts copy AMIs encrypted with a customer
//! managed key, as JSON to merge into the key's policy.
//!
//! A grant can name an account but not an organization or OU, so for those
//! the key's policy is the only way; the statements use the global condition
//! keys `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`. The actions are the
//! ones the EBS User Guide lists for copying a snapshot encrypted with
//! another account's key; CreateGrant is limited to grants for AWS
//! resources (`kms:GrantIsForAWSResource`), which is how EC2 uses the key
//! during the copy, so the accounts cannot hand the key on by themselves.

use serde_json::{json, Value as Json};

use crate::protocol::function::{CallError, Function, Parameter, Signature};
use crate::protocol::value::{Type, Value};
use crate::validate;

/// What a copy does with the source key, besides CreateGrant.
const USE_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
];

/// The function.
#[derive(Debug)]
pub(crate) struct KeyPolicyStatements;

impl Function for KeyPolicyStatements {
    fn name(&self) -> &'static str {
        "key_policy_statements"
    }

    fn signature(&self) -> Signature {
        let list = Type::list(Type::String);
        Signature {
            parameters: vec![
                Parameter {
                    name: "account_ids",
                    ty: list.clone(),
                    description: "12-digit account ids that copy the AMIs (null or empty: none).",
                    allow_null: true,
                },
                Parameter {
                    name: "organization_arns",
                    ty: list.clone(),
                    description: "Organization ARNs whose member accounts copy the AMIs (null or empty: none).",
                    allow_null: true,
                },
                Parameter {
                    name: "organizational_unit_arns",
                    ty: list,
                    description: "Organizational unit ARNs whose accounts copy the AMIs (null or empty: none).",
                    allow_null: true,
                },
            ],
            variadic: Some(Parameter {
                name: "partition",
                ty: Type::String,
                description: "Optional, at most one: the AWS partition of the accounts (`aws`, `aws-cn`, \
                              `aws-us-gov`, ...). Without it, the partition of the organization or OU ARNs, \
                              else `aws`.",
                allow_null: false,
            }),
            returns: Type::String,
            summary: "KMS key policy statements that let other accounts copy AMIs encrypted with the key",
            description: "Returns a JSON array of key policy statements to add to the `Statement` list of the \
                          customer managed key that encrypts the bake account's AMIs: accounts by their root \
                          principal, organizations by `aws:PrincipalOrgID`, OUs by `aws:PrincipalOrgPaths`. \
                          Each gets the actions a copy needs (kms:Decrypt, kms:DescribeKey, \
                          kms:GenerateDataKey*, kms:ReEncrypt*) and kms:CreateGrant for AWS resources only. \
                          Account principals are in the partition given as a fourth argument (for example \
                          `\"aws-cn\"`), else that of the organization or OU ARNs, else `aws`."
                .to_owned(),
        }
    }

    fn call(&self, arguments: &[Value]) -> Result<Value, CallError> {
        let accounts = strings(arguments, 0)?;
        let organizations = strings(arguments, 1)?;
        let units = strings(arguments, 2)?;
        check(&accounts, 0, validate::account_id)?;
        check(&organizations, 1, validate::organization_arn)?;
        check(&units, 2, validate::organizational_unit_arn)?;
        let partition = partition(arguments, &organizations, &units)?;
        let text = statements(partition, &accounts, &organizations, &units).to_string();
        if text.len() > KEY_POLICY_MAX_BYTES {
            return Err(CallError {
                text: format!(
                    "the statements for {} accounts are {} bytes, more than the {KEY_POLICY_MAX_BYTES} bytes a \
                     whole KMS key policy may hold: name the accounts through their organization or OUs \
                     (arguments 2 and 3) instead, or give them grants (imagecopier_ami_share.share_kms_keys)",
                    accounts.len(),
                    text.len()
                ),
                argument: Some(0),
            });
        }
        Ok(Value::String(text))
    }
}

/// The most a KMS key policy may hold (AWS KMS quotas: "Key policy document
/// size", 32 KB), so statements past it could never be put in one.
const KEY_POLICY_MAX_BYTES: usize = 32_768;

/// Argument `index` as strings; null is empty.
fn strings(arguments: &[Value], index: usize) -> Result<Vec<String>, CallError> {
    let bad = || CallError {
        text: "expected a list of strings".to_owned(),
        argument: Some(index),
    };
    match arguments.get(index) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(bad()),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// The partition of the account principals: the fourth argument if given
/// (one of AWS's partitions, and that of every ARN given), else that of the
/// organization or OU ARNs, else `aws`.
fn partition<'a>(
    arguments: &'a [Value],
    organizations: &'a [String],
    units: &'a [String],
) -> Result<&'a str, CallError> {
    let from_arns: Vec<&str> = organizations
        .iter()
        .chain(units)
        .filter_map(|arn| arn.split(':').nth(1))
        .collect();
    let given = match arguments.get(3..).unwrap_or_default() {
        [] => None,
        [Value::String(partition)] => Some(partition.as_str()),
        [_] => {
            return Err(CallError {
                text: "expected a string".to_owned(),
                argument: Some(3),
            })
        }
        [_, ..] => {
            return Err(CallError {
                text: "takes at most one partition".to_owned(),
                argument: Some(4),
            })
        }
    };
    let Some(given) = given else {
        return Ok(from_arns.first().copied().unwrap_or("aws"));
    };
    if !validate::PARTITIONS.contains(&given) {
        return Err(CallError {
            text: format!(
                "must be an AWS partition ({}), got {given:?}",
                validate::PARTITIONS.join(", ")
            ),
            argument: Some(3),
        });
    }
    if let Some(other) = from_arns.iter().find(|p| **p != given) {
        return Err(CallError {
            text: format!(
                "is {given:?}, but an organization or OU ARN given is in partition {other:?}: one key policy \
                 serves one partition"
            ),
            argument: Some(3),
        });
    }
    Ok(given)
}

fn check(
    values: &[String],
    index: usize,
    rule: fn(&str) -> Result<(), String>,
) -> Result<(), CallError> {
    for (position, value) in values.iter().enumerate() {
        rule(value).map_err(|reason| CallError {
            text: format!("element {position} {reason}"),
            argument: Some(index),
        })?;
    }
    Ok(())
}

/// The statements for these grantees (none for an empty list).
pub(crate) fn statements(
    partition: &str,
    accounts: &[String],
    organizations: &[String],
    units: &[String],
) -> Json {
    let grant_condition = json!({ "Bool": { "kms:GrantIsForAWSResource": "true" } });
    let mut out = Vec::new();
    let mut pair = |sid: &str, principal: Json, condition: Option<Json>| {
        let mut use_key = json!({
            "Sid": format!("ImageCopier{sid}UseKey"),
            "Effect": "Allow",
            "Principal": principal,
            "Action": USE_ACTIONS,
            "Resource": "*",
        });
        let mut grant = json!({
            "Sid": format!("ImageCopier{sid}CreateGrant"),
            "Effect": "Allow",
            "Principal": principal,
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": grant_condition,
        });
        if let Some(condition) = condition {
            use_key["Condition"] = condition.clone();
            merge(&mut grant["Condition"], &condition);
        }
        out.push(use_key);
        out.push(grant);
    };
    if !accounts.is_empty() {
        let roots: Vec<String> = accounts
            .iter()
            .map(|a| format!("arn:{partition}:iam::{a}:root"))
            .collect();
        pair("Accounts", json!({ "AWS": roots }), None);
    }
    if !organizations.is_empty() {
        let ids: Vec<&str> = organizations
            .iter()
            .filter_map(|arn| arn.rsplit('/').next())
            .collect();
        let condition = json!({ "StringEquals": { "aws:PrincipalOrgID": ids } });
        pair("Organizations", json!({ "AWS": "*" }), Some(condition));
    }
    if !units.is_empty() {
        // An OU ARN is .../ou/o-ORG/ou-ID; an account's org path is
        // o-ORG/r-ROOT/ou-.../ with every OU above it, so any path through
        // the OU matches.
        let paths: Vec<String> = units
            .iter()
            .filter_map(|arn| {
                let rest = arn.split_once(":ou/")?.1;
                let (org, ou) = rest.split_once('/')?;
                Some(format!("{org}/*/{ou}/*"))
            })
            .collect();
        let condition = json!({ "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": paths } });
        pair(
            "OrganizationalUnits",
            json!({ "AWS": "*" }),
            Some(condition),
        );
    }
    Json::Array(out)
}

/// Adds the operators of `extra` to the condition block `into`.
fn merge(into: &mut Json, extra: &Json) {
    if let (Some(into), Some(extra)) = (into.as_object_mut(), extra.as_object()) {
        for (operator, keys) in extra {
            into.insert(operator.clone(), keys.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Value {
        Value::List(
            items
                .iter()
                .map(|s| Value::String((*s).to_owned()))
                .collect(),
        )
    }

    fn call(arguments: &[Value]) -> Result<Json, CallError> {
        match KeyPolicyStatements.call(arguments)? {
            Value::String(text) => Ok(serde_json::from_str(&text).expect("JSON")),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn accounts_get_root_principals_and_grants_for_aws_resources_only() {
        let out = call(&[
            list(&["222222222222", "333333333333"]),
            Value::Null,
            Value::Null,
        ])
        .expect("statements");
        let statements = out.as_array().expect("an array");
        assert_eq!(statements.len(), 2);
        assert_eq!(
            statements[0]["Principal"]["AWS"],
            json!([
                "arn:aws:iam::222222222222:root",
                "arn:aws:iam::333333333333:root"
            ])
        );
        assert_eq!(statements[0]["Action"], json!(USE_ACTIONS));
        assert!(statements[0].get("Condition").is_none());
        assert_eq!(statements[1]["Action"], "kms:CreateGrant");
        assert_eq!(
            statements[1]["Condition"]["Bool"]["kms:GrantIsForAWSResource"],
            "true"
        );
    }

    #[test]
    fn accounts_of_another_partition_are_named_by_the_partition_argument() {
        let accounts = list(&["222222222222"]);
        let roots = |out: Json| out[0]["Principal"]["AWS"].clone();
        let none = [accounts.clone(), Value::Null, Value::Null];
        assert_eq!(
            roots(call(&none).expect("an answer")),
            json!(["arn:aws:iam::222222222222:root"])
        );
        let china = [
            accounts.clone(),
            Value::Null,
            Value::Null,
            Value::String("aws-cn".into()),
        ];
        assert_eq!(
            roots(call(&china).expect("an answer")),
            json!(["arn:aws-cn:iam::222222222222:root"])
        );

        let typo = [
            accounts.clone(),
            Value::Null,
            Value::Null,
            Value::String("aws-china".into()),
        ];
        let err = call(&typo).expect_err("an error");
        assert_eq!(err.argument, Some(3));
        assert!(
            err.text.contains("aws-cn") && err.text.contains("\"aws-china\""),
            "{err:?}"
        );

        let org = list(&["arn:aws-us-gov:organizations::111111111111:organization/o-exampleorgid"]);
        let from_org = [accounts.clone(), org.clone(), Value::Null];
        assert_eq!(
            roots(call(&from_org).expect("an answer")),
            json!(["arn:aws-us-gov:iam::222222222222:root"])
        );
        let mixed = [
            accounts.clone(),
            org,
            Value::Null,
            Value::String("aws".into()),
        ];
        let err = call(&mixed).expect_err("an error");
        assert_eq!(err.argument, Some(3));
        assert!(err.text.contains("aws-us-gov"), "{err:?}");

        let two = [
            accounts,
            Value::Null,
            Value::Null,
            Value::String("aws".into()),
            Value::String("aws".into()),
        ];
        assert_eq!(call(&two).expect_err("an error").argument, Some(4));
    }

    #[test]
    fn organizations_and_units_go_by_condition_keys() {
        let org = "arn:aws:organizations::111111111111:organization/o-exampleorgid";
        let ou = "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56";
        let out = call(&[Value::Null, list(&[org]), list(&[ou])]).expect("statements");
        let statements = out.as_array().expect("an array");
        assert_eq!(statements.len(), 4);
        assert_eq!(statements[0]["Principal"]["AWS"], "*");
        assert_eq!(
            statements[0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            json!(["o-exampleorgid"])
        );
        assert_eq!(
            statements[1]["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            json!(["o-exampleorgid"]),
            "the grant statement keeps the organization condition"
        );
        assert_eq!(
            statements[1]["Condition"]["Bool"]["kms:GrantIsForAWSResource"],
            "true"
        );
        assert_eq!(
            statements[2]["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"],
            json!(["o-exampleorgid/*/ou-ab12-cd34ef56/*"])
        );
        assert_eq!(
            call(&[Value::Null, Value::Null, Value::Null]).expect("empty"),
            json!([])
        );
    }

    #[test]
    fn a_bad_element_names_its_argument() {
        let err =
            call(&[list(&["222222222222"]), list(&["o-nope"]), Value::Null]).expect_err("refused");
        assert_eq!(err.argument, Some(1));
        assert!(err.text.contains("element 0"), "{err:?}");
        let err = call(&[list(&["12"]), Value::Null, Value::Null]).expect_err("refused");
        assert_eq!(err.argument, Some(0));
    }

    #[test]
    fn statements_that_no_key_policy_can_hold_are_refused() {
        let many: Vec<String> = (0..1000)
            .map(|i| format!("{}", 200_000_000_000u64 + i))
            .collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let err = call(&[list(&names), Value::Null, Value::Null]).expect_err("refused");
        assert_eq!(err.argument, Some(0));
        assert!(err.text.contains("32768 bytes"), "{err:?}");
        // A few hundred accounts still fit.
        assert!(call(&[list(&names[..300]), Value::Null, Value::Null]).is_ok());
    }
}
