# Taking over a copy that terraform-provider-aws's aws_ami_copy made, without
# copying it again (Terraform 1.8+). Replace the aws_ami_copy block with this
# one and the moved block. Keep the aws provider required (and installed) until
# the move is applied: Terraform starts every provider the state names.
terraform {
  required_providers {
    imagecopier = { source = "imagecopier/imagecopier" }
    aws         = { source = "hashicorp/aws" }
  }
}

variable "source_ami_id" {
  type        = string
  description = "The AMI the aws_ami_copy was copied from."
}

variable "kms_key_id" {
  type        = string
  description = "The key aws_ami_copy encrypted with (its kms_key_id)."
}

moved {
  from = aws_ami_copy.app
  to   = imagecopier_encrypted_ami_copy.app
}

resource "imagecopier_encrypted_ami_copy" "app" {
  source_ami_id = var.source_ami_id
  name          = "legacy-copy"
  kms_key_id    = var.kms_key_id
  tags          = { team = "images" }
}
