use syn;
use syn::Ident;

/// The name a container is serialized under.
pub fn name_of(ident: &Ident) -> String {
    ident.to_string()
}

/// Whether the input is an enum.
pub fn is_enum(input: &syn::DeriveInput) -> bool {
    matches!(input.data, syn::Data::Enum(_))
}
