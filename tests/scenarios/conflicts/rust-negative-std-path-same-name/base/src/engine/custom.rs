use std::ffi::OsStr;

/// Complete a value as a [`std::path::Path`]
pub struct PathCompleter {
    cwd: Option<std::path::PathBuf>,
    filter: Option<Box<dyn Fn(&std::path::Path) -> bool + Send + Sync>>,
}

impl PathCompleter {
    /// Any path is allowed
    pub fn any() -> Self {
        Self {
            filter: None,
            cwd: None,
        }
    }

    /// Override [`std::env::current_dir`]
    pub fn current_dir(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.cwd = Some(path.into());
        self
    }

    fn candidates(&self, current: &OsStr) -> Vec<std::path::PathBuf> {
        let dir = self.cwd.as_deref();
        complete_path(current, dir)
    }
}

/// A completer rooted in the test's directory
pub fn test_completer() -> PathCompleter {
    PathCompleter::any().current_dir("tests")
}
