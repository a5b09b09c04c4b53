// Editor typings for Dialtone scenarios (VoxEngine-compatible subset).
// Reference with: /// <reference path="types/dialtone.d.ts" />
// tests/tests/typings.rs checks that every global and namespace member declared here exists
// in a fresh session, so these typings and the runtime cannot drift.

/** Application-level events (VoxEngine values). */
declare enum AppEvents {
  Started = "Application.Started",
  CallAlerting = "Application.CallAlerting",
  HttpRequest = "Application.HttpRequest",
  Terminating = "Application.Terminating",
  Terminated = "Application.Terminated",
  WebSocket = "AppEvents.NewWebSocketConnection",
  NewWebSocketFailed = "Application.OnNewWebSocketFailed",
}

/** Call events (VoxEngine values). */
declare enum CallEvents {
  AudioStarted = "Call.AudioStarted",
  Connected = "Call.Connected",
  Disconnected = "Call.Disconnected",
  Failed = "Call.Failed",
  FirstAudioPacketReceived = "Call.FirstAudioPacketReceived",
  InfoReceived = "Call.InfoReceived",
  MessageReceived = "Call.MessageReceived",
  PlaybackFinished = "Call.PlaybackFinished",
  PlaybackReady = "Call.PlaybackReady",
  PlaybackStarted = "Call.PlaybackStarted",
  RecordError = "Call.RecordError",
  RecordStarted = "Call.RecordStarted",
  RecordStopped = "Call.RecordStopped",
  Ringing = "Call.Ringing",
  StateChanged = "Call.StateChanged",
  ToneReceived = "Call.ToneReceived",
}

/** Modules for require(). Only MCP is available in Dialtone; the others throw ERR_MODULE_UNSUPPORTED. */
declare enum Modules {
  ACD = "acd",
  AI = "ai",
  ApplicationStorage = "applicationstorage",
  ASR = "asr",
  Avatar = "avatar",
  Cartesia = "cartesia",
  Conference = "conference",
  ElevenLabs = "elevenlabs",
  Gemini = "gemini",
  IVR = "ivr",
  MCP = "mcp",
  OpenAI = "openai",
  PushService = "pushservice",
  Recorder = "recorder",
  SmartQueue = "smartqueue",
  StreamingAgent = "streamingagent",
  Ultravox = "ultravox",
  VoximplantAPI = "voximplantapi",
  Yandex = "yandex",
}

/** WebSocket events (VoxEngine values; VoxEngine's CREATED is not there). See docs/media.md. */
declare enum WebSocketEvents {
  OPEN = "WebSocket.Open",
  MESSAGE = "WebSocket.Message",
  CLOSE = "WebSocket.Close",
  ERROR = "WebSocket.Error",
  MEDIA_STARTED = "WebSocket.MediaEventStarted",
  MEDIA_ENDED = "WebSocket.MediaEventEnded",
}

/**
 * Payload encodings of WebSocket media streams. PCM16_8KHZ and PCM16_16KHZ are aliases: they
 * have the values of PCM8 and PCM16.
 */
declare enum WebSocketAudioEncoding {
  /** Linear 16-bit little-endian, 8 kHz (the default). */
  PCM8 = "PCM8",
  PCM16_8KHZ = "PCM8",
  /** Linear 16-bit little-endian, 16 kHz. */
  PCM16 = "PCM16",
  PCM16_16KHZ = "PCM16",
  /** G.711 A-law, 8 kHz. */
  ALAW = "ALAW",
  /** G.711 μ-law, 8 kHz. */
  ULAW = "ULAW",
  /** Not available in Dialtone yet: sendMediaTo throws ERR_MEDIA_UNSUPPORTED. */
  OPUS = "OPUS",
}

declare enum WebSocketReadyState {
  CONNECTING = "connecting",
  OPEN = "open",
  CLOSING = "closing",
  CLOSED = "closed",
}

/**
 * RFC 6455 close codes. tests/tests/typings.rs compares enum values as strings, and these are
 * numbers, so the brace opens on the next line: the test then checks that the enum exists, not
 * its members (the values are those of bindings/src/api/websocket.js).
 */
declare enum WebSocketCloseCode
{
  CLOSE_NORMAL = 1000,
  CLOSE_GOING_AWAY = 1001,
  CLOSE_PROTOCOL_ERROR = 1002,
  CLOSE_UNSUPPORTED = 1003,
  CLOSE_NO_STATUS = 1005,
  CLOSE_ABNORMAL = 1006,
  UNSUPPORTED_DATA = 1007,
  POLICY_VIOLATION = 1008,
  CLOSE_TOO_LARGE = 1009,
  MISSING_EXTENSION = 1010,
  INTERNAL_ERROR = 1011,
  SERVICE_RESTART = 1012,
  TRY_AGAIN_LATER = 1013,
  BAD_GATEWAY = 1014,
  CLOSE_TLS_FAIL = 1015,
}

