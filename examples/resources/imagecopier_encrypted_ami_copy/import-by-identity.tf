# Terraform 1.12+: an import block by resource identity. Only id is required;
# region may name another region than the provider's (set the resource's
# region to match), and account_id, when given, must be the provider's.
import {
  to = imagecopier_encrypted_ami_copy.app
  identity = {
    id     = "ami-0123456789abcdef0"
    region = "eu-west-1"
  }
}
