// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Fixture} from "./Fixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";

/// @notice A dataset DAO of three members (alice 60, bob 30, carol 10 shares) with a
///         10,000-token treasury, and the steps of a Governor proposal.
abstract contract DaoFixture is Fixture {
    DatasetDao internal dao;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA401);
    bytes internal constant HEAD_1 = hex"01711220aa01";
    bytes internal constant HEAD_2 = hex"01711220aa02";

    /// One proposal's calls and description.
    struct Calls {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
    }

    function setUpDao() internal {
        deployAll();
        address[] memory members = new address[](3);
        members[0] = alice;
        members[1] = bob;
        members[2] = carol;
        uint256[] memory shares = new uint256[](3);
        shares[0] = 60;
        shares[1] = 30;
        shares[2] = 10;
        dao = factory.createDao("corpus", HEAD_1, members, shares, defaultParams());
        token.transfer(address(dao), 10_000 ether);
    }

    function one(address target, bytes memory data, string memory description) internal pure returns (Calls memory c) {
        c.targets = new address[](1);
        c.values = new uint256[](1);
        c.calldatas = new bytes[](1);
        c.targets[0] = target;
        c.calldatas[0] = data;
        c.description = description;
    }

    function setHead(string memory description) internal view returns (Calls memory) {
        return one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)), description);
    }

    function proposeAs(DatasetDao on, address who, Calls memory c) internal returns (uint256 id) {
        vm.prank(who);
        id = on.propose(c.targets, c.values, c.calldatas, c.description);
    }

    function voteAs(DatasetDao on, address who, uint256 id, uint8 support) internal returns (uint256 weight) {
        vm.prank(who);
        weight = on.castVote(id, support);
    }

    function queue(DatasetDao on, Calls memory c) internal {
        on.queue(c.targets, c.values, c.calldatas, keccak256(bytes(c.description)));
    }

    function execute(DatasetDao on, Calls memory c) internal {
        on.execute(c.targets, c.values, c.calldatas, keccak256(bytes(c.description)));
    }

    /// Alice proposes and votes alone (60 of 100 shares); the proposal is queued and its
    /// timelock has passed when this returns.
    function queued(DatasetDao on, Calls memory c) internal returns (uint256 id) {
        id = proposeAs(on, alice, c);
        vm.warp(block.timestamp + 1);
        voteAs(on, alice, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        queue(on, c);
        vm.warp(block.timestamp + 1 hours);
    }

    /// Proposes, passes with alice's votes, queues and executes.
    function pass(Calls memory c) internal returns (uint256 id) {
        id = queued(dao, c);
        execute(dao, c);
    }

    function isState(DatasetDao on, uint256 id, IGovernor.ProposalState want) internal view returns (bool) {
        return on.state(id) == want;
    }

    /// The Governor's refusal of a proposal in state `have` where it wanted `want`.
    function expectState(uint256 id, IGovernor.ProposalState have, IGovernor.ProposalState want) internal {
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnexpectedProposalState.selector, id, have, bytes32(1 << uint8(want))));
    }
}
