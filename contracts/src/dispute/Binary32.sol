// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Binary32
/// @notice IEEE-754 binary32 arithmetic on bit patterns, bit-identical to the engine's
///         canonical numerics (docs/design.md §4): +, −, ×, ÷ and square root correctly rounded to
///         nearest, ties to even, with signed zeros, subnormals and infinities. Every NaN
///         result is the canonical quiet NaN 0x7fc00000 (commitments canonicalise NaN too).
/// @dev Each operation computes the exact result as an integer times a power of two and
///      rounds it once in {_round}. The folds over packed words (dot, sum, max) are in
///      {Binary32Folds}.
library Binary32 {
    uint32 internal constant NAN = 0x7fc00000;
    uint32 internal constant INF = 0x7f800000;
    uint32 internal constant SIGN = 0x80000000;
    uint32 internal constant ABS = 0x7fffffff;

    function isNaN(uint32 x) internal pure returns (bool) {
        return x & ABS > INF;
    }

    function isInf(uint32 x) internal pure returns (bool) {
        return x & ABS == INF;
    }

    function isZero(uint32 x) internal pure returns (bool) {
        return x & ABS == 0;
    }

    function neg(uint32 x) internal pure returns (uint32) {
        return isNaN(x) ? NAN : x ^ SIGN;
    }

    /// @dev A finite nonzero value as m · 2^e with m < 2^24.
    function _unpack(uint32 x) private pure returns (uint256 m, int256 e) {
        // Cannot overflow: a biased exponent is at most 255.
        unchecked {
            uint256 biased = (x >> 23) & 0xff;
            m = x & 0x7fffff;
            if (biased == 0) {
                e = -149;
            } else {
                m |= 0x800000;
                e = int256(biased) - 150;
            }
        }
    }

    /// @dev Index of the highest set bit of x > 0, by binary search.
    function _log2(uint256 x) private pure returns (uint256 r) {
        assembly {
            r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
            r := or(r, shl(4, lt(0xffff, shr(r, x))))
            r := or(r, shl(3, lt(0xff, shr(r, x))))
            r := or(r, shl(2, lt(0xf, shr(r, x))))
            r := or(r, shl(1, lt(0x3, shr(r, x))))
            r := or(r, lt(0x1, shr(r, x)))
        }
    }

    /// @dev m · 2^e (m > 0, below 2^200) rounded to nearest-even binary32 with `sign`.
    function _round(uint32 sign, uint256 m, int256 e) private pure returns (uint32) {
        // Cannot overflow: m < 2^200, |e| < 2^10 and every shift is below 256.
        unchecked {
            uint256 len = _log2(m) + 1;
            int256 top = e + int256(len) - 1; // exponent of the leading bit
            // Bits to drop: down to 24 significant bits, or to the subnormal grid 2^-149.
            int256 shift = top >= -126 ? int256(len) - 24 : -149 - e;
            if (shift > 0) {
                if (shift > 220) return sign; // far below half the smallest subnormal
                uint256 s = uint256(shift);
                uint256 q = m >> s;
                uint256 rem = m & ((uint256(1) << s) - 1);
                uint256 half = uint256(1) << (s - 1);
                if (rem > half || (rem == half && q & 1 == 1)) q += 1;
                m = q;
                e += shift;
            } else if (shift < 0) {
                m <<= uint256(-shift);
                e += shift;
            }
            if (m == 1 << 24) {
                m >>= 1; // a carry out of the rounding: exact
                e += 1;
            }
            if (m == 0) return sign;
            if (m < 1 << 23) return sign | uint32(m); // subnormal (e is -149)
            int256 biased = e + 150;
            if (biased >= 255) return sign | INF;
            return sign | uint32(uint256(biased) << 23) | uint32(m & 0x7fffff);
        }
    }

    function add(uint32 a, uint32 b) internal pure returns (uint32) {
        // Fast path: both normal and within 25 binades. Cannot overflow: exponents are
        // at most 254, significands below 2^24 and shifted by at most 25.
        unchecked {
            uint256 ba = uint256((a >> 23) & 0xff);
            uint256 bb = uint256((b >> 23) & 0xff);
            if (ba - 1 < 254 && bb - 1 < 254) {
                if ((a & ABS) < (b & ABS)) (a, b, ba, bb) = (b, a, bb, ba);
                uint256 d = ba - bb;
                if (d <= 25) {
                    uint256 big = uint256((a & 0x7fffff) | 0x800000) << d;
                    uint256 small = uint256((b & 0x7fffff) | 0x800000);
                    int256 e = int256(bb) - 150;
                    if ((a ^ b) & SIGN == 0) return _round(a & SIGN, big + small, e);
                    if (big == small) return 0;
                    return _round(a & SIGN, big - small, e);
                }
            }
        }
        if (isNaN(a) || isNaN(b)) return NAN;
        if (isInf(a)) return isInf(b) && (a ^ b) == SIGN ? NAN : a;
        if (isInf(b)) return b;
        if (isZero(a)) return isZero(b) ? (a & b) : b; // −0 + −0 = −0, else +0
        if (isZero(b)) return a;
        (uint256 ma, int256 ea) = _unpack(a);
        (uint256 mb, int256 eb) = _unpack(b);
        uint32 sa = a & SIGN;
        uint32 sb = b & SIGN;
        if (ea < eb || (ea == eb && ma < mb)) {
            (ma, ea, sa, mb, eb, sb) = (mb, eb, sb, ma, ea, sa);
        }
        // |a| >= |b|. A b more than 100 binades down only decides the rounding as a
        // nonzero trace below every kept bit.
        // Cannot overflow: exponents are within ±300, big < 2^124 and big >= mb.
        unchecked {
            int256 d = ea - eb;
            if (d > 100) {
                mb = 1;
                eb = ea - 100;
                d = 100;
            }
            uint256 big = ma << uint256(d);
            if (sa == sb) return _round(sa, big + mb, eb);
            if (big == mb) return 0; // x − x = +0 when rounding to nearest
            return _round(sa, big - mb, eb);
        }
    }

    function sub(uint32 a, uint32 b) internal pure returns (uint32) {
        return add(a, isNaN(b) ? b : b ^ SIGN);
    }

    function mul(uint32 a, uint32 b) internal pure returns (uint32) {
        // Fast path: both normal and the product normal. The product of two 24-bit
        // significands has 47 or 48 bits; keep 24, round to nearest even.
        // Cannot overflow: below 2^48, exponents below 512.
        unchecked {
            uint256 ba = uint256((a >> 23) & 0xff);
            uint256 bb = uint256((b >> 23) & 0xff);
            if (ba - 1 < 254 && bb - 1 < 254) {
                uint256 p = uint256((a & 0x7fffff) | 0x800000) * uint256((b & 0x7fffff) | 0x800000);
                uint256 wide = p >> 47;
                uint256 biased = ba + bb + wide; // + 127 below: the result's biased exponent
                if (biased >= 128 && biased <= 381) {
                    biased -= 127;
                    uint256 shift = 23 + wide;
                    uint256 q = p >> shift;
                    uint256 rem = p & ((uint256(1) << shift) - 1);
                    uint256 half = uint256(1) << (shift - 1);
                    if (rem > half || (rem == half && q & 1 == 1)) q += 1;
                    if (q == 1 << 24) {
                        q >>= 1;
                        biased += 1;
                    }
                    uint32 sign = (a ^ b) & SIGN;
                    if (biased == 255) return sign | INF;
                    return sign | uint32(biased << 23) | uint32(q & 0x7fffff);
                }
            }
        }
        if (isNaN(a) || isNaN(b)) return NAN;
        uint32 sign = (a ^ b) & SIGN;
        if (isInf(a) || isInf(b)) return isZero(a) || isZero(b) ? NAN : sign | INF;
        if (isZero(a) || isZero(b)) return sign;
        (uint256 ma, int256 ea) = _unpack(a);
        (uint256 mb, int256 eb) = _unpack(b);
        // Cannot overflow: below 2^48 and within ±300.
        unchecked {
            return _round(sign, ma * mb, ea + eb);
        }
    }

    function div(uint32 a, uint32 b) internal pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return NAN;
        uint32 sign = (a ^ b) & SIGN;
        if (isInf(a)) return isInf(b) ? NAN : sign | INF;
        if (isInf(b)) return sign;
        if (isZero(b)) return isZero(a) ? NAN : sign | INF;
        if (isZero(a)) return sign;
        (uint256 ma, int256 ea) = _unpack(a);
        (uint256 mb, int256 eb) = _unpack(b);
        // 64 extra quotient bits, then one sticky bit for a nonzero remainder.
        // Cannot overflow: below 2^89 and within ±400; mb is nonzero.
        unchecked {
            uint256 scaled = ma << 64;
            uint256 q = scaled / mb;
            uint256 sticky = scaled % mb == 0 ? 0 : 1;
            return _round(sign, (q << 1) | sticky, ea - eb - 65);
        }
    }

    function sqrt(uint32 a) internal pure returns (uint32) {
        if (isNaN(a)) return NAN;
        if (isZero(a)) return a; // sqrt(−0) = −0
        if (a & SIGN != 0) return NAN;
        if (isInf(a)) return a;
        (uint256 m, int256 e) = _unpack(a);
        if (e & 1 != 0) {
            m <<= 1;
            e -= 1;
        }
        // sqrt(m · 2^e) = sqrt(m · 2^100) · 2^((e − 100) / 2), plus a sticky bit.
        uint256 scaled = m << 100;
        uint256 root = Math.sqrt(scaled);
        uint256 sticky = root * root == scaled ? 0 : 1;
        return _round(0, (root << 1) | sticky, (e - 100) / 2 - 1);
    }

    /// @notice The engine's max: NaN if either is NaN; of two zeros, +0.
    function max(uint32 a, uint32 b) internal pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return NAN;
        if (isZero(a) && isZero(b)) return a & b; // +0 unless both are −0
        return gt(a, b) || eq(a, b) ? a : b;
    }

    /// @notice min: NaN if either is NaN; of two zeros, −0.
    function min(uint32 a, uint32 b) internal pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return NAN;
        if (isZero(a) && isZero(b)) return a | b; // −0 unless both are +0
        return lt(a, b) || eq(a, b) ? a : b;
    }

    /// @dev A key that orders finite and infinite values as integers (both zeros equal).
    function _key(uint32 x) private pure returns (int256) {
        if (isZero(x)) return 0;
        int256 magnitude = int256(uint256(x & ABS));
        return x & SIGN != 0 ? -magnitude : magnitude;
    }

    function eq(uint32 a, uint32 b) internal pure returns (bool) {
        return !isNaN(a) && !isNaN(b) && _key(a) == _key(b);
    }

    function lt(uint32 a, uint32 b) internal pure returns (bool) {
        return !isNaN(a) && !isNaN(b) && _key(a) < _key(b);
    }

    function gt(uint32 a, uint32 b) internal pure returns (bool) {
        return lt(b, a);
    }

    function ge(uint32 a, uint32 b) internal pure returns (bool) {
        return !isNaN(a) && !isNaN(b) && _key(a) >= _key(b);
    }
}
