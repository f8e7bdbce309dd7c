# An encrypted copy is imported by its AMI id. Its source is recovered from the
# image (SourceImageId / SourceImageRegion, else the CopiedFromAMI tag).
terraform import imagecopier_encrypted_ami_copy.app ami-0123456789abcdef0
