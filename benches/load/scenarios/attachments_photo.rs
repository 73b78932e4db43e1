//! `attachments`' photo: a 12-megapixel JPEG made here, uploaded again and
//! again beside a plain file as large, so that what its decode and
//! thumbnail cost shows as the difference between the two.

use super::{MB, OCTETS, file, noise};
use crate::Res;
use crate::client::{Api, User};
use crate::probe::Probe;
use crate::report::{Latency, Outcome, histogram, progress, record};
use crate::scenarios::Rng;
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::time::Instant;

const PHOTO: (u32, u32) = (4000, 3000);
const PHOTOS: usize = 30;

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    (h.value_at_quantile(q) as f64 / 10.0).round() / 100.0
}

/// A 12-megapixel photo-like JPEG: a sky-to-ground gradient, soft waves
/// and sensor-like noise (quality 90, a few MB as a phone's photo is).
fn photo() -> Res<Vec<u8>> {
    let (w, h) = PHOTO;
    let mut rng = Rng::new(0x5eed);
    let picture = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let bits = rng.next();
        let grain = |shift: u32| ((bits >> shift) % 13) as f32 - 6.0;
        let channel = |v: f32| v.clamp(0.0, 255.0) as u8;
        image::Rgb([
            channel(60.0 + 150.0 * fy + 30.0 * (fx * 7.0 + fy * 3.0).sin() + grain(0)),
            channel(90.0 + 100.0 * (1.0 - fy) + 25.0 * (fx * 13.0).sin() + grain(16)),
            channel(140.0 + 80.0 * fx - 60.0 * fy + 20.0 * (fy * 11.0).cos() + grain(32)),
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&picture)?;
    Ok(bytes)
}

/// The photo uploaded [`PHOTOS`] times, each followed by a plain file of
/// its size (after one of each not timed): upload→201 of both, and the
/// checks of the photo's answer, bytes and thumbnail.
pub async fn photos(api: &Api, probe: &Probe, user: &User, chat: &str) -> Res<Outcome> {
    progress("making a 4000 × 3000 JPEG");
    let jpeg = Bytes::from(tokio::task::spawn_blocking(photo).await??);
    let plain = file(&noise(jpeg.len(), 99), "as large as the photo");
    progress(&format!(
        "{PHOTOS} uploads of the {:.1} MB photo, each followed by a plain file as large",
        jpeg.len() as f64 / MB as f64
    ));
    let snapshot = probe.start();
    let (mut images, mut plains, mut problems) = (histogram(), histogram(), Vec::new());
    let mut first = None;
    for n in 0..=PHOTOS {
        let started = Instant::now();
        let up = api
            .upload(user, chat, "photo.jpg", "image/jpeg", jpeg.clone())
            .await?;
        let took = started.elapsed();
        let started = Instant::now();
        let plain_up = api
            .upload(user, chat, "plain.bin", OCTETS, plain.clone())
            .await?;
        let plain_took = started.elapsed();
        if up.size != jpeg.len() as u64 || plain_up.size != plain.len() as u64 {
            problems.push(format!(
                "sizes {} and {} for {} sent",
                up.size,
                plain_up.size,
                jpeg.len()
            ));
        }
        if up.content_type != "image/jpeg"
            || (up.width, up.height) != (Some(PHOTO.0), Some(PHOTO.1))
        {
            problems.push(format!(
                "the photo answered {} {:?}×{:?}",
                up.content_type, up.width, up.height
            ));
        }
        if n > 0 {
            record(&mut images, took);
            record(&mut plains, plain_took);
        }
        first.get_or_insert(up.attachment_id);
    }
    let usage = probe.finish(&snapshot);
    let id = first.unwrap_or_default();
    if !api
        .download(user, &id, false)
        .await
        .is_ok_and(|b| b == jpeg)
    {
        problems.push("the photo not read back the same".into());
    }
    let thumb = api.download(user, &id, true).await.unwrap_or_default();
    match image::load_from_memory_with_format(&thumb, image::ImageFormat::Jpeg) {
        Ok(t) if t.width().max(t.height()) <= 400 && t.width() > 0 => {}
        Ok(t) => problems.push(format!("a thumbnail of {}×{}", t.width(), t.height())),
        Err(e) => problems.push(format!("the thumbnail is not a JPEG: {e}")),
    }
    let thumbnail_ms = ((ms(&images, 0.5) - ms(&plains, 0.5)) * 100.0).round() / 100.0;
    let mut row = Outcome::new("attachments", "12 MP JPEG upload→201 (thumbnail)");
    row.count = images.len();
    row.latency = Latency::of(&images);
    row.figure("photo_bytes", jpeg.len());
    row.figure("photo_p50_ms", ms(&images, 0.5));
    row.figure("photo_p99_ms", ms(&images, 0.99));
    row.figure("plain_p50_ms", ms(&plains, 0.5));
    row.figure("plain_p99_ms", ms(&plains, 0.99));
    row.figure("thumbnail_ms", thumbnail_ms);
    row.usage = Some(usage);
    row.expect("photo", &problems);
    if row.ok {
        row.check = "4000×3000 image/jpeg, same bytes back, a JPEG thumbnail ≤ 400 px".into();
    }
    row.note = format!(
        "one after another; a {:.1} MB plain file: p50 {:.2} / p99 {:.2} ms, so decode and \
         thumbnail ≈ {thumbnail_ms:.0} ms",
        jpeg.len() as f64 / MB as f64,
        ms(&plains, 0.5),
        ms(&plains, 0.99)
    );
    Ok(row)
}
