// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";

/// @notice The market tests' world: a staked trainer and two staked validators, and a
///         job posted, claimed and submitted in one call.
abstract contract MarketFixture is Fixture {
    uint256 internal constant REWARD = 1_000 ether;
    uint256 internal constant JOB_STAKE = 500 ether;

    function setUp() public {
        deployAll();
        stakeAs(trainer, 2_000 ether, registry.ROLE_TRAINER());
        stakeAs(validator, 100 ether, registry.ROLE_VALIDATOR());
        stakeAs(validator2, 100 ether, registry.ROLE_VALIDATOR());
    }

    function post() internal returns (uint256 jobId) {
        vm.prank(requester);
        jobId = market.postJob(spec(REWARD, JOB_STAKE), address(0));
    }

    function postClaimSubmit() internal returns (uint256 jobId) {
        jobId = post();
        vm.prank(trainer);
        market.claim(jobId);
        vm.prank(trainer);
        market.submitResult(jobId, hex"0155aa", keccak256("transcript"), 100);
    }
}
