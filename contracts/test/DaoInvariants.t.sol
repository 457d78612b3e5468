// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestBase} from "./Vm.sol";
import {Fixture} from "./Fixture.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";
import {DaoGovernance} from "../src/dao/DaoGovernance.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @notice The parent's majority, after the minority forked away, tries everything a
///         proposal of the parent or a member of it can do to get into the fork or at its
///         treasury: admitting itself in the parent, calling the fork's admission (old and
///         new), making the DAO a member, having the DAO join the fork, spoofing a fork
///         through the factory, and joining the fork with whatever shares it has.
contract ParentMajorityHandler is TestBase {
    CommonsToken internal token;
    DatasetDaoFactory internal factory;
    DatasetDao public dao;
    DatasetDao public fork;
    address public alice; // the parent's majority
    address public carol; // a parent member who may follow the fork
    /// The fork's treasury as it must be: what the fork took and what joins brought.
    uint256 public expectedForkTreasury;
    uint256 public proposalsMade;
    uint256 public proposalsExecuted;
    uint256 public joins;

    constructor(CommonsToken token_, DatasetDaoFactory factory_, DatasetDao dao_, DatasetDao fork_, address alice_, address carol_) {
        token = token_;
        factory = factory_;
        dao = dao_;
        fork = fork_;
        alice = alice_;
        carol = carol_;
        expectedForkTreasury = fork_.treasury();
    }

    /// Alice proposes `data` to `target`, votes it through, waits the timelock and executes.
    function pass(address target, bytes memory data) internal {
        if (dao.sharesOf(alice) == 0) return;
        address[] memory t = new address[](1);
        uint256[] memory v = new uint256[](1);
        bytes[] memory c = new bytes[](1);
        t[0] = target;
        c[0] = data;
        // A new description each time: the Governor's id hashes the calls and the description.
        string memory description = string.concat("capture the fork #", Strings.toString(proposalsMade++));
        bytes32 descriptionHash = keccak256(bytes(description));
        vm.prank(alice);
        uint256 id = dao.propose(t, v, c, description);
        (uint32 votingDelay, uint32 votingPeriod, uint32 timelockDelay,,,,) = dao.params();
        vm.warp(block.timestamp + votingDelay + 1);
        vm.prank(alice);
        dao.castVote(id, 1);
        vm.warp(block.timestamp + votingPeriod + 1);
        if (dao.state(id) != IGovernor.ProposalState.Succeeded) return;
        dao.queue(t, v, c, descriptionHash);
        vm.warp(block.timestamp + timelockDelay);
        try dao.execute(t, v, c, descriptionHash) {
            proposalsExecuted += 1;
        } catch {}
    }

    function admitSelf(uint256 shares) external {
        pass(address(dao), abi.encodeCall(DatasetDao.admitMember, (alice, bound(shares, 1, 1e12))));
    }

    function admitTheDao(uint256 shares) external {
        pass(address(dao), abi.encodeCall(DatasetDao.admitMember, (address(dao), bound(shares, 1, 1e12))));
    }

    function callForkAdmission() external {
        pass(address(fork), abi.encodeCall(DatasetDao.admitFromParent, (alice)));
    }

    function callOldForkAdmission(uint256 shares) external {
        pass(address(fork), abi.encodeWithSignature("admitFromParent(address,uint256)", alice, bound(shares, 1, 1e12)));
    }

    function daoJoinsTheFork(uint256 shares) external {
        pass(address(dao), abi.encodeCall(DatasetDao.joinFork, (bound(shares, 1, 1e12))));
    }

    function spoofAFork(uint256 shares) external {
        address[] memory members = new address[](1);
        members[0] = alice;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = bound(shares, 1, 1e12);
        (uint32 a, uint32 b, uint32 c, uint16 d, uint16 e, uint32 f, uint32 g) = dao.params();
        DaoGovernance.Params memory p = DaoGovernance.Params(a, b, c, d, e, f, g);
        pass(address(factory), abi.encodeCall(DatasetDaoFactory.createFork, ("corpus", hex"01", members, amounts, p)));
    }

    function memberJoins(bool asAlice, uint256 shares) external {
        address m = asAlice ? alice : carol;
        uint256 have = dao.sharesOf(m);
        if (have == 0) return;
        shares = bound(shares, 1, have);
        uint256 before = fork.treasury();
        vm.prank(m);
        try dao.joinFork(shares) {
            joins += 1;
            expectedForkTreasury += fork.treasury() - before;
        } catch {}
    }

    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 3 days));
    }
}

/// @notice No fork can be drained or captured by its parent: the fork's shares are always
///         exactly the escrowed shares plus what members moved from their pre-fork holdings,
///         the DAO never holds shares, no spoofed fork is ever recorded, and the fork's
///         treasury is exactly what the fork and the joins brought.
contract ParentCannotDrainForkInvariants is Fixture {
    ParentMajorityHandler internal handler;
    DatasetDao internal dao;
    DatasetDao internal fork;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA401);

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
        DaoGovernance.Params memory p = defaultParams();
        p.forkPeriod = 30 days; // long enough for many proposals inside the join period
        dao = factory.createDao("corpus", hex"01711220aa01", members, shares, p);
        token.transfer(address(dao), 10_000 ether);
        vm.warp(block.timestamp + 1);
        vm.prank(bob);
        dao.escrowToFork(30);
        fork = dao.executeFork();
        handler = new ParentMajorityHandler(token, factory, dao, fork, alice, carol);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_forkSharesAreEscrowPlusPreForkJoins() public view {
        uint256 aliceJoined = dao.joinedShares(address(fork), alice);
        uint256 carolJoined = dao.joinedShares(address(fork), carol);
        assertTrue(aliceJoined <= 60 && carolJoined <= 10, "joined more than held at the fork");
        assertEq(fork.sharesOf(alice), aliceJoined, "alice's fork shares are her joins");
        assertEq(fork.sharesOf(carol), carolJoined, "carol's fork shares are her joins");
        assertEq(fork.totalShares(), 30 + aliceJoined + carolJoined, "no other shares in the fork");
    }

    function invariant_daoNeverHoldsShares() public view {
        assertEq(dao.sharesOf(address(dao)), 0, "parent holds itself");
        assertEq(fork.sharesOf(address(dao)), 0, "parent holds fork shares");
    }

    function invariant_noSpoofedForks() public view {
        assertEq(factory.daoCount(), 2, "a fork was created outside executeFork");
    }

    function invariant_forkTreasuryIsNeverTaken() public view {
        assertEq(fork.treasury(), handler.expectedForkTreasury(), "fork treasury moved");
    }
}
