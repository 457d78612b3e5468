// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {Binary32} from "../src/dispute/Binary32.sol";

/// @notice Known values; the 800,000-case differential test against the engine's
///         arithmetic lives in packages/chain/src/binary32.test.ts.
contract Binary32Test is TestBase {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;
    uint32 internal constant THREE = 0x40400000;
    uint32 internal constant MIN_SUB = 0x00000001;
    uint32 internal constant MAX = 0x7f7fffff;
    uint32 internal constant NEG_ZERO = 0x80000000;

    function test_basics() public pure {
        assertBits(Binary32.add(ONE, TWO), THREE, "1 + 2");
        assertBits(Binary32.sub(THREE, ONE), TWO, "3 - 1");
        assertBits(Binary32.mul(TWO, THREE), 0x40c00000, "2 * 3");
        assertBits(Binary32.div(ONE, THREE), 0x3eaaaaab, "1 / 3 rounds up");
        assertBits(Binary32.sqrt(0x40800000), TWO, "sqrt 4");
        assertBits(Binary32.add(0x3dcccccd, 0x3e4ccccd), 0x3e99999a, "0.1 + 0.2");
    }

    function test_edges() public pure {
        assertBits(Binary32.add(ONE, Binary32.neg(ONE)), 0, "x - x = +0");
        assertBits(Binary32.add(NEG_ZERO, NEG_ZERO), NEG_ZERO, "-0 + -0");
        assertBits(Binary32.mul(MAX, TWO), Binary32.INF, "overflow to infinity");
        assertBits(Binary32.div(MIN_SUB, TWO), 0, "half the smallest subnormal ties to even: 0");
        assertBits(Binary32.mul(0x00000003, 0x3f000000), 0x00000002, "1.5 ulp ties to even: 2");
        assertBits(Binary32.sqrt(NEG_ZERO), NEG_ZERO, "sqrt -0");
        assertBits(Binary32.sqrt(0xbf800000), Binary32.NAN, "sqrt -1");
        assertBits(Binary32.mul(Binary32.INF, 0), Binary32.NAN, "inf * 0");
        assertBits(Binary32.max(0, NEG_ZERO), 0, "max(+0, -0)");
        assertBits(Binary32.min(0, NEG_ZERO), NEG_ZERO, "min(+0, -0)");
        assertTrue(!Binary32.ge(Binary32.NAN, ONE), "NaN compares false");
    }

    function assertBits(uint32 have, uint32 want, string memory what) internal pure {
        assertEq(uint256(have), uint256(want), what);
    }
}
