// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelFileTestBase} from "./ModelFileTestBase.sol";
import {TrainingMarketTypes} from "../../src/market/TrainingMarketTypes.sol";
import {ModelFileDisputes} from "../../src/market/ModelFileDisputes.sol";
import {ModelFileReader} from "../../src/market/ModelFileReader.sol";
import {ModelFileFixtureData as F} from "./ModelFileFixtureData.sol";

/// @notice A model file whose weights are not S_T's loses like any other lie, on runs the
///         real store built: one wrong weight, a truncated file, a missing one, a header
///         length past the end, a file of the wrong codec are slashed; an honest file never
///         is, whatever a challenger forges (wrong leaf, forged path, wrong offset, another
///         job's file, another slot's opening).
contract ModelFileDisputesTest is ModelFileTestBase {
    // ---------------------------------------------------------------- helpers

    function challenge(uint256 jobId, uint256 run, uint256 t) internal returns (uint32 number, ModelFileDisputes.Fault fault) {
        vm.prank(challenger);
        uint256 before = gasleft();
        (number, fault) = disputes.challenge(claimFor(jobId, t), fileFor(run, t));
        emit log_named_uint("gas of a conviction", before - gasleft());
    }

    // ---------------------------------------------------------------- lies that lose

    function test_attack_oneWrongWeightIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.WRONG));
        // Target 0 is the wrong weight, its word straddling two leaves of the file.
        (uint32 number, ModelFileDisputes.Fault fault) = challenge(jobId, F.WRONG, 0);
        assertTrue(fault == ModelFileDisputes.Fault.WrongWeight, "wrong weight");
        assertEq(number, 0, "first dispute of the job");
        expectSlashed(jobId);
    }

    function test_attack_truncatedFileIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.TRUNCATED));
        // The file still holds target 0; it lacks the last weight (target 2).
        expectHonest(jobId, F.TRUNCATED, 0);
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.TRUNCATED, 2);
        assertTrue(fault == ModelFileDisputes.Fault.Truncated, "truncated");
        expectSlashed(jobId);
    }

    function test_attack_missingFileIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.MISSING));
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.MISSING, 1);
        assertTrue(fault == ModelFileDisputes.Fault.Missing, "missing");
        expectSlashed(jobId);
    }

    function test_attack_headerLengthOutsideTheFile() public {
        uint256 jobId = submitRun(F.runCid(F.OUTSIDE));
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.OUTSIDE, 1);
        assertTrue(fault == ModelFileDisputes.Fault.Truncated, "header length past the end");
        expectSlashed(jobId);
    }

    function test_attack_fileOfAnotherCodecIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.BADCODEC));
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.BADCODEC, 0);
        assertTrue(fault == ModelFileDisputes.Fault.Malformed, "malformed");
        expectSlashed(jobId);
    }

    function test_attack_runCidThatIsNoVersionIsSlashed() public {
        uint256 jobId = submitRun(hex"0155aa");
        vm.prank(challenger);
        (, ModelFileDisputes.Fault fault) = disputes.challenge(claimFor(jobId, 0), fileFor(F.HONEST, 0));
        assertTrue(fault == ModelFileDisputes.Fault.Malformed, "no version");
        expectSlashed(jobId);
    }

    // ---------------------------------------------------------------- honest files hold

    function test_honestFileCannotBeConvicted() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        for (uint256 t = 0; t < F.TARGETS; t++) expectHonest(jobId, F.HONEST, t);
        uint256 storeJob = submitRun(F.runCid(F.STORE));
        for (uint256 t = 0; t < F.TARGETS; t++) expectHonest(storeJob, F.STORE, t);
        // Nothing held the job: it finalizes and pays the trainer.
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
        assertEq(registry.nodeOf(trainer).staked, 2_000 ether, "stake whole");
    }

    function test_attack_wrongWeightOnlyWhereItDiffers() public {
        uint256 jobId = submitRun(F.runCid(F.WRONG));
        expectHonest(jobId, F.WRONG, 1);
        expectHonest(jobId, F.WRONG, 2);
    }

    function test_attack_leafOfAnotherOffset() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST, 0);
        (,, ModelFileReader.Segment[] memory head,) = F.file(F.HONEST, 1);
        f.word[0] = head[0]; // the header's leaf for the word's
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(claimFor(jobId, 0), f);
    }

    function test_attack_forgedLeafOrNode() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST, 0);
        f.word[0].leaf[f.word[0].leaf.length - 1] ^= 0x01;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
        f = fileFor(F.HONEST, 0);
        f.word[0].nodes[1][f.word[0].nodes[1].length - 1] ^= 0x01;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    function test_attack_cutPathOrSegments() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST, 0);
        // The straddling word's second leaf left out.
        ModelFileReader.Segment[] memory one = new ModelFileReader.Segment[](1);
        one[0] = f.word[0];
        f.word = one;
        vm.expectRevert(abi.encodeWithSelector(ModelFileReader.SegmentCount.selector, 1, 2));
        vm.prank(challenger);
        disputes.challenge(c, f);
        // No word leaves, as if the word lay in the header's leaf: it does not.
        f.word = new ModelFileReader.Segment[](0);
        vm.expectRevert(abi.encodeWithSelector(ModelFileReader.SegmentCount.selector, 0, 1));
        vm.prank(challenger);
        disputes.challenge(c, f);
        // A path without its last node.
        f = fileFor(F.HONEST, 0);
        bytes[] memory nodes = new bytes[](2);
        (nodes[0], nodes[1]) = (f.word[0].nodes[0], f.word[0].nodes[1]);
        f.word[0].nodes = nodes;
        vm.expectRevert(abi.encodeWithSelector(ModelFileReader.PathLength.selector, 2, 3));
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    function test_attack_wrongOffset() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        // Slot 0 claimed one element longer, so the offset lands on the next word.
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        c.paramLengths[0] += 1;
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST, 0);
        pvm.expectPartialRevert(ModelFileDisputes.SlotRootMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
        // Another element's opening for the element claimed.
        c = claimFor(jobId, 0);
        c.element += 8;
        pvm.expectPartialRevert(ModelFileDisputes.ElementNotOpened.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
        // Slot 0's opening passed off as slot 1's.
        c = claimFor(jobId, 0);
        (,,,, c.opening) = F.target(1);
        pvm.expectPartialRevert(ModelFileDisputes.OpeningMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    function test_attack_anotherJobsFile() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.FileProof memory f = fileFor(F.OTHER, 0);
        pvm.expectPartialRevert(ModelFileDisputes.CommitMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(claimFor(jobId, 0), f);
    }

    function test_attack_anotherState() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST, 0);
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        c.slotRoots[5] = keccak256("other v");
        pvm.expectPartialRevert(ModelFileDisputes.SlotsMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
        c = claimFor(jobId, 0);
        c.last.lossBits ^= 1;
        pvm.expectPartialRevert(ModelFileDisputes.RecordMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
        c = claimFor(jobId, 0);
        c.header.lossOp = 1;
        pvm.expectPartialRevert(ModelFileDisputes.ProgramMismatch.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    /// @notice Starving the call of gas, so that parsing the commit fails inside its
    ///         try/catch, never makes an honest run look malformed.
    function test_attack_outOfGasCannotConvict() public {
        uint256 jobId = submitRun(F.runCid(F.STORE));
        bytes memory call = abi.encodeCall(ModelFileDisputes.challenge, (claimFor(jobId, 1), fileFor(F.STORE, 1)));
        for (uint256 g = 20_000; g < 2_000_000; g = g * 11 / 10) {
            vm.prank(challenger);
            (bool ok,) = address(disputes).call{gas: g}(call);
            assertTrue(!ok, "an honest file never convicts");
            assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "job untouched");
        }
    }

    // ---------------------------------------------------------------- the market's rules

    function test_trainerCannotChallengeItsOwnFile() public {
        uint256 jobId = submitRun(F.runCid(F.WRONG));
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        ModelFileDisputes.FileProof memory f = fileFor(F.WRONG, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.SelfChallenge.selector, jobId, trainer));
        vm.prank(trainer);
        disputes.challenge(c, f);
    }

    function test_onlyDuringTheChallengeWindow() public {
        uint256 jobId = submitRun(F.runCid(F.WRONG));
        uint64 endsAt = market.getJob(jobId).submittedAt + 1 hours;
        vm.warp(endsAt + 1);
        ModelFileDisputes.Claim memory c = claimFor(jobId, 0);
        ModelFileDisputes.FileProof memory f = fileFor(F.WRONG, 0);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowClosed.selector, jobId, endsAt));
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    /// @notice An earlier dispute still open holds the slash; when it resolves (the trainer
    ///         won it) the model-file challenger takes the share, once.
    function test_slashWaitsForEarlierDisputesAndPaysOnce() public {
        uint256 jobId = submitRun(F.runCid(F.WRONG));
        vm.prank(disputeGame);
        uint32 first = market.disputeOpened(jobId);
        (uint32 number,) = challenge(jobId, F.WRONG, 0);
        assertEq(number, first + 1, "numbered after the open dispute");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "held by the earlier dispute");
        vm.prank(disputeGame);
        market.disputeResolved(jobId, first, true, validator);
        expectSlashed(jobId);
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.JobNotSubmitted.selector, jobId, TrainingMarketTypes.Status.Slashed));
        vm.prank(validator2);
        disputes.challenge(claimFor(jobId, 0), fileFor(F.WRONG, 0));
    }
}
