variable "ami_id" {
  type        = string
  description = "The bake account's AMI to distribute."
}

variable "allowed_account_ids" {
  type        = list(string)
  description = "Every account this configuration may act in: the bake account and every target account, old and new. Empty allows any account."
  default     = []
}

variable "bake_region" {
  type        = string
  description = "The region of the AMI, and of the provider."
  default     = "eu-west-1"
}

variable "importer_role_name" {
  type        = string
  description = "The role assumed in every target account. Its trust policy must allow the bake credentials; its permissions are the copy policy in docs/resources/encrypted_ami_copy.md."
  default     = "ami-importer"
}

variable "targets" {
  type = map(object({
    account_id = string
    region     = string
    kms_key_id = string
  }))
  description = "Where copies go, keyed by a stable name such as \"prod/eu-west-1\". kms_key_id is a key in that account and region (id, ARN, alias or alias ARN)."
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every copy and its snapshots."
  default     = {}
}
