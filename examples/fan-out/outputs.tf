output "copies" {
  description = "Each target's copy: AMI id, account and region."
  value = {
    for key, copy in imagecopier_encrypted_ami_copy.app : key => {
      id         = copy.id
      account_id = copy.owner_id
      region     = copy.region
    }
  }
}
