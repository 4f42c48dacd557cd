//! The sharing renderers, timed alone (no I/O): a share URL's QR code as a
//! 512-pixel PNG and as SVG, and the 1200×630 preview card of a Vietnamese
//! scenario (NFC, wrapping, glyph rasterising, PNG encoding). Each is what one
//! uncached request to the QR or card route spends drawing. Informational: no
//! budget.
//!
//! A fixed number of samples rather than `--iterations`, whose default (20,000)
//! is sized for warm calls of microseconds: a card takes milliseconds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use whatif_sharing::card::{self, Card};
use whatif_sharing::qr::{self, QrFormat};

use crate::{Options, Row, Stats};

const SAMPLES: usize = 200;
/// Untimed runs first: the font is parsed once, caches and allocator warm up.
const WARM_UP: usize = 5;

/// A share URL as the API makes them: the public origin and a 22-character id.
const URL: &str = "https://whatif.example.com/s/AbCdEfGhIjKlMnOpQrStUv";
const CARD: Card<'static> = Card {
    title: "Nếu Việt Nam có tàu vũ trụ riêng thì sao?",
    summary: "Một chương trình không gian của riêng mình: từ bãi phóng ở Ninh Thuận đến những vệ tinh \
              theo dõi bão, mùa màng và rừng ngập mặn, và một thế hệ kỹ sư trẻ ở lại quê nhà.",
    footer: "What If Generator · whatif.example.com",
};

pub async fn run(_options: &Options) -> Result<Vec<Row>, String> {
    println!("\n== sharing: renderers alone, {SAMPLES} calls each");
    println!("   {:<36} {:>9} {:>9} {:>9} {:>9} {:>9}", "ms per call", "min", "median", "p95", "max", "bytes");
    type Render = Box<dyn Fn() -> Result<Vec<u8>, String>>;
    let cases: [(&str, Render); 3] = [
        (
            "QR code, PNG 512 px",
            Box::new(|| qr::render(URL, QrFormat::Png, qr::DEFAULT_SIZE).map_err(|e| e.to_string())),
        ),
        (
            "QR code, SVG 512 px",
            Box::new(|| qr::render(URL, QrFormat::Svg, qr::DEFAULT_SIZE).map_err(|e| e.to_string())),
        ),
        ("preview card, PNG 1200×630", Box::new(|| card::render(&CARD).map_err(|e| e.to_string()))),
    ];
    let mut rows = Vec::new();
    for (label, render) in cases {
        let mut times = Vec::with_capacity(SAMPLES);
        let mut bytes = 0;
        for i in 0..WARM_UP + SAMPLES {
            let started = Instant::now();
            let out = black_box(render()?);
            if i >= WARM_UP {
                times.push(ms(started.elapsed()));
            }
            bytes = out.len();
        }
        let s = Stats::of(&mut times).ok_or("no samples")?;
        println!("   {label:<36} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {bytes:>9}", s.min, s.median, s.p95, s.max);
        rows.push(Row::new(
            format!("sharing: {label}"),
            format!("{:.2} ms median (p95 {:.2}), {bytes} bytes", s.median, s.p95),
            "",
            None,
        ));
    }
    Ok(rows)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
