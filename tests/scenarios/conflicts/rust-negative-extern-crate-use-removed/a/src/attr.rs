use syn::Ident;

/// The name a container is serialized under.
pub fn name_of(ident: &Ident) -> String {
    ident.to_string()
}
