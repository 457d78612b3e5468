// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./Fixture.sol";
import {TestBase} from "./Vm.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {TrainingMarket} from "../src/TrainingMarket.sol";
import {TrainingMarketTypes} from "../src/market/TrainingMarketTypes.sol";

/// @notice Drives stakes, jobs and disputes through random sequences of user actions,
///         acting as the one authorised dispute game, and keeps ghost books to check
///         against. It also tries what must fail (a second payout, a second resolution
///         of one dispute) and counts every time it did not.
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
    uint256 public secondPayouts; // a finalize, cancel or settlement that paid a job twice: must stay zero
    uint256 public doubleResolutions; // a dispute resolved twice: must stay zero
    uint256 public wrongSettlements; // a slash settled early or paid to another challenger: must stay zero
    uint256 public settlements;
    mapping(uint256 => uint256) public payouts; // per job: times its reward left the market

    /// @dev Per job, ghost dispute books: numbers opened, which are resolved, the
    ///      lowest-numbered challenger win and its challenger.
    mapping(uint256 => uint32) internal opened;
    mapping(uint256 => mapping(uint32 => bool)) internal resolved;
    mapping(uint256 => uint32) internal bestWin;
    mapping(uint256 => address) internal bestChallenger;
    mapping(uint256 => bool) internal lost;

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
        TrainingMarketTypes.JobSpec memory s = TrainingMarketTypes.JobSpec(hex"0171", bytes32(0), hex"0171", bytes32(0), bytes32(0), 1, 10, reward, bound(jobStake, 0, 500 ether), 1 hours, 1 hours);
        vm.prank(a);
        uint256 id = market.postJob(s, address(0));
        jobIds.push(id);
        bestWin[id] = type(uint32).max;
        ghostPosted += reward;
    }

    function cancel(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Open) {
            _tryAgain(abi.encodeCall(market.cancel, (id)), j.requester);
            return;
        }
        vm.prank(j.requester);
        market.cancel(id);
        paid(id, j.spec.reward);
    }

    function claim(uint256 actorSeed, uint256 jobSeed) external {
        (uint256 id, bool ok) = job(jobSeed);
        address a = actor(actorSeed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Open || registry.freeStake(a) < j.spec.jobStake) return;
        vm.prank(a);
        market.claim(id);
    }

    function submit(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Claimed || block.timestamp > j.deadline) return;
        vm.prank(j.trainer);
        market.submitResult(id, hex"0155", keccak256("t"), 10);
    }

    function attest(uint256 actorSeed, uint256 jobSeed) external {
        (uint256 id, bool ok) = job(jobSeed);
        address a = actor(actorSeed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Submitted || block.timestamp > j.submittedAt + j.spec.challengeWindow) return;
        if (a == j.trainer || market.hasAttested(id, a) || registry.nodeOf(a).staked == 0) return;
        if (registry.freeStake(a) < j.terms.attestStake) return;
        vm.prank(a);
        market.attest(id);
    }

    function finalize(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Submitted || j.openDisputes > 0) {
            _tryAgain(abi.encodeCall(market.finalize, (id)), address(this));
            return;
        }
        uint256 endsAt = j.submittedAt + j.spec.challengeWindow;
        if (block.timestamp <= endsAt) vm.warp(endsAt + 1);
        market.finalize(id);
        paid(id, j.spec.reward);
    }

    function expire(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Claimed) return;
        if (block.timestamp <= j.deadline) vm.warp(j.deadline + 1);
        market.expireClaim(id);
        ghostSlashed += j.spec.jobStake * j.terms.absencePenaltyBps / 10_000;
    }

    function openDispute(uint256 seed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok) return;
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (j.status != TrainingMarketTypes.Status.Submitted || block.timestamp > j.submittedAt + j.spec.challengeWindow) return;
        uint32 number = market.disputeOpened(id);
        if (number != opened[id]) wrongSettlements += 1;
        opened[id] += 1;
    }

    /// Resolves one of the job's unresolved disputes, drawn at random (any order), and
    /// checks the settlement against the ghost books: the job is slashed exactly when
    /// the trainer lost some dispute and every earlier one is resolved, and the slash
    /// goes to the challenger of the lowest-numbered dispute the trainer lost.
    function resolveDispute(uint256 seed, uint256 numberSeed, bool trainerWon, uint256 challengerSeed) external {
        (uint256 id, bool ok) = job(seed);
        if (!ok || opened[id] == 0) return;
        uint32 number = uint32(numberSeed % opened[id]);
        // One resolution in five is a query the trainer left unanswered: a loss with no challenger.
        address challenger = challengerSeed % 5 == 0 ? address(0) : actor(challengerSeed);
        TrainingMarketTypes.Job memory j = market.getJob(id);
        if (resolved[id][number] || j.status != TrainingMarketTypes.Status.Submitted) {
            _tryAgain(abi.encodeCall(market.disputeResolved, (id, number, trainerWon, challenger)), address(this));
            return;
        }
        resolved[id][number] = true;
        if (!trainerWon) lost[id] = true;
        if (!trainerWon && challenger != address(0) && number < bestWin[id]) (bestWin[id], bestChallenger[id]) = (number, challenger);
        bool settles = _dueToSettle(id);
        uint256 before = _balance(bestChallenger[id]);
        market.disputeResolved(id, number, trainerWon, challenger);
        bool slashed = market.getJob(id).status == TrainingMarketTypes.Status.Slashed;
        if (slashed != settles) wrongSettlements += 1;
        if (slashed) _settled(id, j, _balance(bestChallenger[id]) - before);
    }

    /// @dev The trainer lost and every dispute before the earliest challenger win (with
    ///      none, every dispute) is resolved.
    function _dueToSettle(uint256 id) internal view returns (bool) {
        if (!lost[id]) return false;
        uint32 until = bestWin[id] == type(uint32).max ? opened[id] : bestWin[id];
        for (uint32 n = 0; n < until; n++) {
            if (!resolved[id][n]) return false;
        }
        return true;
    }

    function _balance(address a) internal view returns (uint256) {
        return a == address(0) ? 0 : token.balanceOf(a);
    }

    /// @dev The job was slashed: the earliest winning challenger got half of every stake taken.
    function _settled(uint256 id, TrainingMarketTypes.Job memory j, uint256 received) internal {
        settlements += 1;
        uint256 taken = j.spec.jobStake + j.attestors.length * j.terms.attestStake;
        uint256 bps = bestChallenger[id] == address(0) ? 0 : registry.beneficiaryShareBps();
        uint256 share = j.spec.jobStake * bps / 10_000;
        for (uint256 i = 0; i < j.attestors.length; i++) share += j.terms.attestStake * bps / 10_000;
        // The challenger may also be the requester (the treasury) and receive the reward.
        uint256 extra = bestChallenger[id] != address(0) && bestChallenger[id] == j.requester ? taken - share + j.spec.reward : 0;
        if (received != share + extra) wrongSettlements += 1;
        ghostSlashed += taken;
        paid(id, j.spec.reward);
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

    /// @dev A call that must fail now (the job or dispute has ended): count it if it did not.
    function _tryAgain(bytes memory call, address from) internal {
        vm.prank(from);
        (bool ok,) = address(market).call(call);
        if (!ok) return;
        if (bytes4(call) == market.disputeResolved.selector) doubleResolutions += 1;
        else secondPayouts += 1;
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
        // Roles read before the prank: a prank applies to the next call, which would
        // otherwise be the role getter.
        uint8 roles = registry.ROLE_TRAINER() | registry.ROLE_VALIDATOR();
        for (uint256 i = 0; i < actors.length; i++) {
            vm.prank(actors[i]);
            registry.register("", roles);
        }
        vm.prank(governance);
        market.setDisputeGame(address(handler), true);
        // Start from staked actors and submitted jobs, so that random sequences reach
        // disputes and their settlement, not only the set-up of a job.
        for (uint256 i = 0; i < actors.length; i++) handler.stake(i, 5_000 ether);
        for (uint256 i = 0; i < 6; i++) {
            handler.postJob(i, 100 ether, 200 ether);
            handler.claim(i + 1, i);
            handler.submit(i);
        }
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
            TrainingMarketTypes.Job memory j = market.getJob(handler.jobIds(i));
            if (j.status == TrainingMarketTypes.Status.Open || j.status == TrainingMarketTypes.Status.Claimed || j.status == TrainingMarketTypes.Status.Submitted) {
                openEscrow += j.spec.reward;
            }
        }
        assertEq(token.balanceOf(address(market)) + token.balanceOf(address(registry)), openEscrow + stakeHeld(), "held == escrows + stakes");
        assertEq(market.totalEscrow(), openEscrow, "escrow counter");
    }

    /// Every job's reward leaves the market once, however often a payout is tried again,
    /// and the market paid out exactly the rewards of jobs that ended.
    function invariant_noJobPaidTwice() public view {
        assertEq(handler.secondPayouts(), 0, "a second payout went through");
        for (uint256 i = 0; i < handler.jobCount(); i++) {
            assertTrue(handler.payouts(handler.jobIds(i)) <= 1, "paid at most once");
        }
        assertEq(handler.ghostPosted() - token.balanceOf(address(market)), handler.ghostPaidOut(), "outflow == rewards of ended jobs");
    }

    /// Disputes of one job never pay the same slash twice, never settle before an earlier
    /// dispute is resolved, and pay only the challenger of the earliest dispute the trainer lost.
    function invariant_disputesSettleInOrder() public view {
        assertEq(handler.doubleResolutions(), 0, "a dispute resolved twice");
        assertEq(handler.wrongSettlements(), 0, "a slash settled early or to the wrong challenger");
    }

    /// Stake only ever leaves through withdrawals and authorised slashes.
    function invariant_noSlashWithoutAuthorisedDispute() public view {
        assertEq(handler.unauthorisedSlashes(), 0, "an unauthorised slash went through");
        assertEq(stakeHeld(), handler.ghostStakedIn() - handler.ghostWithdrawn() - handler.ghostSlashed(), "stake books");
    }
}
