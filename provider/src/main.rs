//! The plugin binary: Terraform starts it and talks to it over gRPC.

use terraform_provider_imagecopier::{serve, ImageCopierProvider};

fn main() -> std::process::ExitCode {
    serve(ImageCopierProvider::new())
}
