use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Data, DataStruct, DeriveInput, Fields, Ident};

use crate::attrs::{Attrs, Name};
