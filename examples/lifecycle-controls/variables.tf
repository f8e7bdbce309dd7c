variable "source_ami_id" {
  type        = string
  description = "The bake account's AMI, shared with this account."
}

variable "deprecation_time" {
  type        = string
  description = "When the copy is deprecated, as an RFC 3339 time up to 10 years ahead, e.g. \"2027-06-30T00:00:00Z\"."
}
