//! `Net.httpRequest` / `Net.httpRequestAsync` against a real HTTP server (Python's
//! `http.server`, `tests/peers/net_http_server.py`), which parses what we send and says what it
//! saw. Scenarios run through the console on real time.

use anyhow::{Context as _, Result};
use dialtone::console::ConsoleOptions;
use dialtone_tests::peers::{free_port, net_http_server};
use dialtone_tests::scenario::{Run, labelled, run_source, shown as result};
use serde_json::{Value, json};

/// Runs `body` (the inside of an async Started handler; `base` is the server's URL and `show`
/// logs a labelled result as JSON) and returns each `label -> result`.
fn run_requests(base: &str, body: &str) -> Result<(Run, Vec<(String, Value)>)> {
    let source = format!(
        r#"
const base = "{base}";
const show = (label, value) => Logger.write(label + " " + JSON.stringify(value));
VoxEngine.addEventListener(AppEvents.Started, async () => {{
  try {{
{body}
  }} finally {{
    VoxEngine.terminate();
  }}
}});
"#
    );
    let options = ConsoleOptions {
        no_call: true,
        ..ConsoleOptions::default()
    };
    let run = run_source(&source, options)?;
    let shown = labelled(&run.logs())?;
    Ok((run, shown))
}

#[test]
fn requests_reach_the_server_as_written_and_answers_come_back_in_voxengines_shape() -> Result<()> {
    let server = net_http_server()?;
    let (run, shown) = run_requests(
        &server.url(""),
        r#"
    // Today's form: headers as an object, params, a text body.
    const posted = await Net.httpRequestAsync(base + "/echo", {
      method: "post",
      headers: { "X-Token": "abc", "Content-Type": "application/json" },
      params: { q: "a b&c", n: 2 },
      postData: '{"x":1}',
    });
    show("posted", { code: posted.code, seen: JSON.parse(posted.text), headers: posted.headers,
                     raw: posted.raw_headers.includes("x-echo: yes\r\n") });
    // The old form: new Net.HttpRequestOptions(), headers as "Name: value" lines, bytes.
    const old = new Net.HttpRequestOptions();
    old.method = "PUT";
    old.headers = ["X-Old: yes", "User-Agent: my-agent/2"];
    old.postData = [0, 1, 255];
    const put = await Net.httpRequestAsync(base + "/echo", old);
    show("put", JSON.parse(put.text));
    // The callback form; an HTTP error status is a result like any other.
    const missing = await new Promise((resolve) => Net.httpRequest(base + "/status/404", resolve));
    show("missing", missing);
    // rawOutput: the body's bytes.
    const binary = await Net.httpRequestAsync(base + "/binary", { rawOutput: true });
    show("binary", { code: binary.code, data: binary.data, text: binary.text });
    const followed = await Net.httpRequestAsync(base + "/redirect");
    show("followed", { code: followed.code, path: JSON.parse(followed.text).path });
    "#,
    )?;
    assert_eq!(run.lines_of("error"), Vec::<String>::new());
    let posted = result(&shown, "posted");
    assert_eq!(posted["code"], 200);
    let seen = &posted["seen"];
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["query"], json!({"q": "a b&c", "n": "2"}));
    assert_eq!(seen["body"], r#"{"x":1}"#);
    assert_eq!(seen["headers"]["x-token"], "abc");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    let agent = seen["headers"]["user-agent"].as_str().unwrap_or_default();
    assert!(agent.starts_with("VoxEngine/1.0 (Dialtone "), "{agent}");
    // Answer headers: a list of {key, value}, repeated names kept.
    let headers = posted["headers"].as_array().context("headers")?;
    assert!(headers.contains(&json!({"key": "x-echo", "value": "yes"})));
    assert!(headers.contains(&json!({"key": "set-cookie", "value": "a=1"})));
    assert!(headers.contains(&json!({"key": "set-cookie", "value": "b=2"})));
    assert_eq!(posted["raw"], true);

    let put = result(&shown, "put");
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["bodyHex"], "0001ff");
    assert_eq!(put["headers"]["x-old"], "yes");
    assert_eq!(put["headers"]["user-agent"], "my-agent/2");

    let missing = result(&shown, "missing");
    assert_eq!(missing["code"], 404);
    assert_eq!(missing["text"], "status 404");
    assert_eq!(missing.get("error"), None);

    let binary = result(&shown, "binary");
    assert_eq!(binary["code"], 200);
    assert_eq!(binary["data"], json!((0..=255).collect::<Vec<u32>>()));
    assert_eq!(binary.get("text"), None, "not UTF-8, so no text");

    assert_eq!(
        result(&shown, "followed"),
        &json!({"code": 200, "path": "/echo"})
    );
    Ok(())
}

