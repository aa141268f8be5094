//! Checksums of blocks.

pub fn checksum(data: &[u8]) -> u32 {
    let mut a: u32 = 1;
    let mut b: u32 = 0;
    for byte in data {
        a = (a + u32::from(*byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

pub fn verify(data: &[u8], expected: u32) -> bool {
    checksum(data) == expected
}

pub fn checksum_all(blocks: &[Vec<u8>]) -> Vec<u32> {
    blocks.iter().map(|block| checksum(block)).collect()
}
