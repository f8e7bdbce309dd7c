//! EC2 clients against the stand-in, for seeding AMIs and inspecting what the provider did.
//!
//! Tests are plain `#[test]` functions, because Terraform runs are blocking; the SDK's futures run
//! on one runtime shared by the whole test process through [`Ec2::block_on`].

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sdk_ec2::config::timeout::TimeoutConfig;
use aws_sdk_ec2::config::{BehaviorVersion, Region};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    ArchitectureValues, BlockDeviceMapping, EbsBlockDevice, Image, ImageAttributeName,
    LaunchPermission, LaunchPermissionModifications, PermissionGroup, Tag, VolumeType,
};
use tokio::runtime::Runtime;

use crate::{StandIn, REGION};

/// Any one SDK call, retries included, must finish within this.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the harness waits for its own writes to show in reads. EC2 is eventually consistent
/// ("Eventual consistency in the Amazon EC2 API"), and so is the strict stand-in with a lag; a
/// test acting as a person outside Terraform waits as a careful person would, for what it did to
/// be visible, before it asks the provider to notice.
pub const CONSISTENCY_WAIT: Duration = Duration::from_secs(300);
const CONSISTENCY_POLL: Duration = Duration::from_millis(250);

/// Calls `settled` until it returns true, for at most [`CONSISTENCY_WAIT`], and returns; the
/// caller then asserts what it expects, so a failure shows the last reading. For checks of what
/// Terraform just did, which reads may show only after a moment.
pub fn until_consistent(mut settled: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + CONSISTENCY_WAIT;
    while !settled() && std::time::Instant::now() < deadline {
        std::thread::sleep(CONSISTENCY_POLL);
    }
}

/// Calls `look` until it returns `Some`, for at most [`CONSISTENCY_WAIT`]; panics naming `what`.
pub fn eventually<T>(what: &str, mut look: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + CONSISTENCY_WAIT;
    loop {
        if let Some(found) = look() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not visible after {CONSISTENCY_WAIT:?}"
        );
        std::thread::sleep(CONSISTENCY_POLL);
    }
}
/// The device seeded AMIs boot from.
const ROOT_DEVICE: &str = "/dev/xvda";
const SEED_VOLUME_GIB: i32 = 8;

/// An EC2 client acting as one account at the stand-in.
#[derive(Clone, Debug)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
    account: String,
    region: String,
}

/// An AMI created by [`Ec2::seed_ami`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededAmi {
    /// The AMI id, `ami-...`.
    pub image_id: String,
    /// Its unique name.
    pub name: String,
    /// The account that owns it.
    pub owner: String,
    /// The snapshots its block device mappings reference, as DescribeImages reports them.
    pub snapshot_ids: Vec<String>,
}

impl StandIn {
    /// An EC2 client acting as `account` in [`REGION`].
    pub fn ec2(&self, account: &str) -> Ec2 {
        Ec2::new(self.endpoint(), account)
    }

    /// An EC2 client acting as `account` in `region`.
    pub fn ec2_in(&self, account: &str, region: &str) -> Ec2 {
        Ec2::in_region(self.endpoint(), account, region)
    }

    /// Registers an EBS-backed AMI owned by `account` with `tags`; see [`Ec2::seed_ami`].
    pub fn seed_ami(&self, account: &str, tags: &[(&str, &str)]) -> SeededAmi {
        self.ec2(account).seed_ami(tags)
    }
}

impl Ec2 {
    /// A client for `endpoint` whose static access key is `account` (the stand-in's convention
    /// for "acting as this account").
    pub fn new(endpoint: &str, account: &str) -> Self {
        Self::in_region(endpoint, account, REGION)
    }

    /// [`Ec2::new`] in `region`.
    pub fn in_region(endpoint: &str, account: &str, region: &str) -> Self {
        let credentials = Credentials::new(account, "test", None, None, "acceptance-tests");
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .build();
        Self {
            client: aws_sdk_ec2::Client::from_conf(config),
            account: account.to_string(),
            region: region.to_string(),
        }
    }

