//! Checksums of blocks.

pub fn checksum(data: &[u8], seed: u32) -> u32 {
    let mut a: u32 = seed;
    let mut b: u32 = 0;
    for byte in data {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

pub fn verify(data: &[u8], expected: u32) -> bool {
    checksum(data, 1) == expected
}
