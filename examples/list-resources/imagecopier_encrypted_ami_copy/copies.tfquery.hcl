# terraform query -generate-config-out=copies.tf
# Lists the encrypted copies in the provider's account and region (AMIs with a
# SourceImageId or a CopiedFromAMI tag), with their full state, and writes an
# import block and a resource block for each into copies.tf.
list "imagecopier_encrypted_ami_copy" "found" {
  provider         = imagecopier
  include_resource = true

  config {
    tags = { team = "images" }
  }
}
