//! One call's media stream: a task with one [`Wire`] and one 20 ms clock that sends exactly
//! one frame per tick (playback, linked media, or silence so NATs stay open), sends RFC 4733
//! digits in place of audio, reports the caller's RFC 4733 digits once each, and records.
//!
//! Over SIP the wire is a [`UdpWire`]: RTP is symmetric, and latched once: the stream takes
//! media from the SDP's address, or, when the caller is behind a NAT that rewrites it, from
//! the first source heard within [`LATCH_WINDOW`](super::wire::LATCH_WINDOW) of the answer, and sends there; packets from
//! any other source are dropped and counted, so a third party cannot take over a call's audio.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::graph::Ports;
use super::pacing::PacingTally;
use super::recorder::Recorder;
use super::rtp::{self, FRAME_SAMPLES, PCMU, TelephoneEvent};
use super::source::Audio;
pub use super::wire::RtpCounters;
use super::wire::{Inbound, Outgoing, UdpWire, Wire};
use super::{MediaError, g711};
use crate::rtp_ports::RtpSockets;

/// μ-law silence.
const SILENCE: u8 = 0xff;
/// Packets per RFC 4733 digit before its end packets (100 ms).
const DIGIT_PACKETS: u32 = 5;
/// End packets sent for each digit (RFC 4733 §2.5.1.4 recommends three).
const END_PACKETS: u32 = 3;
/// Ticks of ordinary audio between two sent digits (60 ms).
const DIGIT_GAP_TICKS: u32 = 3;
/// Caller audio buffered for a mixed recording, at most.
const MAX_MIX_BACKLOG: usize = 8000;
/// Ticks without caller audio after which linked units get silence instead (60 ms): a phone
/// that sends nothing while its user is silent still makes a steady stream, and a late
/// packet within a talk spurt does not cut silence into the speech.
const SILENCE_AFTER_TICKS: u32 = 3;

/// What the call asks of its stream.
#[derive(Debug)]
pub enum StreamCommand {
    /// Where to send, the peer's telephone-event payload type, and whether we send at all.
    Remote {
        /// The SDP's address (replaced by the caller's source address once packets arrive).
        addr: SocketAddr,
        /// The peer's telephone-event payload type.
        telephone_event: Option<u8>,
        /// False while the peer holds the call (our direction is recvonly/inactive).
        send: bool,
    },
    /// Play audio; replaces what is playing.
    Play {
        /// Reported back in [`StreamEvent::PlaybackFinished`].
        generation: u64,
        /// The audio.
        audio: Audio,
        /// Repeat until stopped.
        looped: bool,
    },
    /// Stop the current playback without reporting it.
    Stop,
    /// Send DTMF digits (RFC 4733).
    Digits(String),
    /// Start recording into this file.
    Record(Recorder),
    /// Stop recording.
    StopRecord,
    /// Report [`StreamEvent::MediaTimeout`] once no RTP has come for this long (from now);
    /// `None` stops watching (the caller holds the call, or it is not connected).
    WatchMedia(Option<Duration>),
}

/// What the stream reports.
#[derive(Debug, PartialEq)]
pub enum StreamEvent {
    /// A playback reached its end.
    PlaybackFinished {
        /// The generation given in [`StreamCommand::Play`].
        generation: u64,
    },
    /// The caller pressed a key (one event per RFC 4733 event, whatever the retransmissions).
    Tone(char),
    /// No RTP came for the watched time (reported once per watch).
    MediaTimeout,
    /// A recording ended.
    RecordStopped {
        /// The file.
        path: PathBuf,
        /// Its length, or why it could not be finished.
        result: Result<Duration, String>,
    },
}

/// The call's handle on its stream; dropping it stops the stream (finishing any recording).
#[derive(Debug)]
pub struct MediaStream {
    commands: mpsc::UnboundedSender<StreamCommand>,
    local: SocketAddr,
}

