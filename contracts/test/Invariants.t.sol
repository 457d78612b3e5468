// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";

/// @notice Members escrow, withdraw, fork and join forks at random.
contract ForkHandler is TestBase {
    CommonsToken internal token;
    DatasetDao public dao;
    address[] public members;
    DatasetDao[] public forks;
    uint256 public mismatches; // forks that moved anything but the pro-rata treasury
    uint256 public executed;

    constructor(CommonsToken token_, DatasetDao dao_, address[] memory members_) {
        token = token_;
        dao = dao_;
        members = members_;
    }

    function member(uint256 seed) internal view returns (address) {
        return members[seed % members.length];
    }

    function escrow(uint256 seed, uint256 shares) external {
        address m = member(seed);
        uint256 have = dao.sharesOf(m);
        if (have == 0) return;
        vm.prank(m);
        dao.escrowToFork(bound(shares, 1, have));
    }

    function withdraw(uint256 seed, uint256 shares) external {
        address m = member(seed);
        uint256 have = dao.escrowedShares(dao.forkRound(), m);
        if (have == 0) return;
        vm.prank(m);
        dao.withdrawFromForkEscrow(bound(shares, 1, have));
    }

    function donate(uint256 amount) external {
        token.transfer(address(dao), bound(amount, 0, 1_000 ether));
    }

    function executeFork() external {
        uint256 escrowed = dao.escrowedTotal();
        uint256 all = dao.totalShares() + escrowed;
        (,,,, uint16 thresholdBps,,) = dao.params();
        if (escrowed == 0 || escrowed * 10_000 < all * thresholdBps) return;
        uint256 treasury = dao.treasury();
        uint256 round = dao.forkRound();
        uint256[] memory before = new uint256[](members.length);
        for (uint256 i = 0; i < members.length; i++) before[i] = dao.sharesOf(members[i]);
        DatasetDao fork = dao.executeFork();
        forks.push(fork);
        executed += 1;
        uint256 expected = treasury * escrowed / all;
        if (fork.treasury() != expected || dao.treasury() != treasury - expected) mismatches += 1;
        for (uint256 i = 0; i < members.length; i++) {
            if (dao.sharesOf(members[i]) != before[i]) mismatches += 1;
            if (fork.sharesOf(members[i]) != dao.escrowedShares(round, members[i])) mismatches += 1;
        }
    }

    function forkCount() external view returns (uint256) {
        return forks.length;
    }
}

contract ForkInvariants is Fixture {
    ForkHandler internal handler;
    DatasetDao internal dao;
    uint256 internal donatedBefore;

    function setUp() public {
        deployAll();
        address[] memory members = new address[](4);
        uint256[] memory shares = new uint256[](4);
        for (uint256 i = 0; i < 4; i++) {
            members[i] = address(uint160(0xA000 + i));
            shares[i] = 10 + i * 7;
        }
        dao = factory.createDao("corpus", hex"017112", members, shares, defaultParams());
        token.transfer(address(dao), 5_000 ether);
        handler = new ForkHandler(token, dao, members);
        token.transfer(address(handler), 1_000_000 ether);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// A fork moves exactly the escrowed members' pro-rata treasury and nothing else.
    function invariant_forkMovesExactlyProRataTreasury() public view {
        assertEq(handler.mismatches(), 0, "a fork moved the wrong amount or touched other members");
    }

    /// Treasury is conserved across a DAO and its forks; shares too.
    function invariant_forksConserveTreasuryAndShares() public view {
        uint256 treasuries = dao.treasury();
        uint256 shares = dao.totalShares() + dao.escrowedTotal();
        for (uint256 i = 0; i < handler.forkCount(); i++) {
            treasuries += handler.forks(i).treasury();
            shares += handler.forks(i).totalShares();
        }
        assertEq(treasuries, 5_000 ether + (1_000_000 ether - token.balanceOf(address(handler))), "treasury conserved");
        assertEq(shares, 10 + 17 + 24 + 31, "shares conserved");
    }
}
