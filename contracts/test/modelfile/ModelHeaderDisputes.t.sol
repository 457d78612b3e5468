// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../Fixture.sol";
import {TrainingMarketTypes} from "../../src/market/TrainingMarketTypes.sol";
import {DisputeGameTypes} from "../../src/dispute/DisputeGameTypes.sol";
import {StepOps} from "../../src/dispute/StepOps.sol";
import {ModelFileDisputes} from "../../src/market/ModelFileDisputes.sol";
import {ModelFileReader} from "../../src/market/ModelFileReader.sol";
import {ModelFileFixtureData as F} from "./ModelFileFixtureData.sol";

interface PartialRevertVm {
    function expectPartialRevert(bytes4 selector) external;
}

/// @notice The model file's header is bound by its job (`modelHeader`, the hash of the
///         header template of the recipe and tokens root): a run whose file names its
///         tensors the other way round (every weight still at its offset, so no weight
///         claim can convict it, and readers load another model), has another header
///         length, or has bytes past its end loses in one call; an honest file never does,
///         whatever a challenger forges (another template, another record, forged leaves).
contract ModelHeaderDisputesTest is Fixture {
    event log_named_uint(string key, uint256 val);

    PartialRevertVm internal constant pvm = PartialRevertVm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant REWARD = 1_000 ether;
    uint256 internal constant JOB_STAKE = 500 ether;
    ModelFileDisputes internal disputes;

    function setUp() public {
        deployAll();
        disputes = new ModelFileDisputes(market);
        vm.prank(governance);
        market.setDisputeGame(address(disputes), true);
        stakeAs(trainer, 2_000 ether, registry.ROLE_TRAINER());
    }

    // ---------------------------------------------------------------- helpers

    function programHeader() internal pure returns (DisputeGameTypes.Header memory) {
        return DisputeGameTypes.Header(bytes32(0), 10, 2, bytes32(0), 0);
    }

    function submitRun(bytes memory runCid) internal returns (uint256 jobId) {
        TrainingMarketTypes.JobSpec memory s = spec(REWARD, JOB_STAKE);
        s.programHash = keccak256(abi.encode(programHeader()));
        s.modelHeader = F.MODEL_HEADER;
        s.steps = F.STEPS;
        vm.prank(requester);
        jobId = market.postJob(s, address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(trainer);
        market.submitResult(jobId, runCid, F.TRANSCRIPT_ROOT, F.STEPS);
    }

    function claimFor(uint256 jobId) internal pure returns (ModelFileDisputes.HeaderClaim memory) {
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

    function fileFor(uint256 run) internal pure returns (ModelFileDisputes.FileProof memory f) {
        (f.commit, f.tree, f.head, f.word) = F.headerFile(run);
    }

    function challenge(uint256 jobId, uint256 run) internal returns (uint32 number, ModelFileDisputes.Fault fault) {
        vm.prank(challenger);
        uint256 before = gasleft();
        (number, fault) = disputes.challengeHeader(claimFor(jobId), fileFor(run));
        emit log_named_uint("gas of a header conviction", before - gasleft());
    }

    function expectSlashed(uint256 jobId) internal view {
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "job slashed");
        assertEq(registry.nodeOf(trainer).staked, 2_000 ether - JOB_STAKE, "trainer lost its job stake");
        assertEq(token.balanceOf(challenger), FUNDS + JOB_STAKE / 2, "challenger took its share");
    }

    function expectHeaderMatches(uint256 jobId, ModelFileDisputes.HeaderClaim memory c, ModelFileDisputes.FileProof memory f) internal {
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.HeaderMatches.selector, jobId));
        vm.prank(challenger);
        disputes.challengeHeader(c, f);
    }

    /// @dev Every weight claim the fixture has for `run` finds S_T's word: only the header can convict it.
    function expectWeightsMatch(uint256 jobId, uint256 run) internal {
        for (uint256 t = 0; t < F.TARGETS; t++) {
            (uint256 slot, uint256 element, bytes32[] memory trees, uint256[] memory lengths, StepOps.Opening memory o) = F.target(t);
            ModelFileDisputes.Claim memory c = ModelFileDisputes.Claim({
                jobId: jobId, header: programHeader(), last: DisputeGameTypes.Record(F.LAST_STATE, F.LOSS_BITS), lastProof: F.lastProof(),
                slotRoots: F.slotRoots(), paramTrees: trees, paramLengths: lengths, slot: slot, element: element, opening: o
            });
            ModelFileDisputes.FileProof memory f;
            (f.commit, f.tree, f.head, f.word) = F.file(run, t);
            pvm.expectPartialRevert(ModelFileDisputes.WeightMatches.selector);
            vm.prank(challenger);
            disputes.challenge(c, f);
        }
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
        ModelFileDisputes.FileProof memory f = fileFor(F.OVERSIZED);
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
        expectHeaderMatches(jobId, claimFor(jobId), fileFor(F.HONEST));
        uint256 storeJob = submitRun(F.runCid(F.STORE));
        expectHeaderMatches(storeJob, claimFor(storeJob), fileFor(F.STORE));
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
            expectHeaderMatches(jobId, claimFor(jobId), fileFor(runs[i]));
        }
    }

    function test_attack_anotherTemplateIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.HeaderClaim memory c = claimFor(jobId);
        c.suffix = bytes.concat(c.suffix, " ");
        pvm.expectPartialRevert(ModelFileDisputes.TemplateMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, fileFor(F.HONEST));
        c = claimFor(jobId);
        c.length += 1;
        pvm.expectPartialRevert(ModelFileDisputes.TemplateMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, fileFor(F.HONEST));
    }

    function test_attack_anotherStateRootIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.HeaderClaim memory c = claimFor(jobId);
        c.last.state = keccak256("another state");
        pvm.expectPartialRevert(ModelFileDisputes.RecordMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(c, fileFor(F.HONEST));
    }

    function test_attack_forgedLeavesAreRefused() public {
        uint256 jobId = submitRun(F.runCid(F.HONEST));
        ModelFileDisputes.FileProof memory f = fileFor(F.HONEST);
        f.head[0].leaf[20] ^= 0x01;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(claimFor(jobId), f);
        // The honest file's leaves, with the oversized run's "byte past the end": another file's leaf.
        f = fileFor(F.HONEST);
        f.word = fileFor(F.OVERSIZED).word;
        pvm.expectPartialRevert(ModelFileReader.HashMismatch.selector);
        vm.prank(challenger);
        disputes.challengeHeader(claimFor(jobId), f);
    }

    function test_attack_trainerOrLateChallengeIsRefused() public {
        uint256 jobId = submitRun(F.runCid(F.SWAPPED));
        vm.expectRevert(abi.encodeWithSelector(ModelFileDisputes.SelfChallenge.selector, jobId, trainer));
        vm.prank(trainer);
        disputes.challengeHeader(claimFor(jobId), fileFor(F.SWAPPED));
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        pvm.expectPartialRevert(ModelFileDisputes.JobNotSubmitted.selector);
        vm.prank(challenger);
        disputes.challengeHeader(claimFor(jobId), fileFor(F.SWAPPED));
    }
}
