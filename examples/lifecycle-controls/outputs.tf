output "copy_id" {
  description = "The copy's AMI id, for launch templates in this account."
  value       = imagecopier_encrypted_ami_copy.app.id
}

output "deprecation_time" {
  description = "When the copy is deprecated."
  value       = imagecopier_encrypted_ami_copy.app.deprecation_time
}
