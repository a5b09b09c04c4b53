//! The floor of `dialtone bench mcp`: JSON-RPC written by hand over one blocking keep-alive
//! TCP connection, no runtime, no SDK, no JSON parser. A call costs the server's time plus
//! one loopback round trip; no MCP client can do less.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

/// No single response may take longer than this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP/1.1 exchange's answer.
struct Reply {
    status: u16,
    session: Option<String>,
    body: String,
}

/// One keep-alive connection to `127.0.0.1:port/mcp`.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    port: u16,
    session: Option<String>,
    /// The protocol revision offered in `initialize` and sent in `mcp-protocol-version`.
    revision: &'static str,
}

impl Connection {
    fn open(port: u16, revision: &'static str) -> Result<Self, String> {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
            port,
            session: None,
            revision,
        })
    }

    fn exchange(&mut self, method: &str, body: &str) -> Result<Reply, String> {
        let mut request = format!(
            "{method} /mcp HTTP/1.1\r\nhost: 127.0.0.1:{}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\n",
            self.port,
            body.len()
        );
        if let Some(session) = &self.session {
            request.push_str(&format!(
                "mcp-session-id: {session}\r\nmcp-protocol-version: {}\r\n",
                self.revision
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.writer
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> Result<Reply, String> {
        let io = |e: std::io::Error| e.to_string();
        let mut line = String::new();
        self.reader.read_line(&mut line).map_err(io)?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP status line: {line:?}"))?;
        let (mut length, mut chunked, mut session) = (0usize, false, None);
        loop {
            line.clear();
            if self.reader.read_line(&mut line).map_err(io)? == 0 {
                return Err("the server closed the connection".into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().map_err(|_| "bad content-length")?,
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "mcp-session-id" => session = Some(value.to_owned()),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line).map_err(io)?;
                let size = usize::from_str_radix(line.trim_end(), 16)
                    .map_err(|_| format!("bad chunk size {line:?}"))?;
                let start = body.len();
                body.resize(start + size + 2, 0);
                self.reader.read_exact(&mut body[start..]).map_err(io)?;
                body.truncate(start + size);
                if size == 0 {
                    break;
                }
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body).map_err(io)?;
        }
        Ok(Reply {
            status,
            session,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// `count` timed calls (after `warmup` untimed ones) of `tools/call echo`, offering protocol
/// `revision`; per-call ms.
pub(super) fn floor(
    port: u16,
    count: usize,
    warmup: usize,
    revision: &'static str,
) -> Result<Vec<f64>, String> {
    let mut connection = Connection::open(port, revision)?;
    let initialize = connection.exchange(
        "POST",
        &format!(
            r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{revision}","capabilities":{{}},"clientInfo":{{"name":"bench-raw","version":"1.0.0"}}}}}}"#
        ),
    )?;
    if initialize.status != 200 {
        return Err(format!(
            "initialize answered {}: {}",
            initialize.status, initialize.body
        ));
    }
    connection.session = Some(initialize.session.ok_or("no mcp-session-id")?);
    connection.exchange(
        "POST",
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )?;
    let mut times = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}"#,
            i + 1
        );
        let started = Instant::now();
        let reply = connection.exchange("POST", &body)?;
        let elapsed = started.elapsed();
        if reply.status != 200 || !reply.body.contains("Echo: hi") {
            return Err(format!("unexpected reply {}: {}", reply.status, reply.body));
        }
        if i >= warmup {
            times.push(elapsed.as_secs_f64() * 1e3);
        }
    }
    let _ = connection.exchange("DELETE", "");
    Ok(times)
}
