// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";

contract DatasetDaoTest is Fixture {
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
    }

    function one(address target, bytes memory data) internal pure returns (address[] memory t, uint256[] memory v, bytes[] memory c) {
        t = new address[](1);
        v = new uint256[](1);
        c = new bytes[](1);
        t[0] = target;
        c[0] = data;
    }

    /// Proposes, passes with alice's votes, queues and executes.
    function pass(address[] memory t, uint256[] memory v, bytes[] memory c) internal returns (uint256 id) {
        vm.prank(alice);
        id = dao.propose(t, v, c, "proposal");
        vm.warp(block.timestamp + 1);
        vm.prank(alice);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        dao.queue(id);
        vm.warp(block.timestamp + 1 hours);
        dao.execute(id, t, v, c);
    }

    function test_proposalSetsTheHead() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)));
        uint256 id = pass(t, v, c);
        assertTrue(keccak256(dao.head()) == keccak256(HEAD_2), "head moved");
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Executed, "executed");
    }

    function test_lifecycleStatesAndTimelock() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)));
        vm.prank(bob);
        uint256 id = dao.propose(t, v, c, "bob's head");
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Pending, "pending");
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.WrongProposalState.selector, id, DatasetDao.ProposalState.Pending, DatasetDao.ProposalState.Active));
        vm.prank(bob);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.castVote(id, 1);
        vm.prank(carol);
        dao.castVote(id, 0);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.AlreadyVoted.selector, id, bob));
        vm.prank(bob);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Succeeded, "30 for, 10 against, quorum 20");
        dao.queue(id);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.TimelockNotPassed.selector, id, uint48(block.timestamp + 1 hours)));
        dao.execute(id, t, v, c);
        vm.warp(block.timestamp + 1 hours);
        (address[] memory t2, uint256[] memory v2, bytes[] memory c2) = one(address(dao), abi.encodeCall(DatasetDao.setHead, (hex"ff")));
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ActionsMismatch.selector, id));
        dao.execute(id, t2, v2, c2);
        dao.execute(id, t, v, c);
    }

    function test_defeatedWithoutQuorumOrMajority() public {
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)));
        vm.prank(carol);
        uint256 id = dao.propose(t, v, c, "carol alone");
        vm.warp(block.timestamp + 1);
        vm.prank(carol);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + 1 days + 1);
        assertTrue(dao.state(id) == DatasetDao.ProposalState.Defeated, "10 of 100 is below quorum");
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.WrongProposalState.selector, id, DatasetDao.ProposalState.Defeated, DatasetDao.ProposalState.Succeeded));
        dao.queue(id);
    }

    function test_actionsOnlyByProposal() public {
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.OnlyDao.selector, alice));
        vm.prank(alice);
        dao.setHead(HEAD_2);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.OnlyDao.selector, alice));
        vm.prank(alice);
        dao.admitMember(alice, 1000);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.NoShares.selector, requester));
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.setHead, (HEAD_2)));
        vm.prank(requester);
        dao.propose(t, v, c, "outsider");
    }

    function test_admitMemberAndAdoptModel() public {
        address[] memory t = new address[](2);
        uint256[] memory v = new uint256[](2);
        bytes[] memory c = new bytes[](2);
        t[0] = address(dao);
        t[1] = address(dao);
        c[0] = abi.encodeCall(DatasetDao.admitMember, (requester, 25));
        c[1] = abi.encodeCall(DatasetDao.adoptModel, (7, hex"0155beef"));
        pass(t, v, c);
        assertEq(dao.sharesOf(requester), 25, "admitted");
        assertEq(dao.totalShares(), 125, "total");
        assertTrue(keccak256(dao.adoptedModel(7)) == keccak256(hex"0155beef"), "adopted");
    }

    function test_changeParametersByProposal() public {
        DatasetDao.Params memory p = defaultParams();
        p.quorumBps = 5_000;
        p.votingPeriod = 2 days;
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)));
        pass(t, v, c);
        (, uint32 votingPeriod,, uint16 quorumBps,,,) = dao.params();
        assertEq(votingPeriod, 2 days, "voting period");
        assertEq(quorumBps, 5_000, "quorum");
        p.forkThresholdBps = 0;
        (t, v, c) = one(address(dao), abi.encodeCall(DatasetDao.setParams, (p)));
        vm.prank(alice);
        uint256 id = dao.propose(t, v, c, "bad");
        vm.warp(block.timestamp + 1);
        vm.prank(alice);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + 2 days + 1);
        dao.queue(id);
        vm.warp(block.timestamp + 1 hours);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.InvalidParams.selector, "forkThresholdBps"));
        dao.execute(id, t, v, c);
    }

    function test_fundJobFromTheTreasury() public {
        TrainingMarket.JobSpec memory s = spec(2_000 ether, 100 ether);
        (address[] memory t, uint256[] memory v, bytes[] memory c) = one(address(dao), abi.encodeCall(DatasetDao.fundJob, (market, s)));
        pass(t, v, c);
        assertEq(dao.treasury(), 8_000 ether, "treasury paid");
        TrainingMarket.Job memory job = market.getJob(0);
        assertEq(job.requester, address(dao), "the DAO is the requester");
        assertEq(job.treasury, address(dao), "slashes come back to the DAO");
        assertEq(job.spec.reward, 2_000 ether, "reward");
    }

    function test_forkMovesEscrowedSharesAndProRataTreasury() public {
        // Only shares held before the fork's second can join it: the founding second ends first.
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.escrowToFork(30);
        assertEq(dao.sharesOf(bob), 0, "escrowed shares stop counting");
        vm.prank(carol);
        dao.escrowToFork(5);
        uint256 treasury = dao.treasury();
        DatasetDao fork = dao.executeFork();
        uint256 moved = treasury * 35 / 100;
        assertEq(fork.treasury(), moved, "pro-rata treasury");
        assertEq(dao.treasury(), treasury - moved, "rest stays");
        assertEq(fork.sharesOf(bob), 30, "bob's shares in the fork");
        assertEq(fork.sharesOf(carol), 5, "carol's escrowed shares in the fork");
        assertEq(dao.sharesOf(carol), 5, "carol keeps the rest");
        assertEq(dao.sharesOf(alice), 60, "alice untouched");
        assertEq(fork.parent(), address(dao), "lineage: parent");
        assertTrue(keccak256(fork.forkPoint()) == keccak256(HEAD_1), "lineage: fork point");
        assertTrue(keccak256(fork.head()) == keccak256(HEAD_1), "same head");
        assertTrue(factory.isDao(address(fork)), "made by the factory");

        uint256 left = dao.treasury();
        vm.prank(carol);
        dao.joinFork(5);
        assertEq(fork.sharesOf(carol), 10, "carol joins during the fork period");
        assertEq(left - dao.treasury(), left * 5 / 65, "with her pro-rata part");
        vm.warp(block.timestamp + 3 days + 1);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ForkJoinClosed.selector, uint48(block.timestamp - 3 days - 1 + 3 days)));
        vm.prank(alice);
        dao.joinFork(1);
    }

    function test_forkNeedsTheThreshold() public {
        vm.prank(carol);
        dao.escrowToFork(10);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.ForkThresholdNotReached.selector, 10, 20));
        dao.executeFork();
        vm.prank(carol);
        dao.withdrawFromForkEscrow(10);
        assertEq(dao.sharesOf(carol), 10, "withdrawn from escrow");
    }

    function test_clonesInitialiseOnce() public {
        address[] memory none = new address[](0);
        uint256[] memory noShares = new uint256[](0);
        vm.expectRevert(DatasetDao.AlreadyInitialized.selector);
        dao.initialize(token, address(0), "", "again", HEAD_2, none, noShares, defaultParams());
        DatasetDao implementation = factory.implementation();
        vm.expectRevert(DatasetDao.AlreadyInitialized.selector);
        implementation.initialize(token, address(0), "", "original", HEAD_2, none, noShares, defaultParams());
    }

    function test_forksCanOnlyBeCreatedByDaos() public {
        address[] memory none = new address[](0);
        uint256[] memory noShares = new uint256[](0);
        vm.expectRevert(abi.encodeWithSelector(DatasetDaoFactory.NotADao.selector, address(this)));
        factory.createFork("x", HEAD_1, none, noShares, defaultParams());
    }

    function testFuzz_forkTreasuryIsProRata(uint256 treasury, uint8 bobShares, uint8 carolShares) public {
        treasury = bound(treasury, 0, 1_000_000 ether);
        uint256 b = bound(bobShares, 1, 30);
        uint256 c = bound(carolShares, 0, 10);
        vm.assume(b + c >= 20);
        deal(address(dao), treasury);
        vm.prank(bob);
        dao.escrowToFork(b);
        if (c > 0) {
            vm.prank(carol);
            dao.escrowToFork(c);
        }
        DatasetDao fork = dao.executeFork();
        assertEq(fork.treasury(), treasury * (b + c) / 100, "pro rata");
        assertEq(fork.treasury() + dao.treasury(), treasury, "nothing lost or created");
        assertEq(fork.totalShares(), b + c, "fork shares");
        assertEq(dao.totalShares(), 100 - b - c, "parent shares");
    }

    function deal(address account, uint256 amount) internal {
        uint256 have = token.balanceOf(account);
        if (have > amount) {
            vm.prank(account);
            token.transfer(address(this), have - amount);
        } else {
            token.transfer(account, amount - have);
        }
    }
}
