// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeFixture} from "./DisputeFixture.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";
import {DisputeGame} from "../src/dispute/DisputeGame.sol";
import {StepOps} from "../src/dispute/StepOps.sol";
import {TensorMerkle} from "../src/dispute/TensorMerkle.sol";
import {TensorMerkleHarness} from "../src/dispute/TensorMerkleHarness.sol";

/// @notice Attacks on the dispute protocol, each played on the real contracts and shown
///         to fail: the attacker is a trainer hiding a lie or a challenger framing an
///         honest trainer (issue #9's audit findings).
contract DisputeAttacksTest is DisputeFixture {
    // ---------------------------------------------------------------- padding

    /// @dev The honest run, except that the trainer commits p' with the right values
    ///      and a non-zero padding word in its (only, last) leaf.
    function paddedRun() internal pure returns (Run memory r, bytes memory padded) {
        r = honest();
        padded = words(r.pOut);
        padded[31] = 0x01;
        bytes32 leaf = keccak256(bytes.concat(bytes1(0), padded));
        r.trace[3] = keccak256(abi.encodePacked(leaf, uint256(2), uint8(0)));
        r.s1 = keccak256(abi.encodePacked(nodeRoot(list(r.trace[3], r.trace[1], r.trace[2])), uint256(1)));
        r.records[1] = recordHash(r.s1, LOSS1);
        r.transcript = keccak256(abi.encodePacked(nodeRoot(r.records), uint256(2)));
    }

    /// Audit finding 1: a root whose values are right but whose padding is not zero is
    /// another root for the same values. The trainer can no longer open it, so the
    /// challenger who pinpoints an element of its last leaf wins: whatever bit of a
    /// committed root differs from the honest one, the trainer loses.
    function test_garbagePaddingIsSlashed() public {
        (Run memory r, bytes memory padded) = paddedRun();
        uint256 jobId = submitted(r);
        uint256 id = openStep(jobId, r);
        vm.prank(trainer);
        game.postOpTrace(id, r.trace);
        vm.prank(challenger);
        game.pinpoint(id, stepPinpoint(r, 1));
        assertEq(game.getDispute(id).expected, ONE, "the value itself is right");

        // The committed leaf, padding and all: refused.
        StepOps.Opening memory o = StepOps.Opening({length: 2, dtype: 0, firstLeaf: 0, words: padded, siblings: new bytes32[](0)});
        vm.expectRevert(abi.encodeWithSelector(TensorMerkle.NonZeroPadding.selector, 2, bytes32(padded)));
        vm.prank(trainer);
        game.reveal(id, o);
        // The same values with zero padding: not the committed root.
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.OpeningMismatch.selector, tensorRoot(r.pOut), r.trace[3]));
        vm.prank(trainer);
        game.reveal(id, opening(r.pOut));

        vm.warp(block.timestamp + game.moveTime() + 1);
        game.timeout(id);
        assertTrue(game.getDispute(id).reason == DisputeGame.Reason.RevealTimeout, "reveal timeout");
        assertTrue(market.getJob(jobId).status == TrainingMarket.Status.Slashed, "trainer slashed");
    }

    /// Every range that reaches the last leaf checks its padding, for every length mod 8
    /// and every padding word; ranges that stop before the last leaf do not read it.
    function testFuzz_paddingIsPartOfTheRoot(uint8 lengthSeed, uint8 wordSeed, uint32 garbage) public {
        TensorMerkleHarness h = new TensorMerkleHarness();
        uint256 length = 9 + uint256(lengthSeed) % 7; // two leaves, 1..7 elements in the last
        uint32[] memory v = new uint32[](length);
        for (uint256 i = 0; i < length; i++) v[i] = uint32(i + 1);
        bytes32 root = tensorRoot(v);
        StepOps.Opening memory last = leafOpening(v, 1);
        assertEq(uint256(h.rootFromRange(length, 0, 1, last.words, last.siblings)), uint256(root), "honest last leaf");

        uint256 used = length - 8;
        uint256 w = used + uint256(wordSeed) % (8 - used); // a padding word
        if (garbage == 0) garbage = 1;
        bytes memory bad = last.words;
        for (uint256 b = 0; b < 4; b++) bad[w * 4 + b] = bytes1(uint8(garbage >> (24 - 8 * b)));
        bytes32 leafWords;
        assembly {
            leafWords := mload(add(bad, 32))
        }
        vm.expectRevert(abi.encodeWithSelector(TensorMerkle.NonZeroPadding.selector, length, leafWords));
        h.rootFromRange(length, 0, 1, bad, last.siblings);

        StepOps.Opening memory first = leafOpening(v, 0);
        assertEq(uint256(h.rootFromRange(length, 0, 0, first.words, first.siblings)), uint256(root), "first leaf");
    }
}
