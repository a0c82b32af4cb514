//! PNG charts of the overlay benchmark, drawn with plotters' bitmap backend and a font embedded
//! in the binary (Ubuntu Light from `epaint_default_fonts`, through plotters' `ab_glyph`
//! feature): no system font or fontconfig needed.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{Family, Metric, MtuVariant, Overlay, Run, Spread, UDP_SIZES, cell_spread};

const FONT: &str = "sans-serif";
static REGISTER: Once = Once::new();

fn register_font() -> Result<(), String> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        )
        .map_err(|_| "the embedded font is not a valid TrueType font".to_string());
    });
    result
}

fn color(o: Overlay) -> RGBColor {
    match o {
        Overlay::Native => RGBColor(120, 120, 120),
        Overlay::Vxlan => RGBColor(31, 119, 180),
        Overlay::Srv6 => RGBColor(214, 39, 40),
    }
}

/// One panel of grouped bars: for each group (x), one bar per overlay with a min–max whisker.
struct Panel {
    title: String,
    y_label: String,
    groups: Vec<String>,
    /// `values[group][overlay]`.
    values: Vec<[Option<Spread>; 3]>,
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    p: &Panel,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("drawing {}: {e:?}", p.title);
    let top = p
        .values
        .iter()
        .flatten()
        .flatten()
        .map(|s| s.max.max(s.median))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.15 } else { 1.0 };
    let n = p.groups.len();
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FONT, 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)
        .map_err(err)?;
    let groups = p.groups.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            let frac = x - x.floor();
            if (frac - 0.5).abs() < 0.01 {
                groups.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(&p.y_label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(err)?;
    let width = 0.8 / 3.0;
    for (oi, o) in Overlay::ALL.iter().enumerate() {
        let c = color(*o);
        let bars: Vec<(f64, Spread)> = p
            .values
            .iter()
            .enumerate()
            .filter_map(|(g, v)| v[oi].map(|s| (g as f64 + 0.1 + width * oi as f64, s)))
            .collect();
        chart
            .draw_series(bars.iter().map(|(x, s)| {
                Rectangle::new([(*x, 0.0), (*x + width * 0.9, s.median)], c.filled())
            }))
            .map_err(err)?
            .label(o.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        chart
            .draw_series(bars.iter().map(|(x, s)| {
                let mid = *x + width * 0.45;
                PathElement::new(vec![(mid, s.min), (mid, s.max)], BLACK.stroke_width(2))
            }))
            .map_err(err)?;
        chart
            .draw_series(bars.iter().map(|(x, s)| {
                let label = if s.median >= 100.0 {
                    format!("{:.0}", s.median)
                } else {
                    format!("{:.1}", s.median)
                };
                Text::new(label, (*x, s.max.max(s.median) + top * 0.01), (FONT, 11))
            }))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn draw(path: &Path, size: (u32, u32), panels: &[Panel]) -> Result<(), String> {
    register_font()?;
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| format!("{}: {e:?}", path.display()))?;
    let areas = root.split_evenly((panels.len(), 1));
    for (a, p) in areas.iter().zip(panels) {
        draw_panel(a, p)?;
    }
    root.present()
        .map_err(|e| format!("writing {}: {e:?}", path.display()))
}

fn values(runs: &[Run], f: Family, m: MtuVariant, metric: Metric) -> [Option<Spread>; 3] {
    Overlay::ALL.map(|o| cell_spread(runs, o, f, m, metric))
}

fn family_mtu_groups() -> Vec<(Family, MtuVariant, String)> {
    let mut v = Vec::new();
    for f in Family::ALL {
        for m in MtuVariant::ALL {
            v.push((f, m, format!("{} {}", f.name(), m.name())));
        }
    }
    v
}

/// Draw `tcp.png`, `udp.png` and `latency.png` into `dir`; the files written.
pub fn draw_all(dir: &Path, runs: &[Run]) -> Result<Vec<String>, String> {
    let fm = family_mtu_groups();
    let tcp = Panel {
        title: "TCP throughput pod to pod (median, whisker min–max)".into(),
        y_label: "Gbit/s".into(),
        groups: fm.iter().map(|g| g.2.clone()).collect(),
        values: fm
            .iter()
            .map(|(f, m, _)| values(runs, *f, *m, Metric::TcpGbps))
            .collect(),
    };
    draw(&dir.join("tcp.png"), (1000, 500), &[tcp])?;
    let udp: Vec<Panel> = MtuVariant::ALL
        .iter()
        .map(|m| {
            let mut groups = Vec::new();
            let mut vals = Vec::new();
            for f in Family::ALL {
                for s in UDP_SIZES {
                    groups.push(format!("{} {s} B", f.name()));
                    vals.push(values(runs, f, *m, Metric::UdpMbps(s)));
                }
            }
            Panel {
                title: format!("UDP received rate, pod MTU {}", m.name()),
                y_label: "Mbit/s".into(),
                groups,
                values: vals,
            }
        })
        .collect();
    draw(&dir.join("udp.png"), (1000, 800), &udp)?;
    let latency: Vec<Panel> = [(Metric::PingP50, "p50"), (Metric::PingP99, "p99")]
        .iter()
        .map(|(metric, name)| Panel {
            title: format!("ping round trip {name} (median of runs, whisker min–max)"),
            y_label: "µs".into(),
            groups: fm.iter().map(|g| g.2.clone()).collect(),
            values: fm
                .iter()
                .map(|(f, m, _)| values(runs, *f, *m, *metric))
                .collect(),
        })
        .collect();
    draw(&dir.join("latency.png"), (1000, 800), &latency)?;
    Ok(vec![
        "tcp.png".into(),
        "udp.png".into(),
        "latency.png".into(),
    ])
}
