//! The media side of one session's host: its [`Graph`] and the WebSocket units it created.
//! The SIP call task and the console each own one and feed it the session's
//! [`MediaCommand`]s; calls join it when they start and leave it when they end.

use std::collections::BTreeMap;

use dialtone_bindings::host::{HostEvent, MediaCommand, UnitId};
use tokio::sync::mpsc;

use super::graph::{Graph, GraphError, InletMode, Ports, UnitKind};
use super::websocket::{self, WebSocketHandle};

/// One session's media units and links.
#[derive(Debug)]
pub struct SessionMedia {
    graph: Graph,
    sockets: BTreeMap<UnitId, WebSocketHandle>,
    events: mpsc::UnboundedSender<HostEvent>,
    application: String,
}

impl SessionMedia {
    /// Media for a session of `application`, reporting unit events on `events`.
    pub fn new(application: &str, events: mpsc::UnboundedSender<HostEvent>) -> Self {
        Self {
            graph: Graph::new(),
            sockets: BTreeMap::new(),
            events,
            application: application.to_owned(),
        }
    }

    /// Adds a call; returns its ports for its media stream.
    pub fn add_call(&mut self, id: &str) -> Ports {
        let ports = Ports::new(UnitKind::Call, InletMode::Replace);
        self.graph.add_unit(id, ports.clone());
        ports
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
                let handle =
                    websocket::spawn(spec, ports, self.events.clone(), self.application.clone());
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
            _ => {}
        }
        Ok(())
    }
}
