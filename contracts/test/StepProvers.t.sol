// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {Openings} from "../src/dispute/Openings.sol";
import {Random32} from "../src/dispute/Random32.sol";
import {TensorMerkle} from "../src/dispute/TensorMerkle.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";

/// @notice Tensors, trees and range proofs built here from the rules of docs/design.md §5
///         (independently of TensorMerkle), and ops of the step program evaluated through
///         the StepVerifier against values worked out by hand or by the engine
///         (packages/engine, pinned below with the expression that produced them).
contract StepProversTest is TestBase {
    StepVerifier internal verifier;

    /// @notice Gas of one `evaluate` through the verifier; `forge test -vvvv` shows them.
    event Gas(uint8 code, uint256 used);

    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant NEG_INF = 0xff800000;
    uint32 internal constant INF = 0x7f800000;
    uint32 internal constant NAN = 0x7fc00000;
    uint32 internal constant NEG_ZERO = 0x80000000;
    uint8 internal constant F32 = 0;
    uint8 internal constant I32 = 1;

    function setUp() public {
        verifier = new StepVerifier(new ElementwiseProver(), new ReduceProver(), new IndexProver(), new OptimProver());
    }

    // ---- Random32 ------------------------------------------------------------------

    /// @dev node -e "import('./packages/protocol/src/prng.ts').then(m => ...)"
    function test_random32_matchesEngine() public pure {
        assertEq(Random32.random32(42, 2, 0), 3289032522, "random32(42, 2, 0)");
        assertEq(Random32.uniform(7, 0x1000, 3), 0x3eba1108, "uniform(7, 0x1000, 3) = 0.36341118812561035");
        assertEq(Random32.random32(2 ** 40 + 5, 0x1003, 77), 2382206391, "seed above 2^32");
        assertEq(Random32.random32(2 ** 33 + 7, 2, 0xffffffff), 3089647633, "index 2^32 - 1");
        assertEq(Random32.random32(123456789, 2, 13), 3577253370, "random32(123456789, 2, 13)");
    }

    /// @dev uniform is (r >> 8) · 2^-24 exactly: its bits decode back to r >> 8.
    function testFuzz_uniform_isExactTop24Bits(uint64 seed, uint32 purpose, uint32 index) public pure {
        uint32 u = Random32.uniform(seed, purpose, index);
        uint256 top = Random32.random32(seed, purpose, index) >> 8;
        if (top == 0) return assertEq(u, 0, "0 -> +0");
        uint256 exponent = (u >> 23) & 0xff; // value = (0x800000 | mantissa) · 2^(exponent − 150)
        uint256 significand = (u & 0x7fffff) | 0x800000;
        assertTrue(u >> 31 == 0 && exponent < 127 && exponent >= 103, "in (0, 1)");
        assertEq(significand >> (126 - exponent), top, "significand is the integer");
        assertEq(significand & ((1 << (126 - exponent)) - 1), 0, "nothing rounded");
    }

    // ---- group 0: elementwise ------------------------------------------------------

    function test_binaryOps_knownValues() public {
        // 1.5 op 2.25 on scalars (rank 1, stride 0 on both sides broadcasts them).
        assertBits(_binary(StepOps.ADD, 0x3fc00000, 0x40100000), 0x40700000, "1.5 + 2.25 = 3.75");
        assertBits(_binary(StepOps.SUB, 0x3fc00000, 0x40100000), 0xbf400000, "1.5 - 2.25 = -0.75");
        assertBits(_binary(StepOps.MUL, 0x3fc00000, 0x40100000), 0x40580000, "1.5 * 2.25 = 3.375");
        assertBits(_binary(StepOps.DIV, 0x40100000, 0x3fc00000), 0x3fc00000, "2.25 / 1.5 = 1.5");
        assertBits(_binary(StepOps.DIV, ONE, 0), INF, "1 / +0 = inf");
        assertBits(_binary(StepOps.MAX, 0x3fc00000, 0x40100000), 0x40100000, "max(1.5, 2.25)");
        assertBits(_binary(StepOps.MAX, NEG_ZERO, 0), 0, "max(-0, +0) = +0");
        assertBits(_binary(StepOps.MAX, 0, NEG_ZERO), 0, "max(+0, -0) = +0");
        assertBits(_binary(StepOps.MAX, NAN, ONE), NAN, "max: NaN wins");
        assertBits(_binary(StepOps.MAX, ONE, 0xffc00001), NAN, "max: NaN wins, canonical");
        assertBits(_binary(StepOps.CMPGE, 0x40100000, 0x3fc00000), ONE, "2.25 >= 1.5");
        assertBits(_binary(StepOps.CMPGE, 0x3fc00000, 0x40100000), 0, "1.5 >= 2.25 is +0");
        assertBits(_binary(StepOps.CMPGE, NEG_ZERO, 0), ONE, "-0 >= +0");
        assertBits(_binary(StepOps.CMPGE, NAN, NAN), 0, "NaN >= NaN is +0");
    }

    function test_binaryOps_broadcastStrides() public {
        // a [2, 3] + b [3] expanded over rows: out[1][1] = a[4] + b[1] = 5 + 20.
        uint32[] memory a = _floats(1, 6); // 1..6
        uint32[] memory b = _u([_f(10), _f(20), _f(30)]);
        StepOps.Op memory op = _op(StepOps.ADD, _u([uint32(2), 3]), _u([uint32(3), 1, 0, 1]));
        assertBits(_eval(op, 4, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(25), "a[4] + b[1]");
        assertBits(_eval(op, 5, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(36), "a[5] + b[2]");
    }

    function test_unaryOps_knownValues() public {
        assertBits(_unary(StepOps.NEG, 0x3fc00000), 0xbfc00000, "-1.5");
        assertBits(_unary(StepOps.NEG, 0), NEG_ZERO, "-(+0) = -0");
        assertBits(_unary(StepOps.NEG, NAN), NAN, "-NaN is the canonical NaN");
        assertBits(_unary(StepOps.EXP, 0), ONE, "exp 0");
        assertBits(_unary(StepOps.EXP, ONE), 0x402df854, "exp 1 (engine expf(1))");
        assertBits(_unary(StepOps.EXP, 0xc3000000), 0, "exp -128 underflows");
        assertBits(_unary(StepOps.LOG, ONE), 0, "log 1");
        assertBits(_unary(StepOps.LOG, 0x40000000), 0x3f317218, "log 2 (engine logf(2))");
        assertBits(_unary(StepOps.LOG, 0), NEG_INF, "log 0");
        assertBits(_unary(StepOps.LOG, 0xbf800000), NAN, "log -1");
        assertBits(_unary(StepOps.SQRT, 0x40100000), 0x3fc00000, "sqrt 2.25");
        assertBits(_unary(StepOps.RECIP, 0x40800000), 0x3e800000, "1/4");
        assertBits(_unary(StepOps.RECIP, NEG_ZERO), NEG_INF, "1/-0");
    }

    function test_copy_permutes() public {
        // out [3, 2] = transpose of a [2, 3]: out[i][j] = a[j][i], strides (1, 3).
        uint32[] memory a = _floats(1, 6);
        StepOps.Op memory op = _op(StepOps.COPY, _u([uint32(3), 2]), _u([uint32(1), 3]));
        assertBits(_eval(op, 3, _roots(a), _openings(_openAll(a))), _f(5), "out[1][1] = a[1][1]");
        assertBits(_eval(op, 4, _roots(a), _openings(_openAll(a))), _f(3), "out[2][0] = a[0][2]");
        assertBits(_eval(op, 1, _roots(a), _openings(_openAll(a))), _f(4), "out[0][1] = a[1][0]");
    }

    function test_copy_passesI32AndCanonicalisesF32() public {
        uint32[] memory a = _u([uint32(0x7fc00001), 0xffffffff]);
        StepOps.Op memory op = _op(StepOps.COPY, _u([uint32(2)]), _u([uint32(1)]));
        assertBits(_eval(op, 0, _roots(a), _openings(_openAll(a))), NAN, "f32 NaN payload canonical");
        op.dtype = I32;
        assertBits(_eval(op, 0, _rootsT(a, I32), _openings(_openAllT(a, I32))), 0x7fc00001, "i32 as is");
        assertBits(_eval(op, 1, _rootsT(a, I32), _openings(_openAllT(a, I32))), 0xffffffff, "i32 -1 as is");
    }

    // ---- group 1: reductions -------------------------------------------------------

    function test_sum_runsAndTail() public {
        uint32[] memory a = _floats(1, 20); // three leaves; runs of 8
        StepOps.Op memory op = _op(StepOps.SUM, _u([uint32(4)]), _u([uint32(8)]));
        assertBits(_eval(op, 0, _roots(a), _openings(_open(a, F32, 0, 1))), _f(36), "1 + .. + 8");
        assertBits(_eval(op, 2, _roots(a), _openings(_open(a, F32, 2, 1))), _f(74), "17 + .. + 20 (clipped)");
        assertBits(_eval(op, 3, _roots(a), _openings(_open(a, F32, 1, 1))), 0, "past the end: +0");
        op.code = StepOps.MAXR;
        assertBits(_eval(op, 1, _roots(a), _openings(_open(a, F32, 1, 1))), _f(16), "max 9 .. 16");
        assertBits(_eval(op, 3, _roots(a), _openings(_open(a, F32, 0, 1))), NEG_INF, "past the end: -inf");
    }

    function test_maxr_signedZerosAndNaN() public {
        uint32[] memory a = _u([uint32(0xc0400000), NEG_ZERO, 0xbf800000, 0, 0xc0000000, NAN]);
        StepOps.Op memory op = _op(StepOps.MAXR, _u([uint32(2)]), _u([uint32(3)]));
        assertBits(_eval(op, 0, _roots(a), _openings(_openAll(a))), 0x80000000, "max(-3, -0, -1) = -0");
        assertBits(_eval(op, 1, _roots(a), _openings(_openAll(a))), NAN, "max(+0, -2, NaN) = NaN");
        op.code = StepOps.SUM;
        assertBits(_eval(op, 0, _roots(a), _openings(_openAll(a))), 0xc0800000, "-3 + -0 + -1 = -4");
    }

    function test_dot_matmulElement() public {
        // A [2, 3] · Bᵀ with B [2, 3]: out[1][0] = (4, 5, 6) · (7, 8, 9) = 122.
        uint32[] memory a = _floats(1, 6);
        uint32[] memory b = _floats(7, 12);
        StepOps.Op memory op = _op(StepOps.DOT, _u([uint32(2), 2]), _u([uint32(2), 2, 3, 0]));
        assertBits(_eval(op, 2, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(122), "row 1 . row 0");
        assertBits(
            _eval(op, 1, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(68), "row 0 . row 1: 10 + 22 + 36"
        );
    }

    function test_dot_batched() public {
        // [2, 1, 1] out, m = n = 1, k = 2: batch 1 reads A[2..4) and, batched, B[2..4).
        uint32[] memory a = _floats(1, 4);
        uint32[] memory b = _floats(5, 8);
        StepOps.Op memory op = _op(StepOps.DOT, _u([uint32(2), 1, 1]), _u([uint32(1), 1, 2, 1]));
        assertBits(_eval(op, 1, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(3 * 7 + 4 * 8), "batched");
        op.attrs[3] = 0;
        assertBits(_eval(op, 1, _roots(a, b), _openings(_openAll(a), _openAll(b))), _f(3 * 5 + 4 * 6), "B shared");
    }

    /// @notice The worst case a dispute meets: k = 2048, each row a 256-leaf range proof
    ///         inside a bigger tensor. Values: A[x] = uniform(1, 10, x), B[x] =
    ///         uniform(1, 11, x) − 0.5; the result is the engine's (Math.fround loop).
    function test_dot_k2048_gas() public {
        uint256 k = 2048;
        uint32[] memory a = new uint32[](4 * k); // A [4, k]
        uint32[] memory b = new uint32[](3 * k); // B [3, k]
        for (uint256 x = 0; x < a.length; x++) {
            a[x] = Random32.uniform(1, 10, uint32(x));
        }
        for (uint256 x = 0; x < b.length; x++) {
            b[x] = _minusHalf(Random32.uniform(1, 11, uint32(x)));
        }
        StepOps.Op memory op = _op(StepOps.DOT, _u([uint32(4), 3]), _u([uint32(4), 3, uint32(k), 0]));
        // Element (1, 2): A row 1 = leaves [256, 512), B row 2 = leaves [512, 768).
        StepOps.Opening[] memory o = _openings(_open(a, F32, 256, 256), _open(b, F32, 512, 256));
        bytes32[] memory roots = _roots(a, b);
        uint256 before = gasleft();
        uint32 value = verifier.evaluate(op, 5, _ctx(0, 0), roots, o);
        uint256 used = before - gasleft();
        emit Gas(StepOps.DOT, used);
        assertBits(value, 0x3f8b0ce2, "engine: 1.0863306522369385");
        assertTrue(used < 4_750_000, "DOT k=2048 with two range proofs under 4.75M gas");
    }

    /// @notice A run of 4096 (the most any element reads): a 512-leaf proof and 4096 adds.
    ///         Values A[x] = uniform(1, 10, x); sums and max are the engine's.
    function test_sum_n4096_gas() public {
        uint32[] memory a = new uint32[](4096);
        for (uint256 x = 0; x < a.length; x++) {
            a[x] = Random32.uniform(1, 10, uint32(x));
        }
        StepOps.Op memory op = _op(StepOps.SUM, _u([uint32(1)]), _u([uint32(4096)]));
        bytes32[] memory roots = _roots(a);
        StepOps.Opening[] memory o = _openings(_openAll(a));
        uint256 before = gasleft();
        uint32 value = verifier.evaluate(op, 0, _ctx(0, 0), roots, o);
        uint256 used = before - gasleft();
        emit Gas(StepOps.SUM, used);
        assertBits(value, 0x44fae480, "engine: 2007.140625");
        assertTrue(used < 6_000_000, "SUM of 4096 under 6M gas");
        op.code = StepOps.MAXR;
        assertBits(_eval(op, 0, roots, o), 0x3f7ffb27, "engine: max");
    }

    /// @notice SCATTER with P = 2048 where every position gathered the row: 2048 index
    ///         reads and 2048 adds, two 256-leaf proofs.
    function test_scatter_P2048_gas() public {
        uint32[] memory g = new uint32[](4096); // gT [2, 2048]
        for (uint256 x = 0; x < g.length; x++) {
            g[x] = Random32.uniform(1, 10, uint32(x));
        }
        uint32[] memory idx = new uint32[](2048);
        for (uint256 p = 0; p < idx.length; p++) {
            idx[p] = 1;
        }
        StepOps.Op memory op = _op(StepOps.SCATTER, _u([uint32(2), 2]), _u([uint32(2), 2048]));
        bytes32[] memory roots = _roots(g, F32, idx, I32);
        StepOps.Opening[] memory o = _openings(_open(g, F32, 256, 256), _openAllT(idx, I32));
        uint256 before = gasleft();
        uint32 value = verifier.evaluate(op, 3, _ctx(0, 0), roots, o);
        uint256 used = before - gasleft();
        emit Gas(StepOps.SCATTER, used);
        assertBits(value, 0x447e0c87, "engine: sum of gT[2048 .. 4096)");
        assertTrue(used < 5_000_000, "SCATTER P=2048 under 5M gas");
    }

    function test_scatter_sumsMatchingPositions() public {
        // gT [D = 2, P = 4] = 1..8, idx = [1, 0, 1, -1], out [rows = 3, D = 2].
        uint32[] memory g = _floats(1, 8);
        uint32[] memory idx = _u([uint32(1), 0, 1, 0xffffffff]);
        StepOps.Op memory op = _op(StepOps.SCATTER, _u([uint32(3), 2]), _u([uint32(3), 4]));
        bytes32[] memory roots = _roots(g, F32, idx, I32);
        StepOps.Opening[] memory o = _openings(_openAll(g), _openAllT(idx, I32));
        assertBits(_eval(op, 3, roots, o), _f(5 + 7), "row 1, d 1: gT[4] + gT[6]");
        assertBits(_eval(op, 2, roots, o), _f(1 + 3), "row 1, d 0: gT[0] + gT[2]");
        assertBits(_eval(op, 1, roots, o), _f(6), "row 0, d 1: gT[5]");
        // Row 2 gathers nothing: +0, and gT is not read (an empty opening will do).
        o[0] = _empty();
        assertBits(_eval(op, 4, roots, o), 0, "row 2: +0");
    }

    // ---- group 2: indexing and data ------------------------------------------------

    function test_gather_rows() public {
        // table [3, 2], idx [2] = [2, 0]: out [2, 2].
        uint32[] memory table = _floats(1, 6);
        uint32[] memory idx = _u([uint32(2), 0]);
        StepOps.Op memory op = _op(StepOps.GATHER, _u([uint32(2), 2]), _u([uint32(3), 2]));
        bytes32[] memory roots = _roots(table, F32, idx, I32);
        StepOps.Opening[] memory o = _openings(_openAll(table), _openAllT(idx, I32));
        assertBits(_eval(op, 1, roots, o), _f(6), "table[2][1]");
        assertBits(_eval(op, 2, roots, o), _f(1), "table[0][0]");
    }

    function test_gather_revertsOutsideRows() public {
        uint32[] memory table = _floats(1, 6);
        uint32[] memory idx = _u([uint32(3), 0xffffffff]);
        StepOps.Op memory op = _op(StepOps.GATHER, _u([uint32(2), 2]), _u([uint32(3), 2]));
        bytes32[] memory roots = _roots(table, F32, idx, I32);
        StepOps.Opening[] memory o = _openings(_openAll(table), _openAllT(idx, I32));
        vm.expectRevert(abi.encodeWithSelector(Openings.IndexOutOfRange.selector, int256(3), uint256(3)));
        verifier.evaluate(op, 0, _ctx(0, 0), roots, o);
        vm.expectRevert(abi.encodeWithSelector(Openings.IndexOutOfRange.selector, int256(-1), uint256(3)));
        verifier.evaluate(op, 3, _ctx(0, 0), roots, o);
    }

    function test_window_randomStart() public {
        // tokens[i] = 1000 + i, 40 of them; batch 2, width 6, offset 1, window 6.
        uint32[] memory tokens = new uint32[](40);
        for (uint256 i = 0; i < 40; i++) {
            tokens[i] = uint32(1000 + i);
        }
        StepOps.Op memory op = _op(StepOps.WINDOW, _u([uint32(2), 6]), _u([uint32(2), 6, 1, 6]));
        op.dtype = I32;
        bytes32[] memory roots = _rootsT(tokens, I32);
        // engine: random32(11, 2, 3·2 + 1) % 34 = 606443766 % 34 = 12; col 3: 12 + 1 + 3.
        assertBits(_eval(op, 9, _ctx(11, 3), roots, _openings(_open(tokens, I32, 2, 1))), 1016, "tokens[16]");
        // engine: random32(2^33 + 7, 2, (2^31·3 + 1) >>> 0) = 626725268, % 34 = 4; col 0.
        op.attrs[0] = 3;
        assertBits(
            _eval(op, 6, _ctx(2 ** 33 + 7, 2 ** 31), roots, _openings(_open(tokens, I32, 0, 1))), 1005, "tokens[5]"
        );
    }

    function test_window_needsTokensPastTheWindow() public {
        uint32[] memory tokens = new uint32[](6);
        StepOps.Op memory op = _op(StepOps.WINDOW, _u([uint32(1), 6]), _u([uint32(1), 6, 0, 6]));
        vm.expectRevert(abi.encodeWithSelector(Openings.NoWindow.selector, uint256(6), uint256(6)));
        verifier.evaluate(op, 0, _ctx(1, 0), _rootsT(tokens, I32), _openings(_openAllT(tokens, I32)));
    }

    function test_onehot() public {
        uint32[] memory targets = _u([uint32(3), 1]);
        StepOps.Op memory op = _op(StepOps.ONEHOT, _u([uint32(2), 4]), _u([uint32(4)]));
        bytes32[] memory roots = _rootsT(targets, I32);
        StepOps.Opening[] memory o = _openings(_openAllT(targets, I32));
        assertBits(_eval(op, 3, roots, o), ONE, "targets[0] = 3");
        assertBits(_eval(op, 2, roots, o), 0, "targets[0] != 2");
        assertBits(_eval(op, 5, roots, o), ONE, "targets[1] = 1");
        assertBits(_eval(op, 4, roots, o), 0, "targets[1] != 0");
    }

    function test_rope_rotatesPairs() public {
        // x = 1..8 as [pos 2, dh 4], h = 2; cos, sin [T = 2, h = 2] with (1, 1) = 0.5, 0.25.
        uint32[] memory x = _floats(1, 8);
        uint32[] memory c = _u([_f(1), _f(1), _f(1), 0x3f000000]);
        uint32[] memory s = _u([uint32(0), 0, 0, 0x3e800000]);
        StepOps.Op memory op = _op(StepOps.ROPE, _u([uint32(2), 4]), _u([uint32(4), 2]));
        bytes32[] memory roots = new bytes32[](3);
        (roots[0], roots[1], roots[2]) = (_root(x, F32), _root(c, F32), _root(s, F32));
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        (o[0], o[1], o[2]) = (_openAll(x), _openAll(c), _openAll(s));
        assertBits(_eval(op, 5, roots, o), ONE, "j = 1 < h: 6*0.5 - 8*0.25 = 1");
        assertBits(_eval(op, 7, roots, o), 0x40b00000, "j = 3: 8*0.5 + 6*0.25 = 5.5");
        assertBits(_eval(op, 0, roots, o), _f(1), "pos 0: identity rotation");
    }

    function test_rope_oneOpeningCoversBothReads() public {
        // dh = 16, h = 8: element 3 reads x[3] and x[11], two leaves.
        uint32[] memory x = _floats(1, 16);
        uint32[] memory c = _floats(1, 8);
        StepOps.Op memory op = _op(StepOps.ROPE, _u([uint32(16)]), _u([uint32(16), 1]));
        bytes32[] memory roots = new bytes32[](3);
        (roots[0], roots[1], roots[2]) = (_root(x, F32), _root(c, F32), _root(c, F32));
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        (o[0], o[1], o[2]) = (_openAll(x), _openAll(c), _openAll(c));
        // 4·4 − 12·4 = −32
        assertBits(_eval(op, 3, roots, o), 0xc2000000, "x[3]*c[3] - x[11]*s[3]");
        o[0] = _open(x, F32, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(Openings.NotCovered.selector, 0, 3, 11, 0, 8));
        verifier.evaluate(op, 3, _ctx(0, 0), roots, o);
    }

    function test_concat_readsOnlyItsInput() public {
        uint32[] memory x0 = _u([uint32(0x3fc00000)]);
        uint32[] memory x1 = _u([uint32(0x40100000)]);
        uint32[] memory x2 = _u([uint32(0x40700000)]);
        StepOps.Op memory op = _op(StepOps.CONCAT, _u([uint32(3)]), new uint32[](0));
        bytes32[] memory roots = new bytes32[](3);
        (roots[0], roots[1], roots[2]) = (_root(x0, F32), _root(x1, F32), _root(x2, F32));
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        (o[0], o[1], o[2]) = (_empty(), _openAll(x1), _empty());
        assertBits(_eval(op, 1, roots, o), 0x40100000, "inputs[1][0]");
        o[2] = _openAll(x2);
        assertBits(_eval(op, 2, roots, o), 0x40700000, "inputs[2][0]");
    }

    function test_uniform_matchesEngineInit() public {
        // engine: f(f(f(uniform(9, 0x1000 + 2, 4) · 2) − 1) · 0.5)
        StepOps.Op memory op = _op(StepOps.UNIFORM, _u([uint32(8)]), _u([uint32(2), 0x3f000000]));
        assertBits(_eval(op, 4, _ctx(9, 0), new bytes32[](0), new StepOps.Opening[](0)), 0x3edf07f6, "init value");
    }

    function test_fill_canonicalisesOnlyF32() public {
        StepOps.Op memory op = _op(StepOps.FILL, _u([uint32(8)]), _u([uint32(0x40490fdb)]));
        assertBits(_eval(op, 7, new bytes32[](0), new StepOps.Opening[](0)), 0x40490fdb, "pi");
        op.attrs[0] = 0xffc00001;
        assertBits(_eval(op, 7, new bytes32[](0), new StepOps.Opening[](0)), NAN, "NaN canonical");
        op.attrs[0] = 0x7f800001;
        assertBits(_eval(op, 7, new bytes32[](0), new StepOps.Opening[](0)), NAN, "signalling NaN canonical");
        op.attrs[0] = INF;
        assertBits(_eval(op, 7, new bytes32[](0), new StepOps.Opening[](0)), INF, "inf is no NaN");
        op.dtype = I32;
        op.attrs[0] = 0xffc00001;
        assertBits(_eval(op, 7, new bytes32[](0), new StepOps.Opening[](0)), 0xffc00001, "i32 as is");
    }

    // ---- group 3: optimiser --------------------------------------------------------

    function test_clip() public {
        uint32[] memory sumsq = _u([uint32(0x41800000)]); // 16
        StepOps.Op memory op = _op(StepOps.CLIP, _u([uint32(1)]), _u([ONE]));
        // engine: f(1 / f(sqrtf(16) + f(1e-6)))
        assertBits(_eval(op, 0, _roots(sumsq), _openings(_openAll(sumsq))), 0x3e7ffffc, "1 / (4 + 1e-6)");
        op.attrs[0] = 0x41200000; // 10 / 4: no clipping
        assertBits(_eval(op, 0, _roots(sumsq), _openings(_openAll(sumsq))), ONE, "above 1: 1");
        op.attrs[0] = 0; // off: the opening is not even read
        assertBits(_eval(op, 0, new bytes32[](0), new StepOps.Opening[](0)), ONE, "clip 0: 1");
        op.attrs[0] = 0x3f000000;
        uint32[] memory three = _u([uint32(0x40400000)]);
        // engine: f(0.5 / f(sqrtf(3) + f(1e-6)))
        assertBits(_eval(op, 0, _roots(three), _openings(_openAll(three))), 0x3e93cd35, "0.5 / (sqrt 3 + 1e-6)");
        uint32[] memory nan = _u([NAN]);
        assertBits(_eval(op, 0, _roots(nan), _openings(_openAll(nan))), ONE, "NaN norm: 1");
    }

    /// @dev Values from packages/engine/src/train/optim.ts adamUpdate with β1 = 0.9, β2 = 0.999,
    ///      grad 0.3, scale 0.75, m 0.2, v 0.01, p −1.25, lr 0.003, c1 0.19, c2 0.001999,
    ///      eps 1e-8, wd 0.1 (all Math.fround).
    function test_adam() public {
        uint32[] memory grad = _u([uint32(0), 0x3e99999a]);
        uint32[] memory m = _u([uint32(0), 0x3e4ccccd]);
        uint32[] memory v = _u([uint32(0), 0x3c23d70a]);
        uint32[] memory scale = _u([uint32(0x3f400000)]);
        bytes32[] memory roots = new bytes32[](3);
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        (roots[0], roots[1], roots[2]) = (_root(grad, F32), _root(m, F32), _root(scale, F32));
        (o[0], o[1], o[2]) = (_openAll(grad), _openAll(m), _openAll(scale));
        StepOps.Op memory op = _op(StepOps.ADAM_M, _u([uint32(2)]), _u([uint32(0x3f666666), 0x3dccccd0]));
        assertBits(_eval(op, 1, roots, o), 0x3e4f5c29, "m'");
        (roots[1], o[1]) = (_root(v, F32), _openAll(v));
        op = _op(StepOps.ADAM_V, _u([uint32(2)]), _u([uint32(0x3f7fbe77), 0x3a831200]));
        assertBits(_eval(op, 1, roots, o), 0x3c24816e, "v'");

        uint32[] memory p = _u([uint32(0), 0xbfa00000]);
        uint32[] memory m1 = _u([uint32(0), 0x3e4f5c29]);
        uint32[] memory v1 = _u([uint32(0), 0x3c24816e]);
        // Step 1's (lr, c1, c2) are schedule[3 .. 6).
        uint32[] memory schedule = _u([uint32(0), 0, 0, 0x3b449ba6, 0x3e428f5c, 0x3b0301a8]);
        roots = new bytes32[](4);
        o = new StepOps.Opening[](4);
        (roots[0], roots[1], roots[2], roots[3]) = (_root(p, F32), _root(m1, F32), _root(v1, F32), _root(schedule, F32));
        (o[0], o[1], o[2], o[3]) = (_openAll(p), _openAll(m1), _openAll(v1), _openAll(schedule));
        op = _op(StepOps.ADAM_P, _u([uint32(2)]), _u([uint32(0x322bcc77), 0x3dcccccd, 0]));
        assertBits(_eval(op, 1, _ctx(0, 1), roots, o), 0xbfa02ec0, "p' without decay");
        op.attrs[2] = 1;
        assertBits(_eval(op, 1, _ctx(0, 1), roots, o), 0xbfa02276, "p' with decay");
    }

    // ---- errors --------------------------------------------------------------------

    function test_revert_wrongRoot() public {
        uint32[] memory a = _floats(1, 4);
        StepOps.Op memory op = _op(StepOps.NEG, _u([uint32(4)]), new uint32[](0));
        bytes32[] memory roots = _roots(a);
        bytes32 want = roots[0];
        StepOps.Opening[] memory o = _openings(_openAll(a));
        o[0].words[3] = 0x01; // a[0] = 1 becomes 1 + 1 ulp
        bytes32 have = _rootOfOpening(o[0]);
        vm.expectRevert(abi.encodeWithSelector(Openings.WrongRoot.selector, 0, have, want));
        verifier.evaluate(op, 0, _ctx(0, 0), roots, o);
        o = _openings(_openAll(a));
        o[0].length = 5; // the length is part of the root
        vm.expectRevert(abi.encodeWithSelector(Openings.WrongRoot.selector, 0, _rootOfOpening(o[0]), want));
        verifier.evaluate(op, 0, _ctx(0, 0), roots, o);
    }

    function test_revert_openingMissesTheElement() public {
        uint32[] memory a = _floats(1, 20);
        StepOps.Op memory op = _op(StepOps.NEG, _u([uint32(20)]), new uint32[](0));
        vm.expectRevert(abi.encodeWithSelector(Openings.NotCovered.selector, 0, 9, 9, 16, 24));
        verifier.evaluate(op, 9, _ctx(0, 0), _roots(a), _openings(_open(a, F32, 2, 1)));
        // SUM's run [8, 16) needs all of leaf 1.
        op = _op(StepOps.SUM, _u([uint32(3)]), _u([uint32(8)]));
        vm.expectRevert(abi.encodeWithSelector(Openings.NotCovered.selector, 0, 8, 15, 0, 8));
        verifier.evaluate(op, 1, _ctx(0, 0), _roots(a), _openings(_open(a, F32, 0, 1)));
    }

    function test_revert_elementPastLength() public {
        // a has 5 elements in its one leaf; stride 6 reads a[6], zero padding.
        uint32[] memory a = _floats(1, 5);
        StepOps.Op memory op = _op(StepOps.COPY, _u([uint32(2)]), _u([uint32(6)]));
        vm.expectRevert(abi.encodeWithSelector(Openings.PastEnd.selector, 0, 6, 5));
        verifier.evaluate(op, 1, _ctx(0, 0), _roots(a), _openings(_openAll(a)));
    }

    function test_revert_outputElementPastEnd() public {
        uint32[] memory a = _floats(1, 6);
        StepOps.Op memory op = _op(StepOps.NEG, _u([uint32(2), 3]), new uint32[](0));
        vm.expectRevert(abi.encodeWithSelector(Openings.ElementPastEnd.selector, 6, 6));
        verifier.evaluate(op, 6, _ctx(0, 0), _roots(a), _openings(_openAll(a)));
        op = _op(StepOps.FILL, _u([uint32(2), 0]), _u([ONE]));
        vm.expectRevert(abi.encodeWithSelector(Openings.ElementPastEnd.selector, 0, 0));
        verifier.evaluate(op, 0, _ctx(0, 0), new bytes32[](0), new StepOps.Opening[](0));
    }

    function test_revert_unknownCodes() public {
        uint8[7] memory codes = [0, 13, 15, 21, 39, 52, 64];
        for (uint256 i = 0; i < codes.length; i++) {
            StepOps.Op memory op = _op(codes[i], _u([uint32(1)]), new uint32[](0));
            vm.expectRevert(abi.encodeWithSelector(Openings.UnknownOp.selector, codes[i]));
            verifier.evaluate(op, 0, _ctx(0, 0), new bytes32[](0), new StepOps.Opening[](0));
        }
        StepOps.Op memory last = _op(255, _u([uint32(1)]), new uint32[](0));
        vm.expectRevert(abi.encodeWithSelector(Openings.UnknownOp.selector, uint8(255)));
        verifier.evaluate(last, 0, _ctx(0, 0), new bytes32[](0), new StepOps.Opening[](0));
    }

    function test_revert_missingAttrsAndInputs() public {
        uint32[] memory a = _floats(1, 2);
        StepOps.Op memory op = _op(StepOps.ADD, _u([uint32(2)]), _u([uint32(1)]));
        vm.expectRevert(abi.encodeWithSelector(Openings.MissingAttrs.selector, StepOps.ADD, 1, 2));
        verifier.evaluate(op, 0, _ctx(0, 0), _roots(a, a), _openings(_openAll(a), _openAll(a)));
        op.attrs = _u([uint32(1), 1]);
        vm.expectRevert(abi.encodeWithSelector(Openings.MissingInput.selector, 1, 1, 1));
        verifier.evaluate(op, 0, _ctx(0, 0), _roots(a), _openings(_openAll(a)));
        op = _op(StepOps.DOT, _u([uint32(1)]), _u([uint32(0), 1, 1, 0]));
        vm.expectRevert(abi.encodeWithSelector(Openings.ZeroAttr.selector, StepOps.DOT, 0));
        verifier.evaluate(op, 0, _ctx(0, 0), _roots(a, a), _openings(_openAll(a), _openAll(a)));
        op = _op(StepOps.SCATTER, _u([uint32(2)]), _u([uint32(2), 1]));
        vm.expectRevert(abi.encodeWithSelector(Openings.WrongRank.selector, StepOps.SCATTER, 1, 2));
        verifier.evaluate(op, 0, _ctx(0, 0), _roots(a, a), _openings(_openAll(a), _openAll(a)));
    }

    function test_revert_readInputWithEmptyOpening() public {
        uint32[] memory a = _floats(1, 2);
        StepOps.Op memory op = _op(StepOps.NEG, _u([uint32(2)]), new uint32[](0));
        StepOps.Opening[] memory o = _openings(_empty());
        vm.expectRevert(TensorMerkle.EmptyRange.selector);
        verifier.evaluate(op, 0, _ctx(0, 0), _roots(a), o);
    }

    /// @notice The strided read lands where the row-major multi-index says.
    function testFuzz_copy_transposeReadsTheRightElement(uint8 rows, uint8 cols, uint256 e) public view {
        uint256 r = bound(rows, 1, 5);
        uint256 c = bound(cols, 1, 5);
        e = bound(e, 0, r * c - 1);
        uint32[] memory a = _floats(1, r * c); // a [r, c]
        StepOps.Op memory op = _op(StepOps.COPY, _u([uint32(c), uint32(r)]), _u([uint32(1), uint32(c)]));
        // out [c, r]: out[i][j] = a[j][i] = a[j·c + i] = j·c + i + 1.
        uint256 i = e / r;
        uint256 j = e % r;
        assertBits(
            verifier.evaluate(op, e, _ctx(0, 0), _roots(a), _openings(_openAll(a))), _f(j * c + i + 1), "transpose"
        );
    }

    // ---- helpers -------------------------------------------------------------------

    function assertBits(uint32 have, uint32 want, string memory what) internal pure {
        assertEq(uint256(have), uint256(want), what);
    }

    function _eval(StepOps.Op memory op, uint256 e, bytes32[] memory roots, StepOps.Opening[] memory o)
        internal
        returns (uint32)
    {
        return _eval(op, e, _ctx(0, 0), roots, o);
    }

    function _eval(
        StepOps.Op memory op,
        uint256 e,
        StepOps.Context memory ctx,
        bytes32[] memory roots,
        StepOps.Opening[] memory o
    ) internal returns (uint32 value) {
        uint256 before = gasleft();
        value = verifier.evaluate(op, e, ctx, roots, o);
        emit Gas(op.code, before - gasleft());
    }

    function _binary(uint8 code, uint32 x, uint32 y) internal returns (uint32) {
        uint32[] memory a = _u([x]);
        uint32[] memory b = _u([y]);
        StepOps.Op memory op = _op(code, _u([uint32(1)]), _u([uint32(0), 0]));
        return _eval(op, 0, _roots(a, b), _openings(_openAll(a), _openAll(b)));
    }

    function _unary(uint8 code, uint32 x) internal returns (uint32) {
        uint32[] memory a = _u([uint32(0), x, 0]);
        StepOps.Op memory op = _op(code, _u([uint32(3)]), new uint32[](0));
        return _eval(op, 1, _roots(a), _openings(_openAll(a)));
    }

    function _op(uint8 code, uint32[] memory dims, uint32[] memory attrs) internal pure returns (StepOps.Op memory) {
        return StepOps.Op({code: code, dtype: F32, dims: dims, inputs: new StepOps.OpInput[](0), attrs: attrs});
    }

    function _ctx(uint64 seed, uint32 step) internal pure returns (StepOps.Context memory) {
        return StepOps.Context({seed: seed, step: step});
    }

    /// @dev The integer n (< 2^24) as binary32, exactly.
    function _f(uint256 n) internal pure returns (uint32) {
        if (n == 0) return 0;
        uint256 len = 0;
        while ((n >> len) > 1) len++;
        return uint32(((len + 127) << 23) | ((n << (23 - len)) & 0x7fffff));
    }

    /// @dev u − 0.5 for u = k · 2^-24 in [0, 1): exact, (k − 2^23) · 2^-24.
    function _minusHalf(uint32 u) internal pure returns (uint32) {
        uint256 k = 0;
        if (u != 0) {
            uint256 exponent = (u >> 23) & 0xff;
            k = ((u & 0x7fffff) | 0x800000) >> (126 - exponent);
        }
        bool negative = k < 1 << 23;
        uint256 d = negative ? (1 << 23) - k : k - (1 << 23);
        if (d == 0) return 0;
        uint256 len = 0;
        while ((d >> len) > 1) len++;
        // d · 2^-24 with len + 1 bits: biased exponent len − 24 + 127.
        uint32 bits = uint32(((len + 103) << 23) | ((d << (23 - len)) & 0x7fffff));
        return negative ? bits | 0x80000000 : bits;
    }

    function _floats(uint256 from, uint256 to) internal pure returns (uint32[] memory v) {
        v = new uint32[](to - from + 1);
        for (uint256 i = 0; i < v.length; i++) {
            v[i] = _f(from + i);
        }
    }

    function _u(uint32[1] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](1);
        v[0] = a[0];
    }

    function _u(uint32[2] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](2);
        for (uint256 i = 0; i < 2; i++) {
            v[i] = a[i];
        }
    }

    function _u(uint32[3] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](3);
        for (uint256 i = 0; i < 3; i++) {
            v[i] = a[i];
        }
    }

    function _u(uint32[4] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](4);
        for (uint256 i = 0; i < 4; i++) {
            v[i] = a[i];
        }
    }

    function _u(uint32[6] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](6);
        for (uint256 i = 0; i < 6; i++) {
            v[i] = a[i];
        }
    }

    function _roots(uint32[] memory a) internal pure returns (bytes32[] memory r) {
        return _rootsT(a, F32);
    }

    function _rootsT(uint32[] memory a, uint8 dtype) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = _root(a, dtype);
    }

    function _roots(uint32[] memory a, uint32[] memory b) internal pure returns (bytes32[] memory r) {
        return _roots(a, F32, b, F32);
    }

    function _roots(uint32[] memory a, uint8 da, uint32[] memory b, uint8 db)
        internal
        pure
        returns (bytes32[] memory r)
    {
        r = new bytes32[](2);
        (r[0], r[1]) = (_root(a, da), _root(b, db));
    }

    function _openings(StepOps.Opening memory a) internal pure returns (StepOps.Opening[] memory o) {
        o = new StepOps.Opening[](1);
        o[0] = a;
    }

    function _openings(StepOps.Opening memory a, StepOps.Opening memory b)
        internal
        pure
        returns (StepOps.Opening[] memory o)
    {
        o = new StepOps.Opening[](2);
        (o[0], o[1]) = (a, b);
    }

    function _empty() internal pure returns (StepOps.Opening memory) {
        return StepOps.Opening({length: 0, dtype: 0, firstLeaf: 0, words: "", siblings: new bytes32[](0)});
    }

    // Tensor trees and openings (docs/design.md §5): see TensorTrees.sol.

    function _root(uint32[] memory v, uint8 dtype) internal pure returns (bytes32) {
        return TensorTrees.root(v, dtype);
    }

    function _openAll(uint32[] memory v) internal pure returns (StepOps.Opening memory) {
        return _open(v, F32, 0, (v.length + 7) / 8);
    }

    function _openAllT(uint32[] memory v, uint8 dtype) internal pure returns (StepOps.Opening memory) {
        return _open(v, dtype, 0, (v.length + 7) / 8);
    }

    function _open(uint32[] memory v, uint8 dtype, uint256 first, uint256 count) internal pure returns (StepOps.Opening memory) {
        return TensorTrees.open(v, dtype, first, count);
    }

    function _rootOfOpening(StepOps.Opening memory o) internal view returns (bytes32) {
        return this.rootOf(o);
    }

    /// @dev TensorMerkle over calldata, for the expected `have` of a WrongRoot.
    function rootOf(StepOps.Opening calldata o) external pure returns (bytes32) {
        return TensorMerkle.rootFromRange(o.length, o.dtype, o.firstLeaf, o.words, o.siblings);
    }
}
