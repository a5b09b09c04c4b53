//! The media side of one session's host: its [`Graph`] and the units it created (WebSockets,
//! players, recorders, conferences). The SIP call task and the console each own one and feed it the
//! session's [`MediaCommand`]s; calls join it when they start and leave it when they end.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use dialtone_bindings::host::{HostEventSender, MediaCommand, UnitId};

use super::asr_unit::{self, AsrHandle};
use super::conference;
use super::frame_clock::FrameTask;
use super::graph::{Graph, GraphError, InletMode, Ports, UnitKind};
use super::player::{self, PlayerHandle};
use super::recorder_unit::{self, RecorderHandle};
use super::source::MediaSource;
use super::websocket::{self, WebSocketHandle};

/// What a session's units need from the host.
#[derive(Debug, Clone)]
pub struct MediaContext {
    /// The application (Twilio streams report it as `accountSid`).
    pub application: String,
    /// The session (recordings are named after it).
    pub session_id: String,
    /// Loads files and URLs, speaks text.
    pub source: Arc<MediaSource>,
    /// Where recorders write: the application's own recordings directory.
    pub recordings: PathBuf,
    /// Where the session's URLs and WebSockets may connect.
    pub outbound: Arc<dialtone_bindings::outbound::OutboundPolicy>,
}

/// One session's media units and links.
#[derive(Debug)]
pub struct SessionMedia {
    graph: Graph,
    sockets: BTreeMap<UnitId, WebSocketHandle>,
    players: BTreeMap<UnitId, PlayerHandle>,
    recorders: BTreeMap<UnitId, RecorderHandle>,
    recognizers: BTreeMap<UnitId, AsrHandle>,
    conferences: BTreeMap<UnitId, FrameTask>,
    events: HostEventSender,
    context: MediaContext,
}

impl SessionMedia {
    /// Media for a session, reporting unit events on `events`.
    pub fn new(context: MediaContext, events: HostEventSender) -> Self {
        Self {
            graph: Graph::new(),
            sockets: BTreeMap::new(),
            players: BTreeMap::new(),
            recorders: BTreeMap::new(),
            recognizers: BTreeMap::new(),
            conferences: BTreeMap::new(),
            events,
            context,
        }
    }

    /// Where the application's recordings go (call.record() writes there too).
    pub fn recordings(&self) -> &std::path::Path {
        &self.context.recordings
    }

    /// Adds a call; returns its ports for its media stream.
    pub fn add_call(&mut self, id: &str) -> Ports {
        let ports = Ports::new(UnitKind::Call, InletMode::Replace);
        self.graph.add_unit(id, ports.clone());
        ports
    }

    /// Adds a call whose ports were made elsewhere (a conference room's side of a call from
    /// another session).
    pub fn attach_call(&mut self, id: &str, ports: Ports) {
        self.graph.add_unit(id, ports);
    }

    /// The ports of call `id`, added to the graph if it is not there yet: the branches of a
    /// forked outbound call share one unit.
    pub fn join_call(&mut self, id: &str) -> Ports {
        match self.graph.unit_ports(id) {
            Some(ports) => ports,
            None => self.add_call(id),
        }
    }

    /// A call ended: its links close (a WebSocket stream sends its stop).
    pub fn remove_call(&mut self, id: &str) {
        self.graph.remove_unit(id);
    }

    /// Carries out one command of the session. An error is for the session's log.
    pub fn apply(&mut self, command: MediaCommand) -> Result<(), GraphError> {
        match command {
            MediaCommand::CreateWebSocket(spec) => {
                let ports = Ports::new(UnitKind::WebSocket, InletMode::Streams);
                self.graph.add_unit(&spec.id, ports.clone());
                let id = spec.id.clone();
                let application = self.context.application.clone();
                let outbound = self.context.outbound.clone();
                let handle =
                    websocket::spawn(spec, ports, self.events.clone(), application, outbound);
                self.sockets.insert(id, handle);
            }
            MediaCommand::WebSocketSend { id, text } => {
                if let Some(socket) = self.sockets.get(&id) {
                    socket.send(text);
                }
            }
            MediaCommand::WebSocketClose { id } => {
                if let Some(socket) = self.sockets.get(&id) {
                    socket.close();
                }
            }
            MediaCommand::ClearMediaBuffer { id, tag } => {
                if let Some(socket) = self.sockets.get(&id) {
                    socket.clear_media_buffer(tag);
                }
            }
            MediaCommand::SendMedia { from, to, params } => {
                self.graph.link(&from, &to, &params)?;
            }
            MediaCommand::StopMedia { from, to } => self.graph.unlink_pair(&from, &to)?,
            MediaCommand::CreatePlayer(spec) => {
                let ports = Ports::new(UnitKind::Player, InletMode::None);
                self.graph.add_unit(&spec.id, ports.clone());
                let id = spec.id.clone();
                let source = self.context.source.clone();
                let outbound = self.context.outbound.clone();
                let handle = player::spawn(spec, ports, self.events.clone(), source, outbound);
                self.players.insert(id, handle);
            }
            MediaCommand::PlayerControl { id, action } => {
                if let Some(player) = self.players.get(&id) {
                    player.control(action);
                }
            }
            MediaCommand::CreateRecorder(spec) => {
                let ports = Ports::new(UnitKind::Recorder, InletMode::Mix);
                self.graph.add_unit(&spec.id, ports.clone());
                let stem = match recorder_unit::file_stem(&spec.name) {
                    stem if stem.is_empty() => spec.id.clone(),
                    stem => stem,
                };
                let path = self
                    .context
                    .recordings
                    .join(format!("{}-{stem}.wav", self.context.session_id));
                let id = spec.id.clone();
                let handle = recorder_unit::spawn(spec, path, ports, self.events.clone());
                self.recorders.insert(id, handle);
            }
            MediaCommand::RecorderControl { id, action } => {
                if let Some(recorder) = self.recorders.get(&id) {
                    recorder.control(action);
                }
            }
            MediaCommand::CreateAsr(spec) => {
                let ports = Ports::new(UnitKind::Asr, InletMode::Mix);
                self.graph.add_unit(&spec.id, ports.clone());
                let id = spec.id.clone();
                let handle = asr_unit::spawn(spec, ports, self.events.clone());
                self.recognizers.insert(id, handle);
            }
            MediaCommand::AsrControl { id, action } => {
                if let Some(recognizer) = self.recognizers.get(&id) {
                    recognizer.control(action);
                }
            }
            MediaCommand::CreateConference { id } => {
                let ports = Ports::new(UnitKind::Conference, InletMode::Mix);
                self.graph.add_unit(&id, ports.clone());
                self.conferences.insert(id, conference::spawn(ports));
            }
            MediaCommand::StopConference { id } => {
                self.conferences.remove(&id);
                self.graph.remove_unit(&id);
            }
            _ => {}
        }
        Ok(())
    }
}
