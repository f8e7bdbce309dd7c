//! The plugin binary: Terraform starts it and talks to it over gRPC.

fn main() -> std::process::ExitCode {
    terraform_provider_imagecopier::serve()
}
