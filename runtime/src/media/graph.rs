//! The media graph of one session: units (calls, WebSockets; later players, recorders,
//! conferences) and the one-way links a scenario makes between them with `sendMediaTo`.
//!
//! Audio moves as 20 ms frames of 8 kHz linear PCM ([`Frame`]). Every unit has an
//! [`Outlet`], where it pushes what it produces (a call: the caller's voice; a WebSocket: the
//! server's audio), and an [`Inlet`], where the frames of the units that send to it wait until
//! it consumes them (a call: on its RTP clock; a WebSocket: as soon as it is woken). Sources
//! are paced in real time (RTP arrives every 20 ms; a WebSocket plays its server's audio out
//! on its own 20 ms clock), so an inlet only absorbs jitter and clock drift, and is bounded.
//!
//! The [`Graph`] is the session host's bookkeeping: which unit is which and which links
//! exist. It runs on the host task of the session, so changing a link is a few lock-protected
//! vector edits, with no message round trip.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use dialtone_bindings::host::{AudioEncoding, SendMediaParams, UnitId};
use thiserror::Error;
use tokio::sync::Notify;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// 20 ms of 8 kHz mono linear PCM.
pub type Frame = [i16; FRAME_SAMPLES];

/// A silent frame.
pub const SILENT_FRAME: Frame = [0; FRAME_SAMPLES];

/// Identifies one link of a session's graph.
pub type LinkId = u64;

/// Frames a call's inlet holds at most (200 ms): older ones are dropped so latency stays
/// bounded when the sender's clock runs faster than ours.
const REPLACE_MAX_FRAMES: usize = 10;
/// Frames a call's inlet collects before it starts playing after running dry (40 ms), so
/// two 20 ms clocks a few milliseconds apart do not alternate between a frame and a gap.
const REPLACE_PRIME_FRAMES: usize = 2;
/// Deliveries a streams inlet holds at most (about 2 s of one stream): a consumer that far
/// behind loses the newest frames, counted, instead of growing a queue without bound.
const STREAMS_MAX_ITEMS: usize = 128;

/// Media graph errors, written for the scenario's author.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum GraphError {
    /// A link names a unit the session does not have (any more).
    #[error("{method}: no media unit '{unit}' in this session (it has ended or never existed)")]
    UnknownUnit {
        /// The scenario's method.
        method: &'static str,
        /// The unit id.
        unit: UnitId,
    },
    /// The unit cannot send media.
    #[error("{method}: a {kind} cannot send media")]
    NotASource {
        /// The scenario's method.
        method: &'static str,
        /// What the unit is.
        kind: &'static str,
    },
    /// The unit cannot receive media.
    #[error("{method}: a {kind} cannot receive media")]
    NotASink {
        /// The scenario's method.
        method: &'static str,
        /// What the unit is.
        kind: &'static str,
    },
}

/// How an inlet combines the links that send to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InletMode {
    /// Only the newest link is heard (a call: "a new incoming stream replaces the previous
    /// one"). The graph removes the older link when a newer one arrives.
    Replace,
    /// Each link is its own stream, delivered in order with its open and close (a WebSocket:
    /// one start/media/stop stream per link).
    Streams,
    /// Every link is heard at once, summed (a recorder).
    Mix,
    /// The unit receives nothing.
    None,
}

/// What a streams inlet hands its consumer, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// A link opened.
    Opened {
        /// The link.
        link: LinkId,
        /// The sending unit.
        source: UnitId,
        /// The scenario's `sendMediaTo` parameters.
        params: SendMediaParams,
    },
    /// 20 ms of audio on a link.
    Frame {
        /// The link.
        link: LinkId,
        /// The audio.
        frame: Box<Frame>,
    },
    /// The sending unit heard a DTMF key.
    Tone {
        /// The link.
        link: LinkId,
        /// '0'-'9', '*', '#', 'A'-'D'.
        digit: char,
    },
    /// A link closed.
    Closed {
        /// The link.
        link: LinkId,
    },
}

#[derive(Debug, Default)]
struct InletState {
    /// Replace mode: the one link heard, and its frames.
    current: Option<LinkId>,
    frames: VecDeque<Frame>,
    primed: bool,
    /// Streams mode: everything, in order.
    deliveries: VecDeque<Delivery>,
    /// Mix mode: each link's source unit and frames.
    mix: Vec<(LinkId, UnitId, VecDeque<Frame>)>,
}

