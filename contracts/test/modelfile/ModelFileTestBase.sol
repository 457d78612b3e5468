// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../Fixture.sol";
import {TrainingMarketTypes} from "../../src/market/TrainingMarketTypes.sol";
import {DisputeGameTypes} from "../../src/dispute/DisputeGameTypes.sol";
import {StepOps} from "../../src/dispute/StepOps.sol";
import {ModelFileDisputes} from "../../src/market/ModelFileDisputes.sol";
import {ModelFileFixtureData as F} from "./ModelFileFixtureData.sol";

/// @notice forge's selector-only revert match (its `expectRevert(bytes4)` matches the whole data).
interface PartialRevertVm {
    function expectPartialRevert(bytes4 selector) external;
}

/// @notice What the model-file tests share: the market with ModelFileDisputes authorised, a
///         staked trainer, a job submitted with one of the fixture's runs, the weight claims
///         and file proofs the TypeScript builders made, and what a slash leaves.
abstract contract ModelFileTestBase is Fixture {
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

    function programHeader() internal pure returns (DisputeGameTypes.Header memory) {
        return DisputeGameTypes.Header(bytes32(0), 10, 2, bytes32(0), 0);
    }

    /// @dev A job of the fixture's program and header template, claimed and submitted with `runCid`.
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

    /// @dev The weight claim of fixture target `t`.
    function claimFor(uint256 jobId, uint256 t) internal pure returns (ModelFileDisputes.Claim memory c) {
        (uint256 slot, uint256 element, bytes32[] memory trees, uint256[] memory lengths, StepOps.Opening memory o) = F.target(t);
        c = ModelFileDisputes.Claim({
            jobId: jobId,
            header: programHeader(),
            last: DisputeGameTypes.Record(F.LAST_STATE, F.LOSS_BITS),
            lastProof: F.lastProof(),
            slotRoots: F.slotRoots(),
            paramTrees: trees,
            paramLengths: lengths,
            slot: slot,
            element: element,
            opening: o
        });
    }

    /// @dev The file proof of run `run` for fixture target `t`.
    function fileFor(uint256 run, uint256 t) internal pure returns (ModelFileDisputes.FileProof memory f) {
        (f.commit, f.tree, f.head, f.word) = F.file(run, t);
    }

    /// @dev A weight claim that must not convict: the file holds S_T's word there.
    function expectHonest(uint256 jobId, uint256 run, uint256 t) internal {
        ModelFileDisputes.Claim memory c = claimFor(jobId, t);
        ModelFileDisputes.FileProof memory f = fileFor(run, t);
        pvm.expectPartialRevert(ModelFileDisputes.WeightMatches.selector);
        vm.prank(challenger);
        disputes.challenge(c, f);
    }

    function expectSlashed(uint256 jobId) internal view {
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "job slashed");
        assertEq(registry.nodeOf(trainer).staked, 2_000 ether - JOB_STAKE, "trainer lost its job stake");
        assertEq(token.balanceOf(challenger), FUNDS + JOB_STAKE / 2, "challenger took its share");
    }
}
