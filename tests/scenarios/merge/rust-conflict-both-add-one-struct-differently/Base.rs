/// A decoder holding a `&str`.
pub struct StrDecoder<'a, E> {
    value: &'a str,
    marker: PhantomData<E>,
}

/// A decoder holding a borrowed `&[u8]`.
pub struct BorrowedBytesDecoder<'de, E> {
    value: &'de [u8],
    marker: PhantomData<E>,
}
