# In a target account: copy the newest AMI the bake account shares whose name
# starts with "app-". When the bake account shares a newer one, the next plan
# replaces the copy (the new copy is made before the old one goes).
variable "bake_account_id" {
  type        = string
  description = "The account that bakes and shares the AMIs."
}

provider "imagecopier" {
  region = "eu-west-1"
}

data "imagecopier_image" "app" {
  owners       = [var.bake_account_id]
  name_pattern = "app-*"
}

resource "imagecopier_encrypted_ami_copy" "app" {
  source_ami_id = data.imagecopier_image.app.id
  kms_key_id    = "alias/ami"

  lifecycle {
    create_before_destroy = true
  }
}

output "source_ami_id" {
  value = data.imagecopier_image.app.id
}

output "copy_id" {
  value = imagecopier_encrypted_ami_copy.app.id
}