/** Errors thrown by the Dialtone API carry a stable code. */
interface DialtoneError extends Error {
  code:
    | "ERR_INVALID_EVENT"
    | "ERR_INVALID_HANDLER"
    | "ERR_INVALID_ARGUMENT"
    | "ERR_INVALID_MODULE"
    | "ERR_MODULE_UNSUPPORTED"
    | "ERR_MEDIA_UNSUPPORTED"
    | "ERR_TIMER_LIMIT"
    | "ERR_MCP_CONFIG"
    | "ERR_MCP_STDIO_FORBIDDEN"
    | "ERR_MCP_REFUSED"
    | "ERR_MCP_DNS"
    | "ERR_MCP_TLS"
    | "ERR_MCP_TIMEOUT"
    | "ERR_MCP_HTTP_STATUS"
    | "ERR_MCP_HANDSHAKE"
    | "ERR_MCP_SPAWN";
}

interface AppEvent {
  name: AppEvents;
}
interface StartedEvent extends AppEvent {
  sessionId: string;
  applicationName: string;
  ruleName: string;
  customData: string;
}
interface CallAlertingEvent extends AppEvent {
  call: Call;
  id: string;
  callerid: string;
  displayName: string;
  destination: string;
  toURI: string;
  fromURI: string;
  headers: { [name: string]: string };
  scheme: string;
}
interface TerminatingEvent extends AppEvent {
  /** Why the session ends, when it ends abnormally (uncaught error, limit). */
  systemError?: string;
}

interface CallEvent {
  name: CallEvents;
  call: Call;
  /** The call's id. */
  id: string;
}
interface ConnectedEvent extends CallEvent {
  headers: { [name: string]: string };
}
interface DisconnectedEvent extends CallEvent {
  reason: string;
  /** Seconds the call was connected. */
  duration: number;
  headers: { [name: string]: string };
}
interface FailedEvent extends CallEvent {
  code: number;
  reason: string;
}
interface PlaybackStartedEvent extends CallEvent {
  /** Length in milliseconds. */
  duration?: number;
}
interface PlaybackFinishedEvent extends CallEvent {
  error?: string;
}
interface ToneReceivedEvent extends CallEvent {
  tone: string;
  /** '1' RFC 2833/4733, '2' in-band, '3' SIP INFO. */
  type: string;
}
interface StateChangedEvent extends CallEvent {
  oldState: CallState;
  newState: CallState;
}
interface RecordStartedEvent extends CallEvent {
  url: string;
}
interface RecordStoppedEvent extends CallEvent {
  url: string;
  duration: number;
}

type CallState = "ALERTING" | "PROGRESSING" | "CONNECTED" | "TERMINATED";

/** What sendMediaTo links: a call or a WebSocket. */
type VoxMediaUnit = Call | WebSocket;

/** sendMediaTo parameters; only links into or out of a WebSocket use them. */
interface SendMediaParameters {
  /**
   * Into a WebSocket: the stream's name (default ""). Out of one: the server stream that plays
   * into the target (absent or "": every stream). Twilio format: the server's stream is "".
   */
  tag?: string;
  /** Into a WebSocket: sent in the stream's start message (values converted with String()). */
  customParameters?: { [name: string]: string };
  /**
   * Into a WebSocket: the payload encoding (default PCM8). Out of one: how the server's
   * payloads are decoded (else its start message's, else PCM8). Twilio format: always μ-law.
   */
  encoding?: WebSocketAudioEncoding;
}

interface WebSocketParameters {
  /** Offered in Sec-WebSocket-Protocol; none when absent. */
  protocols?: string | string[];
  /** Handshake headers (never logged): VoxEngine's array of {name, value}, or an object. */
  headers?: { name: string; value: string }[] | { [name: string]: string };
  /** The media stream format: VoxEngine's (default) or Twilio Media Streams. */
  format?: "voxengine" | "twilio";
  /** VoxEngine's statistics switch; accepted and ignored. */
  statistics?: boolean;
  /** VoxEngine's trace switch; accepted and ignored. */
  trace?: boolean;
}

