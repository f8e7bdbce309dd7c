terraform {
  required_version = ">= 1.0"

  required_providers {
    imagecopier = {
      source = "imagecopier/imagecopier"
    }
  }
}
