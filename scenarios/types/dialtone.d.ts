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
    | "ERR_NOT_IMPLEMENTED";
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

/** Defined by require(Modules.MCP). */
declare namespace MCP {
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
  }
  interface MCPServerConnectionConfig {
    transport: "http" | "sse";
    endpoint: string;
    headers?: { [name: string]: string };
    clientName?: string;
    clientVersion?: string;
  }
  interface ClientParameters {
    mcpServerConnectionConfig: MCPServerConnectionConfig;
    onWebSocketClose?: (event: { code: number; reason: string; wasClean: boolean }) => void;
  }
  /** Not implemented in this build yet: rejects with ERR_NOT_IMPLEMENTED. */
  function createClient(parameters: ClientParameters): Promise<never>;
}
