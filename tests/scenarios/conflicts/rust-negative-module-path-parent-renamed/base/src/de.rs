mod enum_;
mod enum_adjacently;

use crate::internals::ast::Container;
use proc_macro2::TokenStream;

pub fn deserialize(cont: &Container) -> TokenStream {
    enum_adjacently::deserialize(&cont.variants, "t", "c")
}
