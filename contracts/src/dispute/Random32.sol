// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Random32
/// @notice The engine's counter-based randomness (packages/protocol/src/prng.ts, docs/design.md §4):
///         every random word is a pure function of (seed, purpose, index), Wellons'
///         lowbias32 mixer applied once per key word.
library Random32 {
    /// @notice Purpose of the batch start offsets (PURPOSE.DATA).
    uint32 internal constant DATA = 2;
    /// @notice Initial values of parameter slot s use purpose INIT_BASE + s.
    uint32 internal constant INIT_BASE = 0x1000;

    /// @dev lowbias32; uint32 products wrap as Math.imul's do.
    function _mix(uint32 x) private pure returns (uint32) {
        // Multiplication mod 2^32 is the mixer's definition, not an overflow.
        unchecked {
            x ^= x >> 16;
            x *= 0x7feb352d;
            x ^= x >> 15;
            x *= 0x846ca68b;
            x ^= x >> 16;
        }
        return x;
    }

    /// @notice A uniform 32-bit word for (seed, purpose, index).
    function random32(uint64 seed, uint32 purpose, uint32 index) internal pure returns (uint32) {
        uint32 h = _mix(uint32(seed) ^ 0x9e3779b9);
        h = _mix(h ^ uint32(seed >> 32));
        h = _mix(h ^ purpose);
        return _mix(h ^ index);
    }

    /// @notice A binary32 uniform in [0, 1): the top 24 bits of the word times 2^-24,
    ///         exact (a 24-bit integer has a binary32 of its own, the scaling only moves
    ///         the exponent).
    function uniform(uint64 seed, uint32 purpose, uint32 index) internal pure returns (uint32) {
        uint32 m = random32(seed, purpose, index) >> 8;
        if (m == 0) return 0;
        // Cannot overflow: 1 <= len <= 24, so the shift is at most 23 and the exponent
        // len + 102 is between 103 and 126.
        unchecked {
            uint32 len = 0;
            while ((m >> len) > 1) len++;
            len += 1; // bits in m
            // m · 2^-24 = (m << (24 − len)) · 2^(len − 48): a 24-bit significand with
            // its leading bit at 23, biased exponent len − 48 + 23 + 127.
            uint32 significand = m << (24 - len);
            return ((len + 102) << 23) | (significand & 0x7fffff);
        }
    }
}
