// Generated: the Keccak-f[1600] permutation, unrolled, state in 25 locals.
// Lane (x, y) is a{x+5y}; round constants and rotations from FIPS 202.
export function keccakF (s: usize): void {
  let a0 = load<u64>(s, 0)
  let a1 = load<u64>(s, 8)
  let a2 = load<u64>(s, 16)
  let a3 = load<u64>(s, 24)
  let a4 = load<u64>(s, 32)
  let a5 = load<u64>(s, 40)
  let a6 = load<u64>(s, 48)
  let a7 = load<u64>(s, 56)
  let a8 = load<u64>(s, 64)
  let a9 = load<u64>(s, 72)
  let a10 = load<u64>(s, 80)
  let a11 = load<u64>(s, 88)
  let a12 = load<u64>(s, 96)
  let a13 = load<u64>(s, 104)
  let a14 = load<u64>(s, 112)
  let a15 = load<u64>(s, 120)
  let a16 = load<u64>(s, 128)
  let a17 = load<u64>(s, 136)
  let a18 = load<u64>(s, 144)
  let a19 = load<u64>(s, 152)
  let a20 = load<u64>(s, 160)
  let a21 = load<u64>(s, 168)
  let a22 = load<u64>(s, 176)
  let a23 = load<u64>(s, 184)
  let a24 = load<u64>(s, 192)
  let c0: u64, c1: u64, c2: u64, c3: u64, c4: u64, d0: u64, d1: u64, d2: u64, d3: u64, d4: u64
  let b0: u64
  let b1: u64
  let b2: u64
  let b3: u64
  let b4: u64
  let b5: u64
  let b6: u64
  let b7: u64
  let b8: u64
  let b9: u64
  let b10: u64
  let b11: u64
  let b12: u64
  let b13: u64
  let b14: u64
  let b15: u64
  let b16: u64
  let b17: u64
  let b18: u64
  let b19: u64
  let b20: u64
  let b21: u64
  let b22: u64
  let b23: u64
  let b24: u64
  for (let round = 0; round < 24; round++) {
    c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
    c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
    c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
    c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
    c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
    d0 = c4 ^ rotl<u64>(c1, 1)
    d1 = c0 ^ rotl<u64>(c2, 1)
    d2 = c1 ^ rotl<u64>(c3, 1)
    d3 = c2 ^ rotl<u64>(c4, 1)
    d4 = c3 ^ rotl<u64>(c0, 1)
    b0 = (a0 ^ d0)
    b16 = rotl<u64>((a5 ^ d0), 36)
    b7 = rotl<u64>((a10 ^ d0), 3)
    b23 = rotl<u64>((a15 ^ d0), 41)
    b14 = rotl<u64>((a20 ^ d0), 18)
    b10 = rotl<u64>((a1 ^ d1), 1)
    b1 = rotl<u64>((a6 ^ d1), 44)
    b17 = rotl<u64>((a11 ^ d1), 10)
    b8 = rotl<u64>((a16 ^ d1), 45)
    b24 = rotl<u64>((a21 ^ d1), 2)
    b20 = rotl<u64>((a2 ^ d2), 62)
    b11 = rotl<u64>((a7 ^ d2), 6)
    b2 = rotl<u64>((a12 ^ d2), 43)
    b18 = rotl<u64>((a17 ^ d2), 15)
    b9 = rotl<u64>((a22 ^ d2), 61)
    b5 = rotl<u64>((a3 ^ d3), 28)
    b21 = rotl<u64>((a8 ^ d3), 55)
    b12 = rotl<u64>((a13 ^ d3), 25)
    b3 = rotl<u64>((a18 ^ d3), 21)
    b19 = rotl<u64>((a23 ^ d3), 56)
    b15 = rotl<u64>((a4 ^ d4), 27)
    b6 = rotl<u64>((a9 ^ d4), 20)
    b22 = rotl<u64>((a14 ^ d4), 39)
    b13 = rotl<u64>((a19 ^ d4), 8)
    b4 = rotl<u64>((a24 ^ d4), 14)
    a0 = b0 ^ (~b1 & b2)
    a1 = b1 ^ (~b2 & b3)
    a2 = b2 ^ (~b3 & b4)
    a3 = b3 ^ (~b4 & b0)
    a4 = b4 ^ (~b0 & b1)
    a5 = b5 ^ (~b6 & b7)
    a6 = b6 ^ (~b7 & b8)
    a7 = b7 ^ (~b8 & b9)
    a8 = b8 ^ (~b9 & b5)
    a9 = b9 ^ (~b5 & b6)
    a10 = b10 ^ (~b11 & b12)
    a11 = b11 ^ (~b12 & b13)
    a12 = b12 ^ (~b13 & b14)
    a13 = b13 ^ (~b14 & b10)
    a14 = b14 ^ (~b10 & b11)
    a15 = b15 ^ (~b16 & b17)
    a16 = b16 ^ (~b17 & b18)
    a17 = b17 ^ (~b18 & b19)
    a18 = b18 ^ (~b19 & b15)
    a19 = b19 ^ (~b15 & b16)
    a20 = b20 ^ (~b21 & b22)
    a21 = b21 ^ (~b22 & b23)
    a22 = b22 ^ (~b23 & b24)
    a23 = b23 ^ (~b24 & b20)
    a24 = b24 ^ (~b20 & b21)
    a0 ^= load<u64>(ROUND_CONSTANTS + (<usize>round << 3))
  }
  store<u64>(s, a0, 0)
  store<u64>(s, a1, 8)
  store<u64>(s, a2, 16)
  store<u64>(s, a3, 24)
  store<u64>(s, a4, 32)
  store<u64>(s, a5, 40)
  store<u64>(s, a6, 48)
  store<u64>(s, a7, 56)
  store<u64>(s, a8, 64)
  store<u64>(s, a9, 72)
  store<u64>(s, a10, 80)
  store<u64>(s, a11, 88)
  store<u64>(s, a12, 96)
  store<u64>(s, a13, 104)
  store<u64>(s, a14, 112)
  store<u64>(s, a15, 120)
  store<u64>(s, a16, 128)
  store<u64>(s, a17, 136)
  store<u64>(s, a18, 144)
  store<u64>(s, a19, 152)
  store<u64>(s, a20, 160)
  store<u64>(s, a21, 168)
  store<u64>(s, a22, 176)
  store<u64>(s, a23, 184)
  store<u64>(s, a24, 192)
}

const ROUND_CONSTANTS = memory.data<u64>([0x1, 0x8082, 0x800000000000808a, 0x8000000080008000, 0x808b, 0x80000001, 0x8000000080008081, 0x8000000000008009, 0x8a, 0x88, 0x80008009, 0x8000000a, 0x8000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x800a, 0x800000008000000a, 0x8000000080008081, 0x8000000000008080, 0x80000001, 0x8000000080008008])
