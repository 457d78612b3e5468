// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {StepOps, IOpProver} from "../src/dispute/StepOps.sol";
import {Openings} from "../src/dispute/Openings.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";
import {SamplingProver} from "../src/dispute/SamplingProver.sol";
import {ForwardVerifier} from "../src/dispute/ForwardVerifier.sol";

/// @notice The sampling ops (group 4, docs/inference.md "Sampled answers") through the
///         ForwardVerifier: the engine's vectors (vectors/sampling.json) bit for bit, the
///         attacks of a provider claiming another sample, and the gas of the widest rows.
contract SamplingProverTest is TestBase {
    ForwardVerifier internal verifier;
    StepVerifier internal stepVerifier;

    uint32 internal constant ZERO = 0;
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;
    uint32 internal constant THREE = 0x40400000;
    uint32 internal constant HALF = 0x3f000000;
    uint32 internal constant NAN = 0x7fc00000;
    uint8 internal constant F32 = 0;
    uint8 internal constant I32 = 1;

    error OpMismatch(uint256 index, uint256 code, uint256 have, uint256 want);

    /// @notice The gas of one evaluate (forge test -vvvv shows it).
    event Gas(string op, uint256 gas);

    function setUp() public {
        stepVerifier = new StepVerifier(new ElementwiseProver(), new ReduceProver(), new IndexProver(), new OptimProver());
        verifier = new ForwardVerifier(IOpProver(address(stepVerifier)), new SamplingProver());
    }

    /// @notice The engine's sampled forwards (four settings: temperature, top-k, top-p,
    ///         both): every sampling op, the SCATTER into likelihood order and the ARGMAX
    ///         before them give the engine's element.
    function test_samplingVectors() public {
        string memory json = vm.readFile("../vectors/sampling.json");
        uint256[] memory codes = vm.parseJsonUintArray(json, ".codes");
        uint256[] memory expected = vm.parseJsonUintArray(json, ".expected");
        uint256 seen;
        for (uint256 i = 0; i < codes.length; i++) {
            bytes memory call = vm.parseJsonBytes(json, string.concat(".cases[", _itoa(i), "].call"));
            (bool ok, bytes memory out) = address(verifier).staticcall(call);
            assertTrue(ok, "evaluate succeeds on the engine's openings");
            uint256 have = abi.decode(out, (uint32));
            if (have != expected[i]) revert OpMismatch(i, codes[i], have, expected[i]);
            seen |= 1 << codes[i];
        }
        assertEq(seen >> 64, 0x3f, "vectors cover every sampling op (64-69)");
    }

    function test_groupsZeroToThreeGoToTheStepVerifier_andGroupFiveIsUnknown() public {
        uint32[] memory x = _v4(ONE, THREE, TWO, ZERO);
        StepOps.Op memory op = _op(StepOps.ARGMAX, I32, 1, _a2(4, 0));
        assertEq(_eval(op, 0, _roots1(x, F32), _open1(x, F32)), 1, "ARGMAX through the step verifier");
        op.code = 80;
        vm.expectRevert(abi.encodeWithSelector(Openings.UnknownOp.selector, uint8(80)));
        _eval(op, 0, _roots1(x, F32), _open1(x, F32));
    }

    /// @notice Attack: the provider claims another draw than the committed running weights
    ///         and uniform give; the verifier computes the true index, so the reveal differs.
    function test_attack_claimingAnotherSample() public view {
        // Running kept weights [0, 1, 1, 3] (token 0 dropped), u = 0.5: target 1.5, pick 3.
        uint32[] memory c = _v4(ZERO, ONE, ONE, THREE);
        uint32 pick = _findFirst(c, HALF, 9);
        assertEq(pick, 3, "the token whose running weight first exceeds u x total");
        assertTrue(pick != 1, "a provider claiming token 1 is refuted");
        assertEq(_findFirst(c, ZERO, 9), 1, "u = 0: the first token with weight, never a dropped one");
        assertEq(_findFirst(_v4(ZERO, ONE, NAN, NAN), HALF, 2), 2, "no finite total: the greedy fallback");
    }

    /// @notice Attack: the provider keeps a token top-k drops (or drops one it keeps): KEEP
    ///         of that token is +0 (or its weight), whatever the provider committed.
    function test_attack_keepingADroppedToken() public view {
        // Weights 0.5, 1, 0.5, 0 (ids), ranks 1, 0, 2, 3; running in rank order 1, 1.5, 2, 2.
        uint32[] memory s = _v4(ONE, 0x3fc00000, TWO, TWO);
        uint32[] memory r = _v4(1, 0, 2, 3);
        uint32[] memory w = _v4(HALF, ONE, HALF, ZERO);
        assertEq(_keep(s, r, w, 2, 0, 2), 0, "top-2 drops token 2");
        assertEq(_keep(s, r, w, 2, 0, 0), HALF, "and keeps token 0");
        assertEq(_keep(s, r, w, 0, 0, 2), HALF, "no top-k keeps all");
        assertEq(_keep(s, r, w, 0, HALF, 0), 0, "top-p 0.5: running 1 reaches 0.5 x 2 at rank 0 alone");
        assertEq(_keep(s, r, w, 0, 0x3f400000, 0), HALF, "top-p 0.75: rank 1 too");
    }

    /// @notice Attack: a provider claiming another rank (to move a token into top-k).
    function test_attack_claimingAnotherRank() public view {
        uint32[] memory x = new uint32[](8);
        x[0] = ONE;
        x[1] = NAN;
        x[2] = THREE;
        x[3] = 0x80000000;
        x[4] = ZERO;
        x[5] = NAN;
        x[6] = TWO;
        x[7] = ONE;
        uint32[8] memory want = [uint32(2), 6, 0, 4, 5, 7, 1, 3];
        for (uint256 e = 0; e < 8; e++) {
            uint32 rank = _eval(_op(StepOps.RANK, I32, 8, _a2(8, 0)), e, _roots1(x, F32), _open1(x, F32));
            assertEq(rank, want[e], "likelihood order: ties to the lower id, -0 = +0, NaN last");
        }
    }

    function test_uniformAtReadsTheSeedAndIndex() public view {
        uint32[] memory attrs = new uint32[](1);
        attrs[0] = 4; // PURPOSE.SAMPLE
        StepOps.Op memory op = _op(StepOps.UNIFORM_AT, F32, 1, attrs);
        uint32 a = verifier.evaluate(op, 0, _ctx(7, 3), new bytes32[](0), new StepOps.Opening[](0));
        uint32 b = verifier.evaluate(op, 0, _ctx(8, 3), new bytes32[](0), new StepOps.Opening[](0));
        uint32 c = verifier.evaluate(op, 0, _ctx(7, 4), new bytes32[](0), new StepOps.Opening[](0));
        assertTrue(a != b && a != c, "another seed or index, another uniform");
        assertTrue(a < ONE, "in [0, 1)");
    }

    /// @notice The widest rows the compiler allows (4096 inputs): RANK, SCAN, KEEP and
    ///         FINDFIRST each fit in 5M gas (the call is given no more; -vvvv shows Gas).
    function test_gas_4096_rankAndScan() public {
        uint32[] memory x = _row4096();
        bytes32[] memory roots = _roots1(x, F32);
        StepOps.Opening[] memory o = _open1(x, F32);
        StepOps.Op memory rank = _op(StepOps.RANK, I32, 4096, _a2(4096, 0));
        StepOps.Op memory scan = _op(StepOps.SCAN, F32, 4096, _v1(4096));
        uint256 g = gasleft();
        _eval(rank, 4095, roots, o);
        emit Gas("RANK 4096", g - gasleft());
        g = gasleft();
        _eval(scan, 4095, roots, o);
        emit Gas("SCAN 4096", g - gasleft());
    }

    function test_gas_4096_keep() public {
        uint32[] memory x = _row4096();
        uint32[] memory ranks = new uint32[](4096);
        for (uint256 i = 0; i < 4096; i++) {
            ranks[i] = uint32(4095 - i);
        }
        uint32[] memory params = new uint32[](2);
        params[0] = 4096;
        params[1] = 0x3f7fffff; // top-p just below 1: reads the whole row
        bytes32[] memory roots = new bytes32[](4);
        StepOps.Opening[] memory o = new StepOps.Opening[](4);
        _input(roots, o, 0, x, F32);
        roots[1] = TensorTrees.root(ranks, I32);
        o[1] = TensorTrees.open(ranks, I32, 0, 1); // KEEP reads one rank and one weight
        roots[2] = roots[0];
        o[2] = TensorTrees.open(x, F32, 0, 1);
        _input(roots, o, 3, params, I32);
        StepOps.Op memory keep = _op(StepOps.KEEP, F32, 4096, _a2(4096, 0));
        uint256 g = gasleft();
        _eval(keep, 0, roots, o);
        emit Gas("KEEP 4096", g - gasleft());
    }

    function test_gas_4096_findFirst() public {
        uint32[] memory x = _row4096();
        bytes32[] memory roots = new bytes32[](3);
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        _input(roots, o, 0, x, F32);
        uint32[] memory u = _v1(0x3f7fffff);
        _input(roots, o, 1, u, F32);
        _input(roots, o, 2, u, I32);
        StepOps.Op memory find = _op(StepOps.FINDFIRST, I32, 1, _v1(4096));
        uint256 g = gasleft();
        _eval(find, 0, roots, o);
        emit Gas("FINDFIRST 4096", g - gasleft());
    }

    // ---- helpers -------------------------------------------------------------------

    function _row4096() internal pure returns (uint32[] memory x) {
        x = new uint32[](4096);
        for (uint256 i = 0; i < 4096; i++) {
            x[i] = uint32(0x3b000000 + (i * 7919) % 4096);
        }
    }

    /// @dev evaluate with no seed or index, given at most 5M gas (a move's budget).
    function _eval(StepOps.Op memory op, uint256 e, bytes32[] memory roots, StepOps.Opening[] memory o)
        internal
        view
        returns (uint32)
    {
        return verifier.evaluate{gas: 5_000_000}(op, e, _ctx(0, 0), roots, o);
    }

    /// @dev Input k: the root of v and an opening of all of it.
    function _input(bytes32[] memory roots, StepOps.Opening[] memory o, uint256 k, uint32[] memory v, uint8 dtype)
        internal
        pure
    {
        roots[k] = TensorTrees.root(v, dtype);
        o[k] = TensorTrees.open(v, dtype, 0, (v.length + 7) / 8);
    }

    function _findFirst(uint32[] memory c, uint32 u, uint32 otherwise) internal view returns (uint32) {
        bytes32[] memory roots = new bytes32[](3);
        StepOps.Opening[] memory o = new StepOps.Opening[](3);
        _input(roots, o, 0, c, F32);
        _input(roots, o, 1, _v1(u), F32);
        _input(roots, o, 2, _v1(otherwise), I32);
        uint32[] memory attrs = new uint32[](1);
        attrs[0] = uint32(c.length);
        return _eval(_op(StepOps.FINDFIRST, I32, 1, attrs), 0, roots, o);
    }

    function _keep(uint32[] memory s, uint32[] memory r, uint32[] memory w, uint32 topK, uint32 topP, uint256 e)
        internal
        view
        returns (uint32)
    {
        uint32[] memory params = new uint32[](2);
        params[0] = topK;
        params[1] = topP;
        bytes32[] memory roots = new bytes32[](4);
        StepOps.Opening[] memory o = new StepOps.Opening[](4);
        _input(roots, o, 0, s, F32);
        _input(roots, o, 1, r, I32);
        _input(roots, o, 2, w, F32);
        _input(roots, o, 3, params, I32);
        return _eval(_op(StepOps.KEEP, F32, uint32(s.length), _a2(uint32(s.length), 0)), e, roots, o);
    }

    function _op(uint8 code, uint8 dtype, uint32 size, uint32[] memory attrs) internal pure returns (StepOps.Op memory) {
        uint32[] memory dims = new uint32[](1);
        dims[0] = size;
        return StepOps.Op({code: code, dtype: dtype, dims: dims, inputs: new StepOps.OpInput[](0), attrs: attrs});
    }

    function _ctx(uint64 seed, uint32 step) internal pure returns (StepOps.Context memory) {
        return StepOps.Context({seed: seed, step: step});
    }

    function _roots1(uint32[] memory x, uint8 dtype) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = TensorTrees.root(x, dtype);
    }

    function _open1(uint32[] memory x, uint8 dtype) internal pure returns (StepOps.Opening[] memory o) {
        o = new StepOps.Opening[](1);
        o[0] = TensorTrees.open(x, dtype, 0, (x.length + 7) / 8);
    }

    function _a2(uint32 a, uint32 b) internal pure returns (uint32[] memory v) {
        v = new uint32[](2);
        v[0] = a;
        v[1] = b;
    }

    function _v1(uint32 a) internal pure returns (uint32[] memory v) {
        v = new uint32[](1);
        v[0] = a;
    }

    function _itoa(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory digits;
        while (v > 0) {
            digits = abi.encodePacked(bytes1(uint8(48 + v % 10)), digits);
            v /= 10;
        }
        return string(digits);
    }

    function _v4(uint32 a, uint32 b, uint32 c, uint32 d) internal pure returns (uint32[] memory v) {
        v = new uint32[](4);
        v[0] = a;
        v[1] = b;
        v[2] = c;
        v[3] = d;
    }
}
