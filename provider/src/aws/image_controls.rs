//! The lifecycle controls EC2 gives an AMI's owner: deregistration
//! protection, deprecation, and disabling. Each setter is one EC2 call; what
//! an AMI currently has is read off [`Image`] (DescribeImages reports all
//! three), so a refresh costs no extra call.

use aws_smithy_types::DateTime;
use time::OffsetDateTime;

use super::clients::AwsClients;
use super::errors::AwsError;
use super::image::Image;

/// DescribeImages' `DeregistrationProtection` value of an AMI protected
/// with the 24-hour cooldown.
const WITH_COOLDOWN: &str = "enabled-with-cooldown";
/// Its value for an unprotected AMI.
const DISABLED: &str = "disabled";

/// An AMI's deregistration protection as DescribeImages reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// Not protected: DeregisterImage works.
    Off,
    /// Protected: DeregisterImage is refused until protection is disabled;
    /// with the cooldown, for 24 hours more after that.
    On {
        /// Enabled with the 24-hour cooldown.
        with_cooldown: bool,
    },
    /// Disabled, but the cooldown it had still runs: DeregisterImage is
    /// refused until `until` (AWS's text), when EC2 says.
    CoolingDown {
        /// When the cooldown ends, as DescribeImages words it.
        until: String,
    },
}

impl Protection {
    /// What `image` reports. Anything else that begins `disabled` is taken
    /// for a cooldown still running, with the rest of the text as its end.
    pub fn of(image: &Image) -> Self {
        match image.deregistration_protection.trim() {
            "" | DISABLED => Self::Off,
            WITH_COOLDOWN => Self::On {
                with_cooldown: true,
            },
            // `enabled-without-cooldown`, or a plain `enabled`.
            other if other.starts_with("enabled") => Self::On {
                with_cooldown: false,
            },
            other => Self::CoolingDown {
                until: other
                    .trim_start_matches(DISABLED)
                    .trim_start_matches(['-', ' '])
                    .trim_start_matches("until")
                    .trim()
                    .to_owned(),
            },
        }
    }
}

/// Turns deregistration protection on (`Some(with_cooldown)`) or off.
pub async fn set_protection(
    clients: &AwsClients,
    image_id: &str,
    protection: Option<bool>,
) -> Result<(), AwsError> {
    match protection {
        Some(with_cooldown) => clients
            .ec2_write()
            .enable_image_deregistration_protection()
            .image_id(image_id)
            .with_cooldown(with_cooldown)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                AwsError::from_sdk(
                    format!("calling EC2 EnableImageDeregistrationProtection for {image_id}"),
                    err,
                )
            }),
        None => clients
            .ec2_write()
            .disable_image_deregistration_protection()
            .image_id(image_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                AwsError::from_sdk(
                    format!("calling EC2 DisableImageDeregistrationProtection for {image_id}"),
                    err,
                )
            }),
    }
}

/// Schedules the AMI's deprecation at `at` (EC2 rounds it to the minute),
/// or cancels it.
pub async fn set_deprecation(
    clients: &AwsClients,
    image_id: &str,
    at: Option<OffsetDateTime>,
) -> Result<(), AwsError> {
    match at {
        Some(at) => {
            let when = DateTime::from_secs(at.unix_timestamp());
            clients
                .ec2_write()
                .enable_image_deprecation()
                .image_id(image_id)
                .deprecate_at(when)
                .send()
                .await
                .map(drop)
                .map_err(|err| {
                    AwsError::from_sdk(
                        format!("calling EC2 EnableImageDeprecation for {image_id}"),
                        err,
                    )
                })
        }
        None => clients
            .ec2_write()
            .disable_image_deprecation()
            .image_id(image_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                AwsError::from_sdk(
                    format!("calling EC2 DisableImageDeprecation for {image_id}"),
                    err,
                )
            }),
    }
}

/// Enables a disabled AMI, or disables an AMI (which EC2 hides from
/// listings and makes private).
pub async fn set_enabled(
    clients: &AwsClients,
    image_id: &str,
    enabled: bool,
) -> Result<(), AwsError> {
    let result = if enabled {
        clients
            .ec2_write()
            .enable_image()
            .image_id(image_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                AwsError::from_sdk(format!("calling EC2 EnableImage for {image_id}"), err)
            })
    } else {
        clients
            .ec2_write()
            .disable_image()
            .image_id(image_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| {
                AwsError::from_sdk(format!("calling EC2 DisableImage for {image_id}"), err)
            })
    };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(value: &str) -> Protection {
        Protection::of(&Image {
            deregistration_protection: value.to_owned(),
            ..Image::default()
        })
    }

    #[test]
    fn reads_each_reported_protection() {
        assert_eq!(reported(""), Protection::Off);
        assert_eq!(reported("disabled"), Protection::Off);
        assert_eq!(
            reported("enabled-with-cooldown"),
            Protection::On {
                with_cooldown: true
            }
        );
        assert_eq!(
            reported("enabled-without-cooldown"),
            Protection::On {
                with_cooldown: false
            }
        );
        assert_eq!(
            reported("disabled-until 2026-12-03T10:00:00.000Z"),
            Protection::CoolingDown {
                until: "2026-12-03T10:00:00.000Z".to_owned()
            }
        );
    }
}
