//! The images natter shows inline: recognised by their bytes, measured,
//! and thumbnailed from decoded pixels (so the thumbnail carries none of
//! the original's metadata), within limits that refuse a decompression
//! bomb before it is decoded.

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::BufReader;
use std::path::Path;

/// The longer side of a thumbnail, in pixels.
pub(crate) const THUMB_SIDE: u32 = 400;

/// Memory one decode may take at most.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The image types served inline, by the signature of their first bytes.
pub(crate) fn sniff(head: &[u8]) -> Option<&'static str> {
    match image::guess_format(head).ok()? {
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::Png => Some("image/png"),
        ImageFormat::Gif => Some("image/gif"),
        ImageFormat::WebP => Some("image/webp"),
        _ => None,
    }
}

/// Whether a stored type may be shown in the page (`inline`).
pub(crate) fn is_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// An image measured and thumbnailed.
pub(crate) struct Thumbnail {
    /// As shown (EXIF orientation applied).
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// A JPEG.
    pub(crate) bytes: Vec<u8>,
}

/// Why an image has no thumbnail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// Over the pixel or memory limit: the upload is refused.
    #[error("the image is over {0} pixels")]
    TooManyPixels(u64),
    #[error("the image needs too much memory to decode")]
    TooMuchMemory,
    /// Not readable as the image it claims to be (truncated, corrupt): it is
    /// kept as a plain file.
    #[error("unreadable image: {0}")]
    Unreadable(String),
}

/// Decodes the image in `file` (blocking: run it off the async threads)
/// and makes its thumbnail: at most [`THUMB_SIDE`] on its longer side, a
/// JPEG (transparent parts on white).
pub(crate) fn thumbnail(file: &Path, max_pixels: u64) -> Result<Thumbnail, Refused> {
    let unreadable = |e: &dyn std::fmt::Display| Refused::Unreadable(e.to_string());
    let reader = ImageReader::new(BufReader::new(
        std::fs::File::open(file).map_err(|e| unreadable(&e))?,
    ))
    .with_guessed_format()
    .map_err(|e| unreadable(&e))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = reader;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| refusal(&e))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Refused::TooManyPixels(max_pixels));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| refusal(&e))?;
    picture.apply_orientation(orientation);
    let small = picture.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let rgb = if small.color().has_alpha() {
        on_white(&small.to_rgba8())
    } else {
        small.to_rgb8()
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&rgb)
        .map_err(|e| unreadable(&e))?;
    Ok(Thumbnail {
        width: picture.width(),
        height: picture.height(),
        bytes,
    })
}

fn refusal(error: &image::ImageError) -> Refused {
    match error {
        image::ImageError::Limits(_) => Refused::TooMuchMemory,
        other => Refused::Unreadable(other.to_string()),
    }
}

/// Transparent pixels over white (a JPEG has no transparency).
fn on_white(rgba: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    })
}
