//! `serve()`: everything between process start and the gRPC services.
//!
//! Terraform starts the plugin with a magic cookie and its AutoMTLS client
//! certificate in the environment, reads one handshake line from stdout
//! (`1|6|tcp|127.0.0.1:PORT|grpc|<server cert>`), then speaks gRPC over TLS.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tfplugin_proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use tfplugin_proto::tfplugin6::provider_server::ProviderServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::conn::incoming;
use super::grpc::Adapter;
use super::plugin_services::{Broker, Controller, Stdio};
use super::resource::ProviderService;
use super::tls::plugin_tls;
use crate::log;

/// The cookie Terraform sets so that plugins refuse to run outside it.
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own handshake version, then the Terraform protocol we speak.
const CORE_PROTOCOL_VERSION: u32 = 1;
const PROTOCOL_VERSION: u32 = 6;
/// States of many snapshots and tags stay far below this; Terraform itself
/// allows 64 MiB on its side.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Runs `provider` as a Terraform plugin until Terraform shuts it down. The
/// binary builds the provider and hands it here, so this layer knows only
/// the [`ProviderService`] trait.
pub fn serve<P: ProviderService>(provider: P) -> ExitCode {
    if std::env::var(MAGIC_COOKIE_KEY).as_deref() != Ok(MAGIC_COOKIE_VALUE) {
        eprintln!(
            "This binary is a plugin for Terraform and is not meant to be run by hand.\n\
             Install it as described in the README (filesystem mirror or dev_overrides) and run `terraform init`."
        );
        return ExitCode::from(1);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("starting the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(Arc::new(provider)));
    // Background tasks (signal listener, stalled connections) must not keep
    // the process alive once Terraform has asked it to go.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log::log(
                log::Level::Error,
                &format!("plugin server failed: {err}"),
                &[],
            );
            eprintln!("terraform-provider-imagecopier: {err}");
            ExitCode::from(1)
        }
    }
}

/// Serves `provider` on a loopback port until Terraform shuts us down.
pub async fn run<P: ProviderService>(
    provider: Arc<P>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    negotiate_protocol()?;
    ignore_interrupts()?;

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(plugin_tls(&pem)?),
        // Without AutoMTLS (a debugging client) we serve plaintext, as go-plugin does.
        _ => None,
    };
    let shutdown = CancellationToken::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let provider_service = ProviderServer::new(Adapter::new(provider.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = tonic::transport::Server::builder()
        .add_service(provider_service)
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown.clone(),
        }));

    let mut line = format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{address}|grpc");
    if let Some(tls) = &tls {
        line.push('|');
        line.push_str(
            &base64::engine::general_purpose::STANDARD_NO_PAD.encode(&tls.server_cert_der),
        );
    }
    let connections = incoming(listener, tls.map(|t| t.config), shutdown.clone());
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    log::debug(
        "plugin server started",
        &[("address", &address.to_string())],
    );
    watch_parent(provider, shutdown.clone());
    router
        .serve_with_incoming_shutdown(connections, shutdown.cancelled_owned())
        .await?;
    log::debug(
        "plugin server stopped",
        &[("peak_rss_kib", &peak_rss_kib())],
    );
    Ok(())
}

/// The process's peak resident memory (VmHWM), for the benchmark that
/// measures the provider's footprint during a plan.
fn peak_rss_kib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        })
        .unwrap_or_default()
}

/// Terraform lists the protocol versions it speaks; refuse politely if 6 is
/// not among them rather than failing later with a confusing gRPC error.
fn negotiate_protocol() -> Result<(), String> {
    match std::env::var("PLUGIN_PROTOCOL_VERSIONS") {
        Ok(list) if !list.trim().is_empty() => {
            let wanted = PROTOCOL_VERSION.to_string();
            if list.split(',').any(|v| v.trim() == wanted) {
                Ok(())
            } else {
                Err(format!(
                    "this provider speaks plugin protocol {PROTOCOL_VERSION}, but this Terraform only offers {list}; \
                     use Terraform 1.0 or newer"
                ))
            }
        }
        _ => Ok(()),
    }
}

/// How often the plugin checks that Terraform is still its parent.
const PARENT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// If Terraform dies without shutting us down (SIGKILL, a crash), nobody
/// will ever call us again: stop operations in flight, so they return with
/// what they have, and exit instead of lingering as an orphan.
fn watch_parent<P: ProviderService>(provider: Arc<P>, shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(PARENT_CHECK_INTERVAL) => {}
            }
            if std::os::unix::process::parent_id() != parent {
                log::warn("Terraform (the parent process) is gone; stopping", &[]);
                provider.abandon();
                shutdown.cancel();
                return;
            }
        }
    });
}

/// A Ctrl-C in a terminal reaches the whole process group, provider
/// included. Terraform answers it by calling StopProvider, which cancels our
/// work cleanly; dying on the signal would instead lose the results of calls
/// already made to AWS. So SIGINT is received and ignored here.
fn ignore_interrupts() -> std::io::Result<()> {
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            log::info(
                "ignoring SIGINT; Terraform stops the provider through StopProvider",
                &[],
            );
        }
    });
    Ok(())
}
