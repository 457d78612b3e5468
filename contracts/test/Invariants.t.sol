// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";
import {DatasetDao} from "../src/DatasetDao.sol";
import {DatasetDaoFactory} from "../src/DatasetDaoFactory.sol";

/// @notice Drives stakes and jobs through random sequences of user actions, acting as
///         the one authorised dispute game, and keeps ghost books to check against.
contract MarketHandler is TestBase {
    CommonsToken internal token;
    StakeRegistry internal registry;
    TrainingMarket internal market;
    address[] public actors;
    uint256[] public jobIds;

    uint256 public ghostStakedIn;
    uint256 public ghostWithdrawn;
    uint256 public ghostSlashed; // by the authorised paths this handler drives
    uint256 public ghostPosted;
    uint256 public ghostPaidOut; // rewards of jobs that reached a paid end state
    uint256 public unauthorisedSlashes; // must stay zero
    mapping(uint256 => uint256) public payouts; // per job: times its reward left the market

    constructor(CommonsToken token_, StakeRegistry registry_, TrainingMarket market_, address[] memory actors_) {
        token = token_;
        registry = registry_;
        market = market_;
        actors = actors_;
    }

    function actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function job(uint256 seed) internal view returns (uint256 id, bool ok) {
        if (jobIds.length == 0) return (0, false);
        return (jobIds[seed % jobIds.length], true);
    }

    function stake(uint256 seed, uint256 amount) external {
        address a = actor(seed);
        amount = bound(amount, 1, token.balanceOf(a) == 0 ? 1 : token.balanceOf(a));
        if (token.balanceOf(a) < amount) return;
        vm.prank(a);
        registry.stake(amount);
        ghostStakedIn += amount;
    }

    function unbond(uint256 seed, uint256 amount) external {
        address a = actor(seed);
        uint256 free = registry.freeStake(a);
        if (free == 0) return;
        vm.prank(a);
        registry.unbond(bound(amount, 1, free));
    }

    function withdraw(uint256 seed) external {
        address a = actor(seed);
        StakeRegistry.Node memory n = registry.nodeOf(a);
        if (n.unbonding == 0) return;
        if (block.timestamp < n.unbondingReady) vm.warp(n.unbondingReady);
        vm.prank(a);
        registry.withdraw();
        ghostWithdrawn += n.unbonding;
    }

    function postJob(uint256 seed, uint256 reward, uint256 jobStake) external {
        address a = actor(seed);
        reward = bound(reward, 1, 1_000 ether);
        if (token.balanceOf(a) < reward) return;
        TrainingMarket.JobSpec memory s = TrainingMarket.JobSpec(hex"0171", bytes32(0), hex"0171", bytes32(0), 1, 10, reward, bound(jobStake, 0, 500 ether), 1 hours, 1 hours);
        vm.prank(a);
        jobIds.push(market.postJob(s, address(0)));
        ghostPosted += reward;
    }

    function cancel(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Open) return;
        vm.prank(j.requester);
        market.cancel(id);
        paid(id, j.spec.reward);
    }

    function claim(uint256 actorSeed, uint256 jobSeed) external {
        (uint256 id, bool ok) = job(jobSeed);
        address a = actor(actorSeed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Open || registry.freeStake(a) < j.spec.jobStake) return;
        vm.prank(a);
        market.claim(id);
    }

    function submit(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Claimed || block.timestamp > j.deadline) return;
        vm.prank(j.trainer);
        market.submitResult(id, hex"0155", keccak256("t"), 10);
    }

    function attest(uint256 actorSeed, uint256 jobSeed) external {
        (uint256 id, bool ok) = job(jobSeed);
        address a = actor(actorSeed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Submitted || block.timestamp > j.submittedAt + j.spec.challengeWindow) return;
        if (a == j.trainer || market.hasAttested(id, a) || registry.nodeOf(a).staked == 0) return;
        vm.prank(a);
        market.attest(id);
    }

    function finalize(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Submitted || j.openDisputes > 0) return;
        uint256 endsAt = j.submittedAt + j.spec.challengeWindow;
        if (block.timestamp <= endsAt) vm.warp(endsAt + 1);
        market.finalize(id);
        paid(id, j.spec.reward);
    }

    function expire(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Claimed) return;
        if (block.timestamp <= j.deadline) vm.warp(j.deadline + 1);
        market.expireClaim(id);
        ghostSlashed += j.spec.jobStake * market.absencePenaltyBps() / 10_000;
    }

    function openDispute(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Submitted || block.timestamp > j.submittedAt + j.spec.challengeWindow) return;
        market.disputeOpened(id);
    }

    function resolveDispute(uint256 seed, bool trainerWon, uint256 challengerSeed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarket.Job memory j = market.getJob(id);
        if (j.status != TrainingMarket.Status.Submitted || j.openDisputes == 0) return;
        market.disputeResolved(id, trainerWon, actor(challengerSeed));
        if (!trainerWon) {
            ghostSlashed += j.spec.jobStake;
            paid(id, j.spec.reward);
        }
    }

    /// Anyone but an authorised slasher trying to slash must fail.
    function slashWithoutAuthority(uint256 callerSeed, uint256 victimSeed, uint256 amount) external {
        vm.prank(actor(callerSeed));
        try registry.slash(actor(victimSeed), amount, actor(callerSeed), actor(callerSeed)) {
            unauthorisedSlashes += 1;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 2 hours));
    }

    function paid(uint256 id, uint256 reward) internal {
        payouts[id] += 1;
        ghostPaidOut += reward;
    }

    function jobCount() external view returns (uint256) {
        return jobIds.length;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }
}