#[test]
fn failures_are_results_with_voxengines_codes_and_say_why() -> Result<()> {
    let server = net_http_server()?;
    let closed = free_port()?;
    let (run, shown) = run_requests(
        &server.url(""),
        &format!(
            r#"
    const codeAndError = (r) => ({{ code: r.code, error: r.error }});
    show("timeout", codeAndError(await Net.httpRequestAsync(base + "/slow?s=5", {{ timeout: 1 }})));
    show("refused", codeAndError(await Net.httpRequestAsync("http://127.0.0.1:{closed}/")));
    show("loop", codeAndError(await Net.httpRequestAsync(base + "/loop")));
    show("big", codeAndError(await Net.httpRequestAsync(base + "/big?bytes=3000000")));
    show("chunked", codeAndError(await Net.httpRequestAsync(base + "/chunked?bytes=3000000")));
    show("scheme", codeAndError(await Net.httpRequestAsync("ftp://127.0.0.1/x")));
    show("url", codeAndError(await Net.httpRequestAsync("http://")));
    try {{ Net.httpRequestAsync(base, {{ headers: ["no colon"] }}); }}
    catch (e) {{ show("header", {{ code: e.code, message: e.message }}); }}
    try {{ Net.httpRequestAsync(base, {{ timeout: "soon" }}); }}
    catch (e) {{ show("seconds", {{ code: e.code, message: e.message }}); }}
    try {{ Net.sendMail(); }}
    catch (e) {{ show("mail", {{ code: e.code, message: e.message }}); }}
    "#
        ),
    )?;
    assert_eq!(run.lines_of("error"), Vec::<String>::new());
    let expected = [
        (
            "timeout",
            json!({"code": -7, "error": "no answer within 1 s"}),
        ),
        (
            "refused",
            json!({"code": -4, "error": "cannot connect: connection refused"}),
        ),
        (
            "loop",
            json!({"code": -5, "error": "too many redirects: more than 10 redirects"}),
        ),
        (
            "big",
            json!({"code": -9, "error": "the answer is larger than 2 MB"}),
        ),
        (
            "chunked",
            json!({"code": -9, "error": "the answer is larger than 2 MB"}),
        ),
        (
            "scheme",
            json!({"code": -2, "error": "malformed URL 'ftp://127.0.0.1/x': 'ftp' is not http or https"}),
        ),
        (
            "url",
            json!({"code": -2, "error": "malformed URL 'http://': empty host"}),
        ),
        (
            "header",
            json!({"code": "ERR_INVALID_ARGUMENT", "message": "Net.httpRequestAsync: the header 'no colon' is not \"Name: value\""}),
        ),
        (
            "seconds",
            json!({"code": "ERR_INVALID_ARGUMENT", "message": "Net.httpRequestAsync: 'timeout' must be a positive number of seconds"}),
        ),
        (
            "mail",
            json!({"code": "ERR_NOT_AVAILABLE", "message": "Net.sendMail is not available in Dialtone yet (see docs/api.md)"}),
        ),
    ];
    for (label, want) in expected {
        assert_eq!(result(&shown, label), &want, "{label}");
    }
    Ok(())
}

#[test]
fn three_requests_are_on_the_wire_at_once_and_the_thirty_sixth_is_refused() -> Result<()> {
    let server = net_http_server()?;
    let (run, shown) = run_requests(
        &server.url(""),
        r#"
    const pending = [];
    for (let i = 0; i < 35; i++) pending.push(Net.httpRequestAsync(base + "/slow?s=0.2"));
    try { Net.httpRequestAsync(base + "/slow?s=0.2"); }
    catch (e) { show("refused", { code: e.code, message: e.message }); }
    const answers = await Promise.all(pending);
    show("answers", answers.map((r) => r.text));
    // Once they are in, there is room again.
    show("again", (await Net.httpRequestAsync(base + "/slow?s=0")).code);
    "#,
    )?;
    assert_eq!(run.lines_of("error"), Vec::<String>::new());
    assert_eq!(
        result(&shown, "refused"),
        &json!({"code": "ERR_NET_LIMIT", "message": "Exceeded the HTTP connection count limit! (35 requests of this session are under way or waiting)"})
    );
    let answers = result(&shown, "answers").as_array().context("answers")?;
    assert_eq!(answers.len(), 35);
    // The server counted the requests it was answering at once: never more than 3.
    let most = answers
        .iter()
        .filter_map(|a| a.as_str()?.strip_prefix("in flight ")?.parse::<u32>().ok())
        .max();
    assert_eq!(most, Some(3), "{answers:?}");
    assert_eq!(result(&shown, "again"), &json!(200));
    Ok(())
}
