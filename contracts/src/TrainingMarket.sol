// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {StakeRegistry} from "./StakeRegistry.sol";
import {MarketState} from "./market/MarketState.sol";
import {MarketDisputes} from "./market/MarketDisputes.sol";

/// @title TrainingMarket
/// @notice Requesters escrow a reward for training a model recipe on a dataset
///         version; a staked trainer claims the job (locking a job stake), trains,
///         and submits a result; after a challenge window without a successful
///         dispute the trainer is paid and attesting validators share a fee.
/// @dev Balances: `token.balanceOf(this) == Σ escrow of jobs not yet paid out`. Every
///      token movement goes through {_pay}. What a job pays and risks (validator fee,
///      absence penalty, attestation stake) is fixed when it is posted; governance
///      changes apply to later jobs only. Disputes of a job are numbered as they open
///      and settle in that order (see {disputeResolved}).
contract TrainingMarket is MarketDisputes {
    using SafeERC20 for IERC20;

    /// @param owner_ Who authorises dispute games and sets parameters (governance).
    constructor(IERC20 token_, StakeRegistry registry_, address owner_) MarketState(token_, registry_, owner_) {}

    // ---------------------------------------------------------------- requesters

    /// @notice Posts a job and escrows its reward. Requires an allowance of `spec.reward`.
    /// @param treasury Receives the part of a slash not paid to the challenger (a DAO
    ///        treasury when a DAO funds the job); zero means the requester.
    /// @dev Emits {JobPosted}.
    function postJob(JobSpec calldata spec, address treasury) external returns (uint256 jobId) {
        if (spec.reward == 0) revert ZeroReward();
        if (spec.steps == 0) revert InvalidSpec("steps");
        if (spec.datasetCid.length == 0) revert InvalidSpec("datasetCid");
        if (spec.trainingTime == 0 || spec.trainingTime > maxTrainingTime) revert InvalidSpec("trainingTime");
        if (spec.challengeWindow < minChallengeWindow || spec.challengeWindow > maxChallengeWindow) revert InvalidSpec("challengeWindow");
        jobId = jobs.length;
        Job storage job = jobs.push();
        job.spec = spec;
        job.requester = msg.sender;
        job.treasury = treasury == address(0) ? msg.sender : treasury;
        job.status = Status.Open;
        job.terms = Terms(validatorFeeBps, absencePenaltyBps, attestStake);
        job.disputes.bestWin = NO_WIN;
        totalEscrow += spec.reward;
        token.safeTransferFrom(msg.sender, address(this), spec.reward);
        emit JobPosted(jobId, msg.sender, spec.datasetCid, spec.tokensRoot, spec.recipeCid, spec.programHash, spec.seed, spec.steps, spec.reward, spec.jobStake);
    }

    /// @notice The requester takes back the reward of a job nobody has claimed.
    /// @dev Emits {JobCancelled}.
    function cancel(uint256 jobId) external {
        Job storage job = _job(jobId);
        if (msg.sender != job.requester) revert NotRequester(jobId, msg.sender);
        _expect(jobId, job, Status.Open);
        job.status = Status.Cancelled;
        _pay(job.requester, job.spec.reward);
        emit JobCancelled(jobId);
    }

    // ---------------------------------------------------------------- trainers

    /// @notice Claims an open job: locks `jobStake` of the caller's free stake until
    ///         the job ends. The caller must be registered as a trainer.
    /// @dev Emits {JobClaimed}.
    function claim(uint256 jobId) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Open);
        if (!registry.hasRole(msg.sender, registry.ROLE_TRAINER())) revert NotTrainer(jobId, msg.sender);
        registry.lock(msg.sender, job.spec.jobStake);
        job.status = Status.Claimed;
        job.trainer = msg.sender;
        job.deadline = uint64(block.timestamp) + job.spec.trainingTime;
        emit JobClaimed(jobId, msg.sender, job.deadline);
    }

    /// @notice Submits the trained model and the root of its transcript (one record per
    ///         step); the challenge window starts now.
    /// @dev Emits {ResultSubmitted}.
    function submitResult(uint256 jobId, bytes calldata modelCid, bytes32 transcriptRoot, uint32 steps) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Claimed);
        if (msg.sender != job.trainer) revert NotTrainer(jobId, msg.sender);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (steps != job.spec.steps) revert StepsMismatch(jobId, steps, job.spec.steps);
        job.status = Status.Submitted;
        job.submittedAt = uint64(block.timestamp);
        job.modelCid = modelCid;
        job.transcriptRoot = transcriptRoot;
        emit ResultSubmitted(jobId, msg.sender, modelCid, transcriptRoot, steps);
    }

    /// @notice Anyone returns an expired claim to the market; the absent trainer loses
    ///         the job's `absencePenaltyBps` of its job stake to governance (the owner):
    ///         neither the caller nor the requester gains from a claim that failed, so
    ///         nobody profits from posting a job meant to be missed.
    /// @dev Emits {ClaimExpired}.
    function expireClaim(uint256 jobId) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Claimed);
        if (block.timestamp <= job.deadline) revert DeadlineNotPassed(jobId, job.deadline);
        address trainer = job.trainer;
        uint256 penalty = job.spec.jobStake * job.terms.absencePenaltyBps / 10_000;
        registry.unlock(trainer, job.spec.jobStake - penalty);
        // With ownership renounced the penalty is burnt (sent where nobody holds a key),
        // so a claim can always expire.
        address sink = owner() == address(0) ? address(0xdead) : owner();
        if (penalty > 0) registry.slash(trainer, penalty, address(0), sink);
        job.status = Status.Open;
        job.trainer = address(0);
        job.deadline = 0;
        emit ClaimExpired(jobId, trainer, penalty);
    }

    // ---------------------------------------------------------------- validators

    /// @notice A staked validator who replayed its sampled steps and found them correct
    ///         attests during the challenge window, locking the job's `attestStake` of its
    ///         free stake until the job ends; attestors share the validator fee, and lose
    ///         that stake if the trainer loses a dispute (attesting a lie costs).
    /// @dev Emits {Attested}.
    function attest(uint256 jobId) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        if (!registry.hasRole(msg.sender, registry.ROLE_VALIDATOR()) || registry.nodeOf(msg.sender).staked == 0) revert NotValidator(msg.sender);
        uint64 endsAt = job.submittedAt + job.spec.challengeWindow;
        if (block.timestamp > endsAt) revert WindowClosed(jobId, endsAt);
        if (msg.sender == job.trainer) revert NotValidator(msg.sender);
        if (hasAttested[jobId][msg.sender]) revert AlreadyAttested(jobId, msg.sender);
        if (job.attestors.length >= maxAttestors) revert TooManyAttestors(jobId, maxAttestors);
        hasAttested[jobId][msg.sender] = true;
        job.attestors.push(msg.sender);
        if (job.terms.attestStake > 0) registry.lock(msg.sender, job.terms.attestStake);
        emit Attested(jobId, msg.sender);
    }

    /// @notice After the window (and any hold that extends it), with no dispute open:
    ///         pays the trainer the reward minus the validator fee, shares the fee among
    ///         attestors (to the trainer if none), and releases the job stake.
    /// @dev Emits {JobFinalized}.
    function finalize(uint256 jobId) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        if (job.openDisputes > 0) revert DisputeOpen(jobId, job.openDisputes);
        uint64 endsAt = _disputableUntil(jobId, job);
        if (block.timestamp <= endsAt) revert WindowOpen(jobId, endsAt);
        job.status = Status.Finalized;
        registry.unlock(job.trainer, job.spec.jobStake);
        uint256 n = job.attestors.length;
        uint256 locked = job.terms.attestStake;
        if (locked > 0) for (uint256 i = 0; i < n; i++) registry.unlock(job.attestors[i], locked);
        uint256 fee = n == 0 ? 0 : job.spec.reward * job.terms.validatorFeeBps / 10_000;
        uint256 each = n == 0 ? 0 : fee / n;
        // The remainder of an uneven split goes to the trainer, so the escrow empties exactly.
        uint256 toTrainer = job.spec.reward - each * n;
        for (uint256 i = 0; i < n; i++) _pay(job.attestors[i], each);
        _pay(job.trainer, toTrainer);
        emit JobFinalized(jobId, job.trainer, toTrainer, each * n, n);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Allows or revokes a dispute game. Only the owner. Emits {DisputeGameSet}.
    function setDisputeGame(address game, bool allowed) external onlyOwner {
        isDisputeGame[game] = allowed;
        emit DisputeGameSet(game, allowed);
    }

    /// @notice Sets the market's parameters. Only the owner. Emits {ParametersSet}.
    function setParameters(uint16 validatorFeeBps_, uint16 absencePenaltyBps_, uint16 maxAttestors_, uint64 minChallengeWindow_) external onlyOwner {
        if (validatorFeeBps_ > 10_000) revert InvalidParameter("validatorFeeBps");
        if (absencePenaltyBps_ > 10_000) revert InvalidParameter("absencePenaltyBps");
        if (maxAttestors_ == 0) revert InvalidParameter("maxAttestors");
        if (minChallengeWindow_ > maxChallengeWindow) revert InvalidParameter("minChallengeWindow");
        validatorFeeBps = validatorFeeBps_;
        absencePenaltyBps = absencePenaltyBps_;
        maxAttestors = maxAttestors_;
        minChallengeWindow = minChallengeWindow_;
        emit ParametersSet(validatorFeeBps_, absencePenaltyBps_, maxAttestors_, minChallengeWindow_);
    }

    /// @notice Sets the bounds of a job's timings and the attestation stake of later
    ///         jobs. Only the owner. Emits {BoundsSet}.
    function setBounds(uint64 maxChallengeWindow_, uint64 maxTrainingTime_, uint256 attestStake_) external onlyOwner {
        if (maxChallengeWindow_ < minChallengeWindow || maxChallengeWindow_ > MAX_BOUND) revert InvalidParameter("maxChallengeWindow");
        if (maxTrainingTime_ == 0 || maxTrainingTime_ > MAX_BOUND) revert InvalidParameter("maxTrainingTime");
        if (attestStake_ == 0) revert InvalidParameter("attestStake");
        maxChallengeWindow = maxChallengeWindow_;
        maxTrainingTime = maxTrainingTime_;
        attestStake = attestStake_;
        emit BoundsSet(maxChallengeWindow_, maxTrainingTime_, attestStake_);
    }

    // ---------------------------------------------------------------- views

    function jobCount() external view returns (uint256) {
        return jobs.length;
    }

    function getJob(uint256 jobId) external view returns (Job memory) {
        return _job(jobId);
    }
}
