//! The OpenAPI 3.0 document of the admin API, served at `/openapi.json`. Written by hand next
//! to the handlers; schemathesis checks the server against it (tests/tests/admin_api.rs).

use axum::Json;
use serde_json::{Value, json};

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_body(schema: Value) -> Value {
    json!({ "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    let mut response = json_body(reference("Error"));
    response["description"] = json!(description);
    response
}

/// An operation: `ok` is (status, description, schema or null for no body); `errors` are the
/// error statuses it can answer besides 401.
fn operation(summary: &str, ok: (&str, &str, Value), errors: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    let (status, description, schema) = ok;
    let mut success = if schema.is_null() {
        json!({})
    } else {
        json_body(schema)
    };
    success["description"] = json!(description);
    responses.insert(status.into(), success);
    responses.insert("401".into(), error("Missing or wrong Bearer token"));
    for status in errors {
        let description = match *status {
            "400" => "Malformed request (JSON, path or query)",
            "404" => "No such application, rule, scenario, secret or session",
            "409" => "Conflict (exists, in use, or the server runs on the embedded config)",
            "422" => "Invalid (name, pattern, missing scenario, compile error, limits)",
            "503" => "The shared store could not be read or written (cluster)",
            _ => "Error",
        };
        responses.insert((*status).into(), error(description));
    }
    json!({ "summary": summary, "responses": responses })
}

/// For a PUT that answers 201 when it created the thing and 200 when it replaced it
/// ([`super::created_or_ok`]): documents the 201 with the 200's body.
fn created_or_replaced(mut op: Value) -> Value {
    let mut created = op["responses"]["200"].clone();
    created["description"] = json!("Created");
    op["responses"]["201"] = created;
    op
}

fn with_body(mut op: Value, schema: Value) -> Value {
    let mut body = json_body(schema);
    body["required"] = json!(true);
    op["requestBody"] = body;
    op
}

fn with_text_body(mut op: Value) -> Value {
    op["requestBody"] = json!({
        "required": true,
        "content": { "text/plain": { "schema": { "type": "string" } } }
    });
    op
}

fn parameter(name: &str) -> Value {
    let schema = match name {
        "name" | "app" | "rule" | "id" => json!({ "type": "string", "minLength": 1 }),
        _ => json!({ "type": "string" }),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

fn with_parameters(mut op: Value, names: &[&str]) -> Value {
    op["parameters"] = Value::Array(names.iter().map(|n| parameter(n)).collect());
    op
}

fn array(item: &str) -> Value {
    json!({ "type": "array", "items": reference(item) })
}

fn paths() -> Value {
    let app = &["app"];
    let app_rule = &["app", "rule"];
    let app_name = &["app", "name"];
    let session_filters: Vec<Value> = [
        ("id", "string", None),
        ("application", "string", None),
        ("rule", "string", None),
        ("caller", "string", None),
        ("destination", "string", None),
        ("start", "string", Some("date-time")),
        ("end", "string", Some("date-time")),
        ("min_duration", "number", None),
        ("max_duration", "number", None),
        ("reason", "string", None),
        ("limit", "integer", None),
        ("offset", "integer", None),
    ]
    .iter()
    .map(|(name, kind, format)| {
        let mut schema = json!({ "type": kind });
        if let Some(format) = format {
            schema["format"] = json!(format);
        }
        if *kind == "integer" {
            schema["minimum"] = json!(0);
            schema["maximum"] = json!(u32::MAX);
        }
        json!({ "name": name, "in": "query", "required": false, "schema": schema })
    })
    .collect();
    let mut list_sessions = operation(
        "List sessions, newest first",
        ("200", "Sessions", array("Session")),
        &["400"],
    );
    list_sessions["parameters"] = Value::Array(session_filters);
    let mut list_storage = with_parameters(
        operation(
            "ApplicationStorage keys with their values, in key order",
            ("200", "Keys", array("StorageKey")),
            &["400", "404"],
        ),
        app,
    );
    if let Some(parameters) = list_storage["parameters"].as_array_mut() {
        parameters.push(json!({ "name": "namespace", "in": "query", "required": false, "schema": { "type": "string" }, "description": "Only this namespace: the key itself and every 'namespace:...'" }));
        parameters.push(json!({ "name": "count", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }));
    }
    json!({
        "/health": { "get": {
            "summary": "Liveness (no token needed)", "security": [],
            "responses": { "200": { "description": "Up", "content": { "application/json": { "schema": { "type": "object" } } } } }
        } },
        "/metrics": { "get": {
            "summary": "Prometheus metrics (loopback clients need no token)",
            "responses": {
                "200": { "description": "Text exposition", "content": { "text/plain": { "schema": { "type": "string" } } } },
                "401": error("Not loopback and no token")
            }
        } },
        "/openapi.json": { "get": operation("This document", ("200", "OpenAPI 3.0", json!({ "type": "object" })), &[]) },
        "/applications": {
            "get": operation("List applications", ("200", "Applications", array("Application")), &[]),
            "post": with_body(operation("Create an application", ("201", "Created", reference("Application")), &["400", "409", "422", "503"]), reference("NewApplication"))
        },
        "/applications/{app}": {
            "get": with_parameters(operation("One application", ("200", "The application", reference("Application")), &["400", "404"]), app),
            "delete": with_parameters(operation("Delete an application and its secrets", ("204", "Deleted", Value::Null), &["400", "404", "409", "422", "503"]), app)
        },
        "/applications/{app}/rules": {
            "get": with_parameters(operation("The application's rules, in order", ("200", "Rules", array("Rule")), &["400", "404"]), app),
            "post": with_parameters(with_body(operation("Add a rule", ("201", "Created", reference("Rule")), &["400", "404", "409", "422", "503"]), reference("NewRule")), app)
        },
        "/applications/{app}/rules/{rule}": {
            "get": with_parameters(operation("One rule", ("200", "The rule", reference("Rule")), &["400", "404"]), app_rule),
            "put": with_parameters(with_body(operation("Change a rule", ("200", "Changed", reference("Rule")), &["400", "404", "409", "422", "503"]), reference("RuleUpdate")), app_rule),
            "delete": with_parameters(operation("Delete a rule", ("204", "Deleted", Value::Null), &["400", "404", "409", "422", "503"]), app_rule)
        },
        "/applications/{app}/rule-order": {
            "put": with_parameters(with_body(operation("Reorder the rules", ("200", "Rules in the new order", array("Rule")), &["400", "404", "409", "422", "503"]), reference("RuleOrder")), app)
        },
        "/applications/{app}/secrets": {
            "get": with_parameters(operation("List secrets (never values)", ("200", "Secrets", array("SecretInfo")), &["400", "404"]), app)
        },
        "/applications/{app}/secrets/{name}": {
            "put": with_parameters(with_body(created_or_replaced(operation("Set a secret (200 updated, 201 created)", ("200", "Updated", reference("SecretInfo")), &["400", "404", "422"])), reference("SetSecret")), app_name),
            "delete": with_parameters(operation("Delete a secret", ("204", "Deleted", Value::Null), &["400", "404", "422"]), app_name)
        },
        "/applications/{app}/sessions": {
            "post": with_parameters(with_body(operation("Start a session of a rule without a call (VoxEngine's StartScenarios): AppEvents.Started gets customData and the access URL", ("201", "Started", reference("StartedSession")), &["400", "404", "422"]), reference("StartSession")), app)
        },
        "/applications/{app}/users": {
            "get": with_parameters(operation("List users (never password hashes)", ("200", "Users", array("UserInfo")), &["400", "404"]), app)
        },
        "/applications/{app}/users/{name}": {
            "put": with_parameters(with_body(created_or_replaced(operation("Add a user or change its password (200 updated, 201 created)", ("200", "Updated", reference("UserInfo")), &["400", "404", "422"])), reference("SetUser")), app_name),
            "delete": with_parameters(operation("Delete a user", ("204", "Deleted", Value::Null), &["400", "404", "422"]), app_name)
        },
        "/applications/{app}/storage": {
            "get": list_storage
        },
        "/applications/{app}/storage/{key}": {
            "get": with_parameters(operation("One ApplicationStorage key", ("200", "The key", reference("StorageKey")), &["400", "404"]), &["app", "key"]),
            "put": with_parameters(with_body(operation("Create or replace a key", ("200", "Stored", reference("StorageKey")), &["400", "404", "422"]), reference("PutStorageKey")), &["app", "key"]),
            "delete": with_parameters(operation("Delete a key", ("204", "Deleted", Value::Null), &["400", "404"]), &["app", "key"])
        },
        "/applications/{app}/mcp-logins": {
            "post": with_parameters(with_body({
                let mut op = operation("Start an OAuth login at an MCP server: open authorization_url in a browser; the grant becomes secret `name`", ("201", "Started", reference("McpLogin")), &["400", "404", "409", "422"]);
                op["responses"]["502"] = error("The MCP server or its authorization server failed (discovery, registration)");
                op
            }, reference("StartMcpLogin")), app)
        },
        "/applications/{app}/mcp-logins/{id}": {
            "get": with_parameters(operation("How an MCP login went", ("200", "The login", reference("McpLogin")), &["400", "404"]), &["app", "id"])
        },
        "/mcp-logins/callback": {
            "get": {
                "summary": "Where the authorization server sends the browser back (no token: the state is the key); stores the grant",
                "security": [],
                "parameters": [
                    { "name": "state", "in": "query", "schema": { "type": "string" } },
                    { "name": "code", "in": "query", "schema": { "type": "string" } }
                ],
                "responses": {
                    "200": { "description": "Authorized (an HTML page)", "content": { "text/html": { "schema": { "type": "string" } } } },
                    "404": { "description": "No login waits for this state (an HTML page)", "content": { "text/html": { "schema": { "type": "string" } } } },
                    "502": { "description": "The code exchange failed (an HTML page)", "content": { "text/html": { "schema": { "type": "string" } } } }
                }
            }
        },
        "/scenarios": {
            "get": operation("List scenario files", ("200", "Scenarios", array("ScenarioInfo")), &[])
        },
        "/scenarios/validate": {
            "post": with_text_body(operation("Compile a scenario without running or saving it", ("200", "Whether it compiles", reference("Validation")), &["400"]))
        },
        "/scenarios/{name}": {
            "get": with_parameters({
                let mut op = operation("Download a scenario", ("200", "Source", Value::Null), &["400", "404", "422"]);
                op["responses"]["200"]["content"] = json!({ "application/javascript": { "schema": { "type": "string" } } });
                op
            }, &["name"]),
            "put": with_parameters(with_text_body(created_or_replaced(operation("Upload a scenario (compiled first; 201 created, 200 replaced)", ("200", "Saved", reference("ScenarioInfo")), &["400", "409", "422", "503"]))), &["name"]),
            "delete": with_parameters(operation("Delete a scenario no rule uses", ("204", "Deleted", Value::Null), &["400", "404", "409", "422", "503"]), &["name"])
        },
        "/route-test": {
            "post": with_body(operation("Which rule and scenarios a call would run, or why none", ("200", "The route", reference("RouteTestResult")), &["400", "404"]), reference("RouteTest"))
        },
        "/reload": {
            "post": operation("Read the config file again", ("200", "Reloaded", json!({ "type": "object", "properties": { "reloaded": { "type": "boolean" } } })), &["409", "422", "503"])
        },
        "/sessions": { "get": list_sessions },
        "/sessions/{id}": {
            "get": with_parameters(operation("One session", ("200", "The session", reference("Session")), &["400", "404"]), &["id"])
        },
        "/sessions/{id}/logs": {
            "get": with_parameters(operation("A session's log lines (secrets redacted)", ("200", "Log lines", array("LogLine")), &["400", "404"]), &["id"])
        }
    })
}

fn schemas() -> Value {
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let nullable_string = json!({ "type": "string", "nullable": true });
    let time = json!({ "type": "string", "format": "date-time" });
    json!({
        "Error": { "type": "object", "required": ["error", "code"], "properties": { "error": string, "code": string } },
        "Mcp": { "type": "object", "properties": { "allow_stdio": { "type": "boolean" } }, "additionalProperties": false },
        "Outbound": { "type": "object", "additionalProperties": false, "properties": {
            "allow_hosts": { "type": "array", "maxItems": 256, "items": { "type": "string", "pattern": "^((\\*\\.)?[A-Za-z0-9._-]{1,253}|[0-9A-Fa-f:.]{2,45})$" } },
            "allow_private": { "type": "boolean" } } },
        "Trunk": { "type": "object", "required": ["address"], "additionalProperties": false, "properties": {
            "address": { "type": "string", "pattern": "^[A-Za-z0-9.-]{1,253}(:[1-9][0-9]{0,3})?$" },
            "domain": { "type": "string", "pattern": "^[A-Za-z0-9.-]{1,253}(:[1-9][0-9]{0,3})?$" },
            "username": { "type": "string", "pattern": "^[!#-~]{1,128}$" },
            "password_secret": { "type": "string", "pattern": "^[!#-~]{1,128}$" },
            "callerid": { "type": "string", "pattern": "^[!#-~]{1,128}$" } } },
        "WebRtc": { "type": "object", "additionalProperties": false, "properties": {
            "token_secret": { "type": "string", "pattern": "^[!#-~]{1,128}$" } } },
        "Rule": { "type": "object", "required": ["name", "pattern", "scenarios"], "properties": {
            "name": string, "pattern": string, "exclude": string, "scenarios": strings } },
        "Application": { "type": "object", "required": ["name", "rules"], "properties": {
            "name": string, "rules": array("Rule"), "mcp": reference("Mcp"), "outbound": reference("Outbound"), "trunk": reference("Trunk"), "webrtc": reference("WebRtc") } },
        "NewApplication": { "type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": { "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" }, "mcp": reference("Mcp"),
            "outbound": reference("Outbound"), "trunk": reference("Trunk"), "webrtc": reference("WebRtc") } },
        "NewRule": { "type": "object", "required": ["name", "pattern", "scenarios"], "additionalProperties": false, "properties": {
            "name": string, "pattern": string, "exclude": nullable_string, "scenarios": strings,
            "position": { "type": "integer", "minimum": 0, "maximum": u32::MAX, "nullable": true } } },
        "RuleUpdate": { "type": "object", "required": ["pattern", "scenarios"], "additionalProperties": false, "properties": {
            "pattern": string, "exclude": nullable_string, "scenarios": strings } },
        "RuleOrder": { "type": "object", "required": ["rules"], "additionalProperties": false, "properties": { "rules": strings } },
        "SecretInfo": { "type": "object", "required": ["application", "name", "created", "modified"], "properties": {
            "application": string, "name": string, "description": string, "created": time, "modified": time } },
        "StartSession": { "type": "object", "required": ["rule"], "additionalProperties": false, "properties": {
            "rule": string, "customData": { "type": "string", "maxLength": 200 } } },
        "StartedSession": { "type": "object", "required": ["sessionId"], "properties": {
            "sessionId": string, "accessURL": nullable_string, "accessSecureURL": nullable_string } },
        "UserInfo": { "type": "object", "required": ["application", "name", "created", "modified"], "properties": {
            "application": string, "name": string, "display_name": string, "created": time, "modified": time } },
        "SetUser": { "type": "object", "required": ["password"], "additionalProperties": false, "properties": {
            "password": { "type": "string", "minLength": 8, "maxLength": 128 }, "displayName": nullable_string } },
        "SetSecret": { "type": "object", "required": ["value"], "additionalProperties": false, "properties": {
            "value": { "type": "string", "maxLength": 8192 }, "description": nullable_string } },
        "StorageKey": { "type": "object", "required": ["key", "value", "expireAt"], "properties": {
            "key": { "type": "string", "maxLength": 200 }, "value": { "type": "string", "maxLength": 2000 },
            "expireAt": { "type": "integer", "description": "Unix seconds" } } },
        "PutStorageKey": { "type": "object", "required": ["value"], "additionalProperties": false, "properties": {
            "value": { "type": "string", "maxLength": 2000 },
            "ttl": { "type": "integer", "minimum": 0, "maximum": 7776000, "description": "Seconds to live; 0 or absent: 90 days" } } },
        "StartMcpLogin": { "type": "object", "required": ["name", "url"], "additionalProperties": false, "properties": {
            "name": string, "url": string, "scopes": strings, "client_id": nullable_string, "client_secret": nullable_string,
            "client_metadata_url": nullable_string, "redirect_uri": nullable_string } },
        "McpLogin": { "type": "object", "required": ["id", "application", "name", "url", "status", "authorization_url", "redirect_uri"], "properties": {
            "id": string, "application": string, "name": string, "url": string,
            "status": { "type": "string", "enum": ["pending", "authorized", "failed"] }, "error": string,
            "authorization_url": string, "redirect_uri": string } },
        "ScenarioInfo": { "type": "object", "required": ["name", "size", "used_by"], "properties": {
            "name": string, "size": { "type": "integer" }, "used_by": strings } },
        "Validation": { "type": "object", "required": ["valid"], "properties": { "valid": { "type": "boolean" }, "error": string } },
        "RouteTest": { "type": "object", "required": ["destination"], "additionalProperties": false, "properties": {
            "destination": string, "application": nullable_string } },
        "RouteTestResult": { "type": "object", "required": ["destination", "application", "matched", "scenarios", "misses"], "properties": {
            "destination": string, "application": string, "matched": { "type": "boolean" }, "rule": string,
            "scenarios": strings, "misses": strings, "reason": string, "problem": nullable_string } },
        "Session": { "type": "object", "required": ["id", "application", "rule", "call_id", "caller", "destination", "started_at"], "properties": {
            "id": string, "application": string, "rule": string, "call_id": string, "caller": string, "destination": string,
            "started_at": time, "ended_at": { "type": "string", "format": "date-time", "nullable": true },
            "duration": { "type": "number", "nullable": true }, "end_kind": nullable_string, "end_reason": nullable_string } },
        "LogLine": { "type": "object", "required": ["at", "level", "text"], "properties": {
            "at": time, "level": { "type": "string", "enum": ["info", "warn", "error", "event"] }, "text": string } }
    })
}

/// The whole document.
pub(crate) fn spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Dialtone admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Applications, rules, scenarios, secrets, route tests and session history. Every endpoint but /health needs `Authorization: Bearer <token>`."
        },
        "security": [{ "bearerAuth": [] }],
        "paths": paths(),
        "components": {
            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas()
        }
    })
}

pub(super) async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_that_create_document_201_beside_200() {
        let spec = spec();
        for path in [
            "/applications/{app}/secrets/{name}",
            "/applications/{app}/users/{name}",
            "/scenarios/{name}",
        ] {
            let responses = &spec["paths"][path]["put"]["responses"];
            assert_eq!(responses["201"]["description"], "Created", "{path}");
            assert_eq!(
                responses["201"]["content"], responses["200"]["content"],
                "{path}"
            );
        }
    }
}
