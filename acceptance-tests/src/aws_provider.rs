//! The real `hashicorp/aws` provider beside ours, where the machine has it.
//!
//! Tests that prove interoperation with terraform-provider-aws (a `moved` from its `aws_ami_copy`,
//! an import of what it made, a mixed configuration) need the real binary: a hand-written stand-in
//! would only agree with our own reading of its state. No registry is reachable here, so it comes
//! from a filesystem mirror: the directory `IMAGECOPIER_ACC_AWS_PROVIDER_MIRROR` names, else one of
//! the places a machine image or an operator puts one. Without it these tests skip with a printed
//! reason, and `scripts/test` says before its first step, and again in its summary, whether it
//! found the provider.

use std::path::{Path, PathBuf};

use crate::{StandIn, Workdir, REGION};

/// The variable naming a filesystem mirror that holds `registry.terraform.io/hashicorp/aws`.
pub const MIRROR_VARIABLE: &str = "IMAGECOPIER_ACC_AWS_PROVIDER_MIRROR";
/// The aws provider version the tests pin (the one this kind of machine ships).
pub const VERSION: &str = "5.100.0";
/// Where a mirror is looked for when the variable is not set.
const KNOWN_MIRRORS: &[&str] = &[
    "/opt/tf-plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
];

/// The filesystem mirror holding aws [`VERSION`] for this platform, if any.
pub fn mirror() -> Option<PathBuf> {
    let named = std::env::var_os(MIRROR_VARIABLE).map(PathBuf::from);
    let candidates = named
        .into_iter()
        .chain(KNOWN_MIRRORS.iter().map(PathBuf::from));
    candidates
        .into_iter()
        .find(|root| binary_in(root).is_file())
}

/// The provider binary inside the mirror `root` (unpacked layout).
fn binary_in(root: &Path) -> PathBuf {
    root.join(format!(
        "registry.terraform.io/hashicorp/aws/{VERSION}/linux_amd64/terraform-provider-aws_v{VERSION}_x5"
    ))
}

/// The mirror, or `None` after printing why the calling test does not run (cargo shows it with
/// the test's output).
pub fn mirror_or_skip(test: &str) -> Option<PathBuf> {
    let found = mirror();
    if found.is_none() {
        println!(
            "SKIPPED {test}: the real hashicorp/aws {VERSION} provider was not found (set {MIRROR_VARIABLE} to a \
             filesystem mirror holding it; looked in {})",
            KNOWN_MIRRORS.join(", ")
        );
    }
    found
}

/// The `terraform` block of a configuration that uses both providers, aws pinned.
pub fn required_providers() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    imagecopier = {{ source = \"imagecopier/imagecopier\" }}\n    \
         aws         = {{ source = \"hashicorp/aws\", version = \"{VERSION}\" }}\n  }}\n}}\n"
    )
}

/// A `provider "aws"` block acting as `account` against `standin`, in [`REGION`], the way the
/// aws provider's own documentation points it at a local endpoint: no credential validation,
/// no account lookup, no metadata service, every service the tests use at the stand-in.
pub fn provider_block(standin: &StandIn, account: &str, alias: Option<&str>) -> String {
    let endpoint = standin.endpoint();
    let alias = alias.map_or(String::new(), |a| format!("  alias = \"{a}\"\n"));
    // Strict: the account's profile (a role session), as ours uses; STS refuses AssumeRole with
    // a root key, which is what a 12-digit access key is there.
    let credentials = match standin.strict() {
        Some(accounts) => {
            accounts.prepare_account(account);
            format!("  profile                     = \"{}\"\n", crate::strict::profile(account))
        }
        None => format!(
            "  access_key                  = \"{account}\"\n  secret_key                  = \"test\"\n"
        ),
    };
    format!(
        "provider \"aws\" {{\n{alias}  region                      = \"{REGION}\"\n{credentials}  skip_credentials_validation = true\n  \
         skip_requesting_account_id  = true\n  skip_metadata_api_check     = true\n  skip_region_validation      \
         = true\n  endpoints {{\n    ec2 = \"{endpoint}\"\n    kms = \"{endpoint}\"\n    sts = \"{endpoint}\"\n    \
         iam = \"{endpoint}\"\n  }}\n}}\n"
    )
}

impl Workdir {
    /// Also installs `hashicorp/aws` from the filesystem mirror `mirror` (this provider stays a
    /// dev override), then runs `terraform init` on `config`, written as `main.tf`.
    pub fn with_aws_provider(self, mirror: &Path, config: &str) -> Self {
        self.write(
            "terraform.rc",
            &crate::workdir::cli_config(&[], Some(mirror)),
        );
        self.write_main(config);
        self.init().assert_success();
        self
    }
}
