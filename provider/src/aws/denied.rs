//! Refusals by IAM, told as what to fix.
//!
//! EC2 (`UnauthorizedOperation`), KMS (`AccessDeniedException`) and STS (`AccessDenied`) answer a
//! denied call with one sentence naming the principal, the action and the resource, then, for
//! EC2, a long encoded blob. As a diagnostic that reads poorly: the action is buried and the blob
//! fills the screen. [`explain`] keeps every fact AWS gave, leads with who may not do what on
//! which resource, points to the policy this provider documents for that action, and moves the
//! blob to the end with the command that decodes it.

use crate::log;

/// Codes AWS uses for "your policies do not allow this".
const DENIAL_CODES: &[&str] = &[
    "UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
];

const ENCODED: &str = "Encoded authorization failure message:";

/// Where the docs list the permissions an action belongs to (each resource page's "IAM
/// permissions" section; docs/index.md for assuming roles).
fn documented_in(action: &str) -> &'static str {
    let share = "the IAM permissions of imagecopier_ami_share (docs/resources/ami_share.md)";
    let copy =
        "the IAM permissions of imagecopier_encrypted_ami_copy (docs/resources/encrypted_ami_copy.md)";
    match action {
        "sts:AssumeRole" => {
            "the importer role's trust policy and the bake credentials' sts:AssumeRole policy \
             (docs/index.md, \"A provider block per account\")"
        }
        "ec2:ModifyImageAttribute"
        | "ec2:ModifySnapshotAttribute"
        | "ec2:DescribeImageAttribute"
        | "ec2:DescribeSnapshotAttribute"
        | "kms:ListGrants"
        | "kms:RetireGrant"
        | "kms:RevokeGrant"
        | "kms:ListAliases" => share,
        a if a.starts_with("kms:") => {
            "the KMS statements of imagecopier_encrypted_ami_copy's and imagecopier_ami_share's \
             IAM permissions, and docs/guides/kms-keys.md"
        }
        _ => copy,
    }
}

/// Whether `code` is an IAM refusal.
pub(crate) fn is_denial(code: &str) -> bool {
    DENIAL_CODES.contains(&code)
}

/// `message` of a refusal rewritten to lead with who, what and where, and the docs' policy for
/// it; `None` when it is not a refusal or AWS did not name the action.
pub(crate) fn explain(code: &str, message: &str) -> Option<String> {
    if !is_denial(code) {
        return None;
    }
    let (said, encoded) = match message.split_once(ENCODED) {
        Some((said, encoded)) => (said.trim(), Some(encoded.trim())),
        None => (message.trim(), None),
    };
    let (_, rest) = said.split_once("User: ")?;
    let (principal, rest) = rest.split_once(" is not authorized to perform: ")?;
    let (action, resource, reason) = match rest.split_once(" on resource: ") {
        Some((action, rest)) => {
            let (resource, reason) = rest.split_once(" because ").unwrap_or((rest, ""));
            (action, Some(resource.trim_end_matches('.')), reason)
        }
        None => {
            let (action, reason) = rest.split_once(" because ").unwrap_or((rest, ""));
            (action, None, reason)
        }
    };
    let action = action.trim().trim_end_matches('.');
    let mut out = format!("{} may not call {action}", who(principal));
    if let Some(resource) = resource {
        out.push_str(&format!(" on {resource}"));
    }
    let reason = reason.trim().trim_end_matches('.');
    if !reason.is_empty() {
        out.push_str(&format!(" ({reason})"));
    }
    out.push_str(&format!(
        ". Allow it in that principal's policies: see {}.",
        documented_in(action)
    ));
    if let Some(encoded) = encoded.filter(|e| !e.is_empty()) {
        // The blob is for `aws sts decode-authorization-message`, not for reading; the full text
        // stays in the log for whoever needs it.
        log::debug(
            "AWS refused a call; its encoded reason",
            &[
                ("code", code),
                ("action", action),
                ("encoded_message", encoded),
            ],
        );
        out.push_str(
            " AWS's encoded reason is in the provider's DEBUG log (TF_LOG=DEBUG); \
             `aws sts decode-authorization-message` decodes it.",
        );
    }
    Some(out)
}

/// A principal ARN as words: the role and session, the user, or the root, with the account.
fn who(principal: &str) -> String {
    let principal = principal.trim();
    let mut parts = principal.splitn(6, ':');
    let (Some("arn"), Some(_), Some(_), Some(_), Some(account), Some(name)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return principal.to_owned();
    };
    let pieces: Vec<&str> = name.split('/').collect();
    match pieces.as_slice() {
        ["assumed-role", role, session] => {
            format!("role {role} of account {account} (session {session})")
        }
        ["root"] => format!("the root user of account {account}"),
        ["user", .., user] => format!("IAM user {user} of account {account}"),
        ["role", .., role] => format!("role {role} of account {account}"),
        _ => principal.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ec2_refusal_leads_with_who_what_where_and_the_docs() {
        let message = "You are not authorized to perform this operation. User: \
            arn:aws:sts::111111111111:assumed-role/terraform/ci is not authorized to perform: \
            ec2:ModifySnapshotAttribute on resource: arn:aws:ec2:eu-west-1::snapshot/snap-1 \
            because no identity-based policy allows the ec2:ModifySnapshotAttribute action. \
            Encoded authorization failure message: eyJhbGxvd2VkIjogZmFsc2V9";
        let text = explain("UnauthorizedOperation", message).expect("a refusal");
        assert!(
            text.starts_with(
                "role terraform of account 111111111111 (session ci) may not call \
                 ec2:ModifySnapshotAttribute on arn:aws:ec2:eu-west-1::snapshot/snap-1 (no \
                 identity-based policy allows the ec2:ModifySnapshotAttribute action)."
            ),
            "{text}"
        );
        assert!(text.contains("docs/resources/ami_share.md"), "{text}");
        assert!(!text.contains("eyJhbGxvd2VkIjogZmFsc2V9"), "{text}");
        assert!(text.contains("decode-authorization-message"), "{text}");
    }

    #[test]
    fn a_kms_refusal_without_a_blob_points_to_the_key_docs() {
        let message = "User: arn:aws:iam::222222222222:user/bob is not authorized to perform: \
            kms:DescribeKey on resource: arn:aws:kms:eu-west-1:111111111111:key/k because no \
            resource-based policy allows the kms:DescribeKey action";
        let text = explain("AccessDeniedException", message).expect("a refusal");
        assert!(
            text.starts_with("IAM user bob of account 222222222222 may not call kms:DescribeKey"),
            "{text}"
        );
        assert!(text.contains("docs/guides/kms-keys.md"), "{text}");
        assert!(!text.contains("decode-authorization-message"), "{text}");
    }

    #[test]
    fn other_errors_and_unnamed_refusals_are_left_as_they_are() {
        assert_eq!(explain("InvalidAMIID.NotFound", "User: x"), None);
        assert_eq!(
            explain(
                "UnauthorizedOperation",
                "You are not authorized to perform this operation."
            ),
            None
        );
    }
}
