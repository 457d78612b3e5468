// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Binary32 as F} from "./Binary32.sol";

/// @title Transcendentals
/// @notice The engine's canonical exp and log (packages/protocol/src/numerics.ts): the same
///         constants and the same sequence of binary32 operations, so every result is
///         bit-identical to the engine's.
library Transcendentals {
    uint32 internal constant LOG2E = 0x3fb8aa3b;
    uint32 internal constant LN2_HI = 0x3f317200; // 16 significant bits: k · LN2_HI is exact
    uint32 internal constant LN2_LO = 0x35bfbe8e;
    uint32 internal constant ROUND = 0x4b400000; // 1.5 · 2^23
    uint32 internal constant EXP_MAX = 0x42b17218;
    uint32 internal constant EXP_MIN = 0xc2cff1b5;
    uint32 internal constant E6 = 0x3ab60b61; // 1/720
    uint32 internal constant E5 = 0x3c088889; // 1/120
    uint32 internal constant E4 = 0x3d2aaaab; // 1/24
    uint32 internal constant E3 = 0x3e2aaaab; // 1/6
    uint32 internal constant HALF = 0x3f000000;
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;
    uint32 internal constant SQRT2 = 0x3fb504f3;
    uint32 internal constant L9 = 0x3e638e39; // 2/9
    uint32 internal constant L7 = 0x3e924925; // 2/7
    uint32 internal constant L5 = 0x3ecccccd; // 2/5
    uint32 internal constant L3 = 0x3f2aaaab; // 2/3
    uint32 internal constant MIN_NORMAL = 0x00800000;
    uint32 internal constant TWO_23 = 0x4b000000;

    /// @dev 2^e exactly, for −126 <= e <= 127.
    function _pow2(int256 e) private pure returns (uint32) {
        return uint32(uint256(e + 127) << 23);
    }

    /// @dev A binary32 holding a whole number (|v| < 2^24) as an integer.
    function _toInt(uint32 v) private pure returns (int256) {
        if (F.isZero(v)) return 0;
        int256 exponent = int256(uint256((v >> 23) & 0xff)) - 150;
        uint256 m = (v & 0x7fffff) | 0x800000;
        uint256 magnitude = exponent >= 0 ? m << uint256(exponent) : m >> uint256(-exponent);
        return v & F.SIGN != 0 ? -int256(magnitude) : int256(magnitude);
    }

    /// @dev The integer i (|i| < 2^24) as a binary32, exactly.
    function _fromInt(int256 i) private pure returns (uint32) {
        // i · 1 rounds nothing: build it through a product with one.
        if (i == 0) return 0;
        uint256 magnitude = uint256(i < 0 ? -i : i);
        uint256 len = 0;
        while ((magnitude >> len) > 1) len++;
        uint32 bits = uint32((len + 127) << 23) | uint32((magnitude << (23 - len)) & 0x7fffff);
        return i < 0 ? bits | F.SIGN : bits;
    }

    function _scale2(uint32 x, int256 k) private pure returns (uint32) {
        if (k > 127) return F.mul(F.mul(x, _pow2(127)), _pow2(k - 127));
        if (k < -126) return F.mul(F.mul(x, _pow2(k + 126)), _pow2(-126));
        return F.mul(x, _pow2(k));
    }

    /// @notice e^x: Cody–Waite reduction by ln 2, then a degree-6 polynomial.
    function exp(uint32 x) internal pure returns (uint32) {
        if (F.isNaN(x)) return F.NAN;
        if (F.gt(x, EXP_MAX)) return F.INF;
        if (F.lt(x, EXP_MIN)) return 0;
        uint32 k = F.sub(F.add(F.mul(x, LOG2E), ROUND), ROUND);
        uint32 r = F.sub(F.sub(x, F.mul(k, LN2_HI)), F.mul(k, LN2_LO));
        uint32 p = E6;
        p = F.add(F.mul(p, r), E5);
        p = F.add(F.mul(p, r), E4);
        p = F.add(F.mul(p, r), E3);
        p = F.add(F.mul(p, r), HALF);
        p = F.add(F.mul(p, r), ONE);
        p = F.add(F.mul(p, r), ONE);
        return _scale2(p, _toInt(k));
    }

    /// @notice ln x: x = m · 2^e with m in [√½, √2], then ln m = 2 atanh((m − 1)/(m + 1)).
    function log(uint32 x) internal pure returns (uint32) {
        if (F.isNaN(x) || (x & F.SIGN != 0 && !F.isZero(x))) return F.NAN;
        if (F.isZero(x)) return F.INF | F.SIGN;
        if (F.isInf(x)) return F.INF;
        int256 e = 0;
        if (F.lt(x, MIN_NORMAL)) {
            x = F.mul(x, TWO_23); // subnormal: scale up exactly
            e = -23;
        }
        e += int256(uint256((x >> 23) & 0xff)) - 127;
        uint32 m = (x & 0x7fffff) | ONE;
        if (F.gt(m, SQRT2)) {
            m = F.mul(m, HALF);
            e += 1;
        }
        uint32 s = F.div(F.sub(m, ONE), F.add(m, ONE));
        uint32 z = F.mul(s, s);
        uint32 p = L9;
        p = F.add(F.mul(p, z), L7);
        p = F.add(F.mul(p, z), L5);
        p = F.add(F.mul(p, z), L3);
        p = F.add(F.mul(p, z), TWO);
        uint32 lnm = F.mul(s, p);
        uint32 ef = _fromInt(e);
        return F.add(F.mul(ef, LN2_HI), F.add(F.mul(ef, LN2_LO), lnm));
    }
}
