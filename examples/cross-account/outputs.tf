output "source_snapshot_ids" {
  description = "The bake AMI's snapshots, shared with both target accounts."
  value       = imagecopier_ami_share.app.snapshot_ids
}

output "copy_ids" {
  description = "The encrypted copy in each account: launch instances from these."
  value = {
    prod    = imagecopier_encrypted_ami_copy.prod.id
    staging = imagecopier_encrypted_ami_copy.staging.id
  }
}

output "copy_snapshot_ids" {
  description = "The encrypted snapshots behind each copy."
  value = {
    prod    = imagecopier_encrypted_ami_copy.prod.snapshot_ids
    staging = imagecopier_encrypted_ami_copy.staging.snapshot_ids
  }
}

output "kms_key_arns" {
  description = "The key each copy is encrypted with."
  value = {
    prod    = imagecopier_encrypted_ami_copy.prod.kms_key_arn
    staging = imagecopier_encrypted_ami_copy.staging.kms_key_arn
  }
}

output "tags_all" {
  description = "The tags on each copy and on every one of its snapshots."
  value = {
    prod    = imagecopier_encrypted_ami_copy.prod.tags_all
    staging = imagecopier_encrypted_ami_copy.staging.tags_all
  }
}
