//! Turning an uploaded picture into stored variants (avatars, image attachments): the format sniffed from the
//! bytes (never the name or the client's content type), the size in pixels
//! checked from the header before anything is decoded, decoding bounded,
//! and every stored variant re-encoded so no metadata (GPS, camera) leaves.

use std::io::Cursor;

use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Largest picture accepted, in pixels (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Thumbnail edges, in pixels.
pub const THUMBNAILS: [u32; 2] = [256, 64];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("the file is not a PNG, JPEG, WebP or GIF image")]
    NotAnImage,
    #[error("the image is {width}×{height} pixels; at most 40 megapixels are accepted")]
    TooManyPixels { width: u32, height: u32 },
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
}

/// One stored rendition.
#[derive(Debug)]
pub struct Variant {
    /// `original`, `256` or `64`.
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Bytes,
}

#[derive(Debug)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub variants: Vec<Variant>,
}

/// Whether the bytes are a picture plaza accepts (by their content).
pub fn is_picture(bytes: &[u8]) -> bool {
    sniff(bytes).is_ok()
}

fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) => {
            Ok(f)
        }
        _ => Err(ImageError::NotAnImage),
    }
}

/// Runs on a blocking thread: decoding is CPU work.
pub fn process_picture(bytes: &[u8]) -> Result<Picture, ImageError> {
    let format = sniff(bytes)?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // RGBA at 40 MP is 160 MB; nothing legitimate needs more.
    limits.max_alloc = Some(256 << 20);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;

    let mut variants = vec![encode("original".into(), &image)?];
    for edge in THUMBNAILS {
        variants.push(encode(edge.to_string(), &square(&image, edge))?);
    }
    Ok(Picture {
        width,
        height,
        variants,
    })
}

/// The picture's centred square, scaled to `edge` × `edge`. Cropped first,
/// then scaled: scaling first (`resize_to_fill`) makes an intermediate as
/// wide as the aspect ratio times `edge`, so a 39 169 × 1 GIF of 43 bytes
/// took 10 s and gigabytes (found by the `image` fuzz target).
fn square(image: &DynamicImage, edge: u32) -> DynamicImage {
    let side = image.width().min(image.height());
    let x = (image.width() - side) / 2;
    let y = (image.height() - side) / 2;
    image
        .crop_imm(x, y, side, side)
        .resize_exact(edge, edge, FilterType::Triangle)
}

/// PNG when the picture has transparency, JPEG otherwise.
fn encode(name: String, image: &DynamicImage) -> Result<Variant, ImageError> {
    let mut out = Vec::new();
    let content_type = if image.color().has_alpha() {
        image
            .to_rgba8()
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;
        "image/png"
    } else {
        let rgb = image.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, 88)
            .encode_image(&rgb)
            .map_err(|e| ImageError::Corrupt(e.to_string()))?;
        "image/jpeg"
    };
    Ok(Variant {
        name,
        content_type,
        bytes: Bytes::from(out),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbaImage::from_pixel(width, height, Rgba([10, 200, 30, 128]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    /// Found by `fuzz/fuzz_targets/image.rs`: a 1 × 1 frame on a
    /// 39 169 × 1 logical screen (43 bytes) once took over 10 s to thumbnail.
    #[test]
    fn an_extreme_aspect_ratio_is_thumbnailed_from_its_centred_square() {
        let bytes = include_bytes!(
            "../../../../fuzz/regressions/image/gif-39169x1-screen-thumbnail-blowup.gif"
        );
        let picture = process_picture(bytes).unwrap();
        assert_eq!((picture.width, picture.height), (39_169, 1));
        let thumb = image::load_from_memory(&picture.variants[1].bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 256));
        let wide = DynamicImage::ImageRgb8(RgbImage::from_pixel(3000, 2, Rgb([9, 9, 9])));
        let small = square(&wide, 64);
        assert_eq!((small.width(), small.height()), (64, 64));
    }

    #[test]
    fn a_picture_becomes_an_original_and_two_square_thumbnails() {
        let avatar = process_picture(&png(300, 200)).unwrap();
        assert_eq!((avatar.width, avatar.height), (300, 200));
        let names: Vec<&str> = avatar.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["original", "256", "64"]);
        let thumb = image::load_from_memory(&avatar.variants[2].bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (64, 64));
        assert_eq!(
            avatar.variants[0].content_type, "image/png",
            "transparency kept"
        );

        let mut jpeg = Vec::new();
        RgbImage::from_pixel(80, 80, Rgb([1, 2, 3]))
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let avatar = process_picture(&jpeg).unwrap();
        assert_eq!(avatar.variants[1].content_type, "image/jpeg");
    }

    /// Rewrites a PNG's header to claim another size, with a valid checksum.
    fn claim_size(png: &[u8], width: u32, height: u32) -> Vec<u8> {
        let mut out = png.to_vec();
        out[16..20].copy_from_slice(&width.to_be_bytes());
        out[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&out[12..29]);
        out[29..33].copy_from_slice(&crc.to_be_bytes());
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(bytes);
        crc.sum()
    }

    #[test]
    fn hostile_files_are_refused_before_decoding() {
        assert_eq!(
            process_picture(b"hello, I am text").unwrap_err(),
            ImageError::NotAnImage
        );
        assert_eq!(
            process_picture(b"%PDF-1.7").unwrap_err(),
            ImageError::NotAnImage
        );
        // A valid PNG header claiming 100000×100000 pixels: refused from the header.
        let bomb = claim_size(&png(1, 1), 100_000, 100_000);
        assert_eq!(
            process_picture(&bomb).unwrap_err(),
            ImageError::TooManyPixels {
                width: 100_000,
                height: 100_000
            }
        );
        // Cut short.
        let whole = png(50, 50);
        assert!(matches!(
            process_picture(&whole[..40]),
            Err(ImageError::Corrupt(_))
        ));
    }
}