interface WebSocketEvent {
  name: WebSocketEvents;
  websocket: WebSocket;
}
interface WebSocketMessageEvent extends WebSocketEvent {
  /** A text frame that is not a media stream message. */
  text: string;
}
interface WebSocketCloseEvent extends WebSocketEvent {
  /** 1006 when the connection could not be made or was lost. */
  code: WebSocketCloseCode;
  reason: string;
  wasClean: boolean;
}
interface WebSocketErrorEvent extends WebSocketEvent {
  /** What went wrong, e.g. "cannot connect to ws://127.0.0.1:1: Connection refused ...". */
  error: string;
}
interface WebSocketMediaStartedEvent extends WebSocketEvent {
  tag: string;
  /** How the stream's payloads are decoded. */
  encoding: WebSocketAudioEncoding;
  /** From the server's start message for the stream ({} without one). */
  customParameters: { [name: string]: string };
}
interface WebSocketMediaEndedEvent extends WebSocketEvent {
  tag: string;
  mediaInfo: {
    /** Seconds of the server's audio played. */
    duration: number;
  };
}

/** An inbound call, delivered by AppEvents.CallAlerting. Not constructible by scenarios. */
declare class Call {
  private constructor();
  id(): string;
  callerid(): string;
  displayName(): string;
  /** The dialed number. */
  number(): string;
  state(): CallState;
  incoming(): boolean;
  clientType(): string;
  customData(data?: string): string;
  toString(): string;
  addEventListener(event: CallEvents.Connected, handler: (e: ConnectedEvent) => any): void;
  addEventListener(event: CallEvents.Disconnected, handler: (e: DisconnectedEvent) => any): void;
  addEventListener(event: CallEvents.Failed, handler: (e: FailedEvent) => any): void;
  addEventListener(event: CallEvents.PlaybackStarted, handler: (e: PlaybackStartedEvent) => any): void;
  addEventListener(event: CallEvents.PlaybackFinished, handler: (e: PlaybackFinishedEvent) => any): void;
  addEventListener(event: CallEvents.ToneReceived, handler: (e: ToneReceivedEvent) => any): void;
  addEventListener(event: CallEvents.StateChanged, handler: (e: StateChangedEvent) => any): void;
  addEventListener(event: CallEvents.RecordStarted, handler: (e: RecordStartedEvent) => any): void;
  addEventListener(event: CallEvents.RecordStopped, handler: (e: RecordStoppedEvent) => any): void;
  addEventListener(event: CallEvents, handler: (e: CallEvent) => any): void;
  /** Without a handler, removes every handler of the event. */
  removeEventListener(event: CallEvents, handler?: (e: any) => any): void;
  ring(extraHeaders?: { [name: string]: string }): void;
  answer(extraHeaders?: { [name: string]: string }): void;
  /** code: a SIP final status 400-699 (default 603). */
  reject(code?: number, extraHeaders?: { [name: string]: string }): void;
  /** Deprecated VoxEngine alias of reject. */
  decline(code?: number, extraHeaders?: { [name: string]: string }): void;
  hangup(extraHeaders?: { [name: string]: string }): void;
  startPlayback(url: string, options?: { loop?: boolean }): void;
  stopPlayback(): void;
  say(text: string, options?: { voice?: string }): void;
  handleTones(enabled: boolean): void;
  sendDigits(digits: string): void;
  record(params?: { stereo?: boolean }): void;
  /** Links the caller's audio (and RFC 4733 digits) to a unit; see docs/media.md. */
  sendMediaTo(mediaUnit: VoxMediaUnit, parameters?: SendMediaParameters): void;
  /** Removes that link (none is not an error). */
  stopMediaTo(mediaUnit: VoxMediaUnit): void;
}

/**
 * An outgoing WebSocket, a media unit (VoxEngine.createWebSocket). OPEN, or ERROR then CLOSE,
 * follows its creation; CLOSE is always its last event. See docs/media.md.
 */
