use crate::util::{color::ColorChoice, ChildGraph, Id};

// Initializing methods
impl<'cmd> Parser<'cmd> {
    pub(crate) fn new(cmd: &'cmd mut Command) -> Self {
        Parser {
            cmd,
            required: ChildGraph::new(),
        }
    }

    pub(crate) fn build(&mut self) {
        debug_assert!(self.verify_positionals());
        for group in &self.cmd.groups {
            self.required.insert(group.id.clone());
        }
    }

    fn verify_positionals(&self) -> bool {
        let highest = self.cmd.positionals().map(|p| p.index).max();
        highest.unwrap_or(0) == self.cmd.positionals().count()
    }

    // Should the help be colored?
    pub(crate) fn color_help(&self) -> ColorChoice {
        if self.cmd.is_set(Setting::DisableColoredHelp) {
            return ColorChoice::Never;
        }

        self.cmd.get_color()
    }
}

// Error and help methods
impl<'cmd> Parser<'cmd> {
    pub(crate) fn write_help_err(&self) -> Result<Colorizer, Error> {
        let mut c = Colorizer::new(true, self.cmd.get_color());
        Help::new(&mut c, self).write_help()?;
        Ok(c)
    }
}
