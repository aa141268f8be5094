/// A decoder holding a `&str`.
pub struct StrDecoder<'a, E> {
    value: &'a str,
    marker: PhantomData<E>,
}

/// A decoder holding a `&[u8]`.
pub struct BytesDecoder<'a, E> {
    value: &'a [u8],
    marker: PhantomData<E>,
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