declare class WebSocket {
  /** Same as VoxEngine.createWebSocket(url, parameters). */
  constructor(url: string, parameters?: WebSocketParameters | string | string[]);
  /** The URL as given. */
  readonly url: string;
  readonly readyState: WebSocketReadyState;
  /** Handler properties, each run before the addEventListener handlers of its event. */
  onopen: ((e: WebSocketEvent) => any) | null;
  onmessage: ((e: WebSocketMessageEvent) => any) | null;
  onclose: ((e: WebSocketCloseEvent) => any) | null;
  onerror: ((e: WebSocketErrorEvent) => any) | null;
  onmediastarted: ((e: WebSocketMediaStartedEvent) => any) | null;
  onmediaended: ((e: WebSocketMediaEndedEvent) => any) | null;
  /** "websocket-1", "websocket-2" ... within the session. */
  id(): string;
  toString(): string;
  addEventListener(event: WebSocketEvents.MESSAGE, handler: (e: WebSocketMessageEvent) => any): void;
  addEventListener(event: WebSocketEvents.CLOSE, handler: (e: WebSocketCloseEvent) => any): void;
  addEventListener(event: WebSocketEvents.ERROR, handler: (e: WebSocketErrorEvent) => any): void;
  addEventListener(event: WebSocketEvents.MEDIA_STARTED, handler: (e: WebSocketMediaStartedEvent) => any): void;
  addEventListener(event: WebSocketEvents.MEDIA_ENDED, handler: (e: WebSocketMediaEndedEvent) => any): void;
  addEventListener(event: WebSocketEvents, handler: (e: WebSocketEvent) => any): void;
  /** Without a handler, removes every handler of the event. */
  removeEventListener(event: WebSocketEvents, handler?: (e: any) => any): void;
  /** One text frame; ignored (with a warning line) unless the socket is open. */
  send(data: string): void;
  /** Closes with 1000, or gives up connecting. */
  close(): void;
  /** Drops the server's audio buffered but not played yet: of the stream tag, or of all. */
  clearMediaBuffer(parameters?: { tag?: string }): void;
  /** Plays the server's audio into a unit (parameters.tag picks the server's stream). */
  sendMediaTo(mediaUnit: VoxMediaUnit, parameters?: SendMediaParameters): void;
  /** Removes that link (none is not an error). */
  stopMediaTo(mediaUnit: VoxMediaUnit): void;
}

declare namespace VoxEngine {
  function addEventListener(event: AppEvents.Started, handler: (e: StartedEvent) => any): void;
  function addEventListener(event: AppEvents.CallAlerting, handler: (e: CallAlertingEvent) => any): void;
  function addEventListener(event: AppEvents.Terminating | AppEvents.Terminated, handler: (e: TerminatingEvent) => any): void;
  function addEventListener(event: AppEvents, handler: (e: AppEvent) => any): void;
  /** Without a handler, removes every handler of the event. */
  function removeEventListener(event: AppEvents, handler?: (e: any) => any): void;
  /** Ends the session after the current callback returns; only Terminating/Terminated fire afterwards. */
  function terminate(): void;
  /** Session custom data (at most 200 bytes). */
  function customData(data?: string): string;
  /** A secret of the session's application, or undefined (with a warning in the session log). */
  function getSecretValue(name: string): string | undefined;
  /** Opens an outgoing WebSocket media unit; a string or an array as parameters: protocols. */
  function createWebSocket(url: string, parameters?: WebSocketParameters | string | string[]): WebSocket;
  /** a.sendMediaTo(b) and b.sendMediaTo(a), without parameters. */
  function sendMediaBetween(a: VoxMediaUnit, b: VoxMediaUnit): void;
  /** a.stopMediaTo(b) and b.stopMediaTo(a). */
  function stopMediaBetween(a: VoxMediaUnit, b: VoxMediaUnit): void;
}

declare namespace Logger {
  /** Writes a session-log line (at most 15 000 characters; non-strings are rendered). */
  function write(message: any): void;
}

/**
 * Loads a module; `require(Modules.MCP)` defines the global MCP namespace. `require(undefined)`
 * (what published scenarios' `require(Modules.WebSocket)` passes) does nothing.
 */
declare function require(module: Modules | undefined): void;

