//! The go-plugin services Terraform's plugin client talks to besides the
//! provider itself: the controller (shutdown), stdio and broker streams.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tfplugin_proto::plugin::{
    grpc_broker_server::GrpcBroker, grpc_controller_server::GrpcController,
    grpc_stdio_server::GrpcStdio, ConnInfo, Empty, StdioData,
};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::log;

/// A response stream that sends nothing and ends when the server shuts down,
/// so graceful shutdown is never held up by a stream that stays open.
type Silent<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn silent_until<T: Send + 'static>(shutdown: CancellationToken) -> Silent<T> {
    Box::pin(
        futures_util::stream::once(async move { shutdown.cancelled_owned().await })
            .filter_map(|()| async { None }),
    )
}

/// Answers go-plugin's controller: `Shutdown` stops the whole server.
#[derive(Debug, Clone)]
pub(super) struct Controller {
    /// Cancelled to stop serving and exit.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        log::debug("Terraform asked the plugin to shut down", &[]);
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// go-plugin's stdio forwarding. We log to stderr directly, where go-plugin
/// picks the lines up, so this stream only exists to be well-behaved.
#[derive(Debug, Clone)]
pub(super) struct Stdio {
    /// Ends the stream on shutdown.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = Silent<StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(silent_until(self.shutdown.clone())))
    }
}

/// go-plugin's connection broker. Providers never dial back to Terraform,
/// but the client may open the stream, so we accept it and stay silent.
#[derive(Debug, Clone)]
pub(super) struct Broker {
    /// Ends the stream on shutdown.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = Silent<ConnInfo>;

    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(silent_until(self.shutdown.clone())))
    }
}
