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

/** Errors thrown by the Dialtone API carry a stable code. */
interface DialtoneError extends Error {
  code:
    | "ERR_INVALID_EVENT"
    | "ERR_INVALID_HANDLER"
    | "ERR_INVALID_ARGUMENT"
    | "ERR_INVALID_MODULE"
    | "ERR_MODULE_UNSUPPORTED"
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
}

declare namespace Logger {
  /** Writes a session-log line (at most 15 000 characters; non-strings are rendered). */
  function write(message: any): void;
}

/** Loads a module; `require(Modules.MCP)` defines the global MCP namespace. */
declare function require(module: Modules): void;

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
