//! The site's feed.

use crate::pages::Page;

pub fn titles(pages: &[Page]) -> Vec<String> {
    pages.iter().map(|p| p.title.clone()).collect()
}

pub fn count(pages: &[Page]) -> usize {
    pages.iter().filter(|p| !p.body.is_empty()).count()
}
