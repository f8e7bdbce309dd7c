variable "region" {
  type        = string
  description = "The region of the bake AMI and of the copies."
  default     = "eu-west-1"
}

variable "bake_account_id" {
  type        = string
  description = "The account that bakes and owns the source AMI. Terraform's own credentials must act in it."
  default     = "111111111111"
}

variable "prod_account_id" {
  type        = string
  description = "The production account, which gets its own encrypted copy."
  default     = "222222222222"
}

variable "staging_account_id" {
  type        = string
  description = "The staging account, which gets its own encrypted copy."
  default     = "333333333333"
}

variable "target_role_name" {
  type        = string
  description = "The role assumed in each target account (it needs the policy in docs/resources/encrypted_ami_copy.md, and its trust policy must allow the bake credentials)."
  default     = "ami-importer"
}

variable "source_ami_id" {
  type        = string
  description = "The AMI to share and copy, owned by the bake account, such as the latest output of the bake pipeline."

  validation {
    condition     = can(regex("^ami-([0-9a-f]{8}|[0-9a-f]{17})$", var.source_ami_id))
    error_message = "The source_ami_id must look like ami-0123456789abcdef0."
  }
}

variable "prod_kms_key_id" {
  type        = string
  description = "The prod account's KMS key for the copy: key id, key ARN, alias (alias/ami) or alias ARN."
  default     = "alias/ami"
}

variable "staging_kms_key_id" {
  type        = string
  description = "The staging account's KMS key for the copy: key id, key ARN, alias (alias/ami) or alias ARN."
  default     = "alias/ami"
}

variable "default_tags" {
  type        = map(string)
  description = "Tags for every copy (and its snapshots); the source's tags and each copy's Stage tag win over them."
  default = {
    ManagedBy = "terraform"
  }
}
