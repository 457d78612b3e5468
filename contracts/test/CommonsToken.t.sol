// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract CommonsTokenTest is TestBase {
    CommonsToken internal token;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    uint256 internal constant SUPPLY = 1_000_000 ether;

    function setUp() public {
        token = new CommonsToken(SUPPLY);
    }

    function test_mintsWholeSupplyToDeployer() public view {
        assertEq(token.totalSupply(), SUPPLY, "supply");
        assertEq(token.balanceOf(address(this)), SUPPLY, "deployer balance");
    }

    function test_votesFollowDelegatedBalance() public {
        token.transfer(alice, 100 ether);
        assertEq(token.getVotes(alice), 0, "no votes before delegating");
        vm.prank(alice);
        token.delegate(alice);
        assertEq(token.getVotes(alice), 100 ether, "votes after self-delegation");
        vm.prank(alice);
        token.transfer(bob, 40 ether);
        assertEq(token.getVotes(alice), 60 ether, "votes follow a transfer");
    }

    function test_pastVotesAreCheckpointed() public {
        token.transfer(alice, 10 ether);
        vm.prank(alice);
        token.delegate(alice);
        vm.roll(block.number + 1);
        vm.prank(alice);
        token.transfer(bob, 10 ether);
        vm.roll(block.number + 1);
        assertEq(token.getPastVotes(alice, block.number - 2), 10 ether, "weight at the earlier block");
        assertEq(token.getVotes(alice), 0, "weight now");
    }

    function test_transferAboveBalanceReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 0, 1));
        vm.prank(alice);
        token.transfer(bob, 1);
    }

    function testFuzz_transferConservesSupply(uint256 amount) public {
        amount = bound(amount, 0, SUPPLY);
        token.transfer(alice, amount);
        assertEq(token.balanceOf(alice) + token.balanceOf(address(this)), SUPPLY, "conservation");
    }
}
