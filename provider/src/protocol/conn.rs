//! Accepted connections, plain or TLS, as a stream tonic can serve.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use crate::log;

/// A TLS handshake that has not finished by then is a stuck or foreign client.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One client connection.
#[derive(Debug)]
pub(super) enum Conn {
    /// No AutoMTLS was requested.
    Plain(TcpStream),
    /// The usual case: mutual TLS with Terraform.
    Tls(Box<TlsStream<TcpStream>>),
}

/// Accepts connections until `shutdown`, finishing TLS handshakes off the
/// accept loop so that one slow client cannot block another.
pub(super) fn incoming(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<io::Result<Conn>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, _) = match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    log::warn(
                        "accepting a connection failed",
                        &[("error", &err.to_string())],
                    );
                    continue;
                }
            };
            // gRPC writes a response as several small frames (headers,
            // data, trailers). With Nagle's algorithm on, the later ones wait
            // for the client to acknowledge the first, and Terraform's side
            // delays that acknowledgement (up to 40 ms on Linux): every call
            // would take that long however little work it is.
            if let Err(err) = stream.set_nodelay(true) {
                log::warn(
                    "cannot turn off Nagle's algorithm on the connection; calls will be slower",
                    &[("error", &err.to_string())],
                );
            }
            let sender = sender.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let conn = match acceptor {
                    None => Conn::Plain(stream),
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(tls)) => Conn::Tls(Box::new(tls)),
                            Ok(Err(err)) => {
                                log::warn(
                                    "TLS handshake with the client failed",
                                    &[("error", &err.to_string())],
                                );
                                return;
                            }
                            Err(_) => {
                                log::warn("TLS handshake with the client timed out", &[]);
                                return;
                            }
                        }
                    }
                };
                // The server is gone if sending fails; nothing left to do.
                let _ = sender.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(receiver)
}

impl Connected for Conn {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Conn::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Conn::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Conn::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Conn::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_send_small_frames_at_once() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let mut connections = incoming(listener, None, shutdown.clone());
        let _client = TcpStream::connect(address).await.expect("connect");
        let accepted = tokio::time::timeout(Duration::from_secs(10), connections.next())
            .await
            .expect("a connection within 10 s")
            .expect("the stream is open")
            .expect("accepted");
        match accepted {
            Conn::Plain(stream) => assert!(stream.nodelay().expect("TCP_NODELAY readable")),
            Conn::Tls(_) => panic!("no TLS was asked for"),
        }
        shutdown.cancel();
    }
}
