impl<'a> Flag<'a> {
    /// Adds a [`Flag`] alias that works exactly like those added with
    /// [`Flag::alias`], except that it is listed in the help message.
    ///
    /// # Examples
    ///
    /// ```rust
    /// # use tabs::Flag;
    /// let flag = Flag::new("color").visible_short_alias('c');
    /// assert_eq!(flag.get_visible_short_aliases(), Some(vec!['c']));
    /// ```
    /// [`Flag::alias`]: Flag::short_alias()
    pub fn visible_short_alias(mut self, name: char) -> Self {
        assert!(name != '-', "a short alias cannot be `-`");

        self.short_aliases.push((name, true));
        self
    }
}
