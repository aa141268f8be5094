/// A decoder holding a `&str`.
pub struct StrDecoder<'a, E> {
    value: &'a str,
    marker: PhantomData<E>,
}

<<<<<<< left
/// A decoder holding a `&[u8]`. Always calls [`Visitor::visit_bytes`].
pub struct BytesDecoder<'a, E> {
    value: &'a [u8],
    marker: PhantomData<E>,
}
||||||| base
=======
/// A decoder holding a `&[u8]`.
pub struct BytesDecoder<'a, E> {
    value: &'a [u8],
    marker: PhantomData<E>,
}
>>>>>>> right

impl<'a, E> BytesDecoder<'a, E> {
    /// Creates a decoder of the given bytes.
    pub fn new(value: &'a [u8]) -> Self {
        BytesDecoder {
            value,
            marker: PhantomData,
        }
    }
}

impl<'de, 'a, E> IntoDecoder<'de, E> for &'a [u8] {
    type Decoder = BytesDecoder<'a, E>;

    fn into_decoder(self) -> BytesDecoder<'a, E> {
        BytesDecoder {
            value: self,
            marker: PhantomData,
        }
    }
}

/// A decoder holding a borrowed `&[u8]`.
pub struct BorrowedBytesDecoder<'de, E> {
    value: &'de [u8],
    marker: PhantomData<E>,
}
