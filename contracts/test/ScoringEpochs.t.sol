// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceFixture} from "./InferenceFixture.sol";
import {ScoringEpochs} from "../src/inference/ScoringEpochs.sol";
import {ScoringErrors} from "../src/inference/ScoringErrors.sol";

/// @notice ScoringEpochs: an epoch committed, revealed, settled and claimed, and the attacks:
///         revealing without a commit, revealing other weights than committed, committing
///         or revealing late, copying another validator's commit or last epoch's weights,
///         a tiny stake trying to move consensus, claiming twice; payouts sum to the pool.
contract ScoringEpochsTest is InferenceFixture {
    ScoringEpochs internal scoring;
    address internal provider2 = address(0x2003);
    address internal copier = address(0x1006);
    address internal tiny = address(0x1007);
    address internal funder = address(0xDA0);
    uint256 internal s1;
    uint256 internal s2;

    uint64 internal constant EPOCH = 1 hours;
    uint64 internal constant COMMIT = 30 minutes;
    uint256 internal constant POOL = 1_000 ether + 7; // odd, so rounding shows

    function setUp() public {
        deployInference();
        scoring = new ScoringEpochs(token, registry, services, EPOCH, COMMIT, 2_000, 1 ether);
        address[4] memory extra = [provider2, copier, tiny, funder];
        for (uint256 i = 0; i < extra.length; i++) {
            token.transfer(extra[i], FUNDS);
            vm.startPrank(extra[i]);
            token.approve(address(registry), type(uint256).max);
            token.approve(address(scoring), type(uint256).max);
            vm.stopPrank();
        }
        stakeAs(provider, 100 ether, 0);
        stakeAs(provider2, 100 ether, 0);
        vm.prank(provider);
        s1 = services.register(keccak256("model"), hex"01711220cc", 1 ether, "/p2p/one", 10 ether);
        vm.prank(provider2);
        s2 = services.register(keccak256("model"), hex"01711220cc", 1 ether, "/p2p/two", 10 ether);
        stakeAs(validator, 400 ether, registry.ROLE_VALIDATOR());
        stakeAs(validator2, 300 ether, registry.ROLE_VALIDATOR());
        stakeAs(copier, 200 ether, registry.ROLE_VALIDATOR());
        stakeAs(tiny, 1 ether, registry.ROLE_VALIDATOR());
    }

    // ---------------------------------------------------------------- helpers

    function pair(uint256 a, uint256 b) internal pure returns (uint256[] memory v) {
        v = new uint256[](2);
        v[0] = a;
        v[1] = b;
    }

    function ids() internal view returns (uint256[] memory) {
        return pair(s1, s2);
    }

    function atTime(uint256 epoch, uint64 offset) internal {
        vm.warp(scoring.genesis() + epoch * EPOCH + offset);
    }

    function salt(address v, uint256 epoch) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", v, epoch));
    }

    function commitAs(address v, uint256 epoch, uint256[] memory w) internal {
        bytes32 h = scoring.commitHash(epoch, v, ids(), w, salt(v, epoch));
        vm.prank(v);
        scoring.commit(epoch, h);
    }

    function revealAs(address v, uint256 epoch, uint256[] memory w) internal {
        vm.prank(v);
        scoring.reveal(epoch, ids(), w, salt(v, epoch));
    }

    function fund(uint256 epoch, uint256 amount) internal {
        vm.prank(funder);
        scoring.fund(epoch, amount);
    }

    /// Runs an epoch: every validator commits then reveals its weights; settles it.
    function runEpoch(uint256 epoch, address[] memory vs, uint256[][] memory ws) internal {
        atTime(epoch, 1);
        for (uint256 i = 0; i < vs.length; i++) commitAs(vs[i], epoch, ws[i]);
        atTime(epoch, COMMIT);
        for (uint256 i = 0; i < vs.length; i++) revealAs(vs[i], epoch, ws[i]);
        atTime(epoch, EPOCH);
        scoring.settle(epoch);
    }

    function paidOut(uint256 epoch, address[] memory vs) internal view returns (uint256 sum) {
        sum = scoring.providerPayout(epoch, s1) + scoring.providerPayout(epoch, s2);
        for (uint256 i = 0; i < vs.length; i++) sum += scoring.validatorPayout(epoch, vs[i]);
    }

    function three(address a, address b, address c) internal pure returns (address[] memory v) {
        v = new address[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }

    function weights3(uint256[] memory a, uint256[] memory b, uint256[] memory c) internal pure returns (uint256[][] memory w) {
        w = new uint256[][](3);
        (w[0], w[1], w[2]) = (a, b, c);
    }

    // ---------------------------------------------------------------- the honest epoch

    function test_epochPaysProvidersByConsensusAndValidatorsByAgreement() public {
        fund(0, POOL);
        address[] memory vs = three(validator, validator2, copier);
        runEpoch(0, vs, weights3(pair(3, 1), pair(3, 1), pair(1, 1)));
        // consensus: 0.75 / 0.25 (validators with 700 of 900 stake say so)
        assertEq(scoring.consensusOf(0, s1), 0.75e18, "consensus s1");
        assertEq(scoring.consensusOf(0, s2), 0.25e18, "consensus s2");
        assertEq(paidOut(0, vs), POOL, "payouts sum exactly to the pool");
        assertTrue(scoring.providerPayout(0, s1) > 2 * scoring.providerPayout(0, s2), "the better provider earns more");
        // per stake, the validator that disagreed earns less
        assertTrue(scoring.validatorPayout(0, copier) * 400 < scoring.validatorPayout(0, validator) * 200, "disagreeing earns less per stake");
        uint256 before = token.balanceOf(provider);
        scoring.claimProvider(0, s1);
        assertEq(token.balanceOf(provider) - before, scoring.providerPayout(0, s1), "provider paid");
        before = token.balanceOf(validator);
        scoring.claimValidator(0, validator);
        assertEq(token.balanceOf(validator) - before, scoring.validatorPayout(0, validator), "validator paid");
    }

    function testFuzz_payoutsSumToPool(uint256 pool, uint256 a1, uint256 a2, uint256 b1, uint256 b2, uint256 c1) public {
        pool = bound(pool, 1, FUNDS);
        fund(0, pool);
        address[] memory vs = three(validator, validator2, copier);
        runEpoch(0, vs, weights3(pair(bound(a1, 1, 1e9), bound(a2, 0, 1e9)), pair(bound(b1, 0, 1e9), bound(b2, 1, 1e9)), pair(bound(c1, 1, 1e9), 0)));
        assertEq(paidOut(0, vs), pool, "payouts sum exactly to the pool");
        if (scoring.providerPayout(0, s1) > 0) scoring.claimProvider(0, s1);
        if (scoring.providerPayout(0, s2) > 0) scoring.claimProvider(0, s2);
        for (uint256 i = 0; i < vs.length; i++) if (scoring.validatorPayout(0, vs[i]) > 0) scoring.claimValidator(0, vs[i]);
        assertEq(token.balanceOf(address(scoring)), 0, "nothing left in the contract");
    }

    function test_epochWithoutRevealsCarriesThePool() public {
        fund(0, POOL);
        atTime(0, EPOCH);
        scoring.settle(0);
        (uint256 pool1,,,) = scoring.epochOf(1);
        assertEq(pool1, POOL, "carried to the current epoch");
    }

    // ---------------------------------------------------------------- attacks

    function test_revealWithoutCommitIsRefused() public {
        atTime(0, COMMIT);
        vm.prank(validator);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NoCommit.selector, 0, validator));
        scoring.reveal(0, ids(), pair(1, 1), salt(validator, 0));
    }

    function test_revealOfOtherWeightsIsRefused() public {
        atTime(0, 1);
        commitAs(validator, 0, pair(3, 1));
        atTime(0, COMMIT);
        bytes32 committed = scoring.commitOf(0, validator);
        bytes32 other = scoring.commitHash(0, validator, ids(), pair(1, 3), salt(validator, 0));
        vm.prank(validator);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.RevealMismatch.selector, 0, validator, committed, other));
        scoring.reveal(0, ids(), pair(1, 3), salt(validator, 0));
    }

    function test_copiedCommitCannotBeRevealed() public {
        atTime(0, 1);
        commitAs(validator, 0, pair(3, 1));
        // the copier commits the very same hash, then replays the validator's reveal
        bytes32 copied = scoring.commitOf(0, validator);
        vm.prank(copier);
        scoring.commit(0, copied);
        atTime(0, COMMIT);
        revealAs(validator, 0, pair(3, 1));
        bytes32 replayed = scoring.commitHash(0, copier, ids(), pair(3, 1), salt(validator, 0));
        vm.prank(copier);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.RevealMismatch.selector, 0, copier, copied, replayed));
        scoring.reveal(0, ids(), pair(3, 1), salt(validator, 0));
    }

    function test_lateCommitAndLateRevealAreRefused() public {
        atTime(0, COMMIT); // the commit phase is over
        bytes32 h = scoring.commitHash(0, validator, ids(), pair(1, 1), salt(validator, 0));
        vm.prank(validator);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NotPhase.selector, 0, 1, 2));
        scoring.commit(0, h);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NotPhase.selector, 5, 1, 0));
        vm.prank(validator); // nor a commit for an epoch not started
        scoring.commit(5, h);
        atTime(0, 1);
        vm.prank(validator);
        scoring.commit(0, h);
        vm.prank(validator); // too early to reveal
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NotPhase.selector, 0, 2, 1));
        scoring.reveal(0, ids(), pair(1, 1), salt(validator, 0));
        atTime(0, EPOCH); // too late
        vm.prank(validator);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NotPhase.selector, 0, 2, 3));
        scoring.reveal(0, ids(), pair(1, 1), salt(validator, 0));
    }

    function test_nonValidatorsCannotCommit() public {
        atTime(0, 1);
        vm.prank(provider);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.NotValidator.selector, provider));
        scoring.commit(0, bytes32(uint256(1)));
    }

    function test_copyingLastEpochsWeightsEarnsLessThanHonest() public {
        // epoch 0: every validator agrees that both providers are good
        address[] memory vs = three(validator, validator2, copier);
        runEpoch(0, vs, weights3(pair(1, 1), pair(1, 1), pair(1, 1)));
        // epoch 1: provider 2 starts lying; the honest validators measure it, the copier
        // can only replay epoch 0's revealed weights (epoch 1's are hidden until reveal)
        fund(1, POOL);
        runEpoch(1, vs, weights3(pair(1, 0), pair(1, 0), pair(1, 1)));
        assertEq(scoring.consensusOf(1, s2), 0, "the liar's consensus weight");
        assertEq(scoring.providerPayout(1, s2), 0, "the liar earns nothing");
        uint256 honestPerStake = scoring.validatorPayout(1, validator) / 400;
        uint256 copierPerStake = scoring.validatorPayout(1, copier) / 200;
        assertTrue(copierPerStake * 2 <= honestPerStake + 1, "copying earns half or less of honest, per stake");
        assertEq(paidOut(1, vs), POOL, "payouts sum to the pool");
    }

    function test_tinyStakeCannotMoveConsensus() public {
        fund(0, POOL);
        address[] memory vs = new address[](3);
        (vs[0], vs[1], vs[2]) = (validator, validator2, tiny);
        runEpoch(0, vs, weights3(pair(1, 1), pair(1, 1), pair(0, 1))); // tiny puts everything on provider 2
        assertEq(scoring.consensusOf(0, s1), 0.5e18, "consensus s1 unmoved");
        assertEq(scoring.consensusOf(0, s2), 0.5e18, "consensus s2 unmoved (clipped)");
        // tiny's extra weight on s2 is clipped away: half of its weight survives
        assertTrue(scoring.providerPayout(0, s2) - scoring.providerPayout(0, s1) < POOL / 1000, "tiny moved payouts by < 0.1%");
    }

    function test_claimingTwiceIsRefused() public {
        fund(0, POOL);
        address[] memory vs = three(validator, validator2, copier);
        runEpoch(0, vs, weights3(pair(1, 1), pair(1, 1), pair(1, 1)));
        scoring.claimProvider(0, s1);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.AlreadyClaimed.selector, 0, bytes32(s1)));
        scoring.claimProvider(0, s1);
        scoring.claimValidator(0, copier);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.AlreadyClaimed.selector, 0, bytes32(uint256(uint160(copier)))));
        scoring.claimValidator(0, copier);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.EpochSettled.selector, 0));
        scoring.settle(0);
    }

    function test_claimBeforeSettleAndFundAfterAreRefused() public {
        fund(0, POOL);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.EpochNotSettled.selector, 0));
        scoring.claimProvider(0, s1);
        atTime(0, EPOCH);
        scoring.settle(0);
        vm.prank(funder);
        vm.expectRevert(abi.encodeWithSelector(ScoringErrors.EpochSettled.selector, 0));
        scoring.fund(0, 1);
    }

    function test_stakeUnbondedAfterCommitDoesNotCount() public {
        atTime(0, 1);
        commitAs(copier, 0, pair(0, 1));
        vm.prank(copier);
        registry.unbond(199 ether);
        atTime(0, COMMIT);
        revealAs(copier, 0, pair(0, 1));
        assertEq(scoring.revealedStake(0, copier), 1 ether, "counts with what is still bonded");
    }

    function test_retiredServiceDoesNotBlockReveals() public {
        atTime(0, 1);
        commitAs(validator, 0, pair(1, 1));
        vm.prank(provider2);
        services.retire(s2);
        atTime(0, COMMIT);
        revealAs(validator, 0, pair(1, 1));
        assertEq(scoring.weightOf(0, validator, s1), 1e18, "the live service takes the whole weight");
        assertEq(scoring.weightOf(0, validator, s2), 0, "the retired one none");
    }

    function test_settleAtCapacityFitsInABlock() public {
        uint256 n = scoring.MAX_SERVICES();
        uint256[] memory all = new uint256[](n);
        uint256[] memory w = new uint256[](n);
        for (uint256 j = 0; j < n; j++) {
            address p = address(uint160(0x30000 + j));
            token.transfer(p, 10 ether);
            vm.startPrank(p);
            token.approve(address(registry), type(uint256).max);
            registry.register("p", 0);
            registry.stake(10 ether);
            all[j] = services.register(keccak256("model"), hex"01", 1 ether, "/p2p/x", 10 ether);
            vm.stopPrank();
        }
        fund(0, POOL);
        uint256 m = scoring.MAX_VALIDATORS();
        for (uint256 i = 0; i < m; i++) {
            address v = address(uint160(0x40000 + i));
            token.transfer(v, 10 ether + i);
            vm.startPrank(v);
            token.approve(address(registry), type(uint256).max);
            registry.register("v", registry.ROLE_VALIDATOR());
            registry.stake(10 ether + i);
            for (uint256 j = 0; j < n; j++) w[j] = 1 + (i * 7 + j * 13) % 17;
            atTime(0, 1);
            scoring.commit(0, scoring.commitHash(0, v, all, w, bytes32(i)));
            atTime(0, COMMIT);
            scoring.reveal(0, all, w, bytes32(i));
            vm.stopPrank();
        }
        atTime(0, EPOCH);
        uint256 before = gasleft();
        scoring.settle(0);
        uint256 used = before - gasleft();
        assertTrue(used < 15_000_000, "settling 32 validators x 32 services fits in half a block");
        uint256 sum = 0;
        for (uint256 j = 0; j < n; j++) sum += scoring.providerPayout(0, all[j]);
        for (uint256 i = 0; i < m; i++) sum += scoring.validatorPayout(0, address(uint160(0x40000 + i)));
        assertEq(sum, POOL, "payouts sum exactly to the pool");
    }
}
