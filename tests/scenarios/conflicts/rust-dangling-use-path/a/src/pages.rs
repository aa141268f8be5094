//! Pages of the site.

pub struct Page {
    pub title: String,
    pub body: String,
}

impl Page {
    pub fn path(&self) -> String {
        format!("/{}.html", crate::text::slug(&self.title))
    }
}