/// Where the frames sent to one unit wait for it.
#[derive(Debug)]
pub struct Inlet {
    mode: InletMode,
    state: Mutex<InletState>,
    /// Wakes a streams consumer when something arrived.
    notify: Notify,
    /// Frames dropped because the consumer was behind.
    dropped: AtomicU64,
}

impl Inlet {
    /// An empty inlet.
    pub fn new(mode: InletMode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            state: Mutex::new(InletState::default()),
            notify: Notify::new(),
            dropped: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, InletState> {
        // A panic while holding this lock leaves only audio queues behind: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open(&self, link: LinkId, source: &str, params: &SendMediaParams) {
        let mut state = self.lock();
        match self.mode {
            InletMode::Replace => {
                state.current = Some(link);
                state.frames.clear();
                state.primed = false;
            }
            InletMode::Streams => {
                state.deliveries.push_back(Delivery::Opened {
                    link,
                    source: source.to_owned(),
                    params: params.clone(),
                });
                drop(state);
                self.notify.notify_one();
            }
            InletMode::Mix => state.mix.push((link, source.to_owned(), VecDeque::new())),
            InletMode::None => {}
        }
    }

    fn close(&self, link: LinkId) {
        let mut state = self.lock();
        match self.mode {
            InletMode::Replace => {
                if state.current == Some(link) {
                    state.current = None;
                    state.frames.clear();
                }
            }
            InletMode::Streams => {
                state.deliveries.push_back(Delivery::Closed { link });
                drop(state);
                self.notify.notify_one();
            }
            InletMode::Mix => state.mix.retain(|(l, _, _)| *l != link),
            InletMode::None => {}
        }
    }

    fn push(&self, link: LinkId, frame: &Frame) {
        let mut state = self.lock();
        match self.mode {
            InletMode::Replace => {
                if state.current != Some(link) {
                    return;
                }
                if state.frames.len() >= REPLACE_MAX_FRAMES {
                    state.frames.pop_front();
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                state.frames.push_back(*frame);
            }
            InletMode::Streams => {
                if state.deliveries.len() >= STREAMS_MAX_ITEMS {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                state.deliveries.push_back(Delivery::Frame {
                    link,
                    frame: Box::new(*frame),
                });
                drop(state);
                self.notify.notify_one();
            }
            InletMode::Mix => {
                if let Some((_, _, frames)) = state.mix.iter_mut().find(|(l, _, _)| *l == link) {
                    if frames.len() >= REPLACE_MAX_FRAMES {
                        frames.pop_front();
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    frames.push_back(*frame);
                }
            }
            InletMode::None => {}
        }
    }

    fn push_tone(&self, link: LinkId, digit: char) {
        if self.mode != InletMode::Streams {
            return;
        }
        let mut state = self.lock();
        // Tones are rare and matter: they are kept even when frames are being dropped.
        state.deliveries.push_back(Delivery::Tone { link, digit });
        drop(state);
        self.notify.notify_one();
    }

    /// Replace mode: the next frame to play, if a link has one ready.
    pub fn pull(&self) -> Option<Frame> {
        let mut state = self.lock();
        state.current?;
        if !state.primed {
            if state.frames.len() < REPLACE_PRIME_FRAMES {
                return None;
            }
            state.primed = true;
        }
        let frame = state.frames.pop_front();
        if frame.is_none() {
            state.primed = false;
        }
        frame
    }

    /// Mix mode: one frame of every link that has one, summed; None when none has.
    pub fn pull_mix(&self) -> Option<Frame> {
        let mut state = self.lock();
        let mut mixed: Option<[i32; FRAME_SAMPLES]> = None;
        for (_, _, frames) in &mut state.mix {
            if let Some(frame) = frames.pop_front() {
                let sum = mixed.get_or_insert([0; FRAME_SAMPLES]);
                for (out, sample) in sum.iter_mut().zip(frame) {
                    *out += i32::from(sample);
                }
            }
        }
        mixed.map(|sum| sum.map(|s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16))
    }

    /// Mix mode: one frame of every link that has one, with the unit that sent it (a
    /// conference mixes each listener's own audio out).
    pub fn pull_each(&self) -> Vec<(UnitId, Frame)> {
        let mut state = self.lock();
        state
            .mix
            .iter_mut()
            .filter_map(|(_, source, frames)| frames.pop_front().map(|f| (source.clone(), f)))
            .collect()
    }

    /// Streams mode: moves everything delivered so far into `out`.
    pub fn drain(&self, out: &mut Vec<Delivery>) {
        out.extend(self.lock().deliveries.drain(..));
    }

    /// Waits until something is delivered (streams mode).
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    /// Frames dropped so far because the consumer was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct OutLink {
    link: LinkId,
    /// The unit it goes to.
    target: UnitId,
    tag: String,
    encoding: Option<AudioEncoding>,
    inlet: Arc<Inlet>,
}

#[derive(Debug, Default)]
struct OutletState {
    links: Vec<OutLink>,
    /// Samples pushed that do not make a whole frame yet.
    partial: Vec<i16>,
}

/// Where one unit pushes what it produces, to every unit linked from it.
#[derive(Debug, Default)]
pub struct Outlet {
    state: Mutex<OutletState>,
    /// Number of links, read without the lock on every packet.
    links: AtomicUsize,
}

impl Outlet {
    /// An outlet with no link.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, OutletState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, link: OutLink) {
        let mut state = self.lock();
        state.links.push(link);
        self.links.store(state.links.len(), Ordering::Relaxed);
    }

    fn remove(&self, link: LinkId) -> bool {
        let mut state = self.lock();
        let before = state.links.len();
        state.links.retain(|l| l.link != link);
        self.links.store(state.links.len(), Ordering::Relaxed);
        state.links.len() != before
    }

    /// Whether anything listens.
    pub fn is_linked(&self) -> bool {
        self.links.load(Ordering::Relaxed) > 0
    }

    /// Pushes audio of any length; whole 20 ms frames go to every link.
    pub fn push_samples(&self, samples: &[i16]) {
        if !self.is_linked() {
            return;
        }
        let mut state = self.lock();
        let OutletState { links, partial } = &mut *state;
        partial.extend_from_slice(samples);
        let mut start = 0;
        while partial.len() - start >= FRAME_SAMPLES {
            let mut frame = SILENT_FRAME;
            frame.copy_from_slice(&partial[start..start + FRAME_SAMPLES]);
            for link in links.iter() {
                link.inlet.push(link.link, &frame);
            }
            start += FRAME_SAMPLES;
        }
        partial.drain(..start);
    }

    /// Pushes one frame of the stream `tag` to the links that take it: those whose tag is
    /// empty or equal.
    pub fn push_frame(&self, tag: &str, frame: &Frame) {
        if !self.is_linked() {
            return;
        }
        for link in self.lock().links.iter() {
            if link.tag.is_empty() || link.tag == tag {
                link.inlet.push(link.link, frame);
            }
        }
    }

    /// A conference's output: to each link, the sum of `parts` except what its own target
    /// sent (mix-minus), clipped; nothing to a link that would only hear itself.
    pub fn push_mix_minus(&self, parts: &[(UnitId, Frame)]) {
        if !self.is_linked() || parts.is_empty() {
            return;
        }
        let mut total = [0i32; FRAME_SAMPLES];
        for (_, frame) in parts {
            for (sum, sample) in total.iter_mut().zip(frame) {
                *sum += i32::from(*sample);
            }
        }
        for link in self.lock().links.iter() {
            let own = parts.iter().find(|(source, _)| *source == link.target);
            if own.is_some() && parts.len() == 1 {
                continue;
            }
            let mut frame = SILENT_FRAME;
            for (i, out) in frame.iter_mut().enumerate() {
                let minus = own.map_or(0, |(_, f)| i32::from(f[i]));
                *out = (total[i] - minus).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
            link.inlet.push(link.link, &frame);
        }
    }

    /// Tells every link that the unit heard a DTMF key.
    pub fn push_tone(&self, digit: char) {
        if !self.is_linked() {
            return;
        }
        for link in self.lock().links.iter() {
            link.inlet.push_tone(link.link, digit);
        }
    }

    /// The encoding the scenario chose for the stream `tag` on a link from this unit
    /// (`ws.sendMediaTo(call, {tag, encoding})`), if any link names one.
    pub fn encoding_for(&self, tag: &str) -> Option<AudioEncoding> {
        let state = self.lock();
        let matching = |l: &&OutLink| l.tag == tag || l.tag.is_empty();
        state.links.iter().filter(matching).find_map(|l| l.encoding)
    }
}

/// What kind of unit a graph entry is, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    /// A call leg.
    Call,
    /// A WebSocket.
    WebSocket,
    /// A player.
    Player,
    /// A recorder.
    Recorder,
    /// A conference (an audio mixer).
    Conference,
    /// A speech recognizer.
    Asr,
}

impl UnitKind {
    fn name(self) -> &'static str {
        match self {
            UnitKind::Call => "call",
            UnitKind::WebSocket => "WebSocket",
            UnitKind::Player => "player",
            UnitKind::Recorder => "recorder",
            UnitKind::Conference => "conference",
            UnitKind::Asr => "speech recognizer",
        }
    }
}

/// A unit's two ports, as the graph holds them.
#[derive(Debug, Clone)]
pub struct Ports {
    /// What the unit is.
    pub kind: UnitKind,
    /// What is sent to it.
    pub inlet: Arc<Inlet>,
    /// What it sends.
    pub outlet: Arc<Outlet>,
}

impl Ports {
    /// New ports for a unit of `kind` whose input works as `mode`.
    pub fn new(kind: UnitKind, mode: InletMode) -> Self {
        Self {
            kind,
            inlet: Inlet::new(mode),
            outlet: Outlet::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    id: LinkId,
    from: UnitId,
    to: UnitId,
}

/// One session's units and links.
#[derive(Debug, Default)]
pub struct Graph {
    units: BTreeMap<UnitId, Ports>,
    links: Vec<Link>,
    next_link: LinkId,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ports of unit `id`, when it is in the graph.
    pub fn unit_ports(&self, id: &str) -> Option<Ports> {
        self.units.get(id).cloned()
    }

    /// Adds a unit (a call when it starts, a WebSocket when it is created), replacing a unit
    /// of that id.
    pub fn add_unit(&mut self, id: &str, ports: Ports) {
        self.units.insert(id.to_owned(), ports);
    }

    /// Removes a unit that ended, and every link from or to it (each target sees its link
    /// close: a WebSocket sends the stream's `stop`).
    pub fn remove_unit(&mut self, id: &str) {
        let gone: Vec<Link> = self
            .links
            .iter()
            .filter(|l| l.from == id || l.to == id)
            .cloned()
            .collect();
        for link in gone {
            self.unlink(&link);
        }
        self.units.remove(id);
    }

    /// `from.sendMediaTo(to, params)`. Linking the same pair again restarts the link with the
    /// new parameters; a call target keeps only its newest link.
    pub fn link(
        &mut self,
        from: &str,
        to: &str,
        params: &SendMediaParams,
    ) -> Result<LinkId, GraphError> {
        let method = "sendMediaTo";
        let source = self.ports(method, from)?.clone();
        let target = self.ports(method, to)?.clone();
        if matches!(source.kind, UnitKind::Recorder | UnitKind::Asr) {
            return Err(GraphError::NotASource {
                method,
                kind: source.kind.name(),
            });
        }
        if target.inlet.mode == InletMode::None {
            return Err(GraphError::NotASink {
                method,
                kind: target.kind.name(),
            });
        }
        let replaced: Vec<Link> = self
            .links
            .iter()
            .filter(|l| l.to == to && (l.from == from || target.inlet.mode == InletMode::Replace))
            .cloned()
            .collect();
        for link in replaced {
            self.unlink(&link);
        }
        self.next_link += 1;
        let id = self.next_link;
        target.inlet.open(id, from, params);
        source.outlet.add(OutLink {
            link: id,
            target: to.to_owned(),
            tag: params.tag.clone(),
            encoding: params.encoding,
            inlet: target.inlet.clone(),
        });
        self.links.push(Link {
            id,
            from: from.to_owned(),
            to: to.to_owned(),
        });
        Ok(id)
    }

    /// `from.stopMediaTo(to)`: removes the link; none is not an error (it may have been
    /// replaced, or its unit ended).
    pub fn unlink_pair(&mut self, from: &str, to: &str) -> Result<(), GraphError> {
        let method = "stopMediaTo";
        self.ports(method, from)?;
        self.ports(method, to)?;
        let found: Vec<Link> = self
            .links
            .iter()
            .filter(|l| l.from == from && l.to == to)
            .cloned()
            .collect();
        for link in found {
            self.unlink(&link);
        }
        Ok(())
    }

    /// Number of links (for tests and metrics).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    fn ports(&self, method: &'static str, id: &str) -> Result<&Ports, GraphError> {
        self.units.get(id).ok_or_else(|| GraphError::UnknownUnit {
            method,
            unit: id.to_owned(),
        })
    }

    fn unlink(&mut self, link: &Link) {
        if let Some(source) = self.units.get(&link.from) {
            source.outlet.remove(link.id);
        }
        if let Some(target) = self.units.get(&link.to) {
            target.inlet.close(link.id);
        }
        self.links.retain(|l| l.id != link.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(value: i16) -> Frame {
        [value; FRAME_SAMPLES]
    }

    fn graph() -> (Graph, Ports, Ports, Ports) {
        let mut graph = Graph::new();
        let a = Ports::new(UnitKind::Call, InletMode::Replace);
        let b = Ports::new(UnitKind::Call, InletMode::Replace);
        let ws = Ports::new(UnitKind::WebSocket, InletMode::Streams);
        graph.add_unit("a", a.clone());
        graph.add_unit("b", b.clone());
        graph.add_unit("ws", ws.clone());
        (graph, a, b, ws)
    }

    #[test]
    fn a_conference_gives_each_participant_everyone_but_itself() {
        let (mut graph, a, b, _) = graph();
        let c = Ports::new(UnitKind::Call, InletMode::Replace);
        let conf = Ports::new(UnitKind::Conference, InletMode::Mix);
        graph.add_unit("c", c.clone());
        graph.add_unit("conf", conf.clone());
        let none = SendMediaParams::default();
        for unit in ["a", "b", "c"] {
            graph
                .link(unit, "conf", &none)
                .expect("into the conference");
            graph
                .link("conf", unit, &none)
                .expect("out of the conference");
        }
        // Two mixer ticks (a call's inlet plays once primed with two frames).
        for _ in 0..2 {
            a.outlet.push_samples(&frame(100));
            b.outlet.push_samples(&frame(20));
            c.outlet.push_samples(&frame(3));
            let parts = conf.inlet.pull_each();
            assert_eq!(parts.len(), 3);
            conf.outlet.push_mix_minus(&parts);
        }
        assert_eq!(a.inlet.pull(), Some(frame(23)));
        assert_eq!(b.inlet.pull(), Some(frame(103)));
        assert_eq!(c.inlet.pull(), Some(frame(120)));
        // Alone, a participant hears nothing (not itself).
        graph.remove_unit("b");
        graph.remove_unit("c");
        a.outlet.push_samples(&frame(100));
        let parts = conf.inlet.pull_each();
        conf.outlet.push_mix_minus(&parts);
        assert_eq!(
            a.inlet.pull(),
            Some(frame(23)),
            "only the frame queued before"
        );
        assert_eq!(a.inlet.pull(), None);
        // Sums are clipped, not wrapped.
        let loud = [
            (String::from("x"), frame(i16::MAX)),
            (String::from("y"), frame(i16::MAX)),
        ];
        conf.outlet.push_mix_minus(&loud);
        conf.outlet.push_mix_minus(&loud);
        assert_eq!(a.inlet.pull(), Some(frame(i16::MAX)));
    }

    #[test]
    fn a_call_hears_only_its_newest_link_after_priming() {
        let (mut graph, a, b, ws) = graph();
        graph
            .link("a", "b", &SendMediaParams::default())
            .expect("link");
        a.outlet.push_samples(&frame(1));
        assert_eq!(b.inlet.pull(), None, "one frame does not prime the inlet");
        a.outlet.push_samples(&frame(2));
        assert_eq!(b.inlet.pull(), Some(frame(1)));
        graph
            .link("ws", "b", &SendMediaParams::default())
            .expect("link");
        assert_eq!(graph.link_count(), 1, "the older link into b is gone");
        a.outlet.push_samples(&frame(3));
        assert!(!a.outlet.is_linked());
        ws.outlet.push_frame("any", &frame(4));
        ws.outlet.push_frame("any", &frame(5));
        assert_eq!(b.inlet.pull(), Some(frame(4)));
        assert_eq!(b.inlet.pull(), Some(frame(5)));
        assert_eq!(b.inlet.pull(), None);
    }

    #[test]
    fn samples_are_cut_into_whole_frames() {
        let (mut graph, a, _b, ws) = graph();
        graph
            .link("a", "ws", &SendMediaParams::default())
            .expect("link");
        a.outlet.push_samples(&[7; 100]);
        a.outlet.push_samples(&[7; 100]);
        let mut out = Vec::new();
        ws.inlet.drain(&mut out);
        assert!(matches!(out[0], Delivery::Opened { link: 1, .. }));
        assert_eq!(
            out[1],
            Delivery::Frame {
                link: 1,
                frame: Box::new([7; FRAME_SAMPLES])
            }
        );
        assert_eq!(out.len(), 2, "40 samples wait for the next frame");
    }

    #[test]
    fn a_websocket_gets_one_stream_per_link_with_open_and_close() {
        let (mut graph, a, b, ws) = graph();
        let tagged = |tag: &str| SendMediaParams {
            tag: tag.into(),
            ..SendMediaParams::default()
        };
        graph.link("a", "ws", &tagged("caller")).expect("link");
        graph.link("b", "ws", &tagged("callee")).expect("link");
        a.outlet.push_tone('5');
        graph.remove_unit("a");
        b.outlet.push_samples(&frame(9));
        let mut out = Vec::new();
        ws.inlet.drain(&mut out);
        let kinds: Vec<String> = out
            .iter()
            .map(|d| match d {
                Delivery::Opened {
                    link,
                    source,
                    params,
                } => {
                    format!("open {link} {source} {}", params.tag)
                }
                Delivery::Frame { link, .. } => format!("frame {link}"),
                Delivery::Tone { link, digit } => format!("tone {link} {digit}"),
                Delivery::Closed { link } => format!("close {link}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "open 1 a caller",
                "open 2 b callee",
                "tone 1 5",
                "close 1",
                "frame 2"
            ]
        );
    }

    #[test]
    fn tags_select_which_links_a_websocket_stream_reaches() {
        let (mut graph, a, b, ws) = graph();
        let params = |tag: &str, encoding| SendMediaParams {
            tag: tag.into(),
            encoding,
            ..SendMediaParams::default()
        };
        graph
            .link("ws", "a", &params("bot", Some(AudioEncoding::Ulaw)))
            .expect("link");
        graph.link("ws", "b", &params("", None)).expect("link");
        for _ in 0..2 {
            ws.outlet.push_frame("other", &frame(1));
        }
        assert_eq!(a.inlet.pull(), None, "a takes only 'bot'");
        assert_eq!(
            b.inlet.pull(),
            Some(frame(1)),
            "an empty tag takes every stream"
        );
        assert_eq!(ws.outlet.encoding_for("bot"), Some(AudioEncoding::Ulaw));
        assert_eq!(ws.outlet.encoding_for("other"), None);
    }

    #[test]
    fn inlets_stay_bounded_when_the_consumer_is_behind() {
        let (mut graph, a, b, ws) = graph();
        graph
            .link("a", "b", &SendMediaParams::default())
            .expect("link");
        graph
            .link("a", "ws", &SendMediaParams::default())
            .expect("link");
        for i in 0..1000 {
            a.outlet.push_samples(&frame(i));
        }
        assert_eq!(b.inlet.dropped(), 990);
        assert_eq!(
            b.inlet.pull(),
            Some(frame(990)),
            "the newest 200 ms are kept"
        );
        let mut out = Vec::new();
        ws.inlet.drain(&mut out);
        assert_eq!(out.len(), STREAMS_MAX_ITEMS);
        assert_eq!(ws.inlet.dropped(), 1001 - STREAMS_MAX_ITEMS as u64);
    }

    #[test]
    fn a_recorder_mixes_every_link() {
        let (mut graph, a, b, _ws) = graph();
        let recorder = Ports::new(UnitKind::Recorder, InletMode::Mix);
        graph.add_unit("rec", recorder.clone());
        graph
            .link("a", "rec", &SendMediaParams::default())
            .expect("link");
        graph
            .link("b", "rec", &SendMediaParams::default())
            .expect("link");
        assert_eq!(recorder.inlet.pull_mix(), None);
        a.outlet.push_samples(&frame(30_000));
        b.outlet.push_samples(&frame(10_000));
        assert_eq!(
            recorder.inlet.pull_mix(),
            Some(frame(i16::MAX)),
            "clipped, not wrapped"
        );
        b.outlet.push_samples(&frame(-5));
        assert_eq!(recorder.inlet.pull_mix(), Some(frame(-5)));
        let error = graph
            .link("rec", "a", &SendMediaParams::default())
            .expect_err("not a source");
        assert_eq!(
            error.to_string(),
            "sendMediaTo: a recorder cannot send media"
        );
    }

    #[test]
    fn unknown_units_are_named() {
        let (mut graph, ..) = graph();
        let error = graph
            .link("a", "gone", &SendMediaParams::default())
            .expect_err("unknown");
        assert_eq!(
            error.to_string(),
            "sendMediaTo: no media unit 'gone' in this session (it has ended or never existed)"
        );
        assert_eq!(
            graph.unlink_pair("a", "b"),
            Ok(()),
            "no link is not an error"
        );
    }
}