impl MediaStream {
    /// Starts an RTP stream on a SIP call's sockets. The caller's audio and digits go out
    /// through `ports.outlet` to whatever the scenario linked the call to; what is linked to
    /// the call arrives in `ports.inlet` and is sent when nothing plays.
    pub fn start(
        sockets: RtpSockets,
        events: mpsc::UnboundedSender<StreamEvent>,
        counters: Arc<RtpCounters>,
        ports: Ports,
    ) -> std::io::Result<Self> {
        let ssrc = rand_u32();
        let wire = UdpWire::new(sockets, counters.clone(), ssrc);
        let local = wire.local_addr()?;
        Ok(Self::start_on(wire, local, ssrc, events, counters, ports))
    }

    /// Starts a stream on any wire; `local` is what [`MediaStream::local_addr`] reports.
    pub fn start_on<W: Wire>(
        wire: W,
        local: SocketAddr,
        ssrc: u32,
        events: mpsc::UnboundedSender<StreamEvent>,
        counters: Arc<RtpCounters>,
        ports: Ports,
    ) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        let task = StreamTask {
            wire,
            events,
            counters,
            telephone_event: None,
            sending: true,
            ssrc,
            sequence: rand_u32() as u16,
            timestamp: rand_u32(),
            playback: None,
            digits: VecDeque::new(),
            digit: None,
            gap: 0,
            last_tone: None,
            recorder: None,
            inbound: VecDeque::new(),
            ports,
            quiet_ticks: 0,
            watch: None,
            last_rx: tokio::time::Instant::now(),
            lateness: PacingTally::default(),
            jitter: PacingTally::default(),
            last_send: None,
        };
        tokio::spawn(task.run(rx));
        Self { commands, local }
    }

    /// The local RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Sends a command (ignored once the stream has stopped).
    pub fn send(&self, command: StreamCommand) {
        let _ = self.commands.send(command);
    }
}

struct Playback {
    generation: u64,
    audio: Audio,
    position: usize,
    looped: bool,
}

struct DigitInProgress {
    event: u8,
    timestamp: u32,
    packets: u32,
}

struct StreamTask<W> {
    wire: W,
    events: mpsc::UnboundedSender<StreamEvent>,
    counters: Arc<RtpCounters>,
    telephone_event: Option<u8>,
    sending: bool,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    playback: Option<Playback>,
    digits: VecDeque<u8>,
    digit: Option<DigitInProgress>,
    gap: u32,
    /// (timestamp, event) of the last caller digit reported.
    last_tone: Option<(u32, u8)>,
    recorder: Option<Recorder>,
    /// Caller samples not yet mixed into a mixed recording.
    inbound: VecDeque<i16>,
    /// The call's place in its session's media graph.
    ports: Ports,
    /// Ticks since the caller's last audio packet.
    quiet_ticks: u32,
    /// Report a media timeout after this long without RTP.
    watch: Option<Duration>,
    /// When the caller's last RTP packet came (or the watch began).
    last_rx: tokio::time::Instant,
    /// This stream's send lateness and jitter not yet added to the server's.
    lateness: PacingTally,
    jitter: PacingTally,
    /// When the previous frame was sent (None while not sending).
    last_send: Option<tokio::time::Instant>,
}

