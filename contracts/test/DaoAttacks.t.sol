// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DaoFixture} from "./DaoFixture.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";
import {DaoGovernance} from "../src/dao/DaoGovernance.sol";
import {DaoShares} from "../src/dao/DaoShares.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";

/// @notice The audit's attacks on the dataset DAO, each performed and shown to fail:
///         a parent capturing or draining its fork (finding 2), forks with a made-up
///         lineage (finding 11).
contract DaoAttacksTest is DaoFixture {
    function setUp() public {
        setUpDao();
        vm.warp(block.timestamp + 1);
    }

    /// Bob leaves with his 30 shares and 30% of the treasury.
    function bobForks() internal returns (DatasetDao fork) {
        vm.prank(bob);
        dao.escrowToFork(30);
        fork = dao.executeFork();
        assertEq(fork.treasury(), 3_000 ether, "bob's part of the treasury");
    }

    // ------------------------------------------------------------ finding 2: the parent captures its fork

    /// The audit's attack: the parent's majority passes a proposal that calls the fork's
    /// admission to mint itself shares there, then would drain the fork by proposal.
    function test_parentProposalCannotMintItselfSharesInTheFork() public {
        DatasetDao fork = bobForks();
        // The old admission took (member, shares) from the parent; it no longer exists.
        Calls memory c = one(address(fork), abi.encodeWithSignature("admitFromParent(address,uint256)", alice, 1_000_000), "mint us shares there");
        queued(dao, c);
        vm.expectRevert(abi.encodeWithSelector(Errors.FailedCall.selector));
        execute(dao, c);
        // Today's admission mints only what the parent's join records owe alice: nothing.
        c = one(address(fork), abi.encodeCall(DatasetDao.admitFromParent, (alice)), "admit us there");
        queued(dao, c);
        execute(dao, c);
        assertEq(fork.sharesOf(alice), 0, "no shares for the parent's majority");
        assertEq(fork.totalShares(), 30, "only bob's escrowed shares");
        // With no shares in the fork the majority cannot even propose there, let alone drain it.
        vm.expectRevert(abi.encodeWithSelector(DaoGovernance.NoShares.selector, alice));
        proposeAs(fork, alice, one(address(token), abi.encodeCall(token.transfer, (alice, 3_000 ether)), "drain"));
        assertEq(fork.treasury(), 3_000 ether, "fork treasury intact");
    }

    /// The majority admits itself fresh parent shares during the join period and joins the
    /// fork with them, to outvote bob there: shares not held before the fork cannot join.
    function test_sharesAdmittedAfterTheForkCannotJoinIt() public {
        DatasetDao fork = bobForks();
        pass(one(address(dao), abi.encodeCall(DatasetDao.admitMember, (alice, 10_000)), "more for us"));
        assertEq(dao.sharesOf(alice), 10_060, "admitted in the parent");
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.JoinExceedsSharesAtFork.selector, alice, 60, 10_000));
        vm.prank(alice);
        dao.joinFork(10_000);
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.JoinExceedsSharesAtFork.selector, alice, 60, 61));
        vm.prank(alice);
        dao.joinFork(61);
        // Her own 60 shares from before the fork may follow, with their part of the treasury.
        vm.prank(alice);
        dao.joinFork(60);
        assertEq(fork.sharesOf(alice), 60, "only the shares she held at the fork");
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.JoinExceedsSharesAtFork.selector, alice, 60, 61));
        vm.prank(alice);
        dao.joinFork(1);
    }

    /// Shares minted in the fork's own second (a proposal executed just before the fork
    /// in the same block) do not count as held before the fork.
    function test_sharesAdmittedInTheForksSecondCannotJoinIt() public {
        Calls memory c = one(address(dao), abi.encodeCall(DatasetDao.admitMember, (alice, 100)), "more for us");
        queued(dao, c);
        vm.prank(bob);
        dao.escrowToFork(30);
        vm.prank(carol);
        dao.escrowToFork(10);
        execute(dao, c);
        DatasetDao fork = dao.executeFork();
        vm.expectRevert(abi.encodeWithSelector(DatasetDao.JoinExceedsSharesAtFork.selector, alice, 60, 160));
        vm.prank(alice);
        dao.joinFork(160);
        assertEq(fork.totalShares(), 40, "bob and carol only");
    }

    /// Shares admitted by proposal during the join period may not follow into the fork even
    /// for a member whose earlier shares could: they are marked when admitted.
    function test_sharesAdmittedDuringTheJoinPeriodStayBehind() public {
        DatasetDao fork = bobForks();
        vm.prank(carol);
        dao.escrowToFork(10); // next round: carol's 10 shares leave the count here
        pass(one(address(dao), abi.encodeCall(DatasetDao.admitMember, (carol, 10)), "carol again"));
        // carol held 10 at the fork, but the 10 she holds now were admitted after it.
        vm.expectRevert(abi.encodeWithSelector(DaoShares.InsufficientShares.selector, carol, 0, 10));
        vm.prank(carol);
        dao.joinFork(10);
        assertEq(fork.sharesOf(carol), 0, "nothing joined");
    }

    /// The parent passes a proposal that makes the DAO itself a member, to join forks as a
    /// member would: a DAO never holds shares, in itself or (so) in a fork.
    function test_daoCannotHoldItsOwnShares() public {
        Calls memory c = one(address(dao), abi.encodeCall(DatasetDao.admitMember, (address(dao), 1_000)), "the DAO joins itself");
        queued(dao, c);
        vm.expectRevert(abi.encodeWithSelector(DaoShares.InvalidMember.selector, address(dao)));
        execute(dao, c);
    }

    /// A member who votes and then leaves for the fork does not keep voting on the parent.
    function test_joiningTheForkWithdrawsOpenVotes() public {
        DatasetDao fork = bobForks();
        uint256 id = proposeAs(dao, carol, setHead("carol's head"));
        vm.warp(block.timestamp + 1);
        voteAs(dao, carol, id, 1);
        vm.prank(carol);
        dao.joinFork(10);
        assertEq(fork.sharesOf(carol), 10, "carol moved");
        (, uint256 forVotes,) = dao.proposalVotes(id);
        assertEq(forVotes, 0, "her vote went with her");
    }

    // ------------------------------------------------------------ finding 11: lineage spoofing

    /// A DAO's proposal calls the factory to create a "fork" of itself with made-up members
    /// and fork point: only executeFork can create a fork.
    function test_proposalCannotCreateASpoofedFork() public {
        address[] memory members = new address[](1);
        members[0] = alice;
        uint256[] memory shares = new uint256[](1);
        shares[0] = 1_000;
        Calls memory c = one(address(factory), abi.encodeCall(DatasetDaoFactory.createFork, ("corpus", HEAD_2, members, shares, defaultParams())), "spoof");
        queued(dao, c);
        uint256 before = factory.daoCount();
        vm.expectRevert(abi.encodeWithSelector(DatasetDaoFactory.NotForking.selector, address(dao)));
        execute(dao, c);
        assertEq(factory.daoCount(), before, "no fork recorded");
    }

    /// A contract that claims to be a forking DAO is not one the factory made.
    function test_foreignContractCannotCreateAFork() public {
        Impostor impostor = new Impostor();
        vm.expectRevert(abi.encodeWithSelector(DatasetDaoFactory.NotADao.selector, address(impostor)));
        impostor.spoof(factory, defaultParams());
    }

    /// A real fork's lineage is the parent and the parent's head at the fork, as recorded.
    function test_forkLineageIsTheParentsHead() public {
        DatasetDao fork = bobForks();
        assertEq(fork.parent(), address(dao), "parent");
        assertTrue(keccak256(fork.forkPoint()) == keccak256(HEAD_1), "fork point");
        assertTrue(factory.isDao(address(fork)), "made by the factory");
        assertTrue(!dao.forking(), "the flag lasts only inside executeFork");
    }
}

/// @notice Pretends to be a DAO in the middle of a fork.
contract Impostor {
    function forking() external pure returns (bool) {
        return true;
    }

    function spoof(DatasetDaoFactory factory, DaoGovernance.Params memory params) external {
        address[] memory members = new address[](1);
        members[0] = msg.sender;
        uint256[] memory shares = new uint256[](1);
        shares[0] = 1;
        factory.createFork("corpus", hex"01", members, shares, params);
    }
}
