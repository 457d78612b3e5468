// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./Fixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";

/// @notice Finding 9: a proposal keeps the rules it was made under, expires when not
///         executed in time, and members who leave for a fork stop voting on the parent.
contract DaoProposalRulesTest is Fixture {
    DatasetDao internal dao;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA401);
    bytes internal constant HEAD_1 = hex"01711220aa01";
    bytes internal constant HEAD_2 = hex"01711220aa02";

    function setUp() public {
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
        vm.warp(block.timestamp + 1);
    }

    function one(address target, bytes memory data) internal pure returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        t = new address[](1);
        v = new uint256[](1);
        c = new bytes[](1);
        t[0] = target;
        c[0] = data;
    }

    function setHead() internal view returns (address[] memory, uint256[] memory, bytes[] memory) {
        return one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)));
    }

    function proposeAs(address who, address[] memory t, uint256[] memory v, bytes[] memory c) internal returns (uint256 id) {
        vm.prank(who);
        id = dao.propose(t, v, c, "proposal");
    }

    function voteAs(address who, uint256 id, uint8 support) internal {
        vm.prank(who);
        dao.castVote(id, support);
    }

    function expectState(uint256 id, DatasetDao.ProposalState have, DatasetDao.ProposalState want) internal {
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.WrongProposalState.selector, id, have, want));
    }

    /// The audit's attack: carol's proposal fails for want of quorum; the majority lowers the
    /// quorum, and the defeated proposal used to come back as Succeeded.
    function test_defeatedProposalStaysDefeatedWhenQuorumIsLowered() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 defeated = proposeAs(carol, t, v, c);
        DatasetDao.Params memory p = defaultParams();
        p.quorumBps = 500; // carol's 10 of 100 would now pass
        (address[] memory t2, uint256[] memory v2, bytes[] memory c2) = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)));
        uint256 lower = proposeAs(alice, t2, v2, c2);
        vm.warp(block.timestamp + 1);
        voteAs(carol, defeated, 1);
        voteAs(alice, lower, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(dao.state(defeated) == DatasetDao.ProposalState.Defeated, "10 of 100 is below quorum");
        dao.queue(lower);
        vm.warp(block.timestamp + 1 hours);
        dao.execute(lower, t2, v2, c2);
        (,,, uint16 quorumBps,,,) = dao.params();
        assertEq(quorumBps, 500, "quorum lowered");
        assertTrue(dao.state(defeated) == DatasetDao.ProposalState.Defeated, "still defeated under its own quorum");
        expectState(defeated, DatasetDao.ProposalState.Defeated, DatasetDao.ProposalState.Succeeded);
        dao.queue(defeated);
    }

    /// Raising the voting delay used to send a finished proposal back to Pending and then
    /// reopen it; its window is fixed when it is made.
    function test_votingWindowIsFixedAtProposal() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 defeated = proposeAs(carol, t, v, c);
        DatasetDao.Params memory p = defaultParams();
        p.votingDelay = 30 days;
        p.timelockDelay = 30 days;
        (address[] memory t2, uint256[] memory v2, bytes[] memory c2) = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)));
        uint256 slow = proposeAs(alice, t2, v2, c2);
        vm.warp(block.timestamp + 1);
        voteAs(bob, defeated, 0);
        voteAs(alice, slow, 1);
        vm.warp(block.timestamp + 1 days + 1);
        dao.queue(slow);
        vm.warp(block.timestamp + 1 hours);
        dao.execute(slow, t2, v2, c2);
        assertTrue(dao.state(defeated) == DatasetDao.ProposalState.Defeated, "not pending again");
        expectState(defeated, DatasetDao.ProposalState.Defeated, DatasetDao.ProposalState.Active);
        voteAs(alice, defeated, 1);
        // A proposal made now waits the new delay, and its timelock is the new one.
        uint256 later = proposeAs(alice, t, v, c);
        assertEq(dao.getProposal(later).voteStart, block.timestamp + 30 days, "new delay for new proposals");
        assertEq(dao.getProposal(later).timelockDelay, 30 days, "new timelock fixed into it");
    }

    /// A proposal that passed but was never queued used to stay executable forever.
    function test_succeededProposalExpiresUnqueued() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 id = proposeAs(alice, t, v, c);
        vm.warp(block.timestamp + 1);
        voteAs(alice, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Succeeded, "passed");
        uint48 voteEnd = dao.getProposal(id).voteEnd;
        vm.warp(voteEnd + 7 days);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Succeeded, "still within the execution period");
        vm.warp(block.timestamp + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Expired, "expired");
        expectState(id, DatasetDao.ProposalState.Expired, DatasetDao.ProposalState.Succeeded);
        dao.queue(id);
    }

    /// A queued proposal not executed within the execution period after its timelock expires.
    function test_queuedProposalExpiresUnexecuted() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 id = proposeAs(alice, t, v, c);
        vm.warp(block.timestamp + 1);
        voteAs(alice, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        dao.queue(id);
        vm.warp(block.timestamp + 1 hours + 7 days + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Expired, "expired");
        expectState(id, DatasetDao.ProposalState.Expired, DatasetDao.ProposalState.Queued);
        dao.execute(id, t, v, c);
        assertTrue(keccak256(dao.head()) == keccak256(HEAD_1), "head unchanged");
    }

    /// Bob and carol pass a proposal over alice's silence, then bob takes his shares and his
    /// part of the treasury to a fork: his vote leaves with him and the proposal fails.
    function test_membersWhoForkOutStopVoting() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 id = proposeAs(carol, t, v, c);
        vm.warp(block.timestamp + 1);
        voteAs(bob, id, 1);
        voteAs(carol, id, 1);
        assertEq(dao.getProposal(id).forVotes, 40, "both votes counted");
        vm.prank(bob);
        dao.escrowToFork(30);
        assertEq(dao.getProposal(id).forVotes, 10, "bob's escrowed shares no longer vote");
        (bool cast, uint8 support, uint208 weight) = dao.voteOf(id, bob);
        assertTrue(cast, "still counted as voted");
        assertEq(support, 1, "support kept");
        assertEq(weight, 0, "weight gone");
        dao.executeFork();
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Defeated, "10 of 100 is below quorum");
    }

    /// Shares escrowed before voting do not vote, although they were held at the snapshot.
    function test_escrowedSharesCannotVote() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 id = proposeAs(alice, t, v, c);
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.escrowToFork(20);
        assertEq(dao.sharesAt(bob, dao.getProposal(id).snapshot), 30, "held 30 at the snapshot");
        vm.prank(bob);
        assertEq(dao.castVote(id, 0), 10, "only the shares bob still holds");
        vm.prank(carol);
        dao.escrowToFork(10);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.NoShares.selector, carol));
        voteAs(carol, id, 0);
    }

    /// A fork below its threshold has a way back: the escrowed shares return and vote again.
    function test_forkBelowThresholdHasAWayBack() public {
        vm.prank(carol);
        dao.escrowToFork(10);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ForkThresholdNotReached.selector, 10, 20));
        dao.executeFork();
        vm.prank(carol);
        dao.withdrawFromForkEscrow(10);
        assertEq(dao.sharesOf(carol), 10, "back");
        assertEq(dao.escrowedTotal(), 0, "escrow empty");
        (address[] memory t, uint256[] memory v, bytes[] memory c) = setHead();
        uint256 id = proposeAs(carol, t, v, c);
        vm.warp(block.timestamp + 1);
        vm.prank(carol);
        assertEq(dao.castVote(id, 1), 10, "votes again");
    }
}