contract MarketInvariants is Fixture {
    MarketHandler internal handler;

    function setUp() public {
        deployAll();
        address[] memory actors = new address[](4);
        actors[0] = trainer;
        actors[1] = validator;
        actors[2] = validator2;
        actors[3] = challenger;
        handler = new MarketHandler(token, registry, market, actors);
        for (uint256 i = 0; i < actors.length; i++) {
            vm.prank(actors[i]);
            registry.register("", registry.ROLE_TRAINER() | registry.ROLE_VALIDATOR());
        }
        vm.prank(governance);
        market.setDisputeGame(address(handler), true);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function stakeHeld() internal view returns (uint256 sum) {
        for (uint256 i = 0; i < handler.actorCount(); i++) {
            StakeRegistry.Node memory n = registry.nodeOf(handler.actors(i));
            sum += n.staked + n.unbonding;
        }
    }

    /// Tokens held by market and registry == open escrows + staked (locked or not) + unbonding.
    function invariant_tokensHeldEqualEscrowsAndStakes() public view {
        uint256 openEscrow;
        for (uint256 i = 0; i < handler.jobCount(); i++) {
            TrainingMarket.Job memory j = market.getJob(handler.jobIds(i));
            if (j.status == TrainingMarket.Status.Open || j.status == TrainingMarket.Status.Claimed || j.status == TrainingMarket.Status.Submitted) {
                openEscrow += j.spec.reward;
            }
        }
        assertEq(token.balanceOf(address(market)) + token.balanceOf(address(registry)), openEscrow + stakeHeld(), "held == escrows + stakes");
        assertEq(market.totalEscrow(), openEscrow, "escrow counter");
    }

    /// Every job's reward leaves the market at most once, and the market paid out
    /// exactly the rewards of jobs that ended.
    function invariant_noJobPaidTwice() public view {
        for (uint256 i = 0; i < handler.jobCount(); i++) {
            assertTrue(handler.payouts(handler.jobIds(i)) <= 1, "paid at most once");
        }
        assertEq(handler.ghostPosted() - token.balanceOf(address(market)), handler.ghostPaidOut(), "outflow == rewards of ended jobs");
    }

    /// Stake only ever leaves through withdrawals and authorised slashes.
    function invariant_noSlashWithoutAuthorisedDispute() public view {
        assertEq(handler.unauthorisedSlashes(), 0, "an unauthorised slash went through");
        assertEq(stakeHeld(), handler.ghostStakedIn() - handler.ghostWithdrawn() - handler.ghostSlashed(), "stake books");
    }
}

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
