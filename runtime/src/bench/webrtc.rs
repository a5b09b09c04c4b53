//! `dialtone bench webrtc`: N concurrent browser-like calls from webrtc-rs clients on loopback
//! (Opus, a 20 ms frame every 20 ms each way: the scenario plays a looping tone), then the same
//! number of SIP/PCMU calls from SIPp (RTP echoed) against the same server in the same run.
//!
//! Per kind: setup time p50/p99 (WebRTC: POST of the offer → connected, ICE and DTLS included;
//! SIP: INVITE → 200 OK as SIPp measures it), the server's CPU per stream over a window once
//! every call is up (the clients run on their own threads, which are not counted), and for
//! WebRTC the audio gaps the clients heard (a gap: more than 60 ms without a packet).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{Notify, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
    Registry, SettingEngineBuilder, register_default_interceptors,
};

use super::mcp::BenchError;
use super::sip::{bench_server, failed_calls, free_media_base, percentiles, write_tone};
use crate::webrtc::peer::opus;

/// The issue's target on this 2-core kind of machine.
pub const CALLS_TARGET: usize = 200;
/// Longer than this without a packet is an audio gap.
const GAP: Duration = Duration::from_millis(60);
/// Name of the client threads (not counted as the server's CPU).
const CLIENT_THREAD: &str = "bench-wrtc";
/// Offers in flight at once while the calls are set up.
const DIAL_CONCURRENCY: usize = 16;

use super::LOOPING_PLAYBACK as SCENARIO;

/// One kind's figures.
#[derive(Debug, Clone)]
pub struct KindFigures {
    /// Calls up when the window began.
    pub up: usize,
    /// Offer → answer p50, p99 in ms (WebRTC: POST → 201; SIP: INVITE → 200 OK).
    pub answer_ms: (f64, f64),
    /// Offer → connected p50, p99 in ms (WebRTC: ICE and DTLS done; SIP: the 200 OK).
    pub setup_ms: (f64, f64),
    /// Server CPU per stream, as a share of one core.
    pub cpu_per_stream: f64,
    /// Calls that failed.
    pub failed: usize,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct WebRtcReport {
    /// Calls of each kind.
    pub calls: usize,
    /// Window length.
    pub window: Duration,
    /// WebRTC (Opus).
    pub webrtc: KindFigures,
    /// Audio gaps the WebRTC clients heard in the window, all calls together.
    pub gaps: u64,
    /// Longest silence a WebRTC client heard in the window, ms.
    pub longest_gap_ms: f64,
    /// CPU of the client threads in the WebRTC window, as a share of one core (they run on
    /// one worker: near 1.0 means gaps may be the clients' own).
    pub client_cpu: f64,
    /// SIP (PCMU), or why it could not run.
    pub sip: Result<KindFigures, String>,
}

/// CPU seconds of this process's threads, split into (server, clients).
fn thread_cpu() -> (f64, f64) {
    let mut server = 0.0;
    let mut clients = 0.0;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map_or("", |(_, n)| n);
        let fields: Vec<&str> = tail.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let seconds = (ticks(11) + ticks(12)) / 100.0;
        if name.starts_with(CLIENT_THREAD) {
            clients += seconds;
        } else {
            server += seconds;
        }
    }
    (server, clients)
}

/// What one client heard.
#[derive(Debug, Default)]
struct Heard {
    /// Packets received in the window.
    packets: AtomicU64,
    /// Gaps longer than [`GAP`] in the window.
    gaps: AtomicU64,
    /// Longest gap in the window, µs.
    longest_us: AtomicU64,
}

struct Handler {
    gathered: Arc<Notify>,
    state: watch::Sender<RTCPeerConnectionState>,
    heard: Arc<Heard>,
    window: watch::Receiver<Option<(Instant, Instant)>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.notify_one();
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let heard = self.heard.clone();
        let window = self.window.clone();
        tokio::spawn(async move {
            let mut last: Option<Instant> = None;
            while let Some(event) = track.poll().await {
                if !matches!(event, TrackRemoteEvent::OnRtpPacket(_)) {
                    continue;
                }
                let now = Instant::now();
                let Some((start, end)) = *window.borrow() else {
                    continue;
                };
                if now < start || now > end {
                    last = None;
                    continue;
                }
                heard.packets.fetch_add(1, Ordering::Relaxed);
                if let Some(last) = last {
                    let gap = now - last;
                    if gap > GAP {
                        heard.gaps.fetch_add(1, Ordering::Relaxed);
                    }
                    heard
                        .longest_us
                        .fetch_max(gap.as_micros() as u64, Ordering::Relaxed);
                }
                last = Some(now);
            }
        });
    }
}

