//! The session's event queues, bounded where a remote peer can fill them.
//!
//! Events a peer can send at will (key presses, WebSocket text messages, player markers,
//! warnings) are *sheddable*: once [`CAPACITY`] events wait, further sheddable ones are dropped
//! and counted, and the session is told how many with one warning when it catches up. Every
//! other event (a call that connects or ends, a unit that closes, shutdown) is always queued:
//! those are bounded by the session's calls and units, which have their own caps, and losing
//! one would leave the scenario waiting for ever.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;

use super::{CallEvent, HostEvent, PlayerEvent, WebSocketEvent};

/// Events that may wait for a session before sheddable ones are dropped.
pub const CAPACITY: usize = 1024;

/// Whether an item may be dropped when its receiver falls behind.
pub trait Sheddable {
    /// True for what a peer can send at will.
    fn sheddable(&self) -> bool;
}

#[derive(Debug, Default)]
struct Counters {
    /// Items queued and not yet received.
    waiting: AtomicUsize,
    /// Sheddable items dropped so far.
    dropped: AtomicU64,
}

/// The sending end of a queue that sheds sheddable items past [`CAPACITY`].
#[derive(Debug)]
pub struct ShedSender<T> {
    tx: mpsc::UnboundedSender<T>,
    counters: Arc<Counters>,
}

impl<T> Clone for ShedSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            counters: self.counters.clone(),
        }
    }
}

/// The receiving end.
#[derive(Debug)]
pub struct ShedReceiver<T> {
    rx: mpsc::UnboundedReceiver<T>,
    counters: Arc<Counters>,
    /// Dropped items already reported.
    reported: u64,
}

/// What a receiver gets.
#[derive(Debug, PartialEq)]
pub enum Received<T> {
    /// The next item.
    Item(T),
    /// This many sheddable items were dropped since the last report.
    Dropped(u64),
}

/// A connected sender and receiver.
pub fn shed_queue<T>() -> (ShedSender<T>, ShedReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let counters = Arc::new(Counters::default());
    (
        ShedSender {
            tx,
            counters: counters.clone(),
        },
        ShedReceiver {
            rx,
            counters,
            reported: 0,
        },
    )
}

impl<T: Sheddable> ShedSender<T> {
    /// Queues `item`; a sheddable item is dropped (and counted) when [`CAPACITY`] wait. Fails
    /// only when the receiver is gone.
    pub fn send(&self, item: T) -> Result<(), mpsc::error::SendError<T>> {
        if self.tx.is_closed() {
            return Err(mpsc::error::SendError(item));
        }
        if item.sheddable() && self.counters.waiting.load(Ordering::Relaxed) >= CAPACITY {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        self.counters.waiting.fetch_add(1, Ordering::Relaxed);
        self.tx.send(item).inspect_err(|_| {
            self.counters.waiting.fetch_sub(1, Ordering::Relaxed);
        })
    }
}

impl<T> ShedSender<T> {
    /// Whether the receiver has gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Sheddable items dropped so far.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }
}

impl<T> ShedReceiver<T> {
    /// The next item; after items were dropped, first how many.
    pub async fn recv(&mut self) -> Option<Received<T>> {
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        if dropped > self.reported {
            let count = dropped - self.reported;
            self.reported = dropped;
            return Some(Received::Dropped(count));
        }
        let item = self.rx.recv().await?;
        self.counters.waiting.fetch_sub(1, Ordering::Relaxed);
        Some(Received::Item(item))
    }
}

/// Where a host sends a session its events (cheap to clone).
pub type HostEventSender = ShedSender<HostEvent>;

/// The session's end of its event queue: dropped events come as one warning.
#[derive(Debug)]
pub struct HostEventReceiver(ShedReceiver<HostEvent>);

/// A connected host event sender and receiver.
pub(super) fn event_queue() -> (HostEventSender, HostEventReceiver) {
    let (tx, rx) = shed_queue();
    (tx, HostEventReceiver(rx))
}

impl HostEventReceiver {
    /// The next event; after events were dropped, first a warning saying how many.
    pub async fn recv(&mut self) -> Option<HostEvent> {
        match self.0.recv().await? {
            Received::Item(event) => Some(event),
            Received::Dropped(count) => Some(HostEvent::Warning {
                text: format!(
                    "{count} events were dropped: the session fell behind ({CAPACITY} were waiting; key presses, WebSocket messages, markers and warnings are dropped first)"
                ),
            }),
        }
    }
}

impl Sheddable for HostEvent {
    fn sheddable(&self) -> bool {
        match self {
            HostEvent::Call { event, .. } => matches!(event, CallEvent::ToneReceived { .. }),
            HostEvent::WebSocket { event, .. } => {
                matches!(event, WebSocketEvent::Message { .. })
            }
            HostEvent::Player { event, .. } => {
                matches!(event, PlayerEvent::PlaybackMarkerReached { .. })
            }
            HostEvent::Warning { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone() -> HostEvent {
        HostEvent::Call {
            call_id: "c".into(),
            event: CallEvent::ToneReceived {
                tone: "1".into(),
                tone_type: "1".into(),
            },
        }
    }

    #[tokio::test]
    async fn a_flood_is_cut_at_the_capacity_and_reported_once() {
        let (tx, mut rx) = event_queue();
        for _ in 0..CAPACITY + 500 {
            tx.send(tone()).expect("open");
        }
        // What must arrive still does.
        tx.send(HostEvent::Shutdown {
            reason: "bye".into(),
        })
        .expect("open");
        assert_eq!(tx.dropped(), 500);
        let Some(HostEvent::Warning { text }) = rx.recv().await else {
            panic!("a warning first");
        };
        assert_eq!(
            text,
            "500 events were dropped: the session fell behind (1024 were waiting; key presses, WebSocket messages, markers and warnings are dropped first)"
        );
        let mut tones = 0;
        loop {
            match rx.recv().await {
                Some(HostEvent::Call { .. }) => tones += 1,
                Some(HostEvent::Shutdown { .. }) => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(tones, CAPACITY);
        // Caught up: sheddable events are queued again.
        tx.send(tone()).expect("open");
        assert!(matches!(rx.recv().await, Some(HostEvent::Call { .. })));
    }

    #[tokio::test]
    async fn sending_to_a_gone_session_fails() {
        let (tx, rx) = event_queue();
        drop(rx);
        assert!(tx.send(tone()).is_err());
        assert!(tx.is_closed());
    }
}
