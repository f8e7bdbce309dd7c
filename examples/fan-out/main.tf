# One provider block, one share, one copy block: every (account, region)
# target in var.targets gets its own encrypted copy of the bake AMI.
#
#   bake account (Terraform's credentials)   imagecopier_ami_share.app
#     └── for each target                    imagecopier_encrypted_ami_copy.app["<key>"]
#           region      = target.region      (cross-region when it is not var.bake_region)
#           assume_role = the importer role in target.account_id
#
# Adding or removing a target changes that copy only. Terraform cannot
# for_each provider blocks; the resources' own region and assume_role
# arguments make that unnecessary.

terraform {
  required_version = ">= 1.0"

  required_providers {
    imagecopier = {
      source = "imagecopier/imagecopier"
    }
  }
}

# The bake account. Its credentials share the AMI and assume each target's
# importer role. allowed_account_ids applies to every account a resource
# reaches; it is written out on its own (not derived from var.targets), so a
# mistyped target account is refused at plan, and an account that leaves
# var.targets can still be reached to destroy its copies.
provider "imagecopier" {
  region              = var.bake_region
  allowed_account_ids = var.allowed_account_ids
}

# Launch permission and createVolumePermission for every target account, once
# per account however many regions it copies into.
resource "imagecopier_ami_share" "app" {
  image_id    = var.ami_id
  account_ids = distinct([for t in values(var.targets) : t.account_id])

  # A bake AMI encrypted with the bake account's own KMS key (the usual case)
  # can only be copied by accounts allowed to use that key: a grant per
  # account on it. An AMI with no customer managed key gets no grant; one
  # whose key policy already names the accounts does not need them.
  share_kms_keys = true
}

resource "imagecopier_encrypted_ami_copy" "app" {
  for_each = var.targets

  region = each.value.region
  assume_role {
    role_arn     = "arn:aws:iam::${each.value.account_id}:role/${var.importer_role_name}"
    session_name = "ami-fan-out"
  }

  source_ami_id = imagecopier_ami_share.app.image_id
  source_region = var.bake_region
  kms_key_id    = each.value.kms_key_id
  source_tags   = imagecopier_ami_share.app.image_tags
  tags          = var.tags

  # A new AMI version replaces each copy: make the new one before the old
  # one goes, so every account always has one.
  lifecycle {
    create_before_destroy = true
  }
}