/// One connected bench call.
struct Client {
    connection: Arc<dyn PeerConnection>,
    location: String,
}

/// Dials once: the times to the answer (POST → 201) and to connected, and the call, sending
/// `frames` in a loop.
async fn dial(
    http: SocketAddr,
    frames: Arc<Vec<Bytes>>,
    heard: Arc<Heard>,
    window: watch::Receiver<Option<(Instant, Instant)>>,
) -> Result<(Duration, Duration, Client), String> {
    let fail = |e: webrtc::error::Error| e.to_string();
    let mut engine = MediaEngine::default();
    engine
        .register_codec(opus(), RtpCodecKind::Audio)
        .map_err(fail)?;
    let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(fail)?;
    let gathered = Arc::new(Notify::new());
    let (state_tx, mut state) = watch::channel(RTCPeerConnectionState::New);
    let handler = Arc::new(Handler {
        gathered: gathered.clone(),
        state: state_tx,
        heard,
        window,
    });
    let connection: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(engine)
            .with_setting_engine(
                SettingEngineBuilder::new()
                    .with_include_loopback_candidate(true)
                    .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
                    .build(),
            )
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .map_err(fail)?,
    );
    let ssrc = crate::media::stream::rand_u32();
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("bench-{ssrc:08x}"),
        format!("bench-audio-{ssrc:08x}"),
        "bench".into(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            active: true,
            codec: opus().rtp_codec,
            ..Default::default()
        }],
    )));
    connection
        .add_track(track.clone() as Arc<dyn TrackLocal>)
        .await
        .map_err(fail)?;
    let started = Instant::now();
    let offer = connection.create_offer(None).await.map_err(fail)?;
    let waiting = gathered.notified();
    connection
        .set_local_description(offer)
        .await
        .map_err(fail)?;
    let _ = tokio::time::timeout(Duration::from_secs(5), waiting).await;
    let offer = connection.local_description().await.ok_or("no offer")?.sdp;
    let response = reqwest::Client::new()
        .post(format!("http://{http}/v1/webrtc/calls?to=bench"))
        .header("content-type", "application/sdp")
        .body(offer)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = response.text().await.map_err(|e| e.to_string())?;
    let answered = started.elapsed();
    if status != 201 {
        let _ = connection.close().await;
        return Err(format!("{status} {answer}"));
    }
    connection
        .set_remote_description(RTCSessionDescription::answer(answer).map_err(fail)?)
        .await
        .map_err(fail)?;
    let connected = state.wait_for(|s| {
        matches!(
            s,
            RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
        )
    });
    let outcome = tokio::time::timeout(Duration::from_secs(15), connected)
        .await
        .map_err(|_| "not connected within 15 s".to_owned())?
        .map(|s| *s)
        .map_err(|e| e.to_string())?;
    if outcome != RTCPeerConnectionState::Connected {
        let _ = connection.close().await;
        return Err(format!("the connection {outcome}"));
    }
    let setup = started.elapsed();
    tokio::spawn(async move {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        let mut sequence = 0u16;
        let mut timestamp = 0u32;
        for payload in frames.iter().cycle() {
            clock.tick().await;
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: sequence,
                    timestamp,
                    ssrc,
                    ..Default::default()
                },
                payload: payload.clone(),
            };
            if track.write_rtp(packet).await.is_err() {
                return;
            }
            sequence = sequence.wrapping_add(1);
            timestamp = timestamp.wrapping_add(960);
        }
    });
    Ok((
        answered,
        setup,
        Client {
            connection,
            location,
        },
    ))
}

/// A second of a 440 Hz tone as 20 ms Opus frames (encoded once, sent in a loop).
fn opus_frames() -> Result<Vec<Bytes>, BenchError> {
    let mut codec =
        crate::webrtc::opus::OpusCodec::new().map_err(|e| BenchError::Peer(e.to_string()))?;
    (0..50)
        .map(|frame| {
            let samples: Vec<i16> = (0..160)
                .map(|i| {
                    let n = f64::from(frame * 160 + i);
                    (6000.0 * (std::f64::consts::TAU * 440.0 * n / 8000.0).sin()) as i16
                })
                .collect();
            codec
                .encode(&samples)
                .map(Bytes::copy_from_slice)
                .map_err(|e| BenchError::Peer(e.to_string()))
        })
        .collect()
}

