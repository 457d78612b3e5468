// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./MarketFixture.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";

contract TrainingMarketTest is MarketFixture {
    function test_postEscrowsTheReward() public {
        uint256 jobId = post();
        assertEq(token.balanceOf(address(market)), REWARD, "escrow");
        TrainingMarketTypes.Job memory job = market.getJob(jobId);
        assertTrue(job.status == TrainingMarketTypes.Status.Open, "open");
        assertEq(job.requester, requester, "requester");
        assertEq(job.spec.seed, 42, "binds the seed");
    }

    function test_fullLifecyclePaysTrainerAndAttestors() public {
        uint256 jobId = postClaimSubmit();
        assertEq(registry.nodeOf(trainer).locked, JOB_STAKE, "stake locked while the job runs");
        vm.prank(validator);
        market.attest(jobId);
        vm.prank(validator2);
        market.attest(jobId);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowOpen.selector, jobId, uint64(block.timestamp + 1 hours)));
        market.finalize(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 t = token.balanceOf(trainer);
        uint256 v = token.balanceOf(validator);
        market.finalize(jobId);
        uint256 fee = REWARD * market.validatorFeeBps() / 10_000;
        assertEq(token.balanceOf(trainer) - t, REWARD - fee, "trainer paid reward minus fee");
        assertEq(token.balanceOf(validator) - v, fee / 2, "validators share the fee");
        assertEq(registry.nodeOf(trainer).locked, 0, "stake released");
        assertEq(token.balanceOf(address(market)), 0, "escrow empty");
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WrongStatus.selector, jobId, TrainingMarketTypes.Status.Finalized, TrainingMarketTypes.Status.Submitted));
        market.finalize(jobId);
    }

    function test_withoutAttestorsTheTrainerGetsEverything() public {
        uint256 jobId = postClaimSubmit();
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 t = token.balanceOf(trainer);
        market.finalize(jobId);
        assertEq(token.balanceOf(trainer) - t, REWARD, "whole reward");
    }

    function test_cancelOnlyUnclaimedByRequester() public {
        uint256 jobId = post();
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotRequester.selector, jobId, trainer));
        vm.prank(trainer);
        market.cancel(jobId);
        uint256 before = token.balanceOf(requester);
        vm.prank(requester);
        market.cancel(jobId);
        assertEq(token.balanceOf(requester) - before, REWARD, "refunded");
        uint256 second = post();
        vm.prank(trainer);
        market.claim(second);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WrongStatus.selector, second, TrainingMarketTypes.Status.Claimed, TrainingMarketTypes.Status.Open));
        vm.prank(requester);
        market.cancel(second);
    }

    function test_claimNeedsTrainerRoleAndFreeStake() public {
        uint256 jobId = post();
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotTrainer.selector, jobId, validator));
        vm.prank(validator);
        market.claim(jobId);
        stakeAs(challenger, 10 ether, registry.ROLE_TRAINER());
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientFreeStake.selector, challenger, 10 ether, JOB_STAKE));
        vm.prank(challenger);
        market.claim(jobId);
    }

    function test_expiredClaimReturnsTheJobAndPenalisesTheTrainer() public {
        uint256 jobId = post();
        vm.prank(trainer);
        market.claim(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.DeadlinePassed.selector, jobId, uint64(block.timestamp - 1)));
        vm.prank(trainer);
        market.submitResult(jobId, hex"01", bytes32(0), 100);
        uint256 stakeBefore = registry.nodeOf(trainer).staked;
        vm.prank(challenger);
        market.expireClaim(jobId);
        uint256 penalty = JOB_STAKE * market.absencePenaltyBps() / 10_000;
        assertEq(stakeBefore - registry.nodeOf(trainer).staked, penalty, "penalty");
        assertEq(registry.nodeOf(trainer).locked, 0, "rest unlocked");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Open, "back on the market");
    }

    function test_disputeHoldsFinalisationAndSlashesALoser() public {
        uint256 jobId = postClaimSubmit();
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotDisputeGame.selector, challenger));
        vm.prank(challenger);
        market.disputeOpened(jobId);
        vm.prank(disputeGame);
        market.disputeOpened(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.DisputeOpen.selector, jobId, uint32(1)));
        market.finalize(jobId);
        uint256 c = token.balanceOf(challenger);
        uint256 r = token.balanceOf(requester);
        vm.prank(disputeGame);
        market.disputeResolved(jobId, 0, false, challenger);
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "challenger gets half the stake");
        assertEq(token.balanceOf(requester) - r, REWARD + JOB_STAKE / 2, "requester: reward back + treasury half");
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    function test_trainerWhoWinsADisputeIsPaid() public {
        uint256 jobId = postClaimSubmit();
        vm.prank(disputeGame);
        market.disputeOpened(jobId);
        vm.prank(disputeGame);
        market.disputeResolved(jobId, 0, true, challenger);
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalized");
    }

    function test_attestRules() public {
        uint256 jobId = postClaimSubmit();
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotValidator.selector, requester));
        vm.prank(requester);
        market.attest(jobId);
        vm.prank(validator);
        market.attest(jobId);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.AlreadyAttested.selector, jobId, validator));
        vm.prank(validator);
        market.attest(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.WindowClosed.selector, jobId, uint64(block.timestamp - 1)));
        vm.prank(validator2);
        market.attest(jobId);
    }

    function test_badSpecsAndUnknownJobs() public {
        TrainingMarketTypes.JobSpec memory s = spec(0, 1);
        vm.expectRevert(TrainingMarketTypes.ZeroReward.selector);
        vm.prank(requester);
        market.postJob(s, address(0));
        s = spec(1, 1);
        s.steps = 0;
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.InvalidSpec.selector, "steps"));
        vm.prank(requester);
        market.postJob(s, address(0));
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.UnknownJob.selector, 7));
        market.claim(7);
    }

    function testFuzz_feeSplitEmptiesEscrowExactly(uint256 reward, uint8 attestors) public {
        reward = bound(reward, 1, 100_000 ether);
        attestors = uint8(bound(attestors, 0, 16));
        vm.prank(requester);
        uint256 jobId = market.postJob(spec(reward, JOB_STAKE), address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(trainer);
        market.submitResult(jobId, hex"01", bytes32(0), 100);
        for (uint256 i = 0; i < attestors; i++) {
            address v = address(uint160(0x5000 + i));
            token.transfer(v, 10 ether);
            vm.startPrank(v);
            token.approve(address(registry), 10 ether);
            registry.register("", registry.ROLE_VALIDATOR());
            registry.stake(10 ether);
            market.attest(jobId);
            vm.stopPrank();
        }
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertEq(token.balanceOf(address(market)), 0, "escrow empty");
        assertEq(market.totalEscrow(), 0, "escrow counter");
    }
}
