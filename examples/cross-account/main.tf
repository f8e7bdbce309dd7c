# One bake account shares an AMI with two workload accounts, and each of them
# keeps its own encrypted copy, tagged like the original.
#
#   bake (var.bake_account_id)        imagecopier_ami_share.app
#     ├── prod (var.prod_account_id)       imagecopier_encrypted_ami_copy.prod
#     └── staging (var.staging_account_id) imagecopier_encrypted_ami_copy.staging

terraform {
  required_version = ">= 1.0"

  required_providers {
    imagecopier = {
      source = "imagecopier/imagecopier"
    }
  }
}

# The bake account: the credentials Terraform runs with (profile, environment
# variables or instance role). allowed_account_ids stops a run that picked up
# the wrong credentials before it changes anything.
provider "imagecopier" {
  alias               = "bake"
  region              = var.region
  allowed_account_ids = [var.bake_account_id]
}

# The target accounts: the bake credentials assume a role in each one.
provider "imagecopier" {
  alias  = "prod"
  region = var.region
  assume_role {
    role_arn     = "arn:aws:iam::${var.prod_account_id}:role/${var.target_role_name}"
    session_name = "ami-copy-prod"
  }
  allowed_account_ids = [var.prod_account_id]
  default_tags {
    tags = var.default_tags
  }
}

provider "imagecopier" {
  alias  = "staging"
  region = var.region
  assume_role {
    role_arn     = "arn:aws:iam::${var.staging_account_id}:role/${var.target_role_name}"
    session_name = "ami-copy-staging"
  }
  allowed_account_ids = [var.staging_account_id]
  default_tags {
    tags = var.default_tags
  }
}

# Launch permission on the AMI and createVolumePermission on every snapshot
# behind it, for both target accounts. Adding an account later is an in-place
# change; a permission revoked outside Terraform shows up in the next plan.
# share_kms_keys: the AMI is encrypted with the bake account's own KMS key, so
# each target account also gets a grant on it to copy the AMI (kms_grants).
resource "imagecopier_ami_share" "app" {
  provider       = imagecopier.bake
  image_id       = var.source_ami_id
  account_ids    = [var.prod_account_id, var.staging_account_id]
  share_kms_keys = true
}

# Each copy refers to the share (image_id, image_tags), so Terraform shares the
# AMI before it copies it, and destroys the copies before it revokes the share.
resource "imagecopier_encrypted_ami_copy" "prod" {
  provider      = imagecopier.prod
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = var.prod_kms_key_id
  description   = "${imagecopier_ami_share.app.image_name}, encrypted for prod"

  # Other accounts cannot see the bake account's tags: carry them over.
  source_tags = imagecopier_ami_share.app.image_tags
  tags = {
    Stage = "prod"
  }

  timeouts {
    create = "60m"
    delete = "30m"
  }

  # When the source AMI changes, make the new copy before deleting this one
  # (docs/guides/new-ami-versions.md).
  lifecycle {
    create_before_destroy = true
  }
}

resource "imagecopier_encrypted_ami_copy" "staging" {
  provider      = imagecopier.staging
  source_ami_id = imagecopier_ami_share.app.image_id
  kms_key_id    = var.staging_kms_key_id
  description   = "${imagecopier_ami_share.app.image_name}, encrypted for staging"

  source_tags = imagecopier_ami_share.app.image_tags
  tags = {
    Stage = "staging"
  }

  timeouts {
    create = "60m"
    delete = "30m"
  }

  # When the source AMI changes, make the new copy before deleting this one
  # (docs/guides/new-ami-versions.md).
  lifecycle {
    create_before_destroy = true
  }
}
