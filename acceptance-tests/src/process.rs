//! Child processes in their own process group, with captured output and bounded waits.
//!
//! Terraform is always started as the leader of a new process group. That is what a terminal does
//! for a foreground job, so a test can deliver Ctrl-C the way a user does: to the whole group,
//! reaching Terraform and the provider plugin it started at the same moment.

use std::fmt;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often bounded waits poll the child.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How long to wait for the output pipes to drain once the child has exited. A grandchild that
/// inherited a pipe could hold it open for ever; we take what we have after this.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The result of one finished (or timed-out) command.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The command line, for messages.
    pub command: String,
    /// The exit code; `None` when the process was ended by a signal.
    pub code: Option<i32>,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Everything the process wrote to stdout.
    pub stdout: String,
    /// Everything the process wrote to stderr.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// True when the harness killed the process because it ran past its timeout.
    pub timed_out: bool,
}

impl RunOutput {
    /// True when the process exited by itself with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }

    /// Panics with the full output unless the command succeeded; returns `self` for chaining.
    #[track_caller]
    pub fn assert_success(self) -> Self {
        assert!(self.success(), "expected success: {self}");
        self
    }

    /// Panics with the full output unless the command exited by itself with a non-zero code.
    #[track_caller]
    pub fn assert_failure(self) -> Self {
        assert!(
            !self.timed_out && self.code.is_some_and(|code| code != 0),
            "expected failure: {self}"
        );
        self
    }

    /// Stdout followed by stderr, for searching messages wherever Terraform printed them.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ending = match (self.timed_out, self.code, self.signal) {
            (true, _, _) => "was killed after timing out".to_string(),
            (false, Some(code), _) => format!("exited with code {code}"),
            (false, None, Some(signal)) => format!("was ended by signal {signal}"),
            (false, None, None) => "ended without a status".to_string(),
        };
        write!(
            f,
            "`{}` {ending} after {:.1}s\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
            self.command,
            self.elapsed.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// A running child process that leads its own process group.
///
/// Dropping it kills the whole group, so a failing test never leaves Terraform or a provider
/// plugin behind.
#[derive(Debug)]
pub struct RunningProcess {
    child: Child,
    command: String,
    started: Instant,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    finished: Option<ExitStatus>,
}

impl RunningProcess {
    /// Spawns `command` as the leader of a new process group with piped output and no stdin.
    pub(crate) fn spawn(mut command: Command, description: String) -> Self {
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("starting `{description}`: {err}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(pipe) = child.stdout.take() {
            readers.push(collect(pipe, Arc::clone(&stdout)));
        }
        if let Some(pipe) = child.stderr.take() {
            readers.push(collect(pipe, Arc::clone(&stderr)));
        }
        Self {
            child,
            command: description,
            started: Instant::now(),
            stdout,
            stderr,
            readers,
            finished: None,
        }
    }

    /// The process id, which is also the process-group id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stdout captured so far.
    pub fn stdout_so_far(&self) -> String {
        snapshot(&self.stdout)
    }

    /// Stderr captured so far.
    pub fn stderr_so_far(&self) -> String {
        snapshot(&self.stderr)
    }

    /// Waits until `needle` appears in stdout or stderr. Returns false if the process exits or
    /// `timeout` passes first.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stdout_so_far().contains(needle) || self.stderr_so_far().contains(needle) {
                return true;
            }
            if !self.is_running() || Instant::now() >= deadline {
                // One last look: the text may have arrived together with the exit.
                return self.stdout_so_far().contains(needle)
                    || self.stderr_so_far().contains(needle);
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        if self.finished.is_none() {
            self.finished = self.child.try_wait().ok().flatten();
        }
        self.finished.is_none()
    }

    /// Sends SIGINT to the whole process group, as Ctrl-C in a terminal does.
    pub fn send_sigint_to_group(&self) {
        self.signal_group("INT");
    }

    /// Sends `signal` (a name such as "INT", "TERM" or "KILL") to the whole process group.
    pub fn signal_group(&self, signal: &str) {
        signal_group(self.pid(), signal);
    }

    /// SIGKILL to the leader alone (Terraform, not the providers it started), as a crash or an
    /// OOM kill of Terraform would: nothing gets the chance to save state.
    pub fn sigkill_leader(&self) {
        signal_process(self.pid(), "KILL");
    }

    /// Kills the whole process group with SIGKILL and reaps the leader.
    pub fn kill(&mut self) {
        if self.is_running() {
            self.signal_group("KILL");
            self.finished = self.child.wait().ok();
        }
    }

    /// Waits for the process to exit, at most `timeout`; past that the group is killed and the
    /// output is marked `timed_out`.
    pub fn wait_with_timeout(&mut self, timeout: Duration) -> RunOutput {
        let deadline = Instant::now() + timeout;
        let mut timed_out = false;
        while self.is_running() {
            if Instant::now() >= deadline {
                timed_out = true;
                self.kill();
                break;
            }
            thread::sleep(POLL_INTERVAL);
        }
        let elapsed = self.started.elapsed();
        self.drain_readers();
        let status = self.finished;
        RunOutput {
            command: self.command.clone(),
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            stdout: self.stdout_so_far(),
            stderr: self.stderr_so_far(),
            elapsed,
            timed_out,
        }
    }

    /// Joins the reader threads, giving them a bounded time to see end of file.
    fn drain_readers(&mut self) {
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(POLL_INTERVAL);
        }
        for reader in std::mem::take(&mut self.readers) {
            if reader.is_finished() {
                // A reader only panics if the mutex was poisoned; the output is still usable.
                let _ = reader.join();
            }
        }
    }
}

impl Drop for RunningProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `signal` to process group `pgid` with kill(1); the std library offers only SIGKILL to a
/// single process, and `unsafe` (libc::killpg) is forbidden in this workspace.
pub(crate) fn signal_group(pgid: u32, signal: &str) {
    signal_target(&format!("-{pgid}"), signal);
}

/// Sends `signal` to the single process `pid`.
pub(crate) fn signal_process(pid: u32, signal: &str) {
    signal_target(&pid.to_string(), signal);
}

fn signal_target(target: &str, signal: &str) {
    // Failure is expected when the target has already exited, so it is not an error.
    let _ = Command::new("kill")
        .args(["-s", signal, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn collect(mut pipe: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // Bounded by the pipe: read returns 0 at end of file or an error when it breaks.
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut sink) = sink.lock() {
                sink.extend_from_slice(&buf[..n]);
            }
        }
    })
}

fn snapshot(buf: &Mutex<Vec<u8>>) -> String {
    match buf.lock() {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(poisoned) => String::from_utf8_lossy(&poisoned.into_inner()).into_owned(),
    }
}
