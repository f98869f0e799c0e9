//! Standard input and output as an LSP connection: lsp-server's framing
//! (`Content-Length` headers, [`Message::read`] and [`Message::write`]) on two threads. Unlike
//! lsp-server's own stdio transport, the reader survives a well-framed body that is not a
//! JSON-RPC message (invalid JSON, `[1, 2]`, `null`): it tells the client in a
//! `window/logMessage` and reads on. A broken frame (a bad header) ends the input, as the
//! stream cannot be resynchronised.

use crossbeam_channel::{Receiver, Sender, unbounded};
use lsp_server::{Connection, Message, Notification};
use std::io::{self, BufReader};
use std::thread::{self, JoinHandle};

/// The two threads; [`Threads::join`] waits for them and gives the first I/O error.
pub struct Threads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl Threads {
    pub fn join(self) -> io::Result<()> {
        let r = self
            .reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("reader panicked")));
        let w = self
            .writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer panicked")));
        r.and(w)
    }
}

/// A connection over standard input and output.
pub fn stdio() -> (Connection, Threads) {
    let (to_client, outgoing): (Sender<Message>, Receiver<Message>) = unbounded();
    let (incoming, from_client): (Sender<Message>, Receiver<Message>) = unbounded();
    let writer = thread::spawn(move || {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        for msg in outgoing {
            msg.write(&mut out)?;
        }
        Ok(())
    });
    let log = to_client.clone();
    let reader = thread::spawn(move || {
        let stdin = io::stdin();
        let mut input = BufReader::new(stdin.lock());
        loop {
            match Message::read(&mut input) {
                Ok(Some(msg)) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if incoming.send(msg).is_err() || exit {
                        return Ok(());
                    }
                }
                Ok(None) => return Ok(()),
                // The whole body was read: report it and go on with the next message.
                Err(e) if e.to_string().starts_with("malformed LSP payload") => {
                    let text: String = e.to_string().chars().take(300).collect();
                    let note = Notification::new(
                        "window/logMessage".into(),
                        serde_json::json!({"type": 1, "message": format!("aisigma lsp ignored a message that is not JSON-RPC: {text}")}),
                    );
                    let _ = log.send(note.into());
                }
                Err(e) => return Err(e),
            }
        }
    });
    (
        Connection {
            sender: to_client,
            receiver: from_client,
        },
        Threads { reader, writer },
    )
}
