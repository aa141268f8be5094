impl Matches {
    /// Gets the value of a specific option or positional argument.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tabs::Command;
    /// let matches = Command::new("report")
    ///     .arg(arg!([width] "The width of a column"))
    ///     .get_matches_from(&["report", "12"]);
    /// assert_eq!(matches.value_of("width"), Some("12"));
    /// ```
    pub fn value_of<T: Key>(&self, id: T) -> Option<&str> {
        let arg = self.get_arg(&Id::from(id))?;
        arg.first().map(|v| v.as_str())
    }
}
