# In a target account: an encrypted copy of the AMI the bake account shares.
# Usually source_ami_id and source_tags come from imagecopier_ami_share in the
# bake account's configuration (image_id and image_tags).
variable "source_ami_id" {
  type        = string
  description = "The bake account's AMI, shared with this account."
}

provider "imagecopier" {
  region = "eu-west-1"
}

resource "imagecopier_encrypted_ami_copy" "app" {
  source_ami_id = var.source_ami_id
  kms_key_id    = "alias/ami"
  description   = "app, encrypted for this account"
  source_tags   = { Name = "app", team = "images" }
  tags          = { Stage = "PROD" }

  timeouts {
    create = "60m"
    delete = "30m"
  }

  # When source_ami_id changes, make the new copy before deleting this one.
  lifecycle {
    create_before_destroy = true
  }
}

output "copy_id" {
  value = imagecopier_encrypted_ami_copy.app.id
}
