//! An uploaded picture: sniffed, its size read from the header, decoded
//! within bounds and re-encoded. Any input is a picture or a refusal, never
//! a panic or an allocation past the decoder's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plaza_app::files::image::{MAX_PIXELS, process_picture};

fuzz_target!(|data: &[u8]| {
    if let Ok(picture) = process_picture(data) {
        assert!(u64::from(picture.width) * u64::from(picture.height) <= MAX_PIXELS);
        assert_eq!(picture.variants.len(), 3);
    }
});
