//! An endpoint that accepts connections and never answers: a service out of reach the slow way,
//! as a blackholed route or a firewall that drops packets looks to a client whose connection
//! happened to open (a refused connection fails fast; this does not).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The listener's thread, stopped (and every connection it holds closed) on drop.
#[derive(Debug)]
pub struct SilentEndpoint {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl SilentEndpoint {
    /// Listens on 127.0.0.1, on a port the OS picks.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a silent endpoint");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            thread::spawn(move || hold(&listener, &stop, &accepted))
        };
        SilentEndpoint {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`, for an endpoint setting.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections it accepted (and left unanswered).
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Accepts and keeps every connection, reading and writing nothing, until `stop`.
fn hold(listener: &TcpListener, stop: &AtomicBool, accepted: &AtomicUsize) {
    let mut held: Vec<TcpStream> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                accepted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

impl Drop for SilentEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
