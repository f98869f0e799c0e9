//! `aisigma lsp`: a language server over stdio, on rust-analyzer's `lsp-server` (a small,
//! synchronous core: one thread reads messages, this loop answers them in order).
//!
//! - diagnostics: those of `aisigma check` run on the workspace (same codes, ranges and
//!   help), published for each open document as it changes;
//! - completion: fields of the rule's category (type and description), modifiers that fit
//!   the field, known values, ATLAS and OWASP tags with their names, search identifiers in
//!   `condition`, metadata keys and values;
//! - hover: fields (type, description, OpenTelemetry origin, deprecated aliases), modifiers,
//!   tags (name, description, tactics);
//! - go to definition: from a `condition` name to its search identifiers;
//! - quick fixes: every "did you mean" help.
//!
//! Positions are converted in [`position`]; the cursor is read from the text in [`context`],
//! so completion works while a rule is half-typed.

pub mod complete;
pub mod context;
pub mod fixes;
pub mod hover;
pub mod navigate;
pub mod position;
pub mod transport;
pub mod workspace;

use crate::report::diagnostic::{Diagnostic, Severity};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionProviderCapability,
    CompletionOptions, CompletionResponse, CompletionTextEdit, DiagnosticSeverity, Hover,
    HoverContents, HoverProviderCapability, InitializeParams, Location, MarkupContent, MarkupKind,
    NumberOrString, OneOf, Position, PublishDiagnosticsParams, Range, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};
use position::{Lines, path_to_uri, uri_to_path};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use workspace::Workspace;

/// What the server starts with.
pub struct Settings {
    pub schema: crate::semantics::schema::Schema,
    /// Rule files and directories, relative to the workspace folder (the folder itself when
    /// empty).
    pub rule_paths: Vec<PathBuf>,
    pub max_file_size: u64,
}

/// Serve one client until it exits. `Ok(true)` when it shut the server down first (exit
/// status 0 in the protocol), `Ok(false)` when it exited or closed the connection without
/// (status 1).
pub fn serve(conn: &Connection, settings: Settings) -> Result<bool, String> {
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("bad initialize params: {e}"))?;
    let root = root_of(&params);
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["|", ".", " ", "[", ","].map(String::from).to_vec()),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    };
    conn.initialize_finish(
        id,
        json!({
            "capabilities": caps,
            "serverInfo": {"name": "aisigma", "version": env!("CARGO_PKG_VERSION")},
        }),
    )
    .map_err(|e| e.to_string())?;
    let ws = Workspace::load(
        settings.schema,
        root,
        settings.rule_paths,
        crate::semantics::check::Options {
            max_file_size: settings.max_file_size,
        },
    );
    let mut server = Server {
        conn,
        ws,
        published: BTreeMap::new(),
        shut_down: false,
    };
    server.run()
}

/// The workspace folder: the first workspace folder, else the root URI.
fn root_of(params: &InitializeParams) -> Option<PathBuf> {
    if let Some(f) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        return uri_to_path(f.uri.as_str());
    }
    #[allow(deprecated)]
    params
        .root_uri
        .as_ref()
        .and_then(|u| uri_to_path(u.as_str()))
}

struct Server<'a> {
    conn: &'a Connection,
    ws: Workspace,
    /// What was last published for each open document.
    published: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    /// `shutdown` was received: every request but `exit` is refused.
    shut_down: bool,
}