declare function setTimeout(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number;
declare function clearTimeout(id: number): void;
/** Intervals below 100 ms run every 100 ms. */
declare function setInterval(callback: (...args: any[]) => void, ms?: number, ...args: any[]): number;
declare function clearInterval(id: number): void;
/** A random (v4) UUID. */
declare function uuidgen(): string;
/** Base64 of the UTF-8 bytes of data. */
declare function base64_encode(data: string): string;
/** Decodes base64 into a UTF-8 string; throws ERR_INVALID_ARGUMENT on bad input. */
declare function base64_decode(data: string): string;

/** Defined by require(Modules.MCP). See docs/mcp.md. */
declare namespace MCP {
  /** VoxEngine's values, so scenarios naming them load; they never fire in Dialtone. */
  enum Events {
    WebSocketMediaStarted = "MCP.Events.WebSocketMediaStarted",
    WebSocketMediaEnded = "MCP.Events.WebSocketMediaEnded",
  }
  enum ServerEvents {
    ConnectorInformation = "MCP.ServerEvents.ConnectorInformation",
    ToolsList = "MCP.ServerEvents.ToolsList",
    ToolResult = "MCP.ServerEvents.ToolResult",
    MCPError = "MCP.ServerEvents.MCPError",
    Unknown = "MCP.ServerEvents.Unknown",
    ResourcesList = "MCP.ServerEvents.ResourcesList",
    ResourceContent = "MCP.ServerEvents.ResourceContent",
    PromptsList = "MCP.ServerEvents.PromptsList",
    PromptResult = "MCP.ServerEvents.PromptResult",
    ToolsListChanged = "MCP.ServerEvents.ToolsListChanged",
    ResourcesListChanged = "MCP.ServerEvents.ResourcesListChanged",
    PromptsListChanged = "MCP.ServerEvents.PromptsListChanged",
    ResourceUpdated = "MCP.ServerEvents.ResourceUpdated",
    Progress = "MCP.ServerEvents.Progress",
    LoggingMessage = "MCP.ServerEvents.LoggingMessage",
  }
  interface MCPServerConnectionConfig {
    /** "http" (streamable HTTP), "sse" (legacy HTTP+SSE) or "stdio" (if the application allows it). */
    transport: "http" | "sse" | "stdio";
    /** Server URL for "http" and "sse". */
    endpoint?: string;
    /** Headers sent on every HTTP request (e.g. Authorization); values are converted with String(). */
    headers?: { [name: string]: string | number | boolean };
    clientName?: string;
    clientVersion?: string;
    /** Seconds to connect and initialize (default 10; more than 0, at most 86400). */
    connectTimeout?: number;
    /** Seconds a request may take; progress resets it (default 60; more than 0, at most 86400). */
    requestTimeout?: number;
    /** Only these tools are listed and callable. */
    allowedTools?: string[];
    /** Largest result delivered, in bytes (default 2 MiB). */
    maxResultBytes?: number;
    /** Revision offered in initialize (default "2025-11-25"). */
    protocolVersion?: "2025-11-25" | "2025-06-18" | "2025-03-26" | "2024-11-05";
    /** stdio: the server's command, arguments, environment and working directory. */
    command?: string;
    args?: string[];
    env?: { [name: string]: string };
    cwd?: string;
  }
  interface WebSocketCloseEvent {
    /** VoxEngine's WebSocket to its connector; Dialtone has none, so always null. */
    websocket: null;
    code: number;
    reason: string;
    wasClean: boolean;
  }
  interface ClientParameters {
    mcpServerConnectionConfig: MCPServerConnectionConfig;
    /** Called once: 1000 after close(), 1006/1011 when the transport dies. */
    onWebSocketClose?: (event: WebSocketCloseEvent) => void;
    /** VoxEngine's WebSocket logging switch; accepted and ignored (no WebSocket here). */
    privacy?: boolean;
    /** VoxEngine's WebSocket statistics switch; accepted and ignored. */
    statistics?: boolean;
    /** VoxEngine's WebSocket trace file switch; accepted and ignored. */
    trace?: boolean;
  }
  interface ServerEvent {
    name: ServerEvents;
    client: Client;
    data: {
      customEvent: string;
      payload: any;
      /** On result events: the id the request method returned. */
      requestId?: number;
    };
  }
  interface PageParams {
    cursor?: string;
    /** Walk every page into one result. */
    all?: boolean;
    _meta?: object;
  }
  /** An MCP client; results arrive as events, one per request, in request order. */
  class Client {
    private constructor();
    id(): string;
    webSocketId(): string;
    toString(): string;
    addEventListener(event: ServerEvents | Events, handler: (event: ServerEvent) => any): void;
    removeEventListener(event: ServerEvents | Events, handler?: (event: ServerEvent) => any): void;
    listTools(params?: PageParams): number | undefined;
    callTool(params: { name: string; arguments?: object; _meta?: object; progress?: boolean }): number | undefined;
    listResources(params?: PageParams): number | undefined;
    readResource(params: { uri: string; _meta?: object }): number | undefined;
    listPrompts(params?: PageParams): number | undefined;
    getPrompt(params: { name: string; arguments?: { [name: string]: string }; _meta?: object }): number | undefined;
    /** Cancels what is in flight, closes the transport; onWebSocketClose fires with 1000. */
    close(): void;
  }
  /** Connects and initializes; rejects with an Error whose code says why (ERR_MCP_*). */
  function createClient(parameters: ClientParameters): Promise<Client>;
}
