# In a target account: a copy managed for its whole life. Nothing outside
# Terraform can deregister it, it is deprecated on a date, EC2 completes it
# within an hour, and destroy refuses while a launch template launches it.

provider "imagecopier" {
  region = "eu-west-1"
}

resource "imagecopier_encrypted_ami_copy" "app" {
  source_ami_id = var.source_ami_id
  kms_key_id    = "alias/ami"
  source_tags   = { Name = "app", team = "images" }

  # EC2 refuses DeregisterImage while this is on; destroy turns it off first.
  # with_cooldown = true would keep refusing for 24 hours after that.
  deregistration_protection {
    enabled = true
  }

  # Other accounts' listings leave the copy out from then on; it still launches.
  deprecation_time = var.deprecation_time

  # A time-based copy: EC2 completes it within 60 minutes.
  completion_duration_minutes = 60

  lifecycle {
    create_before_destroy = true
  }
}
