# A target account's configuration where the aws provider makes what the copy
# needs and uses: the importer role the bake account assumes (with the copy
# policy from docs/resources/encrypted_ami_copy.md), the account's own KMS key
# for its copies, and a launch template that launches the copy. The bake
# account's key, whose policy lets this account use it (the statements of
# provider::imagecopier::key_policy_statements), is made through a second aws
# provider configuration acting in the bake account. Terraform 1.8+.
terraform {
  required_providers {
    imagecopier = { source = "imagecopier/imagecopier" }
    aws         = { source = "hashicorp/aws" }
  }
}

variable "account_id" {
  type        = string
  description = "This account (the copy's)."
}

variable "bake_account_id" {
  type        = string
  description = "The account that bakes and shares the AMIs."
}

variable "source_ami_id" {
  type        = string
  description = "The shared AMI to copy."
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "bake"
  region = "eu-west-1"
  assume_role {
    role_arn = "arn:aws:iam::${var.bake_account_id}:role/terraform"
  }
}

provider "imagecopier" {
  region = "eu-west-1"
}

# The bake account's key for its AMIs: its administrators, plus what a copy in
# this account needs.
resource "aws_kms_key" "bake" {
  provider    = aws.bake
  description = "Encrypts the bake account's AMIs"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "BakeAccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.bake_account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      }],
      jsondecode(provider::imagecopier::key_policy_statements([var.account_id], [], [])),
    )
  })
}

# This account's key for its copies.
resource "aws_kms_key" "copies" {
  description = "Encrypts this account's copies of the bake account's AMIs"
}

resource "aws_kms_alias" "copies" {
  name          = "alias/ami-copies"
  target_key_id = aws_kms_key.copies.key_id
}

# The role the bake account assumes to copy into this account (the fan-out
# layout), with the copy policy.
resource "aws_iam_role" "importer" {
  name = "ami-importer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.bake_account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "importer" {
  name = "copy-and-manage-images"
  role = aws_iam_role.importer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "CopyAndManageImages"
        Effect = "Allow"
        Action = [
          "ec2:CopyImage", "ec2:DescribeImages", "ec2:DescribeRegions", "ec2:DescribeSnapshots",
          "ec2:ModifyImageAttribute", "ec2:DeregisterImage", "ec2:DeleteSnapshot", "ec2:GetEbsDefaultKmsKeyId",
        ]
        Resource = "*"
      },
      {
        Sid      = "TagCopiesAndSnapshots"
        Effect   = "Allow"
        Action   = ["ec2:CreateTags", "ec2:DeleteTags"]
        Resource = ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*::snapshot/*"]
      },
      {
        Sid      = "CheckWhatUsesTheCopy"
        Effect   = "Allow"
        Action   = ["ec2:DescribeLaunchTemplateVersions", "ec2:DescribeInstances"]
        Resource = "*"
      },
      {
        Sid      = "EncryptWithTheTargetKey"
        Effect   = "Allow"
        Action   = ["kms:DescribeKey", "kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
        Resource = aws_kms_key.copies.arn
      },
    ]
  })
}

resource "imagecopier_encrypted_ami_copy" "app" {
  source_ami_id = var.source_ami_id
  kms_key_id    = aws_kms_alias.copies.name
  tags          = { team = "images" }
}

# Instances launch from the copy: destroying the copy waits for the template
# to go first (Terraform orders it), and the copy's destroy refuses while a
# template still launches it.
resource "aws_launch_template" "app" {
  name          = "app"
  image_id      = imagecopier_encrypted_ami_copy.app.id
  instance_type = "t3.micro"
}

output "copy_id" {
  value = imagecopier_encrypted_ami_copy.app.id
}
