//! A small, dependency-free SVG writer for horizontal bar charts (the demo's `summary.svg`).
//!
//! A [`Panel`] is one chart: a title, one row per category, and one or more series drawn as
//! stacked segments. [`document`] stacks panels vertically into one standalone SVG file.
//! On a [`Scale::Log`] axis the bar length follows the row's total on a decade axis and the
//! segments split that length in proportion to their values. Non-finite or negative values
//! are drawn as zero, so the output never contains `NaN`.

use std::fmt::Write;

/// Width of the whole document in pixels.
const WIDTH: f64 = 900.0;
/// Left margin (category labels).
const LABEL_WIDTH: f64 = 130.0;
/// Right margin (value labels).
const VALUE_WIDTH: f64 = 110.0;
/// Height of one bar row.
const ROW: f64 = 26.0;
/// Space above the first row (title, legend).
const HEAD: f64 = 56.0;
/// Space below the last row (axis labels).
const FOOT: f64 = 34.0;

/// Colours of the series, in order (repeated when there are more series).
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];

/// How values map to bar lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Zero at the left edge, a rounded maximum at the right.
    Linear,
    /// Whole decades spanning the smallest and largest positive row totals.
    Log,
}

/// One horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Heading above the chart.
    pub title: String,
    /// Axis unit, shown under the axis (`seconds`, `bytes`).
    pub unit: String,
    /// Series names (the legend), one per segment of each bar.
    pub series: Vec<String>,
    /// One row per category: its label and one value per series.
    pub rows: Vec<(String, Vec<f64>)>,
    /// Axis scale.
    pub scale: Scale,
    /// Formats a value for the labels at the bar ends and on the axis.
    pub format: fn(f64) -> String,
}

/// Escapes text for use in SVG character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        v
    } else {
        0.0
    }
}

/// A rounded upper bound for a linear axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let decade = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * decade)
        .find(|&x| x >= max)
        .unwrap_or(10.0 * decade)
}

/// The axis of a panel: the fraction of the plot width a total takes, and the tick values.
struct Axis {
    scale: Scale,
    lo: f64,
    hi: f64,
}

impl Axis {
    fn new(scale: Scale, totals: &[f64]) -> Self {
        let positive: Vec<f64> = totals.iter().copied().filter(|&t| t > 0.0).collect();
        let max = positive.iter().copied().fold(0.0, f64::max);
        match scale {
            Scale::Linear => Axis {
                scale,
                lo: 0.0,
                hi: nice_max(max),
            },
            Scale::Log => {
                let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
                if positive.is_empty() {
                    return Axis {
                        scale,
                        lo: 0.0,
                        hi: 1.0,
                    };
                }
                let mut lo = min.log10().floor();
                // Keep the shortest bar visibly longer than zero.
                if min.log10() - lo < 0.1 {
                    lo -= 1.0;
                }
                let mut hi = max.log10().ceil();
                if hi <= lo {
                    hi = lo + 1.0;
                }
                Axis { scale, lo, hi }
            }
        }
    }

    /// Fraction of the plot width for `total` (0 for nothing, in [0, 1]).
    fn fraction(&self, total: f64) -> f64 {
        if total <= 0.0 {
            return 0.0;
        }
        let f = match self.scale {
            Scale::Linear => total / self.hi,
            Scale::Log => (total.log10() - self.lo) / (self.hi - self.lo),
        };
        f.clamp(0.0, 1.0)
    }

    /// (value, fraction) of each tick.
    fn ticks(&self) -> Vec<(f64, f64)> {
        match self.scale {
            Scale::Linear => (0..=4)
                .map(|i| {
                    let v = self.hi * f64::from(i) / 4.0;
                    (v, v / self.hi)
                })
                .collect(),
            Scale::Log => {
                let decades = (self.hi - self.lo).round() as i32;
                (0..=decades)
                    .map(|d| {
                        let e = self.lo + f64::from(d);
                        let v = 10f64.powf(e);
                        (v, self.fraction(v))
                    })
                    .collect()
            }
        }
    }
}

impl Panel {
    fn height(&self) -> f64 {
        HEAD + ROW * self.rows.len().max(1) as f64 + FOOT
    }