impl<W: Wire> StreamTask<W> {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<StreamCommand>) {
        let mut clock = tokio::time::interval(Duration::from_millis(20));
        clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
        loop {
            // The caller's samples are needed only by linked units and a recording.
            let wanted = self.recorder.is_some() || self.ports.outlet.is_linked();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                scheduled = clock.tick() => self.on_tick(scheduled).await,
                inbound = self.wire.recv(wanted) => self.on_inbound(inbound),
            }
        }
        self.stop_recording();
        self.lateness.flush(&self.counters.send_lateness);
        self.jitter.flush(&self.counters.send_jitter);
    }

    fn on_command(&mut self, command: StreamCommand) {
        match command {
            StreamCommand::Remote {
                addr,
                telephone_event,
                send,
            } => {
                self.wire.set_remote(addr, telephone_event);
                self.telephone_event = telephone_event;
                self.sending = send && addr.port() != 0;
            }
            StreamCommand::Play {
                generation,
                audio,
                looped,
            } => {
                self.playback = Some(Playback {
                    generation,
                    audio,
                    position: 0,
                    looped,
                });
            }
            StreamCommand::Stop => self.playback = None,
            StreamCommand::Digits(digits) => {
                self.digits
                    .extend(digits.chars().filter_map(rtp::digit_to_event));
            }
            StreamCommand::Record(recorder) => {
                self.stop_recording();
                self.inbound.clear();
                self.recorder = Some(recorder);
            }
            StreamCommand::StopRecord => self.stop_recording(),
            StreamCommand::WatchMedia(timeout) => {
                self.watch = timeout;
                self.last_rx = tokio::time::Instant::now();
            }
        }
    }

    fn stop_recording(&mut self) {
        if let Some(recorder) = self.recorder.take() {
            let path = recorder.path().to_path_buf();
            let result = recorder.finish().map_err(|e| e.to_string());
            let _ = self
                .events
                .send(StreamEvent::RecordStopped { path, result });
        }
    }

    fn record(&mut self, samples: &[i16]) {
        if let Some(recorder) = &mut self.recorder
            && let Err(error) = recorder.write(samples)
        {
            self.fail_recording(error);
        }
    }

    fn fail_recording(&mut self, error: MediaError) {
        if let Some(recorder) = self.recorder.take() {
            let path = recorder.path().to_path_buf();
            drop(recorder);
            let _ = self.events.send(StreamEvent::RecordStopped {
                path,
                result: Err(error.to_string()),
            });
        }
    }

    /// One 20 ms frame; `scheduled` is when its tick was due.
    async fn on_tick(&mut self, scheduled: tokio::time::Instant) {
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        let mut frame = [SILENCE; FRAME_SAMPLES];
        // Playback advances in time even while a digit is sent or the call is on hold.
        if let Some(playback) = &mut self.playback {
            let mut filled = 0;
            while filled < FRAME_SAMPLES && !playback.audio.is_empty() {
                let take = (FRAME_SAMPLES - filled).min(playback.audio.len() - playback.position);
                frame[filled..filled + take]
                    .copy_from_slice(&playback.audio[playback.position..playback.position + take]);
                filled += take;
                playback.position += take;
                if playback.position == playback.audio.len() {
                    if !playback.looped {
                        break;
                    }
                    playback.position = 0;
                }
            }
            if playback.position >= playback.audio.len() && !playback.looped {
                let generation = playback.generation;
                self.playback = None;
                let _ = self
                    .events
                    .send(StreamEvent::PlaybackFinished { generation });
            }
            // The call's own playback wins over linked media; what arrives meanwhile is
            // dropped, so linked audio resumes without a backlog.
            let _ = self.ports.inlet.pull();
        } else if let Some(linked) = self.ports.inlet.pull() {
            for (out, sample) in frame.iter_mut().zip(linked) {
                *out = g711::encode(sample);
            }
        }
        if let Some(timeout) = self.watch
            && self.last_rx.elapsed() > timeout
        {
            self.watch = None;
            let _ = self.events.send(StreamEvent::MediaTimeout);
        }
        self.quiet_ticks = self.quiet_ticks.saturating_add(1);
        if self.quiet_ticks > SILENCE_AFTER_TICKS {
            self.ports.outlet.push_samples(&[0; FRAME_SAMPLES]);
        }
        // Both directions: mixed into one channel, or ours left and the caller's right.
        if let Some(channels) = self.recorder.as_ref().map(|r| r.channels) {
            let mut samples = [0i16; 2 * FRAME_SAMPLES];
            for (i, &code) in frame.iter().enumerate() {
                let caller = self.inbound.pop_front().unwrap_or(0);
                let ours = g711::decode(code);
                if channels == 2 {
                    samples[2 * i] = ours;
                    samples[2 * i + 1] = caller;
                } else {
                    samples[i] = caller.saturating_add(ours);
                }
            }
            let written = usize::from(channels) * FRAME_SAMPLES;
            self.record(&samples[..written]);
        }
        if !self.sending {
            self.last_send = None;
            return;
        }
        self.tally_pacing(scheduled);
        if self.send_digit(timestamp).await {
            return;
        }
        let marker = self.sequence == 0;
        self.send_packet(PCMU, marker, timestamp, &frame).await;
    }

    /// Counts this frame's send lateness and jitter.
    fn tally_pacing(&mut self, scheduled: tokio::time::Instant) {
        let now = tokio::time::Instant::now();
        self.lateness.record(
            now.saturating_duration_since(scheduled),
            &self.counters.send_lateness,
        );
        if let Some(previous) = self.last_send.replace(now) {
            let interval = now.saturating_duration_since(previous);
            let jitter = interval.abs_diff(Duration::from_millis(20));
            self.jitter.record(jitter, &self.counters.send_jitter);
        }
    }

    /// Sends this tick's telephone-event packets, if a digit is in progress; true if it did.
    async fn send_digit(&mut self, timestamp: u32) -> bool {
        let Some(pt) = self.telephone_event else {
            self.digits.clear();
            return false;
        };
        if self.digit.is_none() {
            if self.gap > 0 {
                self.gap -= 1;
                return false;
            }
            let Some(event) = self.digits.pop_front() else {
                return false;
            };
            self.digit = Some(DigitInProgress {
                event,
                timestamp,
                packets: 0,
            });
        }
        let Some(digit) = &mut self.digit else {
            return false;
        };
        digit.packets += 1;
        let (event, start, packets) = (digit.event, digit.timestamp, digit.packets);
        let done = packets >= DIGIT_PACKETS;
        let payload = TelephoneEvent {
            event,
            end: done,
            volume: 10,
            duration: (packets * FRAME_SAMPLES as u32) as u16,
        }
        .to_bytes();
        let repeats = if done { END_PACKETS } else { 1 };
        for _ in 0..repeats {
            self.send_packet(pt, packets == 1, start, &payload).await;
        }
        if done {
            self.digit = None;
            self.gap = DIGIT_GAP_TICKS;
        }
        true
    }

    async fn send_packet(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
    ) {
        let packet = Outgoing {
            payload_type,
            marker,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
            payload,
        };
        self.sequence = self.sequence.wrapping_add(1);
        if self.wire.send(packet).await {
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_inbound(&mut self, inbound: Inbound) {
        self.last_rx = tokio::time::Instant::now();
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        match inbound {
            Inbound::Heard => self.quiet_ticks = 0,
            Inbound::Audio(samples) => {
                self.quiet_ticks = 0;
                if self.recorder.is_none() && !self.ports.outlet.is_linked() {
                    return;
                }
                // Linked units get the caller's audio as it arrives, paced by the caller's clock.
                self.ports.outlet.push_samples(&samples);
                if self.recorder.is_some() {
                    self.inbound.extend(samples);
                    while self.inbound.len() > MAX_MIX_BACKLOG {
                        self.inbound.pop_front();
                    }
                }
            }
            Inbound::Event { timestamp, event } => {
                // One report per event: retransmitted and end packets share its timestamp.
                let key = (timestamp, event.event);
                if self.last_tone != Some(key) {
                    self.last_tone = Some(key);
                    if let Some(digit) = rtp::event_to_digit(event.event) {
                        self.ports.outlet.push_tone(digit);
                        let _ = self.events.send(StreamEvent::Tone(digit));
                    }
                }
            }
            Inbound::Other => {}
        }
    }
}

/// A random 32-bit number (SSRCs, initial sequence numbers and timestamps).
pub(crate) fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default(),
    );
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::graph::{InletMode, UnitKind};
    use crate::media::rtp::RtpPacket;
    use tokio::net::UdpSocket;

    async fn pair() -> (MediaStream, mpsc::UnboundedReceiver<StreamEvent>, UdpSocket) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let peer = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let (tx, rx) = mpsc::unbounded_channel();
        let ports = Ports::new(UnitKind::Call, InletMode::Replace);
        let sockets = RtpSockets {
            rtp: socket,
            rtcp: None,
        };
        let stream = MediaStream::start(sockets, tx, Arc::default(), ports).expect("start");
        stream.send(StreamCommand::Remote {
            addr: peer.local_addr().expect("addr"),
            telephone_event: Some(101),
            send: true,
        });
        (stream, rx, peer)
    }

    async fn next_packet(peer: &UdpSocket) -> Vec<u8> {
        let mut buf = vec![0; 2048];
        let (len, _) = tokio::time::timeout(Duration::from_secs(2), peer.recv_from(&mut buf))
            .await
            .expect("a packet within 2 s")
            .expect("recv");
        buf.truncate(len);
        buf
    }

    #[tokio::test]
    async fn plays_then_reports_the_end_once() {
        let (stream, mut events, peer) = pair().await;
        stream.send(StreamCommand::Play {
            generation: 7,
            audio: vec![0x11u8; 400].into(),
            looped: false,
        });
        let finished = tokio::time::timeout(Duration::from_secs(2), events.recv())
            .await
            .expect("finished in time");
        assert_eq!(
            finished,
            Some(StreamEvent::PlaybackFinished { generation: 7 })
        );
        // Frames are 160 bytes of PCMU, with our audio in them.
        let mut saw_audio = false;
        for _ in 0..10 {
            let packet = next_packet(&peer).await;
            let parsed = RtpPacket::parse(&packet).expect("rtp");
            assert_eq!((parsed.payload_type, parsed.payload.len()), (PCMU, 160));
            saw_audio |= parsed.payload.contains(&0x11);
        }
        assert!(saw_audio);
    }

    #[tokio::test]
    async fn a_third_party_cannot_take_over_a_latched_call() {
        let (stream, _events, peer) = pair().await;
        let rogue = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let mut packet = Vec::new();
        rtp::write_packet(&mut packet, PCMU, false, 1, 160, 42, &[0x11; 160]);
        peer.send_to(&packet, stream.local_addr())
            .await
            .expect("send");
        // The caller is heard from; now someone else sends to the call's port.
        let mut buf = vec![0u8; 2048];
        for _ in 0..5 {
            next_packet(&peer).await;
        }
        for _ in 0..20 {
            rogue
                .send_to(&packet, stream.local_addr())
                .await
                .expect("send");
        }
        for _ in 0..10 {
            next_packet(&peer).await;
        }
        let stolen =
            tokio::time::timeout(Duration::from_millis(300), rogue.recv_from(&mut buf)).await;
        assert!(stolen.is_err(), "the call's audio went to the third party");
    }

    #[tokio::test]
    async fn sends_and_reports_digits_once() {
        let (stream, mut events, peer) = pair().await;
        stream.send(StreamCommand::Digits("5#".into()));
        let mut events_seen = Vec::new();
        for _ in 0..40 {
            let packet = next_packet(&peer).await;
            let parsed = RtpPacket::parse(&packet).expect("rtp");
            if parsed.payload_type == 101 {
                let event = TelephoneEvent::parse(parsed.payload).expect("event");
                events_seen.push((event.event, event.end, parsed.timestamp));
                // Echo it back, as a caller's phone would send it.
                peer.send_to(&packet, stream.local_addr())
                    .await
                    .expect("send");
            }
        }
        let ends = events_seen.iter().filter(|(_, end, _)| *end).count();
        assert_eq!(ends, 6, "three end packets per digit: {events_seen:?}");
        let mut tones = Vec::new();
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        {
            tones.push(event);
        }
        assert_eq!(tones, vec![StreamEvent::Tone('5'), StreamEvent::Tone('#')]);
    }
}
