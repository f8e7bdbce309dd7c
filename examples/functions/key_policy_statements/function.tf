# In the bake account: the key policy statements that let the copy accounts
# (and every account of an organization) copy AMIs encrypted with the bake
# key. Merge them into the key's policy, for example with the aws provider:
#
#   resource "aws_kms_key_policy" "bake" {
#     key_id = aws_kms_key.bake.id
#     policy = jsonencode({
#       Version   = "2012-10-17"
#       Statement = concat(local.owner_statements, jsondecode(local.copy_statements))
#     })
#   }
variable "copy_account_ids" {
  type        = list(string)
  description = "Accounts that copy the bake account's AMIs."
}

variable "organization_arns" {
  type        = list(string)
  default     = []
  description = "Organizations whose accounts copy them."
}

locals {
  copy_statements = provider::imagecopier::key_policy_statements(
    var.copy_account_ids,
    var.organization_arns,
    [],
  )
}

output "copy_statements" {
  value = jsondecode(local.copy_statements)
}
