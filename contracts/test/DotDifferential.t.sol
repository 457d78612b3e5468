// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {Binary32} from "../src/dispute/Binary32.sol";
import {Binary32Harness} from "../src/dispute/Binary32Harness.sol";
import {TensorMerkleHarness} from "../src/dispute/TensorMerkleHarness.sol";
import {Random32} from "../src/dispute/Random32.sol";

/// @notice TensorMerkle.rootFromRange as it was before the assembly climb (one allocation
///         per hash): the reference the new one must match, root for root and error for
///         error.
library TensorMerkleReference {
    error EmptyRange();
    error PartialLeaf(uint256 words);
    error RangePastEnd(uint256 lastLeaf, uint256 leaves);
    error MissingSibling(uint256 used);
    error ExtraSiblings(uint256 used, uint256 given);
    error NonZeroPadding(uint256 length, bytes32 lastLeaf);

    struct Climb {
        uint256 size;
        uint256 lo;
        uint256 hi;
        uint256 n;
        uint256 used;
        bytes32 empty;
    }

    function rootFromRange(uint256 length, uint8 dtype, uint256 firstLeaf, bytes calldata words, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32)
    {
        if (words.length == 0) revert EmptyRange();
        if (words.length % 32 != 0) revert PartialLeaf(words.length);
        uint256 count = words.length / 32;
        Climb memory c = Climb((length + 7) / 8, firstLeaf, firstLeaf + count - 1, count, 0, keccak256(abi.encodePacked(uint8(2))));
        if (c.hi >= c.size) revert RangePastEnd(c.hi, c.size);
        if (c.hi == c.size - 1) {
            // the last leaf: every element word past `length` must be zero
            bytes32 last = bytes32(words[(count - 1) * 32:count * 32]);
            for (uint256 e = length % 8 == 0 ? 8 : length % 8; e < 8; e++) {
                if (uint32(bytes4(last << (32 * e))) != 0) revert NonZeroPadding(length, last);
            }
        }
        bytes32[] memory nodes = new bytes32[](count + 2);
        for (uint256 l = 0; l < count; l++) {
            nodes[l] = keccak256(bytes.concat(bytes1(0), words[l * 32:l * 32 + 32]));
        }
        while (c.size > 1) _up(c, nodes, siblings);
        if (c.used != siblings.length) revert ExtraSiblings(c.used, siblings.length);
        return keccak256(abi.encodePacked(nodes[0], length, dtype));
    }

    function _up(Climb memory c, bytes32[] memory nodes, bytes32[] calldata siblings) private pure {
        bytes32[] memory row = new bytes32[](c.n + 2);
        uint256 r = 0;
        if (c.lo % 2 == 1) row[r++] = _sibling(c, siblings);
        for (uint256 i = 0; i < c.n; i++) row[r++] = nodes[i];
        if (c.hi % 2 == 0) row[r++] = c.hi + 1 < c.size ? _sibling(c, siblings) : c.empty;
        c.n = r / 2;
        for (uint256 i = 0; i < c.n; i++) {
            nodes[i] = keccak256(abi.encodePacked(uint8(1), row[2 * i], row[2 * i + 1]));
        }
        c.lo /= 2;
        c.hi /= 2;
        c.size = (c.size + 1) / 2;
        c.empty = keccak256(abi.encodePacked(uint8(1), c.empty, c.empty));
    }

    function _sibling(Climb memory c, bytes32[] calldata siblings) private pure returns (bytes32) {
        if (c.used >= siblings.length) revert MissingSibling(c.used);
        return siblings[c.used++];
    }
}

contract TensorMerkleReferenceHarness {
    function rootFromRange(uint256 length, uint8 dtype, uint256 firstLeaf, bytes calldata words, bytes32[] calldata siblings)
        external
        pure
        returns (bytes32)
    {
        return TensorMerkleReference.rootFromRange(length, dtype, firstLeaf, words, siblings);
    }
}

