# terraform query -generate-config-out=shares.tf
# Lists the account's own AMIs in the provider's region that are shared with an
# account, an organization or an OU, with their grants.
list "imagecopier_ami_share" "found" {
  provider         = imagecopier
  include_resource = true
}
