//! Server-sent events as chat-completion streams send them: `data:` lines
//! ending in a blank line, fed in whatever chunks the network delivers.
//! Comments (`:`) and other fields (`event:`, `id:`) are skipped; several
//! `data:` lines of one event are joined with newlines (the SSE rule).

#[derive(Debug, Default)]
pub struct Events {
    buf: Vec<u8>,
    data: Option<String>,
}

impl Events {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next chunk; the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    out.push(data);
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                }
            }
        }
        out
    }

    /// The last event when the stream ends without its blank line.
    pub fn finish(&mut self) -> Option<String> {
        let mut out = if self.buf.is_empty() {
            Vec::new()
        } else {
            self.feed(b"\n")
        };
        out.extend(self.data.take());
        out.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_lines_and_crlf_come_out_whole() {
        let stream = b": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata: one\ndata: two\n\ndata: [DONE]\n\n";
        for size in 1..stream.len() {
            let mut events = Events::new();
            let mut got = Vec::new();
            for chunk in stream.chunks(size) {
                got.extend(events.feed(chunk));
            }
            got.extend(events.finish());
            assert_eq!(got, ["{\"a\":1}", "one\ntwo", "[DONE]"], "chunks of {size}");
        }
    }

    #[test]
    fn a_last_event_without_its_blank_line_is_kept() {
        let mut events = Events::new();
        assert!(events.feed(b"data: x\n\ndata: y").len() == 1);
        assert_eq!(events.finish().as_deref(), Some("y"));
        assert_eq!(events.finish(), None);
    }
}
