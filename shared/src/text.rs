//! Text as search and screening compare it: folded (lower case, no accents)
//! and split into words.

/// Lower case, without accents (NFD, combining marks dropped; `đ` → `d`).
pub fn fold(text: &str) -> String {
    let decomposed = icu_normalizer::DecomposingNormalizerBorrowed::new_nfd().normalize(text);
    decomposed
        .chars()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'đ' => 'd',
            'ø' => 'o',
            'ł' => 'l',
            other => other,
        })
        .collect()
}

/// Combining marks of the blocks Latin (and Vietnamese) text uses.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}')
}

/// The folded words of `text`: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Chế Tạo BOM"), "che tao bom");
        assert_eq!(fold("Đường"), "duong");
        assert_eq!(fold("cafe\u{0301}"), "cafe");
    }
}
