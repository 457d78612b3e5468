// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TrainingMarketTypes
/// @notice The vocabulary of the training market: a job's status, what a job binds and
///         keeps, its disputes, and the market's events and errors.
abstract contract TrainingMarketTypes {
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
        bytes32 modelHeader; // the model file's header template (ModelFileDisputes.templateHash)
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
    event HoldExtended(uint256 indexed jobId, uint64 until);
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
}
