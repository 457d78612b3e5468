// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Binary32} from "./Binary32.sol";

/// @title Binary32Folds
/// @notice The reductions of the step program over packed words (4 bytes per element,
///         big-endian, as committed): dot, sum and max, each bit-identical to folding
///         the {Binary32} operation element by element in increasing index order.
/// @dev Each fold runs in one assembly loop over calldata; an element whose result is
///      NaN leaves the loop for the plain {Binary32} operation.
library Binary32Folds {
    /// @notice Σ a[i]·b[i] in increasing i from +0, a rounding after every product and
    ///         every sum: the element program of a matmul (ops.matmul). The operands are
    ///         packed as committed: 4 bytes per element, big-endian (the proofs' bytes).
    /// @dev Bit-identical to `acc = add(acc, mul(a[i], b[i]))` term by term, in one
    ///      assembly loop. Values stay bit patterns: for finite x, |x| = ((e − 1) << 23) +
    ///      m with e = max(biased, 1) and m the significand (2^23 set when normal), so
    ///      patterns order as magnitudes and a rounding that carries m to 2^24 moves to the
    ///      next binade by itself. Both normal (the everyday term) takes the short path;
    ///      zeros, subnormals, infinities and overflow are handled in the loop too. Only a
    ///      term whose result is NaN (a NaN factor, ∞ × 0, ∞ − ∞) leaves it for {Binary32-mul} and
    ///      {Binary32-add}, and then the sum is NaN for good. Every branch is checked against that
    ///      composition in test/DotDifferential.t.sol.
    function dot(bytes calldata a, bytes calldata b) internal pure returns (uint32 acc) {
        uint256 n = a.length / 4;
        uint256 i = 0;
        uint32 x;
        uint32 y;
        while (true) {
            // Cannot overflow: patterns are 32 bits, significands below 2^24 shifted by at
            // most 25, products below 2^48, exponents within ±400 (signed where they can be
            // below 1); a subtraction that can wrap is range-checked before use.
            assembly ("memory-safe") {
                // s rounded to sh >= 1 fewer bits, to nearest, ties to even: adding half
                // an ulp less one, plus the kept lsb, carries exactly when rounding up.
                function round(s, sh) -> q {
                    q := shr(sh, add(add(s, sub(shl(sub(sh, 1), 1), 1)), and(shr(sh, s), 1)))
                }
                // Bits in s > 0.
                function bitlen(s) -> len {
                    let r := shl(5, gt(s, 0xffffffff))
                    r := or(r, shl(4, gt(shr(r, s), 0xffff)))
                    r := or(r, shl(3, gt(shr(r, s), 0xff)))
                    r := or(r, shl(2, gt(shr(r, s), 0xf)))
                    r := or(r, shl(1, gt(shr(r, s), 0x3)))
                    len := add(add(r, gt(shr(r, s), 0x1)), 1)
                }
                // s · 2^(e − 150), 0 < s < 2^51 and 1 <= e <= 254, rounded, as |pattern|.
                function finish(s, e) -> r {
                    let len := bitlen(s)
                    switch gt(len, 24)
                    case 1 {
                        let sh := sub(len, 24)
                        r := add(shl(23, sub(add(e, sh), 1)), round(s, sh))
                        if gt(r, 0x7f7fffff) { r := 0x7f800000 }
                    }
                    default {
                        let k := sub(24, len)
                        switch gt(e, k)
                        case 1 { r := add(shl(23, sub(sub(e, k), 1)), shl(k, s)) }
                        default { r := shl(sub(e, 1), s) } // subnormal, exact on the 2^-149 grid
                    }
                }
                // A finite nonzero |pattern| as m · 2^(e − 150), m in [2^23, 2^24), e signed.
                function unpack(v) -> m, e {
                    e := shr(23, v)
                    switch e
                    case 0 {
                        let k := sub(24, bitlen(v))
                        m := shl(k, v)
                        e := sub(1, k)
                    }
                    default { m := or(and(v, 0x7fffff), 0x800000) }
                }
                // p · 2^(be − 174), p in [2^47, 2^48), be signed, rounded, as |pattern|.
                function product(p, be) -> m {
                    switch slt(be, 1)
                    case 0 {
                        m := add(shl(23, sub(be, 1)), shr(24, add(add(p, 0x7fffff), and(shr(24, p), 1))))
                        if gt(m, 0x7f7fffff) { m := 0x7f800000 }
                    }
                    default {
                        let sh := sub(25, be) // to the 2^-149 grid; from 49 on, below half of it
                        if lt(sh, 49) { m := round(p, sh) }
                    }
                }

                let c := and(acc, 0xffffffff)
                let pa := add(a.offset, shl(2, i))
                let pb := add(b.offset, shl(2, i))
                for { let end := add(a.offset, shl(2, n)) } lt(pa, end) {
                    pa := add(pa, 4)
                    pb := add(pb, 4)
                } {
                    // Word i of each operand: calldataload takes 32 bytes, the top 4 are the word.
                    x := shr(224, calldataload(pa))
                    y := shr(224, calldataload(pb))
                    let ex := and(shr(23, x), 0xff)
                    let ey := and(shr(23, y), 0xff)
                    let ps := and(xor(x, y), 0x80000000)
                    // m = |x · y| as a pattern: 0, subnormal, normal or 0x7f800000.
                    let m := 0
                    switch and(lt(sub(ex, 1), 254), lt(sub(ey, 1), 254))
                    case 1 {
                        let p := mul(or(and(x, 0x7fffff), 0x800000), or(and(y, 0x7fffff), 0x800000))
                        let wide := shr(47, p)
                        p := shl(xor(wide, 1), p)
                        let be := sub(add(add(ex, ey), wide), 127)
                        // be in [1, 254]: m is at most (253 << 23) + 2^24, exactly ∞ on overflow.
                        m := add(shl(23, sub(be, 1)), shr(24, add(add(p, 0x7fffff), and(shr(24, p), 1))))
                        if iszero(lt(sub(be, 1), 254)) { m := product(p, be) }
                    }
                    default {
                        let ax := and(x, 0x7fffffff)
                        let ay := and(y, 0x7fffffff)
                        switch or(eq(ex, 255), eq(ey, 255))
                        case 1 {
                            // NaN × y, ∞ × 0: NaN, left to mul. Otherwise ±∞.
                            if or(or(gt(ax, 0x7f800000), gt(ay, 0x7f800000)), or(iszero(ax), iszero(ay))) { break }
                            m := 0x7f800000
                        }
                        default {
                            if mul(ax, ay) {
                                let mx, kx := unpack(ax)
                                let my, ky := unpack(ay)
                                let p := mul(mx, my)
                                let wide := shr(47, p)
                                m := product(shl(xor(wide, 1), p), sub(add(add(kx, ky), wide), 127))
                            }
                        }
                    }
                    // c + (ps | m).
                    let big := and(c, 0x7fffffff)
                    if iszero(and(lt(sub(m, 1), 0x7f7fffff), lt(sub(big, 1), 0x7f7fffff))) {
                        // A zero or an infinity on either side.
                        if iszero(m) {
                            if iszero(big) { c := and(c, ps) } // −0 only from −0 + −0
                            continue
                        }
                        if iszero(big) {
                            c := or(ps, m)
                            continue
                        }
                        if eq(m, 0x7f800000) {
                            if and(gt(big, 0x7f7fffff), iszero(eq(c, or(ps, 0x7f800000)))) { break } // ∞ − ∞
                            c := or(ps, 0x7f800000)
                            continue
                        }
                        continue // ±∞ + finite
                    }
                    // Both finite and nonzero: |big| >= |small|, the result takes big's sign.
                    let sign := and(c, 0x80000000)
                    let small := m
                    let same := eq(sign, ps)
                    if lt(big, small) {
                        small := big
                        big := m
                        sign := ps
                    }
                    let eb := shr(23, small)
                    let d := sub(shr(23, big), eb)
                    if iszero(eb) {
                        // small is subnormal: everything on the 2^-149 grid.
                        d := shr(23, big)
                        switch d
                        case 0 { d := big }
                        default {
                            // More than 25 binades apart, small is below half an ulp of big.
                            if gt(d, 26) {
                                c := or(sign, big)
                                continue
                            }
                            d := shl(sub(d, 1), or(and(big, 0x7fffff), 0x800000))
                        }
                        switch same
                        case 1 { d := add(d, small) }
                        default { d := sub(d, small) }
                        switch d
                        case 0 { c := 0 } // x − x = +0
                        default { c := or(sign, finish(d, 1)) }
                        continue
                    }
                    if gt(d, 25) {
                        c := or(sign, big)
                        continue
                    }
                    big := shl(d, or(and(big, 0x7fffff), 0x800000))
                    small := or(and(small, 0x7fffff), 0x800000)
                    // The exact result is s · 2^(eb − 150): s has 24 + d + carry bits (a sum)
                    // or, for d >= 2, 23 + d + carry (a difference).
                    if same {
                        let s := add(big, small)
                        let sh := add(d, shr(add(24, d), s))
                        let r := add(shl(23, sub(add(eb, sh), 1)), round(s, sh))
                        if gt(r, 0x7f7fffff) { r := 0x7f800000 }
                        c := or(sign, r)
                        continue
                    }
                    let s := sub(big, small)
                    if gt(d, 1) {
                        let sh := add(sub(d, 1), shr(add(23, d), s))
                        c := or(sign, add(shl(23, sub(add(eb, sh), 1)), round(s, sh)))
                        continue
                    }
                    // Cancellation: exact, maybe down to the subnormals or to zero.
                    switch s
                    case 0 { c := 0 }
                    default { c := or(sign, finish(s, eb)) }
                }
                i := shr(2, sub(pa, a.offset))
                acc := c
            }
            if (i >= n) return acc;
            acc = Binary32.add(acc, Binary32.mul(x, y)); // NaN
            if (acc == Binary32.NAN) return Binary32.NAN;
            // Cannot overflow: i < n.
            unchecked {
                ++i;
            }
        }
    }

    /// @notice Σ x[i] in increasing i from +0, a rounding after every sum: the element
    ///         program of SUM. The words are packed as committed: 4 bytes per element,
    ///         big-endian (the proofs' bytes).
    /// @dev Bit-identical to `acc = add(acc, x[i])` element by element, in one assembly
    ///      loop. Values stay bit patterns, read as |x| = ((e − 1) << 23) + m with
    ///      e = max(biased, 1) and m the significand (2^23 set when normal): a subnormal is
    ///      a number of the first binade without its leading bit, so one path adds normals
    ///      and subnormals alike, and below 2^-125 a pattern is its value on the 2^-149
    ///      grid. The sum is never −0 (it starts at +0; only −0 + −0 is −0), so a zero
    ///      element leaves it as it is and +0 takes the path of a subnormal; once the sum
    ///      is ±∞ only a NaN or the other infinity can change it. Only an element whose sum
    ///      is NaN (a NaN element, ∞ − ∞) leaves the loop for {Binary32-add}, and then the sum is
    ///      NaN for good. Every branch is checked against that composition in
    ///      test/SumMaxDifferential.t.sol.
    function sum(bytes calldata words) internal pure returns (uint32 acc) {
        uint256 n = words.length / 4;
        uint256 i = 0;
        uint32 x;
        while (true) {
            // Cannot overflow: patterns are 32 bits, significands below 2^24 shifted by at
            // most 25, exponents within [0, 255]. The one subtraction that wraps, d when
            // both are subnormal, is caught by the far branch; sub(0, opp) is a mask.
            assembly ("memory-safe") {
                let c := and(acc, 0xffffffff)
                let p := add(words.offset, shl(2, i))
                let end := add(words.offset, shl(2, n))
                // c is +0 or finite and nonzero here; the loop leaves on c = ±∞ (p past the
                // word that made it) or on a NaN element (p at it).
                for {} lt(p, end) { p := add(p, 4) } {
                    // Word i: calldataload takes 32 bytes, the top 4 are the word.
                    let v := shr(224, calldataload(p))
                    let small := and(v, 0x7fffffff)
                    if iszero(lt(sub(small, 1), 0x7f7fffff)) {
                        // v is ±0 (c + ±0 = c), NaN (left to add) or ±∞ (then so is c).
                        if iszero(small) { continue }
                        if gt(small, 0x7f800000) { break }
                        c := v
                        p := add(p, 4)
                        break
                    }
                    // |big| >= |small|; the result takes big's sign, the sign bit of `sign`.
                    let opp := shr(31, xor(c, v)) // 1 for a difference
                    let big := and(c, 0x7fffffff)
                    let sign := c
                    if lt(big, small) {
                        sign := v
                        small := big
                        big := and(v, 0x7fffffff)
                    }
                    // e1 = e − 1 of small (0 when subnormal), d = big's biased exponent − e.
                    let e1 := shr(23, small)
                    e1 := sub(e1, iszero(iszero(e1)))
                    let eb := shr(23, big)
                    let d := sub(sub(eb, 1), e1)
                    if gt(d, 25) {
                        // Both subnormal (eb = 0, d wrapped): exact on the 2^-149 grid, where
                        // patterns are values and a carry to 2^23 makes the least normal.
                        if iszero(eb) {
                            big := add(add(big, xor(small, sub(0, opp))), opp)
                            c := 0 // x − x = +0
                            if big { c := or(and(sign, 0x80000000), big) }
                            continue
                        }
                        // More than 25 binades apart, small is below a quarter of an ulp of
                        // big (the half ulp below a power of two included).
                        c := or(and(sign, 0x80000000), big)
                        continue
                    }
                    // big is normal. The exact result is s · 2^(e1 − 149): big's
                    // significand shifted up by d, plus or minus small's (−m is ~m + 1).
                    let s :=
                        add(
                            add(shl(d, or(and(big, 0x7fffff), 0x800000)), xor(sub(small, shl(23, e1)), sub(0, opp))),
                            opp
                        )
                    if lt(s, 0x1000000) {
                        // Exact: zero (x − x = +0), or s with its leading bit shifted up to
                        // 2^23, but by at most e1 places (down to the subnormals).
                        if iszero(s) {
                            c := 0
                            continue
                        }
                        let k := 0
                        if lt(s, 0x800000) {
                            // 23 − the leading bit's index: by halves, then a table of the
                            // leading bit of 1 .. 15 (byte j of the constant).
                            let r := shl(4, gt(s, 0xffff))
                            r := or(r, shl(3, gt(shr(r, s), 0xff)))
                            r := add(r, shl(2, gt(shr(r, s), 0xf)))
                            k := sub(
                                23,
                                add(
                                    r,
                                    byte(shr(r, s), 0x0000010102020202030303030303030300000000000000000000000000000000)
                                )
                            )
                            if lt(e1, k) { k := e1 }
                        }
                        c := or(and(sign, 0x80000000), add(shl(23, sub(e1, k)), shl(k, s)))
                        continue
                    }
                    // s has 24 + d − opp or one more bit: keep 24, rounding to nearest, ties to
                    // even (adding half an ulp less one, plus the kept lsb, carries exactly
                    // when rounding up). Here s >= 2^24, so d = 0 only for a sum: t >= 0 and
                    // sh >= 1.
                    let t := sub(d, opp)
                    let sh := add(t, shr(add(24, t), s))
                    let r :=
                        add(shl(23, add(e1, sh)), shr(sh, add(add(s, sub(shl(sub(sh, 1), 1), 1)), and(shr(sh, s), 1))))
                    if gt(r, 0x7f7fffff) {
                        c := or(and(sign, 0x80000000), 0x7f800000) // overflow
                        p := add(p, 4)
                        break
                    }
                    c := or(and(sign, 0x80000000), r)
                }
                // c = ±∞: it stays unless an element is NaN or the other infinity (NaN).
                if eq(and(c, 0x7fffffff), 0x7f800000) {
                    for {} lt(p, end) { p := add(p, 4) } {
                        let v := shr(224, calldataload(p))
                        if gt(and(v, 0x7fffffff), 0x7f800000) { break }
                        if eq(xor(v, c), 0x80000000) { break }
                    }
                }
                i := shr(2, sub(p, words.offset))
                x := shr(224, calldataload(p)) // the element that left the loop, if i < n
                acc := c
            }
            if (i >= n) return acc;
            acc = Binary32.add(acc, x); // NaN
            if (acc == Binary32.NAN) return Binary32.NAN;
            // Cannot overflow: i < n.
            unchecked {
                ++i;
            }
        }
    }

    /// @notice max over the words from −∞, in increasing i: the element program of MAXR,
    ///         bit-identical to `acc = max(acc, x[i])` from acc = −∞ (0xff800000). The
    ///         words are packed as committed: 4 bytes per element, big-endian.
    /// @dev {Binary32-max} is a total order on the non-NaN patterns with +0 above −0 (of two
    ///      zeros it keeps +0 unless both are −0, and otherwise keeps the first of two
    ///      equal values, which then have the same bits), so the fold is the largest
    ///      element by that order. Mapping a pattern to an unsigned key, positive ones
    ///      with the sign bit set and negative ones complemented, makes that order the
    ///      integers' (−∞ is 0x007fffff, −0 0x7fffffff, +0 0x80000000). A NaN anywhere
    ///      makes the fold NaN, as it makes every {Binary32-max} after it.
    function maxFold(bytes calldata words) internal pure returns (uint32 acc) {
        assembly ("memory-safe") {
            let k := 0x007fffff // key of −∞
            let nan := 0
            for {
                let p := words.offset
                let end := add(p, shl(2, shr(2, words.length)))
            } lt(p, end) { p := add(p, 4) } {
                let x := shr(224, calldataload(p))
                // Key: x ^ 0x80000000 when positive, x ^ 0xffffffff when negative.
                let kx := xor(x, or(0x80000000, mul(shr(31, x), 0x7fffffff)))
                if gt(kx, k) { k := kx }
                nan := or(nan, gt(and(x, 0x7fffffff), 0x7f800000))
            }
            acc := xor(k, or(0x80000000, mul(iszero(shr(31, k)), 0x7fffffff)))
            if nan { acc := 0x7fc00000 }
        }
    }
}