    /// The panel's elements, with its top edge at `y0`.
    fn render(&self, out: &mut String, y0: f64) -> std::fmt::Result {
        let plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let x0 = LABEL_WIDTH;
        let totals: Vec<f64> = self
            .rows
            .iter()
            .map(|(_, v)| v.iter().copied().map(clean).sum())
            .collect();
        let axis = Axis::new(self.scale, &totals);
        writeln!(
            out,
            r#"<text x="10" y="{:.1}" font-size="15" font-weight="bold">{}</text>"#,
            y0 + 18.0,
            escape(&self.title)
        )?;
        if self.series.len() > 1 {
            let mut lx = x0;
            for (i, name) in self.series.iter().enumerate() {
                writeln!(
                    out,
                    r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
                    y0 + 30.0,
                    PALETTE[i % PALETTE.len()],
                    lx + 16.0,
                    y0 + 40.0,
                    escape(name)
                )?;
                lx += 24.0 + 7.5 * name.chars().count() as f64;
            }
        }
        let top = y0 + HEAD;
        let bottom = top + ROW * self.rows.len().max(1) as f64;
        for (value, f) in axis.ticks() {
            let x = x0 + f * plot;
            writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
                bottom + 14.0,
                escape(&(self.format)(value))
            )?;
        }
        writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}{}</text>"#,
            x0 + plot / 2.0,
            bottom + 29.0,
            escape(&self.unit),
            if self.scale == Scale::Log {
                " (log scale)"
            } else {
                ""
            }
        )?;
        for (r, ((label, values), &total)) in self.rows.iter().zip(&totals).enumerate() {
            let y = top + ROW * r as f64;
            writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
                x0 - 8.0,
                y + ROW * 0.65,
                escape(label)
            )?;
            let length = axis.fraction(total) * plot;
            let mut x = x0;
            for (i, &v) in values.iter().enumerate() {
                let v = clean(v);
                if v <= 0.0 || total <= 0.0 {
                    continue;
                }
                let w = length * v / total;
                let name = self.series.get(i).map_or("", String::as_str);
                writeln!(
                    out,
                    r#"<rect x="{x:.2}" y="{:.1}" width="{w:.2}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                    y + 4.0,
                    ROW - 8.0,
                    PALETTE[i % PALETTE.len()],
                    escape(name),
                    escape(&(self.format)(v))
                )?;
                x += w;
            }
            writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
                x0 + length + 6.0,
                y + ROW * 0.65,
                escape(&(self.format)(total))
            )?;
        }
        Ok(())
    }
}

/// A standalone SVG document with `title` on top and the panels stacked below it.
pub fn document(title: &str, panels: &[Panel]) -> String {
    let height = 40.0 + panels.iter().map(Panel::height).sum::<f64>();
    let mut out = String::new();
    // Writing to a String cannot fail; the Results below are always Ok.
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif">"#
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="#fff"/><text x="10" y="24" font-size="17" font-weight="bold">{}</text>"##,
        escape(title)
    );
    let mut y = 40.0;
    for p in panels {
        let _ = p.render(&mut out, y);
        y += p.height();
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        format!("{v}")
    }

    fn panel(scale: Scale, rows: Vec<(String, Vec<f64>)>) -> Panel {
        Panel {
            title: "t".into(),
            unit: "s".into(),
            series: vec!["a".into(), "b".into()],
            rows,
            scale,
            format: fmt,
        }
    }

    #[test]
    fn document_is_one_svg_element_with_a_rect_per_positive_segment() {
        let p = panel(
            Scale::Linear,
            vec![("x".into(), vec![1.0, 2.0]), ("y".into(), vec![0.0, 5.0])],
        );
        let s = document("demo", &[p]);
        assert!(s.starts_with("<svg "));
        assert!(s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<svg").count(), 1);
        // Background + 2 legend swatches + 3 positive segments.
        assert_eq!(s.matches("<rect").count(), 6);
        assert!(s.contains(">x</text>") && s.contains(">y</text>"));
    }

    #[test]
    fn linear_bars_are_proportional_to_totals() {
        let axis = Axis::new(Scale::Linear, &[3.0, 7.0]);
        assert_eq!(axis.hi, 10.0);
        assert!((axis.fraction(7.0) - 0.7).abs() < 1e-12);
        assert_eq!(axis.fraction(0.0), 0.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(1.5), 2.0);
        assert_eq!(nice_max(300.0), 500.0);
        assert_eq!(nice_max(1000.0), 1000.0);
    }

    #[test]
    fn log_axis_spans_whole_decades_and_orders_bars() {
        let axis = Axis::new(Scale::Log, &[0.005, 5.5]);
        assert_eq!((axis.lo, axis.hi), (-3.0, 1.0));
        let (a, b) = (axis.fraction(0.005), axis.fraction(5.5));
        assert!(0.0 < a && a < b && b <= 1.0, "{a} {b}");
        let ticks = axis.ticks();
        assert_eq!(ticks.len(), 5);
        assert_eq!(ticks[0].1, 0.0);
        assert!((ticks[4].1 - 1.0).abs() < 1e-12);
        // A total on a decade still gets a bar, and one value still gives an axis.
        let one = Axis::new(Scale::Log, &[100.0]);
        assert_eq!((one.lo, one.hi), (1.0, 2.0));
        assert_eq!(one.fraction(100.0), 1.0);
    }

    #[test]
    fn text_is_escaped_and_bad_numbers_never_reach_the_output() {
        let mut p = panel(
            Scale::Log,
            vec![
                ("<a&b>".into(), vec![f64::NAN, -1.0]),
                ("\"q\"".into(), vec![f64::INFINITY, 0.0]),
            ],
        );
        p.title = "x < y".into();
        let s = document("t & u", &[p.clone()]);
        assert!(s.contains("&lt;a&amp;b&gt;"));
        assert!(s.contains("&quot;q&quot;"));
        assert!(s.contains("x &lt; y") && s.contains("t &amp; u"));
        assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        p.rows.clear();
        p.scale = Scale::Linear;
        let empty = document("empty", &[p]);
        assert!(empty.ends_with("</svg>\n") && !empty.contains("NaN"));
    }
}
