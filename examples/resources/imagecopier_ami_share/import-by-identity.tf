# Terraform 1.12+: an import block by resource identity, in the bake account.
import {
  to = imagecopier_ami_share.app
  identity = {
    id = "ami-0123456789abcdef0"
  }
}
