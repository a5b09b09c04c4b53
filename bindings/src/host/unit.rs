//! Media unit identity, shared by the media and player halves of the host interface.

/// Identifies a media unit within its session: a call's id, or the id the session gave a
/// unit it created (`websocket-1`, `player-2`, `recorder-1` ...).
pub type UnitId = String;
