// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {TensorTrees} from "./TensorTrees.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {Openings} from "../src/dispute/Openings.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";

/// @notice ARGMAX (op 20, docs/step-program.md), the greedy pick of a generated token,
///         through the StepVerifier: the rule (first index of the largest, NaN never
///         wins), and the attacks of a provider claiming another index than the row's.
contract ArgmaxProverTest is TestBase {
    StepVerifier internal verifier;

    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;
    uint32 internal constant NEG_ONE = 0xbf800000;
    uint32 internal constant NEG_INF = 0xff800000;
    uint32 internal constant NAN = 0x7fc00000;
    uint32 internal constant NEG_ZERO = 0x80000000;
    uint8 internal constant F32 = 0;
    uint8 internal constant I32 = 1;

    function setUp() public {
        verifier = new StepVerifier(new ElementwiseProver(), new ReduceProver(), new IndexProver(), new OptimProver());
    }

    function test_picksTheFirstIndexOfTheLargest() public view {
        // Rows of 4: [1, 2, 2, -1] then [NaN, 1, -0, +0]; row attr 0.
        uint32[] memory x = _w8([ONE, TWO, TWO, NEG_ONE, NAN, ONE, NEG_ZERO, 0]);
        assertEq(_pick(x, 4, 0, 0), 1, "ties keep the lower index");
        assertEq(_pick(x, 4, 0, 1), 0, "a NaN at index 0 is kept: nothing compares greater");
        assertEq(_pick(x, 4, 1, 0), 0, "row attr 1 reads the second row");
        assertEq(
            _pick(_w8([NEG_INF, NAN, NEG_ZERO, 0, NEG_ONE, NAN, NEG_INF, NEG_ZERO]), 8, 0, 0),
            2,
            "-0 and +0 tie, NaNs never win"
        );
    }

    function test_reverts_zeroRowAndShortOpening() public {
        uint32[] memory x = _w8([ONE, TWO, TWO, NEG_ONE, NAN, ONE, NEG_ZERO, 0]);
        vm.expectRevert(abi.encodeWithSelector(Openings.ZeroAttr.selector, uint8(20), uint256(0)));
        verifier.evaluate(_argmax(0, 0, 1), 0, _ctx(), _root(x), _open(x, 0, 1));
        vm.expectRevert(abi.encodeWithSelector(Openings.ElementPastEnd.selector, uint256(2), uint256(2)));
        verifier.evaluate(_argmax(4, 0, 2), 2, _ctx(), _root(x), _open(x, 0, 1));
        // Row 2 of 4 does not exist in 8 values.
        vm.expectRevert(
            abi.encodeWithSelector(
                Openings.NotCovered.selector, uint256(0), uint256(8), uint256(11), uint256(0), uint256(8)
            )
        );
        verifier.evaluate(_argmax(4, 2, 1), 0, _ctx(), _root(x), _open(x, 0, 1));
    }

    /// @notice Attack: a provider who claims index 0 of [1, 2, ...] by opening only part of
    ///         the row, or other values than the committed ones, gets a revert, not its index.
    function test_attack_claimingAnotherIndex() public {
        uint32[] memory x = new uint32[](32);
        for (uint256 i = 0; i < 32; i++) {
            x[i] = ONE;
        }
        x[27] = TWO; // the largest, in the last leaf of four
        assertEq(_pick(x, 32, 0, 0), 27, "the committed row's pick");
        // Opening leaves 0..2 only: element 27 is not covered.
        vm.expectRevert(
            abi.encodeWithSelector(
                Openings.NotCovered.selector, uint256(0), uint256(0), uint256(31), uint256(0), uint256(24)
            )
        );
        verifier.evaluate(_argmax(32, 0, 1), 0, _ctx(), _root(x), _open(x, 0, 3));
        // Values with the 2 removed: another root than the committed logits.
        uint32[] memory forged = new uint32[](32);
        for (uint256 i = 0; i < 32; i++) {
            forged[i] = ONE;
        }
        bytes32 have = TensorTrees.root(forged, F32);
        bytes32 want = TensorTrees.root(x, F32);
        vm.expectRevert(abi.encodeWithSelector(Openings.WrongRoot.selector, uint256(0), have, want));
        verifier.evaluate(_argmax(32, 0, 1), 0, _ctx(), _root(x), _open(forged, 0, 4));
    }

    /// @notice Whatever the values, the pick is not below any value of the row and above
    ///         every earlier one (so no other index is the engine's pick).
    function testFuzz_pickIsTheFirstLargest(uint32[16] memory raw, uint8 spread) public view {
        uint32[] memory x = new uint32[](16);
        for (uint256 i = 0; i < 16; i++) {
            // Few distinct values, so ties happen; some NaNs and infinities.
            uint32 r = raw[i] % (uint32(spread % 8) + 2);
            x[i] = r == 0 ? NAN : r == 1 ? NEG_INF : _small(raw[i] % 5, raw[i] >> 31 == 1);
        }
        uint256 pick = _pick(x, 16, 0, 0);
        assertTrue(pick < 16, "in the row");
        for (uint256 i = 0; i < 16; i++) {
            if (_isNaN(x[i])) continue;
            if (_isNaN(x[pick])) {
                assertEq(pick, 0, "a NaN is picked only at index 0");
                continue;
            }
            assertTrue(_key(x[i]) <= _key(x[pick]), "nothing greater");
            if (i < pick) assertTrue(_key(x[i]) < _key(x[pick]), "nothing as large before");
        }
    }

    /// @notice The heaviest pick: a row of 4096 logits (MAX_INPUTS) fits in 5M gas (the
    ///         call is given no more); `forge test -vvvv` shows about 2.2M.
    function test_gas_4096() public view {
        uint32[] memory x = new uint32[](4096);
        for (uint256 i = 0; i < 4096; i++) {
            x[i] = uint32(0x3f000000 + (i * 7919) % 4096);
        }
        StepOps.Op memory op = _argmax(4096, 0, 1);
        bytes32[] memory roots = _root(x);
        StepOps.Opening[] memory openings = _open(x, 0, 512);
        uint32 pick = verifier.evaluate{gas: 5_000_000}(op, 0, _ctx(), roots, openings);
        assertEq(x[pick], 0x3f000fff, "the largest");
    }

    // ---- helpers -------------------------------------------------------------------

    function _pick(uint32[] memory x, uint32 n, uint32 row, uint256 e) internal view returns (uint32) {
        uint32 rows = uint32(x.length) / n - row;
        return verifier.evaluate(_argmax(n, row, rows), e, _ctx(), _root(x), _open(x, 0, (x.length + 7) / 8));
    }

    function _argmax(uint32 n, uint32 row, uint32 outputs) internal pure returns (StepOps.Op memory op) {
        uint32[] memory dims = new uint32[](1);
        dims[0] = outputs;
        uint32[] memory attrs = new uint32[](2);
        attrs[0] = n;
        attrs[1] = row;
        op = StepOps.Op({code: StepOps.ARGMAX, dtype: I32, dims: dims, inputs: new StepOps.OpInput[](0), attrs: attrs});
    }

    function _ctx() internal pure returns (StepOps.Context memory) {
        return StepOps.Context({seed: 0, step: 0});
    }

    function _root(uint32[] memory x) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = TensorTrees.root(x, F32);
    }

    function _open(uint32[] memory x, uint256 first, uint256 count) internal pure returns (StepOps.Opening[] memory o) {
        o = new StepOps.Opening[](1);
        o[0] = TensorTrees.open(x, F32, first, count);
    }

    function _w8(uint32[8] memory a) internal pure returns (uint32[] memory v) {
        v = new uint32[](8);
        for (uint256 i = 0; i < 8; i++) {
            v[i] = a[i];
        }
    }

    /// @dev ±(k + 1)/2 for k = 0..4 as binary32 (0.5, 1, 1.5, 2, 2.5), or −0 for k = 0 negative.
    function _small(uint32 k, bool negative) internal pure returns (uint32) {
        uint32[5] memory v = [uint32(0x3f000000), ONE, 0x3fc00000, TWO, 0x40200000];
        if (negative && k == 0) return NEG_ZERO;
        return negative ? v[k] | 0x80000000 : v[k];
    }

    function _isNaN(uint32 x) internal pure returns (bool) {
        return x & 0x7fffffff > 0x7f800000;
    }

    /// @dev Orders non-NaN binary32 values as integers, both zeros equal.
    function _key(uint32 x) internal pure returns (int256) {
        if (x & 0x7fffffff == 0) return 0;
        int256 m = int256(uint256(x & 0x7fffffff));
        return x >> 31 == 1 ? -m : m;
    }
}
