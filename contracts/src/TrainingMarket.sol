// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {StakeRegistry} from "./StakeRegistry.sol";

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
contract TrainingMarket is Ownable {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Open, // escrowed, waiting for a trainer
        Claimed, // a trainer holds it until `deadline`
        Submitted, // result in, challenge window running
        Finalized, // trainer and validators paid
        Slashed, // trainer lost a dispute; reward back to the requester
        Cancelled // requester took the reward back before anyone claimed
    }

    /// @notice What a job binds: exactly which data, program and seed to train.
    struct JobSpec {
        bytes datasetCid; // dataset version (dag-cbor commit CID)
        bytes32 tokensRoot; // commitment to the tokenized training stream
        bytes recipeCid; // the recipe (model config, optimiser, schedule)
        bytes32 programHash; // compiled step program + constants
        uint64 seed;
        uint32 steps;
        uint256 reward; // escrowed by the requester
        uint256 jobStake; // locked from the trainer's stake while the job runs
        uint64 trainingTime; // seconds a claim lasts
        uint64 challengeWindow; // seconds after submission before finalisation
    }

    struct Job {
        JobSpec spec;
        address requester;
        address treasury; // receives the share of slashes not paid to challengers
        Status status;
        address trainer;
        uint64 deadline; // claim expiry
        uint64 submittedAt;
        uint32 openDisputes;
        bytes modelCid;
        bytes32 transcriptRoot;
        address[] attestors;
        Terms terms;
        Disputes disputes;
    }

    /// @notice The market's parameters as they were when the job was posted.
    struct Terms {
        uint16 validatorFeeBps;
        uint16 absencePenaltyBps;
        uint256 attestStake; // locked from each attestor until the job ends
    }

    /// @notice The disputes of a job, numbered 0, 1, ... as they open.
    struct Disputes {
        uint32 opened;
        uint32 firstUnresolved; // every dispute below it is resolved
        uint32 bestWin; // lowest number a challenger won, NO_WIN if none yet
        address bestChallenger;
        bool lost; // the trainer lost a dispute or a query
    }

    /// @notice One dispute of a job: the game that opened it (the only one that may
    ///         resolve it, authorised or not by then) and whether it is resolved.
    struct DisputeSlot {
        address game;
        bool resolved;
    }

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

    event JobPosted(uint256 indexed jobId, address indexed requester, bytes datasetCid, bytes32 tokensRoot, bytes recipeCid, bytes32 programHash, uint64 seed, uint32 steps, uint256 reward, uint256 jobStake);
    event JobClaimed(uint256 indexed jobId, address indexed trainer, uint64 deadline);
    event ResultSubmitted(uint256 indexed jobId, address indexed trainer, bytes modelCid, bytes32 transcriptRoot, uint32 steps);
    event Attested(uint256 indexed jobId, address indexed validator);
    event ClaimExpired(uint256 indexed jobId, address indexed trainer, uint256 penalty);
    event JobCancelled(uint256 indexed jobId);
    event JobFinalized(uint256 indexed jobId, address indexed trainer, uint256 toTrainer, uint256 toValidators, uint256 validators);
    event DisputeOpened(uint256 indexed jobId, address indexed game, uint32 number);
    event DisputeResolved(uint256 indexed jobId, address indexed game, uint32 number, bool trainerWon, address challenger);
    /// @notice The trainer lost the job's lowest-numbered won dispute: its stake went to that
    ///         dispute's challenger (and the treasury), the attestors' stakes with it.
    event JobSlashed(uint256 indexed jobId, address indexed trainer, address indexed challenger, uint32 number, uint256 attestorsSlashed);
    event DisputeGameSet(address indexed game, bool allowed);
    event ParametersSet(uint16 validatorFeeBps, uint16 absencePenaltyBps, uint16 maxAttestors, uint64 minChallengeWindow);
    event BoundsSet(uint64 maxChallengeWindow, uint64 maxTrainingTime, uint256 attestStake);

    error ZeroReward();
    error InvalidSpec(string field);
    error UnknownJob(uint256 jobId);
    error WrongStatus(uint256 jobId, Status have, Status want);
    error NotRequester(uint256 jobId, address caller);
    error NotTrainer(uint256 jobId, address caller);
    error NotValidator(address caller);
    error NotDisputeGame(address caller);
    error DeadlinePassed(uint256 jobId, uint64 deadline);
    error DeadlineNotPassed(uint256 jobId, uint64 deadline);
    error WindowOpen(uint256 jobId, uint64 endsAt);
    error WindowClosed(uint256 jobId, uint64 endedAt);
    error StepsMismatch(uint256 jobId, uint32 have, uint32 want);
    error AlreadyAttested(uint256 jobId, address validator);
    error TooManyAttestors(uint256 jobId, uint16 max);
    error DisputeOpen(uint256 jobId, uint32 open);
    error NoOpenDispute(uint256 jobId);
    /// @notice Dispute `number` of the job was not opened by `caller`, or is already resolved.
    error NotThisDisputesGame(uint256 jobId, uint32 number, address caller);
    error InvalidParameter(string name);

    /// @param owner_ Who authorises dispute games and sets parameters (governance).
    constructor(IERC20 token_, StakeRegistry registry_, address owner_) Ownable(owner_) {
        token = token_;
        registry = registry_;
    }

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

    /// @notice After the window, with no dispute open: pays the trainer the reward minus
    ///         the validator fee, shares the fee among attestors (to the trainer if none),
    ///         and releases the job stake.
    /// @dev Emits {JobFinalized}.
    function finalize(uint256 jobId) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        if (job.openDisputes > 0) revert DisputeOpen(jobId, job.openDisputes);
        uint64 endsAt = job.submittedAt + job.spec.challengeWindow;
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

    // ---------------------------------------------------------------- disputes

    /// @notice Called by an authorised dispute game when a challenge opens: holds
    ///         finalisation until it is resolved. Only during the challenge window.
    /// @return number The dispute's number within the job (0, 1, ...), which the game
    ///         passes back to {disputeResolved}.
    /// @dev Emits {DisputeOpened}.
    function disputeOpened(uint256 jobId) external returns (uint32 number) {
        if (!isDisputeGame[msg.sender]) revert NotDisputeGame(msg.sender);
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        uint64 endsAt = job.submittedAt + job.spec.challengeWindow;
        if (block.timestamp > endsAt) revert WindowClosed(jobId, endsAt);
        number = job.disputes.opened++;
        disputeSlot[jobId][number].game = msg.sender;
        job.openDisputes += 1;
        emit DisputeOpened(jobId, msg.sender, number);
    }

    /// @notice Called by the game that opened dispute `number` with its outcome; a game
    ///         revoked since keeps the right to resolve the disputes it opened. Disputes
    ///         settle in the order they opened: when the trainer has lost one and every
    ///         earlier dispute is resolved, the job stake is slashed (half to the
    ///         challenger of the lowest-numbered dispute the trainer lost, the rest to the
    ///         job's treasury), the attestors' stakes with it, the reward goes back to the
    ///         requester and the job ends. So a cheater cannot hand its slash to a puppet
    ///         by stalling an earlier honest dispute. If the trainer won, the hold is
    ///         lifted and finalisation can proceed after the window. A loss with no
    ///         `challenger` (a query the trainer left unanswered) slashes the trainer but
    ///         earns nobody a share: the share goes to the earliest dispute won with a
    ///         challenger, if any, else to the treasury when every dispute is resolved.
    /// @dev Emits {DisputeResolved}, and {JobSlashed} when the job settles.
    function disputeResolved(uint256 jobId, uint32 number, bool trainerWon, address challenger) external {
        Job storage job = _job(jobId);
        DisputeSlot storage slot = disputeSlot[jobId][number];
        if (slot.game != msg.sender || slot.resolved) revert NotThisDisputesGame(jobId, number, msg.sender);
        _expect(jobId, job, Status.Submitted);
        slot.resolved = true;
        job.openDisputes -= 1;
        Disputes storage ds = job.disputes;
        if (!trainerWon) {
            ds.lost = true;
            if (challenger != address(0) && number < ds.bestWin) (ds.bestWin, ds.bestChallenger) = (number, challenger);
        }
        emit DisputeResolved(jobId, msg.sender, number, trainerWon, challenger);
        _advance(jobId, job, MAX_WALK);
    }

    /// @notice Anyone walks the job's resolved disputes further (at most `maxSteps`) and
    ///         settles the slash if it is due: {disputeResolved} walks a bounded number per
    ///         call, so no number of disputes can make resolving one run out of gas.
    /// @dev Emits {JobSlashed} when the job settles.
    function advance(uint256 jobId, uint32 maxSteps) external {
        Job storage job = _job(jobId);
        _expect(jobId, job, Status.Submitted);
        _advance(jobId, job, maxSteps);
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

    // ---------------------------------------------------------------- internal

    /// @dev Walks past resolved disputes (at most `maxSteps`); slashes once the trainer has
    ///      lost and every dispute before the earliest challenger win is resolved (or, with
    ///      no challenger win, every dispute is).
    function _advance(uint256 jobId, Job storage job, uint32 maxSteps) internal {
        Disputes storage ds = job.disputes;
        uint32 first = ds.firstUnresolved;
        uint32 stop = ds.opened - first > maxSteps ? first + maxSteps : ds.opened;
        while (first < stop && disputeSlot[jobId][first].resolved) first++;
        ds.firstUnresolved = first;
        if (!ds.lost) return;
        if (ds.bestWin == NO_WIN ? first == ds.opened : first > ds.bestWin) _slash(jobId, job);
    }

    /// @dev The trainer lost: its job stake and every attestor's stake go, half to the
    ///         challenger of the lowest-numbered lost dispute, and the reward goes back.
    function _slash(uint256 jobId, Job storage job) internal {
        job.status = Status.Slashed;
        job.openDisputes = 0;
        address challenger = job.disputes.bestChallenger;
        registry.slash(job.trainer, job.spec.jobStake, challenger, job.treasury);
        uint256 n = job.attestors.length;
        uint256 locked = job.terms.attestStake;
        if (locked > 0) for (uint256 i = 0; i < n; i++) registry.slash(job.attestors[i], locked, challenger, job.treasury);
        _pay(job.requester, job.spec.reward);
        emit JobSlashed(jobId, job.trainer, challenger, job.disputes.bestWin, locked * n);
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

    function _expect(uint256 jobId, Job storage job, Status want) internal view {
        if (job.status != want) revert WrongStatus(jobId, job.status, want);
    }
}
