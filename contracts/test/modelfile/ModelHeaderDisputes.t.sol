// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelFileTestBase} from "./ModelFileTestBase.sol";
import {TrainingMarketTypes} from "../../src/market/TrainingMarketTypes.sol";
import {DisputeGameTypes} from "../../src/dispute/DisputeGameTypes.sol";
import {ModelFileDisputes} from "../../src/market/ModelFileDisputes.sol";
import {ModelFileReader} from "../../src/market/ModelFileReader.sol";
import {ModelFileFixtureData as F} from "./ModelFileFixtureData.sol";

/// @notice The model file's header is bound by its job (`modelHeader`, the hash of the
///         header template of the recipe and tokens root): a run whose file names its
///         tensors the other way round (every weight still at its offset, so no weight
///         claim can convict it, and readers load another model), has another header
///         length, or has bytes past its end loses in one call; an honest file never does,
///         whatever a challenger forges (another template, another record, forged leaves).
contract ModelHeaderDisputesTest is ModelFileTestBase {
    // ---------------------------------------------------------------- helpers

    function headerClaimFor(uint256 jobId) internal pure returns (ModelFileDisputes.HeaderClaim memory) {
        return ModelFileDisputes.HeaderClaim({
            jobId: jobId,
            last: DisputeGameTypes.Record(F.LAST_STATE, F.LOSS_BITS),
            lastProof: F.lastProof(),
            prefix: F.PREFIX,
            middle: F.MIDDLE,
            suffix: F.SUFFIX,
            length: F.FILE_LENGTH
        });
    }

    function headerFileFor(uint256 run) internal pure returns (ModelFileDisputes.FileProof memory f) {
        (f.commit, f.tree, f.head, f.word) = F.headerFile(run);
    }

    function challenge(uint256 jobId, uint256 run) internal returns (uint32 number, ModelFileDisputes.Fault fault) {
        vm.prank(challenger);
        uint256 before = gasleft();
        (number, fault) = disputes.challengeHeader(headerClaimFor(jobId), headerFileFor(run));
        emit log_named_uint("gas of a header conviction", before - gasleft());
    }

    function expectHeaderMatches(uint256 jobId, ModelFileDisputes.HeaderClaim memory c, ModelFileDisputes.FileProof memory f) internal {
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.HeaderMatches.selector, jobId));
        vm.prank(challenger);
        disputes.challengeHeader(c, f);
    }

    /// @dev Every weight claim the fixture has for `run` finds S_T's word: only the header can convict it.
    function expectWeightsMatch(uint256 jobId, uint256 run) internal {
        for (uint256 t = 0; t < F.TARGETS; t++) expectHonest(jobId, run, t);
    }

    // ---------------------------------------------------------------- lies that lose

    function test_attack_namesSwappedInTheHeaderIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.SWAPPED));
        // Every weight sits at its canonical offset: the weight claims cannot convict it.
        expectWeightsMatch(jobId, F.SWAPPED);
        (uint32 number, ModelFileDisputes.Fault fault) = challenge(jobId, F.SWAPPED);
        assertTrue(fault == ModelFileDisputes.Fault.WrongHeader, "wrong header");
        assertEq(number, 0, "first dispute of the job");
        expectSlashed(jobId);
    }

    function test_attack_bytesPastTheEndAreSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.OVERSIZED));
        expectWeightsMatch(jobId, F.OVERSIZED);
        ModelFileDisputes.FileProof memory f = headerFileFor(F.OVERSIZED);
        assertEq(f.word.length, 1, "the leaf of the byte past the end");
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.OVERSIZED);
        assertTrue(fault == ModelFileDisputes.Fault.Oversized, "oversized");
        expectSlashed(jobId);
    }

    function test_attack_anotherHeaderLengthIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.OUTSIDE));
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.OUTSIDE);
        assertTrue(fault == ModelFileDisputes.Fault.WrongHeader, "header length");
        expectSlashed(jobId);
    }

    function test_attack_missingOrMalformedFileIsSlashed() public {
        uint256 jobId = submitRun(F.runCid(F.MISSING));
        (, ModelFileDisputes.Fault fault) = challenge(jobId, F.MISSING);
        assertTrue(fault == ModelFileDisputes.Fault.Missing, "missing");
        expectSlashed(jobId);
        uint256 other = submitRun(F.runCid(F.BADCODEC));
        (, fault) = challenge(other, F.BADCODEC);
        assertTrue(fault == ModelFileDisputes.Fault.Malformed, "malformed");
    }

    // ---------------------------------------------------------------- honest files hold

    function test_honestHeaderCannotBeConvicted() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        expectHeaderMatches(jobId, headerClaimFor(jobId), headerFileFor(F.HONEST));
        uint256 storeJob = submitRun(F.runCid(F.STORE));
        expectHeaderMatches(storeJob, headerClaimFor(storeJob), headerFileFor(F.STORE));
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
    }

    function test_weightLiesAreNotHeaderLies() public {
        // A wrong weight, a truncated file and another job's weights keep the honest header:
        // the weight claims convict them (ModelFileDisputes.t.sol), the header claim does not.
        uint256[3] memory runs = [F.WRONG, F.TRUNCATED, F.OTHER];
        for (uint256 i = 0; i < runs.length; i++) {
            uint256 jobId = submitRun(F.runCid(runs[i]));
            expectHeaderMatches(jobId, headerClaimFor(jobId), headerFileFor(runs[i]));
        }
    }

    function test_attack_anotherTemplateIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.HeaderClaim memory c = headerClaimFor(jobId);
        c.suffix = bytes.concat(c.suffix, " ");
        pvm.expectPartialRevert(ModelFileDisputes.TemplateMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, headerFileFor(F.HONEST));
        c = headerClaimFor(jobId);
        c.length += 1;
        pvm.expectPartialRevert(ModelFileDisputes.TemplateMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, headerFileFor(F.HONEST));
    }

    function test_attack_anotherStateRootIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.HeaderClaim memory c = headerClaimFor(jobId);
        c.last.state = keccak256("another state");
        pvm.expectPartialRevert(ModelFileDisputes.RecordMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, headerFileFor(F.HONEST));
    }

    function test_attack_forgedLeavesAreRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.FileProof memory f = headerFileFor(F.HONEST);
        f.head[0].leaf[20] ^= 0x01;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(headerClaimFor(jobId), f);
        // The honest file's leaves, with the oversized run's "byte past the end": another file's leaf.
        f = headerFileFor(F.HONEST);
        f.word = headerFileFor(F.OVERSIZED).word;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(headerClaimFor(jobId), f);
    }

    function test_attack_trainerOrLateChallengeIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.SWAPPED));
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.SelfChallenge.selector, jobId, trainer));
        vm.prank(trainer);
        disputes.challengeHeader(headerClaimFor(jobId), headerFileFor(F.SWAPPED));
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        pvm.expectPartialRevert(ModelFileDisputes.JobNotSubmitted.selector);
        vm.prank(challenger);
        disputes.challengeHeader(headerClaimFor(jobId), headerFileFor(F.SWAPPED));
    }
}
