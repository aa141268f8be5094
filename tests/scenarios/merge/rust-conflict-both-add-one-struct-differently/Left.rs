/// A decoder holding a `&str`.
pub struct StrDecoder<'a, E> {
    value: &'a str,
    marker: PhantomData<E>,
}

/// A decoder holding a `&[u8]`. Always calls [`Visitor::visit_bytes`].
pub struct BytesDecoder<'a, E> {
    value: &'a [u8],
    marker: PhantomData<E>,
}

impl<'a, E> BytesDecoder<'a, E> {
    /// Creates a decoder of the given bytes.
    pub fn new(value: &'a [u8]) -> Self {
        BytesDecoder {
            value,
            marker: PhantomData,
        }
    }
}

/// A decoder holding a borrowed `&[u8]`.
pub struct BorrowedBytesDecoder<'de, E> {
    value: &'de [u8],
    marker: PhantomData<E>,
}
