// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "./MarketFixture.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";

/// @notice Attacks on the training market (issue #9's audit findings 4, 7, 8, 10, 11),
///         each performed and shown to fail. `disputeGame` is an authorised game account.
contract MarketAttacksTest is MarketFixture {
    /// Finding 4: a job whose window (or claim) would run to the end of time, so that
    /// `submittedAt + challengeWindow` overflows and the trainer's stake never comes
    /// back, cannot be posted; governance cannot raise the bounds past a year.
    function test_unboundedWindowsCannotLockAStake() public {
        TrainingMarketTypes.JobSpec memory s = spec(1, JOB_STAKE);
        s.challengeWindow = type(uint64).max;
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.InvalidSpec.selector, "challengeWindow"));
        vm.prank(requester);
        market.postJob(s, address(0));
        s = spec(1, JOB_STAKE);
        s.trainingTime = type(uint64).max;
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.InvalidSpec.selector, "trainingTime"));
        vm.prank(requester);
        market.postJob(s, address(0));
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.InvalidParameter.selector, "maxChallengeWindow"));
        vm.prank(governance);
        market.setBounds(366 days, 1 days, 0);
        // At the bounds, everything still settles: the window ends and the stake comes back.
        s = spec(REWARD, JOB_STAKE);
        (s.challengeWindow, s.trainingTime) = (market.maxChallengeWindow(), market.maxTrainingTime());
        vm.prank(requester);
        uint256 jobId = market.postJob(s, address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(trainer);
        market.submitResult(jobId, hex"01", bytes32(0), 100);
        vm.warp(block.timestamp + s.challengeWindow + 1);
        market.finalize(jobId);
        assertEq(registry.nodeOf(trainer).locked, 0, "stake released");
    }

    /// Finding 7: governance revokes the game while one of its disputes is open; the
    /// game still resolves what it opened (the job does not brick), and a revoked game
    /// cannot open new ones. Nobody else can resolve a dispute, nor resolve it twice.
    function test_revokedGameStillResolvesItsDisputes() public {
        uint256 jobId = postClaimSubmit();
        vm.prank(disputeGame);
        uint32 number = market.disputeOpened(jobId);
        vm.prank(governance);
        market.setDisputeGame(disputeGame, false);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotDisputeGame.selector, disputeGame));
        vm.prank(disputeGame);
        market.disputeOpened(jobId);
        address other = address(0xBAD);
        vm.prank(governance);
        market.setDisputeGame(other, true);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotThisDisputesGame.selector, jobId, number, other));
        vm.prank(other);
        market.disputeResolved(jobId, number, false, other);
        vm.prank(disputeGame);
        market.disputeResolved(jobId, number, true, challenger);
        vm.expectRevert(abi.encodeWithSelector(TrainingMarketTypes.NotThisDisputesGame.selector, jobId, number, disputeGame));
        vm.prank(disputeGame);
        market.disputeResolved(jobId, number, false, challenger);
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Finalized, "finalised");
    }

    /// Finding 6, at the market: the trainer's puppet opened dispute 1 after an honest
    /// challenger opened dispute 0; the puppet wins first, but the slash waits for
    /// dispute 0 and goes to the honest challenger when it wins.
    function test_laterWinCannotTakeAnEarlierChallengersSlash() public {
        uint256 jobId = postClaimSubmit();
        address puppet = address(0x9999);
        vm.startPrank(disputeGame);
        uint32 honest = market.disputeOpened(jobId);
        uint32 fake = market.disputeOpened(jobId);
        market.disputeResolved(jobId, fake, false, puppet);
        vm.stopPrank();
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "waits for dispute 0");
        assertEq(token.balanceOf(puppet), 0, "puppet paid nothing");
        uint256 c = token.balanceOf(challenger);
        vm.prank(disputeGame);
        market.disputeResolved(jobId, honest, false, challenger);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "the earliest winner is paid");
        assertEq(token.balanceOf(puppet), 0, "puppet still paid nothing");
    }

    /// ...and if the earlier dispute was bogus (the trainer wins it), the later
    /// challenger who won is paid once it resolves.
    function test_earlierLossPassesTheSlashOn() public {
        uint256 jobId = postClaimSubmit();
        vm.startPrank(disputeGame);
        uint32 first = market.disputeOpened(jobId);
        uint32 second = market.disputeOpened(jobId);
        market.disputeResolved(jobId, second, false, challenger);
        uint256 c = token.balanceOf(challenger);
        market.disputeResolved(jobId, first, true, validator);
        vm.stopPrank();
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
        assertEq(token.balanceOf(challenger) - c, JOB_STAKE / 2, "second challenger paid");
    }

    /// Finding 8: an attestor locks the job's attestation stake; if the trainer is then
    /// caught, the attestors' stakes go with the trainer's (half to the challenger), so
    /// filling the attestor list with sybils to take the fee at no risk costs stake.
    function test_attestorsOfALieLoseTheirStake() public {
        uint256 jobId = postClaimSubmit();
        uint256 attestStake = market.getJob(jobId).terms.attestStake;
        assertTrue(attestStake > 0, "attesting costs stake");
        vm.prank(validator);
        market.attest(jobId);
        assertEq(registry.nodeOf(validator).locked, attestStake, "locked");
        // A 1-wei sybil cannot attest at all.
        address sybil = address(0x5151);
        token.transfer(sybil, 1);
        vm.startPrank(sybil);
        token.approve(address(registry), 1);
        registry.register("", registry.ROLE_VALIDATOR());
        registry.stake(1);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientFreeStake.selector, sybil, 1, attestStake));
        market.attest(jobId);
        vm.stopPrank();

        uint256 staked = registry.nodeOf(validator).staked;
        uint256 c = token.balanceOf(challenger);
        vm.startPrank(disputeGame);
        uint32 number = market.disputeOpened(jobId);
        market.disputeResolved(jobId, number, false, challenger);
        vm.stopPrank();
        assertEq(staked - registry.nodeOf(validator).staked, attestStake, "attestor slashed");
        assertEq(token.balanceOf(challenger) - c, (JOB_STAKE + attestStake) / 2, "challenger paid from both");
    }

    /// ...and an honest job's attestors get their stake back with the fee.
    function test_attestorsOfAnHonestJobGetTheirStakeBack() public {
        uint256 jobId = postClaimSubmit();
        vm.prank(validator);
        market.attest(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(jobId);
        assertEq(registry.nodeOf(validator).locked, 0, "unlocked");
    }

    /// Finding 10: a requester posts a job, the trainer cannot deliver in time, and the
    /// requester calls expireClaim: neither the caller nor the requester's treasury gains
    /// from the penalty (it goes to governance), so an unfulfillable job farms nothing.
    function test_absencePenaltyRewardsNeitherCallerNorRequester() public {
        vm.prank(requester);
        uint256 jobId = market.postJob(spec(REWARD, JOB_STAKE), address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 r = token.balanceOf(requester);
        uint256 g = token.balanceOf(governance);
        vm.prank(requester);
        market.expireClaim(jobId);
        uint256 penalty = JOB_STAKE * market.absencePenaltyBps() / 10_000;
        assertEq(token.balanceOf(requester), r, "requester gains nothing");
        assertEq(token.balanceOf(governance) - g, penalty, "penalty to governance");
    }

    /// Finding 11: the validator fee and the absence penalty of a job are those in force
    /// when it was posted; governance changing them later does not touch it.
    function test_termsAreFixedWhenTheJobIsPosted() public {
        uint256 jobId = postClaimSubmit();
        vm.prank(validator);
        market.attest(jobId);
        vm.prank(governance);
        market.setParameters(10_000, 10_000, 16, 60);
        vm.warp(block.timestamp + 1 hours + 1);
        uint256 v = token.balanceOf(validator);
        market.finalize(jobId);
        assertEq(token.balanceOf(validator) - v, REWARD * 500 / 10_000, "the fee of the job's terms");
    }

    /// With governance's ownership renounced, a claim still expires (the penalty is burnt)
    /// and the job goes back on the market: nobody can make an absent trainer's stake stick.
    function test_claimExpiresEvenWithoutAnOwner() public {
        vm.prank(requester);
        uint256 jobId = market.postJob(spec(REWARD, JOB_STAKE), address(0));
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(governance);
        market.renounceOwnership();
        vm.warp(block.timestamp + 1 hours + 1);
        market.expireClaim(jobId);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Open, "back on the market");
        assertEq(token.balanceOf(address(0xdead)), JOB_STAKE * market.absencePenaltyBps() / 10_000, "burnt");
    }

    /// Review finding: thousands of disputes on one job cannot make resolving the first one
    /// run out of gas: a resolution walks at most MAX_WALK resolved disputes, and anyone
    /// continues the walk with advance().
    function test_manyDisputesSettleInBoundedSteps() public {
        uint256 jobId = postClaimSubmit();
        uint32 n = 150;
        vm.startPrank(disputeGame);
        for (uint32 i = 0; i < n; i++) market.disputeOpened(jobId);
        for (uint32 i = 1; i < n; i++) market.disputeResolved(jobId, i, true, challenger);
        uint256 before = gasleft();
        market.disputeResolved(jobId, 0, false, challenger);
        uint256 used = before - gasleft();
        vm.stopPrank();
        assertTrue(used < 1_000_000, "bounded");
        // The trainer lost dispute 0, the earliest: nothing before it, so it settles now.
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "slashed");
    }

    function test_advanceContinuesABoundedWalk() public {
        uint256 jobId = postClaimSubmit();
        uint32 n = 150;
        vm.startPrank(disputeGame);
        for (uint32 i = 0; i < n; i++) market.disputeOpened(jobId);
        // Resolved from the back, so the walk cannot move until dispute 0 is resolved.
        for (uint32 i = n - 2; i > 0; i--) market.disputeResolved(jobId, i, true, challenger);
        market.disputeResolved(jobId, 0, true, challenger);
        vm.stopPrank();
        // Each resolution walks at most MAX_WALK of the 149 resolved before the last.
        address late = address(0x7777);
        vm.prank(disputeGame);
        market.disputeResolved(jobId, n - 1, false, late);
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted, "not yet: the walk stopped");
        market.advance(jobId, market.MAX_WALK());
        assertTrue(market.getJob(jobId).status == TrainingMarketTypes.Status.Slashed, "settled by anyone");
        assertEq(token.balanceOf(late), JOB_STAKE / 2, "to the earliest winner");
    }

    /// Review finding: revoking the market as locker and slasher mid-job does not brick
    /// it: the market still releases or slashes the stake it locked, and starts nothing new.
    function test_revokedMarketSettlesWhatItLocked() public {
        uint256 honestJob = postClaimSubmit();
        uint256 lyingJob = postClaimSubmit();
        vm.startPrank(disputeGame);
        uint32 number = market.disputeOpened(lyingJob);
        vm.stopPrank();
        vm.startPrank(governance);
        registry.setLocker(address(market), false);
        registry.setSlasher(address(market), false);
        vm.stopPrank();
        vm.prank(disputeGame);
        market.disputeResolved(lyingJob, number, false, challenger);
        assertTrue(market.getJob(lyingJob).status == TrainingMarketTypes.Status.Slashed, "slashed");
        vm.warp(block.timestamp + 1 hours + 1);
        market.finalize(honestJob);
        assertEq(registry.nodeOf(trainer).locked, 0, "everything released");
        vm.prank(requester);
        uint256 next = market.postJob(spec(REWARD, JOB_STAKE), address(0));
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.NotLocker.selector, address(market)));
        vm.prank(trainer);
        market.claim(next);
    }

    /// A locker slashes only what it locked itself, never stake another market holds.
    function test_aSlasherTakesOnlyWhatItLocked() public {
        postClaimSubmit();
        address other = address(0x0A11);
        vm.startPrank(governance);
        registry.setSlasher(other, true);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientLocked.selector, trainer, 0, 1));
        vm.prank(other);
        registry.slash(trainer, 1, other, other);
    }
}