/// @notice Binary32Folds.dot as it was: the plain composition, for gas comparisons.
contract DotReferenceHarness {
    function dot(bytes calldata a, bytes calldata b) external pure returns (uint32 acc) {
        uint256 n = a.length / 4;
        for (uint256 i = 0; i < n; ) {
            uint32 x;
            uint32 y;
            assembly {
                x := shr(224, calldataload(add(a.offset, mul(i, 4))))
                y := shr(224, calldataload(add(b.offset, mul(i, 4))))
            }
            acc = Binary32.add(acc, Binary32.mul(x, y));
            unchecked {
                ++i;
            }
        }
    }
}

/// @notice Binary32Folds.dot (its assembly fast path) against the plain composition
///         acc = add(acc, mul(a[q], b[q])) on vectors built to reach every branch:
///         zeros and sums through zero, subnormal products and sums, overflow, inf − inf,
///         NaN inputs, exact ties, cancellation; and its gas. TensorMerkle.rootFromRange
///         against the reference above.
contract DotDifferentialTest is TestBase {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant INF = 0x7f800000;
    uint32 internal constant NAN = 0x7fc00000;
    uint32 internal constant MAX = 0x7f7fffff;
    uint32 internal constant SIGN = 0x80000000;

    event GasVersus(string what, uint256 used, uint256 before);

    Binary32Harness internal harness = new Binary32Harness();
    DotReferenceHarness internal dotRef = new DotReferenceHarness();
    TensorMerkleHarness internal merkle = new TensorMerkleHarness();
    TensorMerkleReferenceHarness internal merkleRef = new TensorMerkleReferenceHarness();
    uint256 internal rng;

    // ---- dot ----

    function test_dot_edges() public view {
        _same(_u3(INF, INF, 0), _u3(ONE, 0xbf800000, 0), NAN, "inf - inf = NaN");
        _same(_u3(INF, ONE, MAX), _u3(ONE, ONE, 0x40000000), INF, "inf + finite stays inf");
        _same(_u3(0xff800000, MAX, MAX), _u3(ONE, 0x40000000, 0x40000000), NAN, "-inf + (MAX * 2 = +inf) = NaN");
        _same(_u3(MAX, MAX, ONE), _u3(ONE, ONE, ONE), INF, "overflow of a sum");
        _same(_u3(MAX, ONE, ONE), _u3(0x40000000, ONE, ONE), INF, "overflow of a product");
        _same(_u3(0x7f800001, ONE, ONE), _u3(ONE, ONE, ONE), NAN, "NaN input, non-canonical");
        _same(_u3(ONE, 0xffc00001, ONE), _u3(ONE, ONE, ONE), NAN, "negative NaN input");
        _same(_u3(INF, ONE, ONE), _u3(0, ONE, ONE), NAN, "inf * 0");
        _same(_u3(0x40400000, 0x40400000, 0x40a00000), _u3(ONE, 0xbf800000, ONE), 0x40a00000, "3 - 3 + 5 through +0");
        _same(_u3(SIGN, SIGN, SIGN), _u3(ONE, ONE, ONE), 0, "the sum starts at +0: +0 + -0 = +0");
        _same(_u3(SIGN, 0, SIGN), _u3(ONE, ONE, ONE), 0, "-0 + +0 = +0");
        _same(_u3(0x4b800000, ONE, ONE), _u3(ONE, ONE, 0x40400000), 0x4b800002, "2^24 + 1 ties to even, + 3 rounds up");
        _same(_u3(0x4b800000, 0x4b800002, 0), _u3(ONE, 0xbf800000, 0), 0xc0800000, "2^24 - (2^24 + 4) = -4, exact");
        _same(_u3(0x20000000, 0x20000000, 0), _u3(0x1f800000, 0x9f800000, 0), 0, "subnormal products cancel: +0");
        _same(_u3(0x20000000, 0x00800000, 0), _u3(0x1f000000, 0xbf800000, 0), 0x80600000, "sum into the subnormals");
        _same(_u3(0x00000001, 0x00000003, 0x00400000), _u3(ONE, 0x3f000000, 0x40000000), 0x00800003, "subnormal accumulator");
        // 2^-75 · 1.5·2^-75 = 1.5·2^-150 rounds up to 2^-149; 2^-75 · 2^-75 is a tie: +0.
        _same(_u3(0x1a000000, 0, 0), _u3(0x1a400000, 0, 0), 0x00000001, "a product just above half the least subnormal");
        _same(_u3(0x1a000000, 0, 0), _u3(0x9a000000, 0, 0), 0, "-2^-150 ties to -0; +0 + -0 = +0");
        _same(_u3(0x1a000000, 0x1a000000, 0), _u3(0x1a400000, 0x1a000000, 0), 0x00000001, "the least subnormal + -0");
    }

    /// @notice One term from any accumulator: dot([acc, x], [1, y]) = add(acc·1, x·y).
    function testFuzz_dot_term(uint32 acc, uint32 x, uint32 y) public view {
        _check(_u3(acc, x, 0), _u3(ONE, y, 0), 2);
    }

    function testFuzz_dot_vectors(uint256 seed) public {
        rng = seed;
        _vectors(8);
    }

    /// @notice 30,000 structured single terms and 2,000 structured vectors, same seeds
    ///         every run (the fuzz tests above add fresh ones).
    function test_dot_manyTermsAndVectors() public {
        rng = 0xd07;
        for (uint256 t = 0; t < 30_000; t++) {
            uint256 free = _free();
            uint256 band = _band();
            uint256 kinds = _next() % 6;
            uint32 acc = _value(kinds, band + _next() % 3);
            _check(_u3(acc, _value(kinds, band), 0), _u3(ONE, _value(kinds, band), 0), 2);
            _setFree(free);
        }
        _vectors(2000);
    }

    /// @notice The bench's 2048-term dot, a realistic one (test_dot_k2048's values, a
    ///         third of them negated), and the dearest terms found: subnormal factors,
    ///         products and sums, which must stay well below what the composition cost.
    function test_dot_gas() public {
        uint256 n = 2048;
        uint32[] memory a = new uint32[](n);
        uint32[] memory b = new uint32[](n);
        for (uint256 i = 0; i < n; i++) {
            a[i] = uint32(0x3f800000 + i * 977);
            b[i] = uint32(0x3e000000 + i * 977);
        }
        (uint256 used, uint256 before) = _gas(a, b);
        emit GasVersus("dot 2048, bench operands: now, before", used, before);
        assertTrue(used < 2_100_000, "dot of 2048 terms under 2.1M gas");
        for (uint256 i = 0; i < n; i++) {
            a[i] = Random32.uniform(1, 10, uint32(i));
            b[i] = Random32.uniform(1, 11, uint32(i)) ^ (i % 3 == 0 ? SIGN : 0);
        }
        (used, before) = _gas(a, b);
        emit GasVersus("dot 2048, mixed signs: now, before", used, before);
        assertTrue(used < 2_100_000, "dot of 2048 terms of mixed signs under 2.1M gas");
        for (uint256 i = 0; i < n; i++) {
            a[i] = uint32(0x00000001 + i * 977); // subnormal
            b[i] = uint32(0x3f800000 + i * 977);
        }
        (used, before) = _gas(a, b);
        emit GasVersus("dot 2048, subnormal factors: now, before", used, before);
        assertTrue(used < 4_000_000 && used < before, "subnormal terms under 4M gas and below the composition");
    }

    // ---- rootFromRange ----

    function test_merkle_matchesReference() public {
        rng = 0x3e4c1e;
        for (uint256 t = 0; t < 300; t++) {
            uint256 free = _free();
            _merkleCase();
            _setFree(free);
        }
    }

    function testFuzz_merkle_matchesReference(uint256 seed) public {
        rng = seed;
        _merkleCase();
    }

    function test_merkle_gas() public {
        // 256 leaves at leaf 512 of a 857,216-element tensor, the bench's 2048-element proof.
        bytes memory words = new bytes(256 * 32);
        for (uint256 i = 0; i < words.length; i++) {
            words[i] = bytes1(uint8(i * 7));
        }
        bytes32[] memory siblings = new bytes32[](64);
        uint256 need = _siblingsUsed(857_216, 512, words, siblings);
        assembly {
            mstore(siblings, need)
        }
        uint256 start = gasleft();
        bytes32 root = merkle.rootFromRange(857_216, 0, 512, words, siblings);
        uint256 used = start - gasleft();
        start = gasleft();
        bytes32 want = merkleRef.rootFromRange(857_216, 0, 512, words, siblings);
        uint256 before = start - gasleft();
        emit GasVersus("rootFromRange, 256 leaves: now, before", used, before);
        assertEq(uint256(root), uint256(want), "root");
        assertTrue(used < 150_000, "256 leaves under 150k gas (execution)");
    }

    // ---- helpers ----

    /// @dev Random ranges, words and siblings: missing, exact and extra siblings, ranges
    ///      past the end, partial and empty words, huge first leaves (checked overflow).
    function _merkleCase() internal {
        uint256 length = 1 + _next() % (_next() % 4 == 0 ? 70 : 5000);
        uint256 leaves = (length + 7) / 8;
        uint256 first = _next() % leaves;
        uint256 count = 1 + _next() % (_next() % 3 == 0 ? leaves - first : 12);
        if (_next() % 10 == 0) count += 1 + _next() % 3; // past the end
        if (_next() % 40 == 0) first = type(uint256).max - _next() % 3; // overflows
        bytes memory words = new bytes(count * 32);
        for (uint256 w = 0; w < words.length; w += 32) {
            bytes32 r = bytes32(_next());
            assembly {
                mstore(add(add(words, 32), w), r)
            }
        }
        if (_next() % 20 == 0) {
            uint256 cut = _next() % 33;
            assembly {
                mstore(words, sub(mload(words), cut))
            }
        }
        bytes32[] memory siblings = new bytes32[](64);
        for (uint256 s = 0; s < 64; s++) {
            siblings[s] = bytes32(_next());
        }
        uint8 dtype = uint8(_next() % 2);
        uint256 need = _siblingsUsed(length, first, words, siblings);
        uint256[5] memory tries = [need, need == 0 ? 0 : need - 1, need + 1, 0, _next() % 64];
        for (uint256 t = 0; t < tries.length; t++) {
            uint256 k = tries[t] > 64 ? 64 : tries[t];
            bytes32[] memory some = new bytes32[](k);
            for (uint256 s = 0; s < k; s++) {
                some[s] = siblings[s];
            }
            _merkleSame(length, dtype, first, words, some);
        }
    }

    function _merkleSame(uint256 length, uint8 dtype, uint256 first, bytes memory words, bytes32[] memory siblings)
        internal
        view
    {
        (bool okA, bytes memory outA) =
            address(merkle).staticcall(abi.encodeCall(TensorMerkleHarness.rootFromRange, (length, dtype, first, words, siblings)));
        (bool okB, bytes memory outB) = address(merkleRef).staticcall(
            abi.encodeCall(TensorMerkleReferenceHarness.rootFromRange, (length, dtype, first, words, siblings))
        );
        assertTrue(okA == okB, "same success");
        assertTrue(keccak256(outA) == keccak256(outB), "same root or same error");
    }

    /// @dev How many siblings the reference consumes (from its ExtraSiblings error).
    function _siblingsUsed(uint256 length, uint256 first, bytes memory words, bytes32[] memory siblings)
        internal
        view
        returns (uint256)
    {
        (bool ok, bytes memory out) = address(merkleRef).staticcall(
            abi.encodeCall(TensorMerkleReferenceHarness.rootFromRange, (length, 0, first, words, siblings))
        );
        if (ok || out.length != 68 || bytes4(out) != TensorMerkleReference.ExtraSiblings.selector) return 0;
        uint256 used;
        assembly {
            used := mload(add(out, 36))
        }
        return used;
    }

    function _vectors(uint256 count) internal {
        for (uint256 v = 0; v < count; v++) {
            uint256 free = _free();
            uint256 n = 1 + _next() % (_next() % 8 == 0 ? 200 : 24);
            uint256 band = _band();
            uint256 kinds = _next() % 6;
            bool mirror = _next() % 4 == 0;
            uint32[] memory a = new uint32[](n);
            uint32[] memory b = new uint32[](n);
            for (uint256 i = 0; i < n; i++) {
                if (mirror && i % 2 == 1) {
                    // The previous product negated: sums come back, often to zero.
                    a[i] = a[i - 1];
                    b[i] = b[i - 1] ^ SIGN;
                } else {
                    a[i] = _value(kinds, band);
                    b[i] = _value(kinds, band);
                }
            }
            _check(a, b, n);
            _setFree(free);
        }
    }

    /// @dev A biased exponent band: everyday, products near the subnormals, near overflow.
    function _band() internal returns (uint256) {
        uint256 r = _next() % 4;
        if (r == 0) return 45 + _next() % 24;
        if (r == 1) return 185 + _next() % 8;
        return 110 + _next() % 30;
    }

    /// @dev A value of one of the kinds `kinds` mixes, near `band`.
    function _value(uint256 kinds, uint256 band) internal returns (uint32) {
        uint256 r = _next();
        uint256 kind;
        if (kinds == 0) kind = 7; // everyday
        else if (kinds == 1) kind = 5 + (r >> 8) % 2; // few bits, two scales: ties
        else if (kinds == 2) kind = 5; // few bits: exact sums, cancellation, zeros
        else if (kinds == 3) kind = (r >> 8) % 16 == 0 ? (r >> 16) % 5 : 5 + (r >> 8) % 3; // rare specials
        else kind = (r >> 8) % 10; // anything
        uint32 sign = uint32(r >> 40) & SIGN;
        uint256 m = (r >> 64) & 0x7fffff;
        uint256 e = (r >> 96) % 4;
        if (kind == 0) return uint32(r >> 128);
        if (kind == 1) return sign;
        if (kind == 2) return sign | uint32(m); // subnormal (or zero)
        if (kind == 3) return sign | INF;
        if (kind == 4) return sign | INF | uint32(m | 1); // NaN, any payload
        if (kind == 5) return sign | uint32((band + e) << 23) | uint32(m & 0x780000);
        if (kind == 6) return sign | uint32((band + 12 + e) << 23) | uint32(m & 0x7c0000);
        if (kind == 7) return sign | uint32((band + (r >> 96) % 8) << 23) | uint32(m);
        if (kind == 8) return sign | uint32((200 + (r >> 96) % 55) << 23) | uint32(m);
        return sign | uint32((1 + (r >> 96) % 70) << 23) | uint32(m);
    }

    function _check(uint32[] memory a, uint32[] memory b, uint256 n) internal view {
        uint32 want = 0;
        for (uint256 i = 0; i < n; i++) {
            want = Binary32.add(want, Binary32.mul(a[i], b[i]));
        }
        uint32 have = harness.dot(_pack(a, n), _pack(b, n));
        if (have != want) {
            revert DotMismatch(a, b, have, want);
        }
    }

    error DotMismatch(uint32[] a, uint32[] b, uint32 have, uint32 want);

    function _same(uint32[] memory a, uint32[] memory b, uint32 want, string memory what) internal view {
        _check(a, b, 3);
        assertEq(harness.dot(_pack(a, 3), _pack(b, 3)), want, what);
    }

    /// @dev Gas of Binary32Folds.dot and of the plain composition on the same operands.
    function _gas(uint32[] memory a, uint32[] memory b) internal view returns (uint256 used, uint256 before) {
        bytes memory pa = _pack(a, a.length);
        bytes memory pb = _pack(b, b.length);
        uint256 start = gasleft();
        uint32 have = harness.dot(pa, pb);
        used = start - gasleft();
        start = gasleft();
        uint32 want = dotRef.dot(pa, pb);
        before = start - gasleft();
        assertEq(have, want, "same result");
    }

    function _pack(uint32[] memory v, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(4 * n);
        for (uint256 i = 0; i < n; i++) {
            uint32 x = v[i];
            assembly {
                let p := add(add(out, 32), mul(i, 4))
                mstore8(p, shr(24, x))
                mstore8(add(p, 1), shr(16, x))
                mstore8(add(p, 2), shr(8, x))
                mstore8(add(p, 3), x)
            }
        }
    }

    function _u3(uint32 x, uint32 y, uint32 z) internal pure returns (uint32[] memory v) {
        v = new uint32[](3);
        v[0] = x;
        v[1] = y;
        v[2] = z;
    }

    /// @dev The free memory pointer, to hand a loop's scratch allocations back each round.
    function _free() internal pure returns (uint256 p) {
        assembly {
            p := mload(0x40)
        }
    }

    function _setFree(uint256 p) internal pure {
        assembly {
            mstore(0x40, p)
        }
    }

    function _next() internal returns (uint256) {
        rng = uint256(keccak256(abi.encode(rng)));
        return rng;
    }
}
