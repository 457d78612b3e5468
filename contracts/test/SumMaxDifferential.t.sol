// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {Binary32} from "../src/dispute/Binary32.sol";
import {Binary32Folds} from "../src/dispute/Binary32Folds.sol";
import {StepOps, IOpProver} from "../src/dispute/StepOps.sol";
import {Openings} from "../src/dispute/Openings.sol";
import {Random32} from "../src/dispute/Random32.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";

/// @notice Binary32Folds.sum and Binary32Folds.maxFold over packed words, and the plain
///         compositions they must match bit for bit: acc = add(acc, x) from +0 and
///         acc = max(acc, x) from −∞.
contract FoldHarness {
    function sum(bytes calldata w) external pure returns (uint32) {
        return Binary32Folds.sum(w);
    }

    function maxFold(bytes calldata w) external pure returns (uint32) {
        return Binary32Folds.maxFold(w);
    }

    function sumRef(bytes calldata w) external pure returns (uint32) {
        return _sumRef(w);
    }

    function maxRef(bytes calldata w) external pure returns (uint32) {
        return _maxRef(w);
    }

    /// @notice The result and the gas of the fold alone (`ref`: the composition).
    function sumGas(bytes calldata w, bool ref) external view returns (uint32 acc, uint256 used) {
        used = gasleft();
        acc = ref ? _sumRef(w) : Binary32Folds.sum(w);
        used -= gasleft();
    }

    function maxGas(bytes calldata w, bool ref) external view returns (uint32 acc, uint256 used) {
        used = gasleft();
        acc = ref ? _maxRef(w) : Binary32Folds.maxFold(w);
        used -= gasleft();
    }

    function _sumRef(bytes calldata w) private pure returns (uint32 acc) {
        for (uint256 off = 0; off + 4 <= w.length; off += 4) {
            acc = Binary32.add(acc, _word(w, off));
        }
    }

    function _maxRef(bytes calldata w) private pure returns (uint32 acc) {
        acc = 0xff800000;
        for (uint256 off = 0; off + 4 <= w.length; off += 4) {
            acc = Binary32.max(acc, _word(w, off));
        }
    }

    function _word(bytes calldata w, uint256 off) private pure returns (uint32 x) {
        assembly {
            x := shr(224, calldataload(add(w.offset, off)))
        }
    }
}

/// @notice ReduceProver's SUM, MAXR and DOT as they were, the composed operations over
///         the same openings: the reference for gas through the StepVerifier (SCATTER is
///         not measured here).
contract ComposedReduceProver is IOpProver {
    function evaluate(
        StepOps.Op calldata op,
        uint256 e,
        StepOps.Context calldata,
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32 acc) {
        Openings.checkElement(op.dims, e);
        if (op.code == StepOps.DOT) return _dot(op, e, roots, openings);
        uint256 len = Openings.attrs(op, 1)[0];
        bool isSum = op.code == StepOps.SUM;
        acc = isSum ? 0 : 0xff800000;
        StepOps.Opening calldata o = Openings.verified(roots, openings, 0);
        uint256 first = e * len;
        uint256 end = first + len > o.length ? o.length : first + len;
        if (first >= end) return acc;
        bytes calldata w = Openings.range(o, 0, first, end - 1);
        for (uint256 q = 0; q < w.length / 4; q++) {
            uint32 x = Openings.word(w, q);
            acc = isSum ? Binary32.add(acc, x) : Binary32.max(acc, x);
        }
    }

    function _dot(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32 acc)
    {
        uint32[] calldata a = Openings.attrs(op, 4);
        uint256 k = a[2];
        uint256 b = e / (uint256(a[0]) * a[1]);
        uint256 rowA = (b * a[0] + (e / a[1]) % a[0]) * k;
        uint256 rowB = ((a[3] != 0 ? b : 0) * a[1] + e % a[1]) * k;
        bytes calldata x = Openings.open(roots, openings, 0, rowA, rowA + k - 1);
        bytes calldata y = Openings.open(roots, openings, 1, rowB, rowB + k - 1);
        for (uint256 q = 0; q < k; q++) {
            acc = Binary32.add(acc, Binary32.mul(Openings.word(x, q), Openings.word(y, q)));
        }
    }
}

