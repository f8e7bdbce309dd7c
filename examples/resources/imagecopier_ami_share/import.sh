# An AMI share is imported by AMI ID. account_ids becomes every account that
# can copy the AMI now (launch permission and createVolumePermission on all of
# its snapshots); organizations and OUs with launch permission come along too.
terraform import imagecopier_ami_share.app ami-0123456789abcdef0