/// Runs `calls` WebRTC calls, then `calls` SIP calls, each measured over `seconds`.
pub async fn webrtc(calls: usize, seconds: u32) -> Result<WebRtcReport, BenchError> {
    let dir = std::env::temp_dir().join(format!("dialtone-bench-webrtc-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    write_tone(&dir)?;
    let server = bench_server(&dir, SCENARIO).await?;
    let http = server.http;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(CLIENT_THREAD)
        .enable_all()
        .build()?;
    let frames = Arc::new(opus_frames()?);
    let heard = Arc::new(Heard::default());
    let (window_tx, window) = watch::channel(None);
    // Dial every call, DIAL_CONCURRENCY offers at a time.
    let dialing = {
        let (frames, heard, window) = (frames.clone(), heard.clone(), window.clone());
        clients.spawn(async move {
            use futures::StreamExt as _;
            futures::stream::iter(0..calls)
                .map(|_| dial(http, frames.clone(), heard.clone(), window.clone()))
                .buffer_unordered(DIAL_CONCURRENCY)
                .collect::<Vec<_>>()
                .await
        })
    };
    let results = dialing.await.map_err(|e| BenchError::Peer(e.to_string()))?;
    let mut setups = Vec::new();
    let mut answers = Vec::new();
    let mut up = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok((answered, setup, client)) => {
                answers.push(answered.as_micros().min(u128::from(u32::MAX)) as u32);
                setups.push(setup.as_micros().min(u128::from(u32::MAX)) as u32);
                up.push(client);
            }
            Err(why) => failures.push(why),
        }
    }
    if let Some(first) = failures.first() {
        eprintln!(
            "bench webrtc: {} calls failed; the first: {first}",
            failures.len()
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let window_len = Duration::from_secs(u64::from(seconds));
    let start = Instant::now();
    let _ = window_tx.send(Some((start, start + window_len)));
    let (cpu_start, client_start) = thread_cpu();
    tokio::time::sleep(window_len).await;
    let (cpu_end, client_end) = thread_cpu();
    let client_cpu = (client_end - client_start) / window_len.as_secs_f64();
    let webrtc = KindFigures {
        up: up.len(),
        answer_ms: percentiles(answers),
        setup_ms: percentiles(setups),
        cpu_per_stream: (cpu_end - cpu_start) / window_len.as_secs_f64() / up.len().max(1) as f64,
        failed: failures.len(),
    };
    let gaps = heard.gaps.load(Ordering::Relaxed);
    let longest_gap_ms = heard.longest_us.load(Ordering::Relaxed) as f64 / 1000.0;
    // Hang every call up and let the server drain before the SIP half.
    let hangups = clients.spawn(async move {
        for client in up {
            let _ = reqwest::Client::new()
                .delete(format!("http://{http}{}", client.location))
                .send()
                .await;
            let _ = client.connection.close().await;
        }
    });
    let _ = hangups.await;
    let drained_by = Instant::now() + Duration::from_secs(20);
    while server.metrics().calls_active.load(Ordering::Relaxed) > 0 && Instant::now() < drained_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sip = sip_half(&server, &dir, calls, seconds).await;
    clients.shutdown_background();
    server.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(WebRtcReport {
        calls,
        window: window_len,
        webrtc,
        gaps,
        longest_gap_ms,
        client_cpu,
        sip,
    })
}

/// The same number of SIP calls (SIPp, RTP echoed, the scenario playing), measured alike.
async fn sip_half(
    server: &crate::serve::Server,
    dir: &std::path::Path,
    calls: usize,
    seconds: u32,
) -> Result<KindFigures, String> {
    let ramp_s = (calls as u32).div_ceil(50).max(1);
    let hold_s = ramp_s + seconds + 4;
    let target = format!("127.0.0.1:{}", server.sip.udp.port());
    let media_port = free_media_base().map_err(|e| e.to_string())?.to_string();
    let count = calls.to_string();
    let sipp = std::process::Command::new("timeout")
        .args(["-k", "5", &(hold_s + 40).to_string(), "sipp", &target])
        .args([
            "-sn",
            "uac",
            "-rtp_echo",
            "-d",
            &(hold_s * 1000).to_string(),
            "-s",
            "bench",
        ])
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", &media_port])
        .args(["-r", "50", "-m", &count, "-l", &count, "-nostdin"])
        .args(["-trace_rtt", "-rtt_freq", "1"])
        .args(["-timeout", &format!("{}s", hold_s + 30)])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run sipp (Debian sip-tester): {e}"))?;
    let active = || server.metrics().calls_active.load(Ordering::Relaxed) as usize;
    let up_by = Instant::now() + Duration::from_secs(u64::from(ramp_s) + 10);
    while active() < calls && Instant::now() < up_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let up = active();
    let window = Duration::from_secs(u64::from(seconds));
    let (cpu_start, _) = thread_cpu();
    tokio::time::sleep(window).await;
    let (cpu_end, _) = thread_cpu();
    let output =
        tokio::task::block_in_place(|| sipp.wait_with_output()).map_err(|e| e.to_string())?;
    let failed = failed_calls(&String::from_utf8_lossy(&output.stdout));
    let rtt = percentiles(rtt_micros(dir));
    Ok(KindFigures {
        up,
        answer_ms: rtt,
        setup_ms: rtt,
        cpu_per_stream: (cpu_end - cpu_start) / window.as_secs_f64() / up.max(1) as f64,
        failed: failed as usize,
    })
}

/// SIPp's INVITE → 200 OK times from its `-trace_rtt` file (`date_ms;response_time_ms;rtd`).
fn rtt_micros(dir: &std::path::Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("_rtt.csv"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|line| {
                    let ms: f64 = line.split(';').nth(1)?.trim().parse().ok()?;
                    Some((ms * 1000.0) as u32)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl std::fmt::Display for WebRtcReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "bench webrtc: {} webrtc-rs callers (Opus 20 ms both ways) then {} SIPp callers (PCMU, RTP echoed) \
             against one server, loopback; the scenario plays a looping tone; window {:.0} s",
            self.calls,
            self.calls,
            self.window.as_secs_f64()
        );
        let row = |out: &mut String, kind: &str, k: &KindFigures| {
            let _ = writeln!(
                out,
                "{kind:<8} up {:>4}  failed {:>3}  answer p50 {:>6.1} ms  p99 {:>6.1} ms  connected p50 {:>6.1} ms  p99 {:>6.1} ms  server CPU per stream {:.3}% of a core",
                k.up,
                k.failed,
                k.answer_ms.0,
                k.answer_ms.1,
                k.setup_ms.0,
                k.setup_ms.1,
                k.cpu_per_stream * 100.0
            );
        };
        row(&mut out, "WebRTC", &self.webrtc);
        let _ = writeln!(
            out,
            "WebRTC audio gaps heard (> {} ms without a packet): {}  longest silence {:.1} ms  (target: {} calls, no gaps; the clients' thread used {:.0}% of a core)",
            GAP.as_millis(),
            self.gaps,
            self.longest_gap_ms,
            CALLS_TARGET,
            self.client_cpu * 100.0
        );
        match &self.sip {
            Ok(sip) => {
                row(&mut out, "SIP", sip);
                // SIPp times in whole milliseconds: a 0 ms figure is "under 1 ms".
                let ratio = |ours: f64, theirs: f64| {
                    if theirs < 1.0 {
                        format!(">={:.1}x", ours)
                    } else {
                        format!("{:.2}x", ours / theirs)
                    }
                };
                let _ = write!(
                    out,
                    "ratio WebRTC/SIP: answer p50 {}  p99 {}  connected p50 {}  p99 {}  CPU per stream {:.2}x\n\
                     (SIPp counts whole ms; connected includes ICE and DTLS, and the webrtc-rs client checks \
                     candidates every 200 ms where a browser checks every 50 ms)",
                    ratio(self.webrtc.answer_ms.0, sip.answer_ms.0),
                    ratio(self.webrtc.answer_ms.1, sip.answer_ms.1),
                    ratio(self.webrtc.setup_ms.0, sip.setup_ms.0),
                    ratio(self.webrtc.setup_ms.1, sip.setup_ms.1),
                    self.webrtc.cpu_per_stream / sip.cpu_per_stream
                );
            }
            Err(why) => {
                let _ = write!(out, "SIP      could not run: {why}");
            }
        }
        f.write_str(&out)
    }
}