impl Server<'_> {
    fn run(&mut self) -> Result<bool, String> {
        while let Ok(msg) = self.conn.receiver.recv() {
            if let Some(clean) = self.handle(msg) {
                return Ok(clean);
            }
            // Answer everything already queued before checking again: a burst of edits is
            // checked once.
            while let Ok(msg) = self.conn.receiver.try_recv() {
                if let Some(clean) = self.handle(msg) {
                    return Ok(clean);
                }
            }
            if !self.shut_down {
                self.publish();
            }
        }
        Ok(false)
    }

    /// Handle one message; `Some(clean)` when the client has ended the session: `true`
    /// for `exit` after `shutdown`, `false` for `exit` alone.
    fn handle(&mut self, msg: Message) -> Option<bool> {
        match msg {
            Message::Request(req) if req.method == "shutdown" => {
                self.shut_down = true;
                self.send(Response::new_ok(req.id, ()).into());
            }
            Message::Request(req) if self.shut_down => {
                let refused = Response::new_err(
                    req.id,
                    ErrorCode::InvalidRequest as i32,
                    "the server is shut down: only `exit` is expected".into(),
                );
                self.send(refused.into());
            }
            Message::Request(req) => {
                let resp = self.request(req);
                self.send(resp.into());
            }
            Message::Notification(n) if n.method == "exit" => return Some(self.shut_down),
            Message::Notification(n) if !self.shut_down => self.notification(n),
            Message::Notification(_) | Message::Response(_) => {}
        }
        None
    }

    fn send(&self, msg: Message) {
        // A closed connection ends the loop at the next receive.
        let _ = self.conn.sender.send(msg);
    }

    fn notification(&mut self, n: Notification) {
        let p = &n.params;
        let path = || {
            p.pointer("/textDocument/uri")
                .and_then(Value::as_str)
                .and_then(uri_to_path)
        };
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let (Some(path), Some(text)) = (
                    path(),
                    p.pointer("/textDocument/text").and_then(Value::as_str),
                ) {
                    self.ws.set_text(&path, text.to_string());
                }
            }
            "textDocument/didChange" => {
                // Full sync: the last change holds the whole text.
                let text = p
                    .get("contentChanges")
                    .and_then(Value::as_array)
                    .and_then(|c| c.last())
                    .and_then(|c| c.get("text"))
                    .and_then(Value::as_str);
                if let (Some(path), Some(text)) = (path(), text) {
                    self.ws.set_text(&path, text.to_string());
                }
            }
            "textDocument/didClose" => {
                if let Some(path) = path() {
                    self.ws.close(&path);
                    if self.published.remove(&path).is_some() {
                        self.publish_to(&path, Vec::new());
                    }
                }
            }
            "workspace/didChangeWatchedFiles" => {
                for change in p
                    .get("changes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(path) = change
                        .get("uri")
                        .and_then(Value::as_str)
                        .and_then(uri_to_path)
                    {
                        self.ws.reload(&path);
                    }
                }
            }
            _ => {}
        }
    }

    /// Publish the diagnostics of every open document whose diagnostics changed (an edit in
    /// one file can change another's: a duplicate id, a rule reference).
    fn publish(&mut self) {
        self.ws.refresh();
        for path in self.ws.open_paths() {
            let found = self.ws.diagnostics(&path);
            let Some(text) = self.ws.text(&path) else {
                continue;
            };
            let lines = Lines::new(text);
            let diags: Vec<lsp_types::Diagnostic> =
                found.iter().map(|d| to_lsp(&lines, d)).collect();
            if self.published.get(&path) != Some(&diags) {
                self.published.insert(path.clone(), diags.clone());
                self.publish_to(&path, diags);
            }
        }
    }

    fn publish_to(&self, path: &Path, diagnostics: Vec<lsp_types::Diagnostic>) {
        let Ok(uri) = Uri::from_str(&path_to_uri(path)) else {
            return;
        };
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version: None,
        };
        self.send(Notification::new("textDocument/publishDiagnostics".into(), params).into());
    }

    fn request(&mut self, req: Request) -> Response {
        let p = &req.params;
        // A document that is not a file (`untitled:`) is not a rule file: nothing to say.
        if let Some(uri) = p.pointer("/textDocument/uri").and_then(Value::as_str)
            && uri_to_path(uri).is_none()
        {
            let empty = match req.method.as_str() {
                "textDocument/completion" | "textDocument/codeAction" => json!([]),
                _ => Value::Null,
            };
            return Response::new_ok(req.id, empty);
        }
        let at = || -> Option<(PathBuf, Position)> {
            let path = p
                .pointer("/textDocument/uri")
                .and_then(Value::as_str)
                .and_then(uri_to_path)?;
            let pos: Position = serde_json::from_value(p.get("position")?.clone()).ok()?;
            Some((path, pos))
        };
        let result = match req.method.as_str() {
            "textDocument/completion" => at().map(|(path, pos)| self.completion(&path, pos)),
            "textDocument/hover" => at().map(|(path, pos)| self.hover(&path, pos)),
            "textDocument/definition" => at().map(|(path, pos)| self.definition(&path, pos)),
            "textDocument/codeAction" => self.code_actions(p),
            _ => {
                return Response::new_err(
                    req.id,
                    ErrorCode::MethodNotFound as i32,
                    format!("aisigma lsp does not handle {}", req.method),
                );
            }
        };
        match result {
            Some(v) => Response::new_ok(req.id, v),
            None => invalid(req.id),
        }
    }

    fn completion(&self, path: &Path, pos: Position) -> Value {
        let Some(text) = self.ws.text(path) else {
            return Value::Null;
        };
        let lines = Lines::new(text);
        let all = lines.all();
        let line = pos.line as usize;
        if line >= lines.count() {
            return json!([]);
        }
        let col = lines.char_index(pos);
        let items = complete::complete(&self.ws.schema, all, line, col)
            .into_iter()
            .map(|p| {
                let mut item = p.item;
                let range = Range::new(lines.position(line, p.start), lines.position(line, col));
                item.text_edit = Some(CompletionTextEdit::Edit(TextEdit::new(
                    range,
                    item.label.clone(),
                )));
                item
            })
            .collect();
        json!(CompletionResponse::Array(items))
    }

    fn hover(&self, path: &Path, pos: Position) -> Value {
        let Some(text) = self.ws.text(path) else {
            return Value::Null;
        };
        let lines = Lines::new(text);
        let all = lines.all();
        let line = pos.line as usize;
        match hover::hover(&self.ws.schema, all, line, lines.char_index(pos)) {
            Some((start, end, md)) => json!(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: md,
                }),
                range: Some(Range::new(
                    lines.position(line, start),
                    lines.position(line, end)
                )),
            }),
            None => Value::Null,
        }
    }

    fn definition(&self, path: &Path, pos: Position) -> Value {
        let Some(text) = self.ws.text(path) else {
            return Value::Null;
        };
        let Ok(uri) = Uri::from_str(&path_to_uri(path)) else {
            return Value::Null;
        };
        let lines = Lines::new(text);
        let all = lines.all();
        let found: Vec<Location> =
            navigate::definition(all, pos.line as usize, lines.char_index(pos))
                .into_iter()
                .map(|(l, s, e)| {
                    Location::new(
                        uri.clone(),
                        Range::new(lines.position(l, s), lines.position(l, e)),
                    )
                })
                .collect();
        match found.len() {
            0 => Value::Null,
            1 => json!(found[0]),
            _ => json!(found),
        }
    }

    /// Quick fixes of the diagnostics that touch the requested range.
    fn code_actions(&mut self, p: &Value) -> Option<Value> {
        let path = p
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .and_then(uri_to_path)?;
        let range: Range = serde_json::from_value(p.get("range")?.clone()).ok()?;
        let uri = Uri::from_str(&path_to_uri(&path)).ok()?;
        self.ws.refresh();
        let diagnostics = self.ws.diagnostics(&path);
        let Some(text) = self.ws.text(&path) else {
            return Some(json!([]));
        };
        let lines = Lines::new(text);
        let all = lines.all();
        let mut actions = Vec::new();
        for d in diagnostics {
            let lsp = to_lsp(&lines, &d);
            if lsp.range.end < range.start || range.end < lsp.range.start {
                continue;
            }
            for f in fixes::fixes(all, &d) {
                let edit = TextEdit::new(
                    Range::new(
                        lines.position(f.line, f.start),
                        lines.position(f.line, f.end),
                    ),
                    f.new_text,
                );
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: f.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![lsp.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                        ..Default::default()
                    }),
                    is_preferred: Some(f.preferred),
                    ..Default::default()
                }));
            }
        }
        Some(json!(actions))
    }
}

fn invalid(id: RequestId) -> Response {
    Response::new_err(
        id,
        ErrorCode::InvalidParams as i32,
        "missing or malformed textDocument, position or range".into(),
    )
}

/// A diagnostic as the protocol has it: the code, the message with its help on a second
/// line (as `check` prints it), the range in UTF-16 units.
pub fn to_lsp(lines: &Lines, d: &Diagnostic) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    lsp_types::Diagnostic {
        range: lines.range(d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("aisigma".into()),
        message,
        ..Default::default()
    }
}
