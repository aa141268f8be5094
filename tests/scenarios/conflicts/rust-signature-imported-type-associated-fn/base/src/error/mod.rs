use crate::builder::Command;
use crate::builder::StyledStr;

/// Command Line Argument Parser Error
pub struct Error<F: ErrorFormatter = RichFormatter> {
    inner: Box<ErrorInner>,
    phantom: std::marker::PhantomData<F>,
}

impl<F: ErrorFormatter> Error<F> {
    pub(crate) fn missing_required_argument(
        cmd: &Command,
        required: Vec<String>,
        usage: Option<StyledStr>,
    ) -> Self {
        let mut err = Self::new(ErrorKind::MissingRequiredArgument).with_cmd(cmd);
        err = err.extend_context_unchecked([(ContextKind::InvalidArg, ContextValue::Strings(required))]);
        if let Some(usage) = usage {
            err = err.insert_context_unchecked(ContextKind::Usage, ContextValue::StyledStr(usage));
        }
        err
    }

    pub(crate) fn argument_conflict(cmd: &Command, arg: String, usage: Option<StyledStr>) -> Self {
        Self::new(ErrorKind::ArgumentConflict).with_cmd(cmd).set_info(vec![arg]).with_usage(usage)
    }
}
