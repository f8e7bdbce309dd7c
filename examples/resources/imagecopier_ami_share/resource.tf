# Share an AMI baked in this account, and every snapshot behind it, with two
# target accounts, which can then make their own encrypted copies.
resource "imagecopier_ami_share" "app" {
  image_id    = "ami-0123456789abcdef0"
  account_ids = ["222222222222", "333333333333"]

  # Optional: launch permission for a whole organization or OU as well.
  # organization_arns        = ["arn:aws:organizations::111111111111:organization/o-exampleorgid"]
  # organizational_unit_arns = ["arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cd34ef56"]

  share_snapshots = true  # default; targets need it to copy the AMI
  exclusive       = false # default; true removes grants made outside this resource
}

# The source tags are only visible in this account; hand them to the copies.
output "app_image_tags" {
  value = imagecopier_ami_share.app.image_tags
}
