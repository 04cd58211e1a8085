//! Version ordering: dotted numbers compare numerically (1.10 is newer than 1.9), so builds are
//! listed newest first the way people read version numbers.

use std::cmp::Ordering;

/// Compares two version strings component by component. Numeric components compare as numbers,
/// others as text; a missing component counts as zero, so `1.0` and `1.0.0` tie.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut left = components(a);
    let mut right = components(b);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (l, r) => {
                let order = compare_component(l.unwrap_or("0"), r.unwrap_or("0"));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn components(v: &str) -> impl Iterator<Item = &str> {
    v.trim()
        .split(['.', '-', '_', ' '])
        .filter(|c| !c.is_empty())
}

fn compare_component(a: &str, b: &str) -> Ordering {
    let (a_num, a_rest) = split_number(a);
    let (b_num, b_rest) = split_number(b);
    match (a_num, b_num) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| compare_suffix(a_rest, b_rest)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

/// `3` is newer than `3rc1`: a bare number beats the same number with a suffix.
fn compare_suffix(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// Leading digits as a number (leading zeros ignored, no overflow), and the rest.
fn split_number(s: &str) -> (Option<(usize, &str)>, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (None, s);
    }
    let trimmed = s[..digits].trim_start_matches('0');
    // Compare by length first, then lexically: exact for any number of digits.
    (Some((trimmed.len(), trimmed)), &s[digits..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn compares_dotted_numbers_numerically() {
        assert_eq!(compare("1.10", "1.9"), Greater);
        assert_eq!(compare("1.9", "1.10"), Less);
        assert_eq!(compare("2.0", "10.0"), Less);
        assert_eq!(compare("1.2.10", "1.2.9"), Greater);
    }

    #[test]
    fn missing_components_count_as_zero() {
        assert_eq!(compare("1.0", "1.0.0"), Equal);
        assert_eq!(compare("1", "1.0.1"), Less);
    }

    #[test]
    fn leading_zeros_and_huge_numbers_compare_exactly() {
        assert_eq!(compare("1.01", "1.1"), Equal);
        assert_eq!(
            compare("99999999999999999999999.1", "99999999999999999999998.9"),
            Greater
        );
    }

    #[test]
    fn release_beats_its_prerelease() {
        assert_eq!(compare("3.0", "3.0rc1"), Greater);
        assert_eq!(compare("3.0rc2", "3.0rc1"), Greater);
        assert_eq!(compare("3.0-beta", "3.0"), Less);
    }

    #[test]
    fn text_components_sort_below_numbers() {
        assert_eq!(compare("1.x", "1.0"), Less);
        assert_eq!(compare("alpha", "beta"), Less);
    }
}
