use crate::builder::Command;
use crate::error::Error;
use crate::output::Usage;

pub(crate) struct Validator<'cmd> {
    cmd: &'cmd Command,
    required: Vec<String>,
}

impl<'cmd> Validator<'cmd> {
    fn missing_required_error(&self, matcher: &ArgMatcher) -> Result<(), Error> {
        let usg = Usage::new(self.cmd).required(&self.required);
        let req_args = self.required.clone();
        Err(Error::missing_required_argument(
            self.cmd,
            req_args,
            usg.create_usage_with_title(&[]),
        ))
    }

    fn build_conflict_err(&self, name: String) -> Result<(), Error> {
        let usg = Usage::new(self.cmd).required(&self.required);
        Err(Error::argument_conflict(self.cmd, name, usg.create_usage_with_title(&[])))
    }
}