    /// The SDK client, for calls the harness does not wrap; run them with [`Ec2::block_on`].
    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    /// The account this client acts as.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Runs an SDK future to completion from a synchronous test. Must not be called from inside an
    /// async context (such as a `#[tokio::test]`).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        runtime().block_on(future)
    }

    /// Creates an available, EBS-backed AMI with one root snapshot, tagged with `tags`.
    ///
    /// It goes the way a real AMI is built from a volume: CreateVolume, CreateSnapshot, then
    /// RegisterImage with a block device mapping that references the snapshot.
    pub fn seed_ami(&self, tags: &[(&str, &str)]) -> SeededAmi {
        self.seed_ami_with_disks(tags, 1)
    }

    /// [`Ec2::seed_ami`] with `disks` EBS snapshots: the root and `disks - 1` data volumes
    /// (`/dev/sdb`, `/dev/sdc`, ...). Each snapshot counts against the copy quota when copied.
    pub fn seed_ami_with_disks(&self, tags: &[(&str, &str)], disks: usize) -> SeededAmi {
        self.seed_named_ami("seed-ami", tags, disks)
    }

    /// [`Ec2::seed_ami_with_disks`] with a name that starts with `prefix` (then a unique part),
    /// for tests that search by name.
    pub fn seed_named_ami(&self, prefix: &str, tags: &[(&str, &str)], disks: usize) -> SeededAmi {
        self.seed(prefix, tags, disks, None)
    }

    /// [`Ec2::seed_ami`] whose snapshot is encrypted with KMS key `key_arn` (a customer managed
    /// key of this account, as bake pipelines use).
    pub fn seed_encrypted_ami(&self, tags: &[(&str, &str)], key_arn: &str) -> SeededAmi {
        self.seed("seed-cmk-ami", tags, 1, Some(key_arn))
    }

    /// [`Ec2::seed_encrypted_ami`] with `disks` snapshots, all encrypted with `key_arn`.
    pub fn seed_encrypted_ami_with_disks(
        &self,
        tags: &[(&str, &str)],
        key_arn: &str,
        disks: usize,
    ) -> SeededAmi {
        self.seed("seed-cmk-ami", tags, disks, Some(key_arn))
    }

    fn seed(
        &self,
        prefix: &str,
        tags: &[(&str, &str)],
        disks: usize,
        key_arn: Option<&str>,
    ) -> SeededAmi {
        let name = unique_name(prefix);
        let devices: Vec<String> = (0..disks.max(1))
            .map(|i| match i {
                0 => ROOT_DEVICE.to_string(),
                n => format!(
                    "/dev/sd{}",
                    char::from(b'a' + u8::try_from(n).unwrap_or(24))
                ),
            })
            .collect();
        let made: Vec<String> = devices
            .iter()
            .map(|_| self.seed_snapshot(&name, key_arn))
            .collect();
        let mappings: Vec<BlockDeviceMapping> = devices
            .iter()
            .zip(&made)
            .map(|(device, snapshot_id)| {
                BlockDeviceMapping::builder()
                    .device_name(device)
                    .ebs(
                        EbsBlockDevice::builder()
                            .snapshot_id(snapshot_id)
                            .volume_size(SEED_VOLUME_GIB)
                            .volume_type(VolumeType::Gp3)
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build()
            })
            .collect();
        self.register_seed(&name, mappings, &made, tags)
    }

    /// A snapshot of a new volume, for a seeded AMI named `name`, encrypted with `key_arn` if given.
    fn seed_snapshot(&self, name: &str, key_arn: Option<&str>) -> String {
        let c = &self.client;
        let region = &self.region;
        self.block_on(async {
            let volume = c
                .create_volume()
                .availability_zone(format!("{region}a"))
                .size(SEED_VOLUME_GIB)
                .set_encrypted(key_arn.map(|_| true))
                .set_kms_key_id(key_arn.map(str::to_owned))
                .send()
                .await
                .unwrap_or_else(|err| panic!("CreateVolume: {}", describe(&err)));
            let volume_id = volume.volume_id().unwrap_or_default().to_string();
            let snapshot = c
                .create_snapshot()
                .volume_id(&volume_id)
                .description(format!("disk of {name}"))
                .send()
                .await
                .unwrap_or_else(|err| panic!("CreateSnapshot: {}", describe(&err)));
            // The snapshot outlives its volume, as it does in AWS; the volume is not needed.
            c.delete_volume()
                .volume_id(&volume_id)
                .send()
                .await
                .unwrap_or_else(|err| panic!("DeleteVolume: {}", describe(&err)));
            snapshot.snapshot_id().unwrap_or_default().to_string()
        })
    }

    /// Registers the seeded AMI `name` over `mappings` (snapshots `made`), tagged with `tags`.
    fn register_seed(
        &self,
        name: &str,
        mappings: Vec<BlockDeviceMapping>,
        made: &[String],
        tags: &[(&str, &str)],
    ) -> SeededAmi {
        let c = &self.client;
        let image_id = self.block_on(async {
            let registered = c
                .register_image()
                .name(name)
                .architecture(ArchitectureValues::X8664)
                .virtualization_type("hvm")
                .root_device_name(ROOT_DEVICE)
                .set_block_device_mappings(Some(mappings))
                .send()
                .await
                .unwrap_or_else(|err| panic!("RegisterImage: {}", describe(&err)));
            let image_id = registered.image_id().unwrap_or_default().to_string();
            if !tags.is_empty() {
                let tags = tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build());
                c.create_tags()
                    .resources(&image_id)
                    .set_tags(Some(tags.collect()))
                    .send()
                    .await
                    .unwrap_or_else(|err| panic!("CreateTags: {}", describe(&err)));
            }
            image_id
        });
        let image = eventually(&format!("the seeded {image_id} with its tags"), || {
            self.describe_image(&image_id)
                .filter(|image| tags.iter().all(|(k, v)| image_tag(image, k) == Some(*v)))
        });
        let snapshot_ids = snapshot_ids(&image);
        if crate::backend::is_strict() {
            // A bake pipeline's AMI is older than any lag; a seeded one is not, and its snapshots
            // show in reads only after the stand-in's lag, like the AMI.
            for snapshot_id in &snapshot_ids {
                eventually(&format!("the seeded AMI's {snapshot_id}"), || {
                    let found =
                        self.block_on(c.describe_snapshots().snapshot_ids(snapshot_id).send());
                    found
                        .ok()
                        .filter(|out| !out.snapshots().is_empty())
                        .map(|_| ())
                });
            }
        }
        for snapshot_id in made.iter().filter(|s| !snapshot_ids.contains(s)) {
            // Plain moto ignores the mapping and makes a snapshot of its own; drop ours so the
            // account holds only the AMI's snapshots, as it would in AWS.
            self.block_on(c.delete_snapshot().snapshot_id(snapshot_id).send())
                .unwrap_or_else(|err| panic!("DeleteSnapshot: {}", describe(&err)));
        }
        SeededAmi {
            image_id,
            name: name.to_string(),
            owner: self.account.clone(),
            snapshot_ids,
        }
    }

    /// The AMI `image_id` as this account sees it, or `None` if DescribeImages does not show it.
    pub fn describe_image(&self, image_id: &str) -> Option<Image> {
        let result = self.block_on(self.client.describe_images().image_ids(image_id).send());
        match result {
            Ok(output) => output
                .images()
                .iter()
                .find(|image| image.image_id() == Some(image_id))
                .cloned(),
            Err(err) if err.code() == Some("InvalidAMIID.NotFound") => None,
            Err(err) => panic!("DescribeImages {image_id}: {}", describe(&err)),
        }
    }

    /// Who may launch `image_id`, as its owner sees it: the accounts, and whether it is public.
    pub fn launch_permissions(&self, image_id: &str) -> (BTreeSet<String>, bool) {
        let out = self
            .block_on(
                self.client
                    .describe_image_attribute()
                    .image_id(image_id)
                    .attribute(ImageAttributeName::LaunchPermission)
                    .send(),
            )
            .unwrap_or_else(|err| panic!("DescribeImageAttribute {image_id}: {}", describe(&err)));
        let permissions = out.launch_permissions();
        let accounts = permissions
            .iter()
            .filter_map(|p| p.user_id().map(str::to_owned))
            .collect();
        let public = permissions
            .iter()
            .any(|p| p.group() == Some(&PermissionGroup::All));
        (accounts, public)
    }

    /// Grants (`add`) or revokes launch permission on `image_id` for `principal`, an account id
    /// or `"all"` (public), as someone outside Terraform would.
    pub fn change_launch_permission(&self, image_id: &str, principal: &str, add: bool) {
        let permission = if principal == "all" {
            LaunchPermission::builder()
                .group(PermissionGroup::All)
                .build()
        } else {
            LaunchPermission::builder().user_id(principal).build()
        };
        let change = if add {
            LaunchPermissionModifications::builder().add(permission)
        } else {
            LaunchPermissionModifications::builder().remove(permission)
        };
        self.block_on(
            self.client
                .modify_image_attribute()
                .image_id(image_id)
                .launch_permission(change.build())
                .send(),
        )
        .unwrap_or_else(|err| panic!("ModifyImageAttribute {image_id}: {}", describe(&err)));
        eventually(
            &format!("launch permission {principal} on {image_id}"),
            || {
                let (accounts, public) = self.launch_permissions(image_id);
                let holds = if principal == "all" {
                    public
                } else {
                    accounts.contains(principal)
                };
                (holds == add).then_some(())
            },
        );
    }

    /// Turns off block public access for AMIs in this account and Region, as an owner must before
    /// making an AMI public (EC2 User Guide, "Block public access to your AMIs": on by default in
    /// new accounts). Only the strict stand-in models it, so elsewhere this does nothing.
    pub fn allow_public_images(&self) {
        if !crate::is_strict() {
            return;
        }
        self.block_on(self.client.disable_image_block_public_access().send())
            .unwrap_or_else(|err| panic!("DisableImageBlockPublicAccess: {}", describe(&err)));
    }

    /// The AMIs this account owns. A deregistered AMI that DescribeImages still lists (it does
    /// for a short while, with state `deregistered`) is not owned any more.
    pub fn owned_images(&self) -> Vec<Image> {
        let result = self.block_on(self.client.describe_images().owners("self").send());
        match result {
            Ok(output) => output
                .images()
                .iter()
                .filter(|image| image.state().map(|s| s.as_str()) != Some("deregistered"))
                .cloned()
                .collect(),
            Err(err) => panic!("DescribeImages owners=self: {}", describe(&err)),
        }
    }
}

/// The snapshot ids in an image's EBS block device mappings.
pub fn snapshot_ids(image: &Image) -> Vec<String> {
    image
        .block_device_mappings()
        .iter()
        .filter_map(|mapping| mapping.ebs()?.snapshot_id())
        .map(str::to_string)
        .collect()
}

/// The value of tag `key` on an image, if set.
pub fn image_tag<'a>(image: &'a Image, key: &str) -> Option<&'a str> {
    image
        .tags()
        .iter()
        .find(|tag| tag.key() == Some(key))
        .and_then(Tag::value)
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|err| panic!("starting the tokio runtime: {err}"))
    })
}

/// A name no other test in any process uses, so parallel tests never collide.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// An SDK error with its code and message, which the default Display hides.
fn describe<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> String {
    format!(
        "{}: {} ({err:?})",
        err.code().unwrap_or("no code"),
        err.message().unwrap_or("no message")
    )
}
