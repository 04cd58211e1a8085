//! QR codes of page addresses, as inline SVG small enough for a catalog page to carry one per
//! channel: one path of the dark modules' horizontal runs, in units of a module.

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

/// The light border a reader needs around the code, in modules.
const QUIET_ZONE: usize = 4;

/// A QR code of `url` as inline SVG, dark modules on white so phones read it in dark mode too,
/// drawn `px` pixels wide unless styled otherwise.
pub fn svg(url: &str, px: u32) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(url, EcLevel::M)?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && row[x] == Color::Dark {
                x += 1;
            }
            let (left, top) = (start + QUIET_ZONE, y + QUIET_ZONE);
            let _ = write!(path, "M{left} {top}h{}v1H{left}z", x - start);
        }
    }
    let size = width + 2 * QUIET_ZONE;
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="{px}" height="{px}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dark_module_is_drawn_once_and_nothing_else() {
        let url = "https://builds.example.com/field/1.10.1-205/";
        let code = QrCode::with_error_correction_level(url, EcLevel::M).unwrap();
        let width = code.width();
        let mut drawn = vec![false; width * width];
        let svg = svg(url, 200).unwrap();
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        for run in path.split('M').filter(|r| !r.is_empty()) {
            let (at, rest) = run.split_once('h').unwrap();
            let (x, y) = at.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let len: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            for dx in 0..len {
                let at = (y - QUIET_ZONE) * width + x - QUIET_ZONE + dx;
                assert!(!drawn[at], "drawn twice");
                drawn[at] = true;
            }
        }
        let dark: Vec<bool> = code.to_colors().iter().map(|c| *c == Color::Dark).collect();
        assert_eq!(drawn, dark);
        assert!(svg.len() < 5000, "{} bytes", svg.len());
    }
}
