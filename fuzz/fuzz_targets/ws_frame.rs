//! A socket's text frame, as the reader takes it: any input is a frame or
//! a clear refusal (400/413/422/404), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // A socket's text frames are UTF-8 by the protocol.
        return;
    };
    if let Err(e) = plaza_app::realtime::Frame::read(text, 64 * 1024) {
        let status = e.status().as_u16();
        assert!(
            matches!(status, 400 | 404 | 413 | 422),
            "{status} for {text:?}"
        );
    }
});
