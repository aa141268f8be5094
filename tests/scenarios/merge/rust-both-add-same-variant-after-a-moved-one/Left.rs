/// Settings that change how a [`Table`] is printed.
#[derive(Debug, PartialEq, Copy, Clone)]
#[non_exhaustive]
pub enum TableSettings {
    /// Prints the header row in bold.
    BoldHeader,

    /// Draws a line between every two rows.
    RowLines,

    /// Wraps long cells onto the next line instead of cutting them.
    NextLineWrap,

    /// Prints the table without colors.
    DisableColor,

    /// Right-aligns the cells that hold numbers.
    AlignNumbers,

    /// Hides the columns whose cells are all empty.
    HideEmptyColumns,
}