/// @notice Binary32Folds.sum and Binary32Folds.maxFold against the composed operations (fixed edge
///         cases, fuzzed single steps and vectors, a fixed-seed batch built to reach
///         every branch: cancellation, ties, subnormals, overflow, signed zeros, NaN and
///         infinities), and the gas of the worst SUM, MAXR and DOT elements we could
///         build, through StepVerifier.evaluate with their range proofs.
/// @dev Mutation-tested: each of 47 one-line mutants of the two loops (comparisons and
///      constants off by one, a sign, rounding or carry step dropped, the overflow and
///      ±∞ exits, the bit search and its table) fails a test below, except two that are
///      equivalent (re-reading the ±∞ that ended the loop; the far cut at 26 binades
///      instead of 25, where the exact path is exact too).
contract SumMaxDifferentialTest is TestBase {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant INF = 0x7f800000;
    uint32 internal constant NEG_INF = 0xff800000;
    uint32 internal constant NAN = 0x7fc00000;
    uint32 internal constant MAX = 0x7f7fffff;
    uint32 internal constant SIGN = 0x80000000;

    event GasVersus(string what, uint256 used, uint256 before);
    /// @notice Gas of one evaluate: execution, and as a transaction (plus 21,000 and
    ///         the calldata of the call).
    event VerifyGas(string what, uint256 execution, uint256 transaction, uint256 before);

    FoldHarness internal harness = new FoldHarness();
    StepVerifier internal verifier;
    StepVerifier internal composed;
    uint256 internal rng;

    function setUp() public {
        ElementwiseProver ew = new ElementwiseProver();
        IndexProver ix = new IndexProver();
        OptimProver op = new OptimProver();
        verifier = new StepVerifier(ew, new ReduceProver(), ix, op);
        composed = new StepVerifier(ew, new ComposedReduceProver(), ix, op);
    }

    // ---- sum ------------------------------------------------------------------------

    function test_sum_edges() public view {
        _sumIs(_u(SIGN, SIGN, SIGN), 0, "the sum starts at +0: +0 + -0 = +0");
        _sumIs(_u(SIGN), 0, "+0 + -0 = +0");
        _sumIs(_u(0, SIGN), 0, "+0 + +0 + -0");
        _sumIs(_u(ONE, 0xbf800000, SIGN), 0, "1 - 1 = +0, + -0 stays +0");
        _sumIs(_u(0xbf800000, SIGN), 0xbf800000, "-1 + -0 = -1");
        _sumIs(_u(INF, 0xff800000), NAN, "inf - inf = NaN");
        _sumIs(_u(INF, 0xff800000, ONE), NAN, "NaN for good");
        _sumIs(_u(0xff800000, MAX, 0xff800000), 0xff800000, "-inf + finite + -inf");
        _sumIs(_u(MAX, MAX, 0xff800000), NAN, "overflow to +inf, then - inf");
        _sumIs(_u(MAX, MAX), INF, "overflow of a sum");
        _sumIs(_u(0xff7fffff, 0xff7fffff), 0xff800000, "negative overflow");
        _sumIs(_u(MAX, 0x73000000), INF, "MAX + half an ulp ties away from the odd MAX: +inf");
        _sumIs(_u(MAX, 0x72ffffff), MAX, "MAX + just under half an ulp stays MAX");
        _sumIs(_u(0x7f000000, 0x7f000000), INF, "2^127 + 2^127 = 2^128 overflows");
        // Sums whose rounded pattern is exactly 0x7f800000 or just above must end as ±∞
        // that a later element cannot move but a NaN or the other infinity can.
        _sumIs(_u(0x7f000000, 0x7f000000, 0xff800000), NAN, "2^128 is +inf: - inf = NaN");
        _sumIs(_u(MAX, 0x73000000, 0xff7fffff), INF, "MAX + half an ulp is +inf: - MAX stays +inf");
        _sumIs(_u(MAX, 0x73000000, 0xff800000), NAN, "MAX + half an ulp is +inf: - inf = NaN");
        _sumIs(_u(0x7f000001, 0x7f000001), INF, "overflow past 2^128, not the pattern 0x7f800001");
        _sumIs(_u(0xff000001, 0xff000001, 0xff7fffff), 0xff800000, "negative overflow past 2^128");
        _sumIs(_u(0x7f800001, ONE), NAN, "NaN input, non-canonical");
        _sumIs(_u(ONE, 0x7f800001), NAN, "the least NaN, last");
        _sumIs(_u(INF, 0x7f800001), NAN, "the least NaN after +inf");
        _sumIs(_u(ONE, 0xffc00001), NAN, "negative NaN input");
        _sumIs(_u(ONE, 0x7fc00000, 0xff800000), NAN, "NaN then -inf");
        _sumIs(_u(0x4b800000, ONE, ONE), 0x4b800000, "2^24 + 1 ties to even, twice");
        _sumIs(_u(0x4b800000, ONE, 0x40400000), 0x4b800002, "2^24 + 1 ties to even, + 3 ties to 2^24 + 4");
        _sumIs(_u(0x4b800001, ONE), 0x4b800002, "(2^24 + 2) + 1 ties up to even");
        _sumIs(_u(0x4b800000, 0xbf800000), 0x4b7fffff, "2^24 - 1 is exact");
        _sumIs(_u(0x4b800000, 0xbf000000), 0x4b800000, "2^24 - 0.5 ties to even 2^24");
        _sumIs(_u(0x4b800000, 0xbec00000), 0x4b800000, "2^24 - 0.375 rounds to 2^24");
        _sumIs(_u(0x4b800000, 0xbf400000), 0x4b7fffff, "2^24 - 0.75 rounds to 2^24 - 1");
        _sumIs(_u(ONE, 0x33800000), ONE, "1 + 2^-24 ties to even 1");
        _sumIs(_u(ONE, 0x33800001), 0x3f800001, "1 + just over 2^-24");
        _sumIs(_u(ONE, 0xb3000000), ONE, "1 - 2^-25: a quarter of an ulp below, ties to 1");
        _sumIs(_u(ONE, 0xb3000001), 0x3f7fffff, "1 - just over 2^-25");
        _sumIs(_u(ONE, 0xb2ffffff), ONE, "1 - just under 2^-25");
        _sumIs(_u(0x4b800000, 0xcb800002), 0xc0800000, "2^24 - (2^24 + 4) = -4, exact");
        _sumIs(_u(0x00000001, 0x00000003, 0x00400000), 0x00400004, "subnormals add exactly");
        _sumIs(_u(0x007fffff, 0x00000001), 0x00800000, "into the normals");
        _sumIs(_u(0x00800000, 0x80000001), 0x007fffff, "out of the normals");
        _sumIs(_u(0x00800001, 0x80800000), 0x00000001, "normal - normal = least subnormal");
        _sumIs(_u(0x00000001, 0x80000001), 0, "subnormal cancellation: +0");
        _sumIs(_u(0x80000001, 0x00000001), 0, "from the other side: +0");
        _sumIs(_u(0x80000001, 0x80000002), 0x80000003, "negative subnormals");
        _sumIs(_u(0x0d000000, 0x00000001), 0x0d000000, "2^-101 + least subnormal: below half an ulp");
        _sumIs(_u(0x0c800000, 0x80000001), 0x0c800000, "2^-102 - least subnormal rounds back to the power of two");
        _sumIs(_u(0x01000000, 0x80000001), 0x00ffffff, "2^-125 - least subnormal, exact");
        _sumIs(_u(0x0c000000, 0x80000001), 0x0c000000, "2^-103 - least subnormal rounds back");
        _sumIs(_u(0x0d800000, 0x80000001), 0x0d800000, "27 binades apart: far path");
        _sumIs(_u(0x3f800001, 0xbf800000), 0x34000000, "1 + ulp - 1 = 2^-23");
        _sumIs(_u(0x3fffffff, 0xbf800001), 0x3f7ffffc, "d = 1 cancellation: 1 - 2^-22");
        _sumIs(_u(0x3fffffff, 0xbfffffff, ONE), ONE, "x - x + 1 through +0");
        _sumIs(_u(0x40400000, 0xc0400000, 0x40a00000), 0x40a00000, "3 - 3 + 5");
        _sumIs(_u(ONE, SIGN, 0), ONE, "zeros do not move a sum");
        _sumIs(_u(INF, MAX, 0xff7fffff, SIGN), INF, "inf + finite stays inf");
        _sumIs(_u(INF, INF), INF, "inf + inf");
        _sumIs(_u(0, 0xff800000, 0xff800000), 0xff800000, "-inf - inf");
        _sumIs(_u(0x00000001, INF), INF, "subnormal + inf");
    }

    /// @notice One step from any accumulator: sum([acc, x]) = add(add(+0, acc), x).
    function testFuzz_sum_step(uint32 acc, uint32 x) public view {
        _checkSum(_u(acc, x));
    }

    /// @notice Three words of which two are close: the exact paths, not the far ones.
    function testFuzz_sum_close(uint32 a, uint32 b, uint8 low) public view {
        _checkSum(_u(a, (a ^ SIGN) ^ uint32(low), b));
        _checkSum(_u(a, b & 0x807fffff | (a & 0x7f800000)));
    }

    function testFuzz_sum_vectors(uint256 seed) public {
        rng = seed;
        _sumVectors(8);
    }

    /// @notice 40,000 structured single steps and 3,000 structured vectors, same seeds
    ///         every run (the fuzz tests above add fresh ones).
    function test_sum_manyStepsAndVectors() public {
        rng = 0x5ab;
        for (uint256 t = 0; t < 40_000; t++) {
            uint256 free = _free();
            uint256 band = _band();
            uint256 kinds = _next() % 7;
            uint32 acc = _value(kinds, band + _next() % 3);
            _checkSum(_u(acc, _value(kinds, band)));
            _setFree(free);
        }
        _sumVectors(3000);
    }

    // ---- maxFold --------------------------------------------------------------------

    function test_maxFold_edges() public view {
        _maxIs(new uint32[](0), NEG_INF, "empty: -inf");
        _maxIs(_u(NEG_INF), NEG_INF, "-inf");
        _maxIs(_u(0xff7fffff), 0xff7fffff, "-MAX");
        _maxIs(_u(SIGN), SIGN, "-0");
        _maxIs(_u(SIGN, 0), 0, "-0, +0: +0");
        _maxIs(_u(0, SIGN), 0, "+0, -0: +0");
        _maxIs(_u(SIGN, SIGN), SIGN, "-0, -0: -0");
        _maxIs(_u(0xc0400000, SIGN, 0xbf800000), SIGN, "max(-3, -0, -1) = -0");
        _maxIs(_u(0x80000001, SIGN), SIGN, "-0 above the least negative subnormal");
        _maxIs(_u(0x00000001, 0, SIGN), 0x00000001, "least subnormal above +0");
        _maxIs(_u(ONE, INF, MAX), INF, "inf wins");
        _maxIs(_u(0xff800000, 0xff800000), NEG_INF, "-inf, -inf");
        _maxIs(_u(ONE, NAN, INF), NAN, "NaN wins");
        _maxIs(_u(0xffc00001, ONE), NAN, "negative NaN, canonical");
        _maxIs(_u(ONE, 0x7f800001), NAN, "signalling NaN, canonical");
        _maxIs(_u(0xffffffff), NAN, "NaN with every bit");
        _maxIs(_u(0x40000000, 0x3f800000, 0x40000000), 0x40000000, "equal values");
        _maxIs(_u(0xbf800000, 0xc0000000), 0xbf800000, "-1 above -2");
    }

    function testFuzz_maxFold_pair(uint32 a, uint32 b) public view {
        _checkMax(_u(a, b));
        _checkMax(_u(a, b, a ^ SIGN));
    }

    function testFuzz_maxFold_vectors(uint256 seed) public {
        rng = seed;
        _maxVectors(8);
    }

    function test_maxFold_manyVectors() public {
        rng = 0x3a7;
        _maxVectors(3000);
    }

    // ---- gas ------------------------------------------------------------------------

    /// @notice SUM over 4096 words, fused loop against the composition, for every family
    ///         of adversarial values we tried; the dearest goes through the verifier below.
    function test_sum_gasFamilies() public {
        for (uint256 f = 0; f < 10; f++) {
            uint256 free = _free();
            (uint32[] memory v, string memory what) = _sumFamily(f, 4096);
            bytes memory w = _pack(v, v.length);
            (uint32 have, uint256 used) = harness.sumGas(w, false);
            (uint32 want, uint256 before) = harness.sumGas(w, true);
            emit GasVersus(what, used, before);
            assertEq(have, want, what);
            assertTrue(used < 2_600_000, "4096 adds under 2.6M gas, whatever the values");
            _setFree(free);
        }
    }

    function test_maxFold_gasFamilies() public {
        for (uint256 f = 0; f < 4; f++) {
            uint256 free = _free();
            (uint32[] memory v, string memory what) = _maxFamily(f, 4096);
            bytes memory w = _pack(v, v.length);
            (uint32 have, uint256 used) = harness.maxGas(w, false);
            (uint32 want, uint256 before) = harness.maxGas(w, true);
            emit GasVersus(what, used, before);
            assertEq(have, want, what);
            assertTrue(used < 750_000, "4096 max under 0.75M gas");
            _setFree(free);
        }
    }

    /// @notice The dearest SUM(4096), MAXR(4096) and DOT(2048) elements we could build,
    ///         through StepVerifier.evaluate with their range proofs, against the composed
    ///         prover on the same calldata.
    function test_verify_worstCases() public {
        uint256 worst = 0;
        for (uint256 f = 0; f < 10; f++) {
            uint256 free = _free();
            (uint32[] memory v, string memory what) = _sumFamily(f, 4096);
            StepOps.Op memory op = _op(StepOps.SUM, _u(1), _u(4096));
            uint256 tx_ = _verify(string.concat("SUM(4096) ", what), op, 0, _roots(v), _openings(_openAll(v)));
            if (tx_ > worst) worst = tx_;
            _setFree(free);
        }
        assertTrue(worst < 3_250_000, "SUM(4096) under 3.25M gas as a transaction");
        worst = 0;
        for (uint256 f = 0; f < 4; f++) {
            uint256 free = _free();
            (uint32[] memory v, string memory what) = _maxFamily(f, 4096);
            StepOps.Op memory op = _op(StepOps.MAXR, _u(1), _u(4096));
            uint256 tx_ = _verify(string.concat("MAXR(4096) ", what), op, 0, _roots(v), _openings(_openAll(v)));
            if (tx_ > worst) worst = tx_;
            _setFree(free);
        }
        assertTrue(worst < 1_600_000, "MAXR(4096) under 1.6M gas as a transaction");
        worst = 0;
        for (uint256 f = 0; f < 6; f++) {
            uint256 free = _free();
            uint256 tx_ = _verifyDot(f);
            if (tx_ > worst) worst = tx_;
            _setFree(free);
        }
        assertTrue(worst < 4_500_000, "DOT(2048) under 4.5M gas as a transaction");
    }

    // ---- value families for gas ------------------------------------------------------

    /// @dev 4096 words meant to keep the sum on its dearest paths.
    function _sumFamily(uint256 f, uint256 n) internal returns (uint32[] memory v, string memory what) {
        v = new uint32[](n);
        rng = 0x5e1 + f;
        if (f == 0) {
            what = "uniform(1, 10, x), the bench's";
            for (uint256 i = 0; i < n; i++) {
                v[i] = Random32.uniform(1, 10, uint32(i));
            }
        } else if (f == 1) {
            what = "alternating signs";
            for (uint256 i = 0; i < n; i++) {
                v[i] = Random32.uniform(1, 10, uint32(i)) ^ (i % 2 == 1 ? SIGN : 0);
            }
        } else if (f == 2) {
            what = "subnormals, alternating signs";
            for (uint256 i = 0; i < n; i++) {
                v[i] = uint32(_next() & 0x7fffff) | (i % 2 == 1 ? SIGN : 0);
            }
        } else if (f == 3) {
            what = "a normal sum near 2^-126 plus subnormals";
            v[0] = 0x02000000; // 2^-123: subnormals stay within 26 binades
            for (uint256 i = 1; i < n; i++) {
                v[i] = uint32(_next() & 0x7fffff) | (i % 2 == 1 ? SIGN : 0);
            }
        } else if (f == 4) {
            what = "cancellation: each word the running sum negated, a few ulps off";
            uint32 acc = 0;
            for (uint256 i = 0; i < n; i++) {
                uint32 x =
                    i % 2 == 0 ? uint32(0x3f000000 + (_next() & 0xffffff)) : (acc ^ SIGN) ^ uint32(_next() & 0xff);
                v[i] = x;
                acc = Binary32.add(acc, x);
            }
        } else if (f == 5) {
            what = "ties: 2^24 + 1 over and over";
            v[0] = 0x4b800000;
            for (uint256 i = 1; i < n; i++) {
                v[i] = i % 3 == 0 ? 0x40400000 : ONE;
            }
        } else if (f == 6) {
            what = "far apart: 1 then normals 60 binades down (slow path of add)";
            v[0] = ONE;
            for (uint256 i = 1; i < n; i++) {
                v[i] = uint32(0x1f800000 + (_next() & 0x7fffff)) | (i % 2 == 1 ? SIGN : 0);
            }
        } else if (f == 7) {
            what = "random finite patterns";
            for (uint256 i = 0; i < n; i++) {
                uint32 x = uint32(_next());
                v[i] = (x & 0x7f800000) == INF ? x & 0xbfffffff : x;
            }
        } else if (f == 8) {
            what = "subnormal sum of alternating subnormals 2 binades apart";
            for (uint256 i = 0; i < n; i++) {
                v[i] = i % 2 == 0 ? uint32(0x00600000 + (_next() & 0x1fffff)) : uint32(0x80100000 + (_next() & 0xfffff));
            }
        } else {
            what = "each word cancels the sum within its binade and is larger, down to the subnormals and up again";
            uint32 acc = 0;
            for (uint256 i = 0; i < n; i++) {
                uint32 e = acc & 0x7f800000;
                uint32 m = acc & 0x7fffff;
                uint32 x = e <= 0x00800000
                    ? uint32(0x7e800000 | (_next() & 0x7fffff))  // back up
                    : (~acc & SIGN) | e | (m + 1 + uint32(_next() % (0x800000 - m)) & 0x7fffff);
                v[i] = x;
                acc = Binary32.add(acc, x);
            }
        }
    }

    function _maxFamily(uint256 f, uint256 n) internal returns (uint32[] memory v, string memory what) {
        v = new uint32[](n);
        rng = 0x3a1 + f;
        if (f == 0) {
            what = "uniform(1, 10, x)";
            for (uint256 i = 0; i < n; i++) {
                v[i] = Random32.uniform(1, 10, uint32(i));
            }
        } else if (f == 1) {
            what = "increasing: every word a new max";
            for (uint256 i = 0; i < n; i++) {
                v[i] = uint32(0x3f800000 + i);
            }
        } else if (f == 2) {
            what = "negative, increasing";
            for (uint256 i = 0; i < n; i++) {
                v[i] = uint32(0xbf800000 + n - i);
            }
        } else {
            what = "signed zeros and subnormals";
            for (uint256 i = 0; i < n; i++) {
                v[i] = i % 3 == 0 ? SIGN : i % 3 == 1 ? 0x80000001 : 0;
            }
        }
    }

    /// @dev DOT k = 2048: element (1, 2) of A [4, k] · Bᵀ, B [3, k], one 256-leaf range
    ///      proof each, values of family f.
    function _verifyDot(uint256 f) internal returns (uint256) {
        uint256 k = 2048;
        uint32[] memory a = new uint32[](4 * k);
        uint32[] memory b = new uint32[](3 * k);
        string memory what;
        rng = 0xd0 + f;
        for (uint256 x = 0; x < a.length; x++) {
            uint256 r = _next();
            uint32 s = uint32(r >> 200) & SIGN;
            if (f == 0) {
                what = "DOT(2048) uniform, a third negated";
                a[x] = Random32.uniform(1, 10, uint32(x));
                if (x < b.length) b[x] = Random32.uniform(1, 11, uint32(x)) ^ (x % 3 == 0 ? SIGN : 0);
            } else if (f == 1) {
                what = "DOT(2048) subnormal factors, normal products";
                a[x] = uint32(1 + x * 977) & 0x7fffff;
                if (x < b.length) b[x] = uint32(0x3f800000 + x * 977);
            } else if (f == 2) {
                what = "DOT(2048) subnormal factors times 2^100, alternating signs";
                a[x] = uint32(r & 0x7fffff) | 1;
                if (x < b.length) b[x] = uint32(0x71800000 + ((r >> 32) & 0x7fffff)) | s;
            } else if (f == 3) {
                what = "DOT(2048) subnormal products, subnormal sum";
                a[x] = uint32(0x1f800000 + (r & 0x7fffff));
                if (x < b.length) b[x] = uint32(0x1f800000 + ((r >> 32) & 0x7fffff)) | s;
            } else if (f == 4) {
                what = "DOT(2048) subnormal factors, subnormal products";
                a[x] = uint32(r & 0x7fffff) | 1;
                if (x < b.length) b[x] = uint32(0x3f000000 + ((r >> 32) & 0x7fffff)) | s;
            } else {
                // Term 2q + 1 is term 2q negated, an ulp of b off: the sum cancels each time.
                what = "DOT(2048) subnormal factors, each product cancelling the one before";
                a[x] = x % 2 == 1 ? a[x - 1] : uint32(r & 0x7fffff) | 1;
                if (x < b.length) {
                    b[x] = x % 2 == 1 ? (b[x - 1] ^ SIGN) + 1 : uint32(0x4b000000 + ((r >> 32) & 0x7fffff));
                }
            }
        }
        StepOps.Op memory op = _op(StepOps.DOT, _u(4, 3), _u(4, 3, uint32(k), 0));
        StepOps.Opening[] memory o = _openings2(_open(a, 256, 256), _open(b, 512, 256));
        return _verify(what, op, 5, _roots2(a, b), o);
    }

    /// @dev evaluate through both verifiers; the same value; the gas of this one, as
    ///      execution and as a transaction.
    function _verify(
        string memory what,
        StepOps.Op memory op,
        uint256 e,
        bytes32[] memory roots,
        StepOps.Opening[] memory o
    ) internal returns (uint256 transaction) {
        bytes memory data = abi.encodeCall(
            StepVerifier.evaluate, (op, e, StepOps.Context({seed: 0, step: 0}), roots, o)
        );
        (uint32 have, uint256 used) = _call(address(verifier), data);
        (uint32 want, uint256 before) = _call(address(composed), data);
        assertEq(have, want, what);
        uint256 intrinsic = 21_000 + _calldataGas(data);
        transaction = used + intrinsic;
        emit VerifyGas(what, used, transaction, before + intrinsic);
    }

    /// @dev The value and the gas of a call whose calldata is already in memory: the
    ///      callee's execution (and the call's own 100 or 2,600), not this contract's.
    function _call(address to, bytes memory data) internal view returns (uint32 value, uint256 used) {
        bool ok;
        assembly {
            // In assembly: a high-level call would copy the calldata to fresh memory first.
            let start := gas()
            ok := staticcall(gas(), to, add(data, 32), mload(data), 0, 32)
            used := sub(start, gas())
            value := mload(0)
        }
        assertTrue(ok && value <= type(uint32).max, "evaluate returns");
    }

    /// @dev 4 gas a zero byte, 16 any other (EIP-2028).
    function _calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i = 0; i < data.length; i++) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    // ---- differential checks ----------------------------------------------------------

    function _sumVectors(uint256 count) internal {
        for (uint256 t = 0; t < count; t++) {
            uint256 free = _free();
            uint256 n = 1 + _next() % (_next() % 8 == 0 ? 200 : 24);
            uint256 band = _band();
            uint256 kinds = _next() % 7;
            uint256 mode = _next() % 4; // 0 plain, 1 mirror the last word, 2 cancel the sum
            uint32[] memory v = new uint32[](n);
            uint32 acc = 0;
            for (uint256 i = 0; i < n; i++) {
                uint32 x = _value(kinds, band);
                if (mode == 1 && i % 2 == 1) x = v[i - 1] ^ SIGN ^ uint32(_next() % 4 == 0 ? _next() & 0x7 : 0);
                if (mode == 2 && i % 3 == 2) x = (acc ^ SIGN) ^ uint32(_next() & (_next() % 2 == 0 ? 0x3 : 0xfff));
                v[i] = x;
                acc = Binary32.add(acc, x);
            }
            _checkSum(v);
            _setFree(free);
        }
    }

    function _maxVectors(uint256 count) internal {
        for (uint256 t = 0; t < count; t++) {
            uint256 free = _free();
            uint256 n = _next() % (_next() % 8 == 0 ? 200 : 24);
            uint256 band = _band();
            uint256 kinds = _next() % 7;
            uint32[] memory v = new uint32[](n);
            for (uint256 i = 0; i < n; i++) {
                uint256 r = _next() % 8;
                // Repeats, negations and neighbours of earlier words: ties of every kind.
                if (i > 0 && r == 0) v[i] = v[_next() % i];
                else if (i > 0 && r == 1) v[i] = v[_next() % i] ^ SIGN;
                else if (i > 0 && r == 2) v[i] = _neighbour(v[_next() % i], _next() % 2 == 0);
                else v[i] = _value(kinds, band);
            }
            _checkMax(v);
            _setFree(free);
        }
    }

    /// @dev The next pattern up or down, wrapping.
    function _neighbour(uint32 x, bool up) internal pure returns (uint32) {
        // Wraps on purpose: 0xffffffff + 1 = +0, 0 − 1 = a NaN.
        unchecked {
            return up ? x + 1 : x - 1;
        }
    }

    function _checkSum(uint32[] memory v) internal view {
        bytes memory w = _pack(v, v.length);
        uint32 want = harness.sumRef(w);
        uint32 have = harness.sum(w);
        if (have != want) revert SumMismatch(v, have, want);
    }

    function _checkMax(uint32[] memory v) internal view {
        bytes memory w = _pack(v, v.length);
        uint32 want = harness.maxRef(w);
        uint32 have = harness.maxFold(w);
        if (have != want) revert MaxMismatch(v, have, want);
    }

    error SumMismatch(uint32[] v, uint32 have, uint32 want);
    error MaxMismatch(uint32[] v, uint32 have, uint32 want);

    function _sumIs(uint32[] memory v, uint32 want, string memory what) internal view {
        _checkSum(v);
        assertEq(harness.sum(_pack(v, v.length)), want, what);
    }

    function _maxIs(uint32[] memory v, uint32 want, string memory what) internal view {
        _checkMax(v);
        assertEq(harness.maxFold(_pack(v, v.length)), want, what);
    }

    /// @dev A biased exponent band: around the subnormals, everyday, near overflow.
    function _band() internal returns (uint256) {
        uint256 r = _next() % 5;
        if (r == 0) return 1 + _next() % 6;
        if (r == 1) return 240 + _next() % 12;
        return 110 + _next() % 30;
    }

    /// @dev A value of one of the kinds `kinds` mixes, near `band` (kept below 255).
    function _value(uint256 kinds, uint256 band) internal returns (uint32) {
        uint256 r = _next();
        uint256 kind;
        if (kinds == 0) kind = 7; // everyday
        else if (kinds == 1) kind = 5 + (r >> 8) % 2; // few bits, two scales: ties
        else if (kinds == 2) kind = 5; // few bits: exact sums, cancellation, zeros
        else if (kinds == 3) kind = (r >> 8) % 16 == 0 ? (r >> 16) % 5 : 5 + (r >> 8) % 3; // rare specials
        else if (kinds == 4) kind = (r >> 8) % 2 == 0 ? 2 : 9; // subnormals and the least normals
        else kind = (r >> 8) % 10; // anything
        uint32 sign = uint32(r >> 40) & SIGN;
        uint256 m = (r >> 64) & 0x7fffff;
        uint256 e = (r >> 96) % 4;
        if (kind == 0) return uint32(r >> 128);
        if (kind == 1) return sign;
        if (kind == 2) return sign | uint32((r >> 100) % 2 == 0 ? m : m & 0x7c0003); // subnormal (or zero)
        if (kind == 3) return sign | INF;
        if (kind == 4) return sign | INF | uint32(m | 1); // NaN, any payload
        if (kind == 5) return sign | uint32(_cap(band + e) << 23) | uint32(m & 0x780001);
        // Few bits 22 to 26 binades up or down: halfway, sticky and far cases.
        if (kind == 6) return sign | uint32(_cap(band + 22 + (r >> 96) % 5) << 23) | uint32(m & 0x700000);
        if (kind == 7) return sign | uint32(_cap(band + (r >> 96) % 8) << 23) | uint32(m);
        if (kind == 8) return sign | uint32((240 + (r >> 96) % 15) << 23) | uint32(m);
        return sign | uint32((1 + (r >> 96) % 28) << 23) | uint32(m & 0x7c000f);
    }

    function _cap(uint256 e) internal pure returns (uint256) {
        return e > 254 ? 254 : e;
    }

    // ---- trees and openings (TensorTrees) ---------------------------------------------

    function _op(uint8 code, uint32[] memory dims, uint32[] memory attrs) internal pure returns (StepOps.Op memory) {
        return StepOps.Op({code: code, dtype: 0, dims: dims, inputs: new StepOps.OpInput[](0), attrs: attrs});
    }

    function _root(uint32[] memory v) internal pure returns (bytes32) {
        return TensorTrees.root(v, 0);
    }

    function _roots(uint32[] memory a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = _root(a);
    }

    function _roots2(uint32[] memory a, uint32[] memory b) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](2);
        (r[0], r[1]) = (_root(a), _root(b));
    }

    function _openings(StepOps.Opening memory a) internal pure returns (StepOps.Opening[] memory o) {
        o = new StepOps.Opening[](1);
        o[0] = a;
    }

    function _openings2(StepOps.Opening memory a, StepOps.Opening memory b)
        internal
        pure
        returns (StepOps.Opening[] memory o)
    {
        o = new StepOps.Opening[](2);
        (o[0], o[1]) = (a, b);
    }

    function _openAll(uint32[] memory v) internal pure returns (StepOps.Opening memory) {
        return _open(v, 0, (v.length + 7) / 8);
    }

    function _open(uint32[] memory v, uint256 first, uint256 count) internal pure returns (StepOps.Opening memory) {
        return TensorTrees.open(v, 0, first, count);
    }

    // ---- helpers ----------------------------------------------------------------------

    function _pack(uint32[] memory v, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(4 * n);
        for (uint256 i = 0; i < n; i++) {
            uint32 x = v[i];
            assembly {
                mstore(add(add(out, 32), mul(i, 4)), shl(224, x))
            }
        }
        assembly {
            mstore(add(add(out, 32), mul(n, 4)), 0) // the last word's spill past the end
        }
    }

    function _u(uint32 x) internal pure returns (uint32[] memory v) {
        v = new uint32[](1);
        v[0] = x;
    }

    function _u(uint32 x, uint32 y) internal pure returns (uint32[] memory v) {
        v = new uint32[](2);
        (v[0], v[1]) = (x, y);
    }

    function _u(uint32 x, uint32 y, uint32 z) internal pure returns (uint32[] memory v) {
        v = new uint32[](3);
        (v[0], v[1], v[2]) = (x, y, z);
    }

    function _u(uint32 x, uint32 y, uint32 z, uint32 w) internal pure returns (uint32[] memory v) {
        v = new uint32[](4);
        (v[0], v[1], v[2], v[3]) = (x, y, z, w);
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
