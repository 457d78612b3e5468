// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {StakeRegistry} from "../StakeRegistry.sol";
import {TrainingMarketTypes} from "./TrainingMarketTypes.sol";

/// @title MarketState
/// @notice What {TrainingMarket} keeps: its jobs and their disputes, its parameters and
///         the escrow; and the one place tokens leave it.
/// @dev Storage is declared here only, in this order, so the market's layout is one list.
abstract contract MarketState is TrainingMarketTypes, Ownable {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    StakeRegistry public immutable registry;
    /// @notice Fee for attesting validators, in basis points of the reward.
    uint16 public validatorFeeBps = 500;
    /// @notice Share of the job stake slashed from a trainer who lets a claim expire.
    uint16 public absencePenaltyBps = 1_000;
    uint16 public maxAttestors = 16;
    uint64 public minChallengeWindow = 60;
    /// @notice Upper bounds of a job's timings: a window or a claim cannot lock a stake
    ///         for longer, and deadlines cannot overflow.
    uint64 public maxChallengeWindow = 30 days;
    uint64 public maxTrainingTime = 90 days;
    /// @notice Stake each attestor locks until the job ends; lost if the trainer loses a dispute.
    uint256 public attestStake = 10 ether;
    /// @notice No bound may exceed this, so `timestamp + bound` never overflows a uint64.
    uint64 public constant MAX_BOUND = 365 days;
    uint32 internal constant NO_WIN = type(uint32).max;
    /// @notice Resolved disputes one call walks past at most; {advance} walks further.
    uint32 public constant MAX_WALK = 64;

    Job[] internal jobs;
    mapping(uint256 => mapping(address => bool)) public hasAttested;
    mapping(address => bool) public isDisputeGame;
    mapping(uint256 => mapping(uint256 => DisputeSlot)) public disputeSlot;
    /// @notice Sum of rewards held for jobs not yet paid out (equals this contract's balance).
    uint256 public totalEscrow;
    /// @notice Per job: until when disputes may still open past the challenge window, and
    ///         finalisation waits (see {MarketDisputes.extendHold}); 0 when never extended.
    mapping(uint256 => uint64) public holdUntil;
    /// @notice Per job and asker: holds granted so far (at most MAX_HOLDS each).
    mapping(uint256 => mapping(address => uint8)) public holdsGranted;
    /// @notice Answers to one asker's queries that extend a job's hold: a search over 2^32
    ///         records takes 8 queries of 16 subtrees, and a few spare.
    uint8 public constant MAX_HOLDS = 12;

    /// @param owner_ Who authorises dispute games and sets parameters (governance).
    constructor(IERC20 token_, StakeRegistry registry_, address owner_) Ownable(owner_) {
        token = token_;
        registry = registry_;
    }

    /// @dev The one place escrowed tokens leave the market.
    function _pay(address to, uint256 amount) internal {
        totalEscrow -= amount;
        if (amount > 0) token.safeTransfer(to, amount);
    }

    function _job(uint256 jobId) internal view returns (Job storage) {
        if (jobId >= jobs.length) revert UnknownJob(jobId);
        return jobs[jobId];
    }

    /// @dev The end of a job's challenge window, or of the hold that extends it.
    function _disputableUntil(uint256 jobId, Job storage job) internal view returns (uint64 endsAt) {
        endsAt = job.submittedAt + job.spec.challengeWindow;
        if (holdUntil[jobId] > endsAt) endsAt = holdUntil[jobId];
    }

    function _expect(uint256 jobId, Job storage job, Status want) internal view {
        if (job.status != want) revert WrongStatus(jobId, job.status, want);
    }
}
