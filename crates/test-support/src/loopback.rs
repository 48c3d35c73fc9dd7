//! An HTTP server on 127.0.0.1 for the HTTP client tests, on `tiny_http`.
//!
//! `tiny_http` accepts the connections and parses the requests; this module
//! records each request, asks the test's handler for a [`Reply`], and writes
//! that reply itself with `Connection: close` (a header `tiny_http`'s own
//! responses may not carry), so the client closes the connection after it
//! and never sends a request on a kept connection to a server that is gone.
//!
//! The server answers at most `max_requests` requests, then stops listening;
//! it stops by itself after its lifetime or when dropped. Every request is
//! recorded before its reply's delay. A delayed reply waits on a thread of
//! its own, so the server goes on recording and answering meanwhile, and a
//! stopping server answers it at once instead (with a 503). Every wait is
//! bounded: no test hangs on this server.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server lives at most.
const LIFETIME: Duration = Duration::from_secs(120);

/// How often the server looks at its stop signal while no request comes.
const POLL: Duration = Duration::from_millis(20);

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON request body")
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::text(status, body.to_string())
    }

    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

pub struct LoopbackServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<StopSignal>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    /// Serves at most `max_requests` requests with `handler`.
    pub fn start<F>(max_requests: usize, handler: F) -> Self
    where
        F: FnMut(&Request) -> Reply + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tiny_http::Server::from_listener(listener, None).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(StopSignal::default());
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || serve(server, max_requests, handler, &requests, &stop))
        };
        Self {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Always answers `reply`.
    pub fn always(max_requests: usize, reply: Reply) -> Self {
        Self::start(max_requests, move |_| reply.clone())
    }

    /// Answers `replies` in order, then repeats the last one.
    pub fn sequence(replies: Vec<Reply>) -> Self {
        let mut index = 0;
        let max = replies.len() + 4;
        Self::start(max, move |_| {
            let reply = replies[index.min(replies.len() - 1)].clone();
            index += 1;
            reply
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Raised once, when the server is dropped; delayed replies wait on it.
#[derive(Default)]
struct StopSignal {
    stopped: Mutex<bool>,
    changed: Condvar,
}

impl StopSignal {
    fn stop(&self) {
        *self.stopped.lock().unwrap() = true;
        self.changed.notify_all();
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap()
    }

    /// Waits `duration`, or less if the signal is raised; whether it was.
    fn wait(&self, duration: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap();
        let (stopped, _) = self
            .changed
            .wait_timeout_while(stopped, duration, |stopped| !*stopped)
            .unwrap();
        *stopped
    }
}

/// The server's thread: takes requests from `tiny_http` until it has
/// answered `max_requests`, is stopped, or has lived its lifetime.
fn serve<F>(
    server: tiny_http::Server,
    max_requests: usize,
    mut handler: F,
    requests: &Mutex<Vec<Request>>,
    stop: &Arc<StopSignal>,
) where
    F: FnMut(&Request) -> Reply,
{
    let deadline = Instant::now() + LIFETIME;
    let mut served = 0;
    let mut delayed = Vec::new();
    while served < max_requests && !stop.is_stopped() && Instant::now() < deadline {
        let incoming = match server.recv_timeout(POLL) {
            Ok(Some(incoming)) => incoming,
            Ok(None) => continue,
            Err(_) => break,
        };
        served += 1;
        let Some((request, incoming)) = read(incoming) else {
            continue;
        };
        requests.lock().unwrap().push(request.clone());
        let reply = handler(&request);
        if reply.delay.is_zero() {
            answer(incoming, reply.status, &reply.body);
            continue;
        }
        let stop = stop.clone();
        let delay = reply
            .delay
            .min(deadline.saturating_duration_since(Instant::now()));
        delayed.push(std::thread::spawn(move || {
            if stop.wait(delay) {
                answer(incoming, 503, "loopback server stopped");
            } else {
                answer(incoming, reply.status, &reply.body);
            }
        }));
    }
    // Requests `tiny_http` has read but this loop will not take: answered
    // (unrecorded) so their clients do not wait for their own timeout. Once
    // the server is dropped, connections are refused.
    while let Ok(Some(incoming)) = server.try_recv() {
        answer(incoming, 503, "loopback server: no more requests");
    }
    drop(server);
    for thread in delayed {
        let _ = thread.join();
    }
}

/// The request's line, headers and body; `None` (and a 500 from
/// `tiny_http`) when the body cannot be read as UTF-8.
fn read(mut incoming: tiny_http::Request) -> Option<(Request, tiny_http::Request)> {
    let mut body = Vec::new();
    incoming.as_reader().read_to_end(&mut body).ok()?;
    let request = Request {
        method: incoming.method().as_str().to_owned(),
        path: incoming.url().to_owned(),
        headers: incoming
            .headers()
            .iter()
            .map(|header| {
                (
                    header.field.as_str().as_str().to_owned(),
                    header.value.as_str().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8(body).ok()?,
    };
    Some((request, incoming))
}

/// Writes the reply on the request's connection, with `Connection: close`.
fn answer(incoming: tiny_http::Request, status: u16, body: &str) {
    let reason = tiny_http::StatusCode(status).default_reason_phrase();
    let mut writer = incoming.into_writer();
    // The client may have given up (timeout tests): ignore write errors.
    let _ = write!(
        writer,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = writer.flush();
}

/// A JWT-shaped access token expiring at `exp` (Unix seconds), with
/// `marker` in its payload so each one is distinct.
pub fn access_token(exp: i64, marker: &str) -> String {
    crate::jwt_with_payload(&serde_json::json!({"exp": exp, "marker": marker}))
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use super::{LoopbackServer, Reply};

    /// Sends one raw HTTP/1.1 request and reads the whole answer: the
    /// request says `Connection: close`, so `tiny_http` closes after it.
    fn exchange(url: &str, request: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(url.trim_start_matches("http://"))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    fn post(path: &str, body: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nx-test: yes\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn records_the_request_and_answers_with_connection_close() {
        let server = LoopbackServer::start(1, |request| {
            Reply::json(201, serde_json::json!({"echo": request.json()["n"]}))
        });
        let answer = exchange(&server.url(), &post("/a/b?c=d", r#"{"n":7}"#)).unwrap();
        assert!(answer.starts_with("HTTP/1.1 201 Created\r\n"), "{answer}");
        assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n{\"echo\":7}"), "{answer}");
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, "POST");
        assert_eq!(requests[0].path, "/a/b?c=d");
        assert_eq!(requests[0].header("X-TEST"), Some("yes"));
        assert_eq!(requests[0].body, r#"{"n":7}"#);
    }

    #[test]
    fn a_delayed_reply_does_not_hold_up_the_next_request() {
        let server = LoopbackServer::start(2, |request| {
            let reply = Reply::text(200, request.path.clone());
            if request.path == "/slow" {
                reply.delayed(Duration::from_secs(600))
            } else {
                reply
            }
        });
        let url = server.url();
        let slow = std::thread::spawn(move || exchange(&url, &post("/slow", "")));
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request_count() < 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let fast = exchange(&server.url(), &post("/fast", "")).unwrap();
        assert!(fast.ends_with("/fast"), "{fast}");
        assert_eq!(server.request_count(), 2);
        // Dropping the server answers the pending reply at once.
        drop(server);
        let slow = slow.join().unwrap().unwrap();
        assert!(slow.starts_with("HTTP/1.1 503 "), "{slow}");
    }

    #[test]
    fn after_max_requests_connections_are_refused() {
        let server = LoopbackServer::always(1, Reply::text(200, "once"));
        assert!(
            exchange(&server.url(), &post("/", ""))
                .unwrap()
                .ends_with("once")
        );
        // The server stops listening on its own thread: wait (bounded) for it.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut refused = false;
        while !refused && Instant::now() < deadline {
            refused = TcpStream::connect(server.url().trim_start_matches("http://")).is_err();
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(refused);
        assert_eq!(server.request_count(), 1);
    }
}
