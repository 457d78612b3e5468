// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract StakeRegistryTest is Fixture {
    function setUp() public {
        deployAll();
    }

    function test_registerAndStake() public {
        stakeAs(trainer, 100 ether, registry.ROLE_TRAINER());
        StakeRegistry.Node memory n = registry.nodeOf(trainer);
        assertEq(n.staked, 100 ether, "staked");
        assertTrue(registry.hasRole(trainer, registry.ROLE_TRAINER()), "trainer role");
        assertTrue(!registry.hasRole(trainer, registry.ROLE_VALIDATOR()), "no validator role");
        assertEq(token.balanceOf(address(registry)), 100 ether, "registry holds the stake");
    }

    function test_unbondWaitsForTheDelay() public {
        stakeAs(trainer, 100 ether, 1);
        vm.prank(trainer);
        registry.unbond(40 ether);
        assertEq(registry.nodeOf(trainer).staked, 60 ether, "bond shrinks at once");
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.UnbondingNotReady.selector, trainer, uint64(block.timestamp + UNBONDING_DELAY), uint64(block.timestamp)));
        vm.prank(trainer);
        registry.withdraw();
        vm.warp(block.timestamp + UNBONDING_DELAY);
        uint256 before = token.balanceOf(trainer);
        vm.prank(trainer);
        registry.withdraw();
        assertEq(token.balanceOf(trainer) - before, 40 ether, "withdrawn");
        assertEq(registry.totalUnbonding(), 0, "nothing unbonding");
    }

    function test_lockedStakeCannotUnbond() public {
        stakeAs(trainer, 100 ether, 1);
        vm.prank(address(market));
        registry.lock(trainer, 70 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientFreeStake.selector, trainer, 30 ether, 31 ether));
        vm.prank(trainer);
        registry.unbond(31 ether);
    }

    function test_onlyLockersLockAndOnlySlashersSlash() public {
        stakeAs(trainer, 100 ether, 1);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.NotLocker.selector, challenger));
        vm.prank(challenger);
        registry.lock(trainer, 1);
        vm.prank(address(market));
        registry.lock(trainer, 50 ether);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.NotSlasher.selector, challenger));
        vm.prank(challenger);
        registry.slash(trainer, 1, challenger, requester);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, challenger));
        vm.prank(challenger);
        registry.setSlasher(challenger, true);
    }

    function test_slashSplitsBetweenBeneficiaryAndTreasury() public {
        stakeAs(trainer, 100 ether, 1);
        vm.prank(address(market));
        registry.lock(trainer, 60 ether);
        uint256 c = token.balanceOf(challenger);
        uint256 t = token.balanceOf(requester);
        vm.prank(address(market));
        registry.slash(trainer, 60 ether, challenger, requester);
        assertEq(token.balanceOf(challenger) - c, 30 ether, "half to the challenger");
        assertEq(token.balanceOf(requester) - t, 30 ether, "rest to the treasury");
        assertEq(registry.nodeOf(trainer).staked, 40 ether, "stake left");
        assertEq(registry.nodeOf(trainer).locked, 0, "lock consumed");
    }

    function test_slashOnlyTakesLockedStake() public {
        stakeAs(trainer, 100 ether, 1);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.InsufficientLocked.selector, trainer, 0, 1));
        vm.prank(address(market));
        registry.slash(trainer, 1, challenger, requester);
    }

    function testFuzz_stakeAndUnbondConserveTokens(uint256 stakeAmount, uint256 unbondAmount) public {
        stakeAmount = bound(stakeAmount, 1, FUNDS);
        unbondAmount = bound(unbondAmount, 1, stakeAmount);
        stakeAs(trainer, stakeAmount, 1);
        vm.prank(trainer);
        registry.unbond(unbondAmount);
        assertEq(token.balanceOf(address(registry)), registry.totalStaked() + registry.totalUnbonding(), "held == staked + unbonding");
        assertEq(registry.nodeOf(trainer).staked + registry.nodeOf(trainer).unbonding, stakeAmount, "node total");
    }

    function testFuzz_slashSplit(uint256 amount, uint16 bps) public {
        amount = bound(amount, 1, FUNDS);
        bps = uint16(bound(bps, 0, 10_000));
        vm.prank(governance);
        registry.setParameters(UNBONDING_DELAY, bps);
        stakeAs(trainer, amount, 1);
        vm.prank(address(market));
        registry.lock(trainer, amount);
        uint256 c = token.balanceOf(challenger);
        uint256 t = token.balanceOf(requester);
        vm.prank(address(market));
        registry.slash(trainer, amount, challenger, requester);
        assertEq(token.balanceOf(challenger) - c + token.balanceOf(requester) - t, amount, "whole slash paid out");
        assertEq(token.balanceOf(challenger) - c, amount * bps / 10_000, "beneficiary share");
    }
}
