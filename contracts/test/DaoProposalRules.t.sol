// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {DaoFixture} from "./DaoFixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DaoGovernance} from "../src/dao/DaoGovernance.sol";

/// @notice Finding 9: a proposal keeps the rules it was made under, expires when not
///         executed in time, and members who leave for a fork stop voting on the parent.
contract DaoProposalRulesTest is DaoFixture {
    function setUp() public {
        setUpDao();
        vm.warp(block.timestamp + 1);
    }

    function forVotes(uint256 id) internal view returns (uint256 votes) {
        (, votes,) = dao.proposalVotes(id);
    }

    /// The audit's attack: carol's proposal fails for want of quorum; the majority lowers the
    /// quorum, and the defeated proposal used to come back as Succeeded.
    function test_defeatedProposalStaysDefeatedWhenQuorumIsLowered() public {
        Calls memory c = setHead("carol's head");
        uint256 defeated = proposeAs(dao, carol, c);
        DaoGovernance.Params memory p = defaultParams();
        p.quorumBps = 500; // carol's 10 of 100 would now pass
        Calls memory lower = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)), "lower the quorum");
        uint256 lowerId = proposeAs(dao, alice, lower);
        vm.warp(block.timestamp + 1);
        voteAs(dao, carol, defeated, 1);
        voteAs(dao, alice, lowerId, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(isState(dao, defeated, IGovernor.ProposalState.Defeated), "10 of 100 is below quorum");
        queue(dao, lower);
        vm.warp(block.timestamp + 1 hours);
        execute(dao, lower);
        (,,, uint16 quorumBps,,,) = dao.params();
        assertEq(quorumBps, 500, "quorum lowered");
        assertTrue(isState(dao, defeated, IGovernor.ProposalState.Defeated), "still defeated under its own quorum");
        expectState(defeated, IGovernor.ProposalState.Defeated, IGovernor.ProposalState.Succeeded);
        queue(dao, c);
    }

    /// Raising the voting delay used to send a finished proposal back to Pending and then
    /// reopen it; its window is fixed when it is made.
    function test_votingWindowIsFixedAtProposal() public {
        Calls memory c = setHead("carol's head");
        uint256 defeated = proposeAs(dao, carol, c);
        DaoGovernance.Params memory p = defaultParams();
        p.votingDelay = 30 days;
        p.timelockDelay = 30 days;
        Calls memory slow = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)), "slow down");
        uint256 slowId = proposeAs(dao, alice, slow);
        vm.warp(block.timestamp + 1);
        voteAs(dao, bob, defeated, 0);
        voteAs(dao, alice, slowId, 1);
        vm.warp(block.timestamp + 1 days + 1);
        queue(dao, slow);
        vm.warp(block.timestamp + 1 hours);
        execute(dao, slow);
        assertTrue(isState(dao, defeated, IGovernor.ProposalState.Defeated), "not pending again");
        expectState(defeated, IGovernor.ProposalState.Defeated, IGovernor.ProposalState.Active);
        voteAs(dao, alice, defeated, 1);
        // A proposal made now waits the new delay, and its timelock is the new one.
        uint256 later = proposeAs(dao, alice, setHead("again, later"));
        assertEq(dao.proposalSnapshot(later), block.timestamp + 30 days, "new delay for new proposals");
        (, uint32 timelockDelay,) = dao.rulesAt(dao.proposalSnapshot(later));
        assertEq(timelockDelay, 30 days, "new timelock for new proposals");
    }

    /// A proposal that passed but was never queued used to stay executable forever.
    function test_succeededProposalExpiresUnqueued() public {
        Calls memory c = setHead("v2");
        uint256 id = proposeAs(dao, alice, c);
        vm.warp(block.timestamp + 1);
        voteAs(dao, alice, id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Succeeded), "passed");
        vm.warp(dao.proposalDeadline(id) + 7 days);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Succeeded), "still within the execution period");
        vm.warp(block.timestamp + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Expired), "expired");
        expectState(id, IGovernor.ProposalState.Expired, IGovernor.ProposalState.Succeeded);
        queue(dao, c);
    }

    /// A queued proposal not executed within the execution period after its timelock expires.
    function test_queuedProposalExpiresUnexecuted() public {
        Calls memory c = setHead("v2");
        uint256 id = queued(dao, c);
        vm.warp(block.timestamp + 7 days + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Expired), "expired");
        expectState(id, IGovernor.ProposalState.Expired, IGovernor.ProposalState.Queued);
        execute(dao, c);
        assertTrue(keccak256(dao.head()) == keccak256(HEAD_1), "head unchanged");
    }

    /// Bob and carol pass a proposal over alice's silence, then bob takes his shares and his
    /// part of the treasury to a fork: his vote leaves with him and the proposal fails.
    function test_membersWhoForkOutStopVoting() public {
        uint256 id = proposeAs(dao, carol, setHead("carol's head"));
        vm.warp(block.timestamp + 1);
        voteAs(dao, bob, id, 1);
        voteAs(dao, carol, id, 1);
        assertEq(forVotes(id), 40, "both votes counted");
        vm.prank(bob);
        dao.escrowToFork(30);
        assertEq(forVotes(id), 10, "bob's escrowed shares no longer vote");
        (bool cast, uint8 support, uint208 weight,) = dao.voteOf(id, bob);
        assertTrue(cast && dao.hasVoted(id, bob), "still counted as voted");
        assertEq(support, 1, "support kept");
        assertEq(weight, 0, "weight gone");
        dao.executeFork();
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(isState(dao, id, IGovernor.ProposalState.Defeated), "10 of 100 is below quorum");
    }

    /// Leaving cuts the member's votes on every proposal still being voted, and only those:
    /// a vote whose window closed keeps its weight (its outcome is final).
    function test_leavingCutsEveryOpenVoteAndNoClosedOne() public {
        uint256 closed = proposeAs(dao, bob, setHead("first"));
        vm.warp(block.timestamp + 1);
        voteAs(dao, bob, closed, 1);
        vm.warp(block.timestamp + 1 days);
        uint256 a = proposeAs(dao, bob, setHead("second"));
        uint256 b = proposeAs(dao, carol, setHead("third"));
        vm.warp(block.timestamp + 1);
        voteAs(dao, bob, a, 1);
        voteAs(dao, bob, b, 0);
        assertTrue(block.timestamp > dao.proposalDeadline(closed), "first vote closed");
        vm.prank(bob);
        dao.escrowToFork(20);
        (uint256 againstB,,) = dao.proposalVotes(b);
        assertEq(forVotes(a), 10, "open vote cut to what bob holds");
        assertEq(againstB, 10, "every open vote cut");
        assertEq(forVotes(closed), 30, "closed vote kept");
        vm.prank(bob);
        dao.escrowToFork(10);
        (againstB,,) = dao.proposalVotes(b);
        assertEq(forVotes(a) + againstB, 0, "nothing left to vote with");
        assertEq(forVotes(closed), 30, "closed vote still kept");
        assertTrue(isState(dao, closed, IGovernor.ProposalState.Succeeded), "its outcome stands");
    }

    /// Shares escrowed before voting do not vote, although they were held at the snapshot.
    function test_escrowedSharesCannotVote() public {
        uint256 id = proposeAs(dao, alice, setHead("v2"));
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.escrowToFork(20);
        assertEq(dao.getPastVotes(bob, dao.proposalSnapshot(id)), 30, "held 30 at the snapshot");
        assertEq(voteAs(dao, bob, id, 0), 10, "only the shares bob still holds");
        vm.prank(carol);
        dao.escrowToFork(10);
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.NoShares.selector, carol));
        voteAs(dao, carol, id, 0);
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
        uint256 id = proposeAs(dao, carol, setHead("carol's head"));
        vm.warp(block.timestamp + 1);
        assertEq(voteAs(dao, carol, id, 1), 10, "votes again");
    }
}
